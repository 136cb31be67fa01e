"""Throwaway platforms on free loopback ports, for tests and benchmarks.

Each one keeps all its state in a folder of its own and picks free ports, so it never collides with a
platform started by `make up` or with another throwaway one.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections.abc import Iterator
from pathlib import Path

from streaming.runtime import manager
from streaming.settings import Settings

# Ports the kernel hands out for `bind(0)` and outgoing connections. A port picked from that range and
# bound minutes later (a stream's metrics exporter starts with the stream) can be taken meanwhile by a
# Spark driver's random port or a client socket: measured, a Dagster stream run failing four times on
# "address already in use". So platforms pick their ports below it.
_DEFAULT_KERNEL_RANGE = (32768, 60999)
_LOWEST_PORT = 10000
# Spark's UI takes the next port when its own is taken, up to spark.port.maxRetries (16) times: a second
# driver on the platform (the lake run has one, a check or gold run another) must not land on another
# service's port.
SPARK_UI_RETRIES = 16
_handed_out: set[int] = set()
# Our own generator: a library seeding the global one must not make two platforms pick the same ports.
_random = random.SystemRandom()


def _kernel_port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _DEFAULT_KERNEL_RANGE


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _kernel_choice() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port(successors: int = 0) -> int:
    """A free loopback port (and its `successors` next ports) outside the kernel's ephemeral range, not
    handed out before by this process."""
    highest = _kernel_port_range()[0] - 1 - successors
    unusual_range = highest - _LOWEST_PORT < 1000  # then the kernel chooses
    while True:
        port = _kernel_choice() if unusual_range else _random.randint(_LOWEST_PORT, highest)
        ports = range(port, port + successors + 1)
        if not _handed_out.intersection(ports) and all(map(_bindable, ports)):
            _handed_out.update(ports)
            return port


def free_port_pair() -> int:
    """A free port whose successor is free too (the streaming exporters use METRICS_EXPORTER_PORT + 1)."""
    return free_port(successors=1)


def ephemeral_env(state_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for a platform of its own: every port free, all state under `state_dir`.

    With F1_SECURITY_PROFILE=secure among the overrides the registry's URL is https (the profile's
    credentials must be overrides too).
    """
    scheme = "https" if overrides.get("F1_SECURITY_PROFILE") == "secure" else "http"
    env = {
        "F1_ENV": "ci",
        "F1_STATE_DIR": str(state_dir),
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_TOPIC_PARTITIONS": "3",
        "SCHEMA_REGISTRY_URL": f"{scheme}://127.0.0.1:{free_port()}/apis/ccompat/v7",
        "METASTORE_PORT": str(free_port()),
        "PROMETHEUS_PORT": str(free_port()),
        "DAGSTER_PORT": str(free_port()),
        "METRICS_EXPORTER_PORT": str(free_port_pair()),
        "KAFKA_METRICS_PORT": str(free_port()),
        "SCHEMA_REGISTRY_METRICS_PORT": str(free_port()),
        "METASTORE_METRICS_PORT": str(free_port()),
        "NODE_EXPORTER_PORT": str(free_port()),
        "PUSHGATEWAY_URL": f"http://127.0.0.1:{free_port()}",
        "SPARK_UI_PORT": str(free_port(successors=SPARK_UI_RETRIES)),
        "SPARK_THRIFT_PORT": str(free_port()),
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


@contextlib.contextmanager
def ephemeral_platform(state_dir: Path, services: list[str], **overrides: str) -> Iterator[Settings]:
    """Start `services` of a throwaway platform, yield its settings, and stop them afterwards."""
    settings = Settings.from_env(ephemeral_env(state_dir, **overrides))
    try:
        manager.up(settings, services, timeout_s=180)
        yield settings
    finally:
        manager.down(settings, services)
