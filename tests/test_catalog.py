"""The catalog's DDL (sql/): declared table properties reach tables an earlier release made (real Delta)."""

from __future__ import annotations

import uuid

from streaming.clients.catalog import (
    STATS_COLUMNS,
    apply_declared_properties,
    create_databases,
    declared_properties,
    fitted_to_partitions,
)


def test_a_create_table_statement_declares_its_properties():
    statement = (
        "CREATE TABLE IF NOT EXISTS silver.position (\n  a INT\n)\nUSING delta\n"
        "TBLPROPERTIES (\n  'delta.appendOnly' = 'true',\n"
        "  'delta.dataSkippingStatsColumns' = 'session_id,event_time'\n)"
    )
    assert declared_properties(statement) == (
        "silver.position",
        {"delta.appendOnly": "true", "delta.dataSkippingStatsColumns": "session_id,event_time"},
    )
    assert declared_properties("CREATE DATABASE IF NOT EXISTS silver") is None
    assert declared_properties("CREATE TABLE IF NOT EXISTS t (a INT) USING delta") is None


def _version(spark, table: str) -> int:
    return spark.sql(f"DESCRIBE HISTORY {table} LIMIT 1").first().version


def test_init_sets_only_the_properties_that_differ(platform_settings, spark):
    create_databases(platform_settings, spark)
    # Every streaming table checkpoints its Delta log every 50 commits, not Delta's default 10.
    for table in ("bronze.telemetry", "silver.position", "silver.quarantine"):
        properties = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
        assert properties["delta.checkpointInterval"] == "50", table
    # Tables that have them already get no commit (a property change would fail a running stream's append).
    before = _version(spark, "bronze.telemetry")
    create_databases(platform_settings, spark)
    assert _version(spark, "bronze.telemetry") == before

    old = f"default.catalog_{uuid.uuid4().hex[:8]}"  # as an earlier release made it
    spark.sql(f"CREATE TABLE {old} (a INT) USING delta TBLPROPERTIES ('delta.appendOnly' = 'true')")
    try:
        declared = {"delta.appendOnly": "true", "delta.checkpointInterval": "50"}
        assert apply_declared_properties(spark, old, declared) == {"delta.checkpointInterval": "50"}
        assert apply_declared_properties(spark, old, declared) == {}
        properties = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {old}").collect()}
        assert properties["delta.checkpointInterval"] == "50"
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {old}")


def test_a_table_an_earlier_release_partitioned_keeps_its_layout_and_gets_its_stats(spark):
    """The silver tables were partitioned by (session_date, car_number) before they were clustered: their
    declared stats columns now name those columns, which Delta refuses on a partition column."""
    old = f"default.partitioned_{uuid.uuid4().hex[:8]}"
    spark.sql(
        f"CREATE TABLE {old} (session_date DATE, car_number INT, session_id STRING) USING delta "
        "PARTITIONED BY (session_date, car_number)"
    )
    try:
        stats = "session_date,car_number,session_id"
        assert apply_declared_properties(spark, old, {STATS_COLUMNS: stats}) == {STATS_COLUMNS: "session_id"}
        assert apply_declared_properties(spark, old, {STATS_COLUMNS: stats}) == {}
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {old}")
    assert fitted_to_partitions({STATS_COLUMNS: stats}, []) == {STATS_COLUMNS: stats}


def test_the_stream_tables_are_clustered_for_their_readers(platform_settings, spark):
    """One file per table and batch, clustered by what readers filter on (no partitions)."""
    create_databases(platform_settings, spark)
    for table, clustering in (
        ("bronze.telemetry", ["session_date", "event_type"]),
        ("silver.position", ["session_date", "car_number"]),
        ("silver.tire", ["session_date", "car_number"]),
    ):
        detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
        assert detail.partitionColumns == [] and detail.clusteringColumns == clustering, table
