"""Test fixtures: a real platform (Kafka, registry, metastore, Prometheus) on free loopback ports.

The platform runs from a temporary state folder, so the tests never touch a developer's running
platform (`make up`) or its data. It starts once per test session and stops at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streaming.runtime.ephemeral import ephemeral_platform
from streaming.settings import Settings

TEST_SERVICES = ["kafka", "registry", "metastore", "prometheus"]


@pytest.fixture(scope="session")
def platform_settings(tmp_path_factory) -> Iterator[Settings]:
    """Settings of the test platform, with its services running and healthy."""
    with ephemeral_platform(tmp_path_factory.mktemp("f1-state"), TEST_SERVICES) as settings:
        yield settings


@pytest.fixture(scope="session")
def spark(platform_settings):
    """A real local SparkSession with the Delta and Kafka jars and the shared metastore."""
    from streaming.spark import get_spark

    session = get_spark(platform_settings, "f1-tests")
    yield session
    session.stop()
