"""Test fixtures: a real platform (Kafka, registry, metastore, Prometheus) on free ports; the test tiers.

The platform runs from a temporary state folder, so the tests never touch a developer's running
platform (`make up`) or its data. It starts once per test session and stops at the end.

Tiers (README, Tests): a test that needs this platform, directly or through a fixture that does
(`spark`, `gold`, ...), is marked `services` at collection; tests that start platforms of their own are
marked `e2e` in their module. `make test-fast` runs the rest (pure logic) and the `smoke` test, one real
trip through Kafka, bronze and silver; `make test` runs everything.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streaming.runtime.ephemeral import ephemeral_platform
from streaming.settings import Settings

TEST_SERVICES = ["kafka", "registry", "metastore", "prometheus"]
# The fixtures that start the session's platform, or sit on one that does.
PLATFORM_FIXTURES = {"platform_settings"}
# Groups for pytest-xdist's loadgroup (the fast tier runs on two workers; make test on TEST_WORKERS): every
# test on the session's platform goes to one worker, in order, so that platform and its Spark start once;
# the tests that start platforms of their own go to another, one after another; pure tests anywhere.
SHARED_PLATFORM = "shared-platform"
OWN_PLATFORMS = "own-platforms"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PLATFORM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)
            item.add_marker(pytest.mark.xdist_group(SHARED_PLATFORM))
        elif item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group(OWN_PLATFORMS))


@pytest.fixture(scope="session")
def platform_settings(tmp_path_factory) -> Iterator[Settings]:
    """Settings of the test platform, with its services running and healthy."""
    with ephemeral_platform(tmp_path_factory.mktemp("f1-state"), TEST_SERVICES) as settings:
        yield settings


@pytest.fixture(scope="session")
def spark(platform_settings):
    """A real local SparkSession with the Delta and Kafka jars and the shared metastore."""
    from streaming.clients.spark import get_spark

    session = get_spark(platform_settings, "f1-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def quality_db(spark, tmp_path_factory):
    """A database of bronze/silver tables with good recent rows and bad old ones (tests/quality_tables.py)."""
    from tests.quality_tables import build_quality_database

    name = build_quality_database(spark, tmp_path_factory.mktemp("gx"))
    yield name
    spark.sql(f"DROP DATABASE IF EXISTS {name} CASCADE")


@pytest.fixture(scope="session")
def quality_lake(spark, quality_db):
    """The quality database's Delta tables as the lake's checks read them (delta-rs; its views are read
    from its silver table)."""
    from expectations.lake import Lake
    from streaming.contracts.event_types import EVENT_TYPES

    locations = {
        f"{quality_db}.{row.tableName}": spark.sql(f"DESCRIBE DETAIL {quality_db}.{row.tableName}").first()[
            "location"
        ]
        for row in spark.sql(f"SHOW TABLES IN {quality_db}").collect()
        # not the session's temporary views, which SHOW TABLES lists in every database: dbt leaves its
        # `<model>__dbt_tmp` ones in the tests' shared session when the gold tests ran first
        if row.tableName not in EVENT_TYPES and not row.isTemporary
    }
    return Lake(root="/nowhere: every table is in locations", locations=locations)


@pytest.fixture(scope="session")
def gold(platform_settings, spark, tmp_path_factory):
    """A three-car race in silver and gold, built in two parts then rebuilt (tests/gold_race.py)."""
    from tests.gold_race import build_gold_race

    return build_gold_race(platform_settings, spark, tmp_path_factory.mktemp("gold"))
