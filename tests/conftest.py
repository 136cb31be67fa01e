"""Test fixtures: a real platform (Kafka, registry, metastore, Prometheus) on free loopback ports.

The platform runs from a temporary state folder, so the tests never touch a developer's running
platform (`make up`) or its data. It starts once per test session and stops at the end.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from streaming.runtime import manager
from streaming.settings import Settings

TEST_SERVICES = ["kafka", "metastore", "prometheus"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def platform_env(state_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for a platform of its own: every port free, all state under `state_dir`."""
    env = {
        "F1_ENV": "ci",
        "F1_STATE_DIR": str(state_dir),
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_TOPIC_PARTITIONS": "3",
        "SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{free_port()}/apis/ccompat/v7",
        "SCHEMA_REGISTRY_MANAGEMENT_PORT": str(free_port()),
        "METASTORE_PORT": str(free_port()),
        "PROMETHEUS_PORT": str(free_port()),
        "DAGSTER_PORT": str(free_port()),
        "METRICS_EXPORTER_PORT": str(free_port()),
        "SPARK_UI_PORT": str(free_port()),
        "SPARK_MASTER": "local[2]",
        "SPARK_DRIVER_MEMORY": "2g",
        "SPARK_SHUFFLE_PARTITIONS": "2",
        "SPARK_CHECKPOINT_PATH": str(state_dir / "checkpoints"),
        "DELTA_STORAGE_PATH": str(state_dir / "delta"),
    }
    if os.environ.get("JAVA_HOME"):
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def platform_settings(tmp_path_factory) -> Iterator[Settings]:
    """Settings of the test platform, with its services running and healthy."""
    settings = Settings.from_env(platform_env(tmp_path_factory.mktemp("f1-state")))
    try:
        manager.up(settings, TEST_SERVICES, timeout_s=180)
        yield settings
    finally:
        manager.down(settings, TEST_SERVICES)


@pytest.fixture(scope="session")
def spark(platform_settings):
    """A real local SparkSession with the Delta and Kafka jars and the shared metastore."""
    from streaming.spark import get_spark

    session = get_spark(platform_settings, "f1-tests")
    yield session
    session.stop()
