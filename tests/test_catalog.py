"""The catalog's DDL (sql/): declared table properties reach tables an earlier release made (real Delta)."""

from __future__ import annotations

import uuid

from pyspark.sql import functions as F
from pyspark.sql import types as T

from streaming.clients.catalog import (
    STATS_COLUMNS,
    apply_declared_properties,
    create_databases,
    declared_columns,
    declared_properties,
    fitted_to_partitions,
    struct_fields,
)
from streaming.contracts.tables import SILVER_TABLE


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
    for table in ("bronze.telemetry", SILVER_TABLE, "silver.quarantine"):
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
        (SILVER_TABLE, ["session_date", "car_number"]),
    ):
        detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
        assert detail.partitionColumns == [] and detail.clusteringColumns == clustering, table


def test_a_struct_column_is_declared_with_its_fields():
    statement = (
        "CREATE TABLE IF NOT EXISTS silver.t (\n  event_id STRING NOT NULL COMMENT 'id',\n"
        "  tire STRUCT<corner: STRING, wear_pct: DOUBLE, big: DECIMAL(20,0)> COMMENT 'the payload',\n"
        "  session_date DATE NOT NULL\n)\nUSING delta"
    )
    assert declared_columns(statement) == [
        ("event_id", "STRING", False, "id"),
        ("tire", "STRUCT<corner: STRING, wear_pct: DOUBLE, big: DECIMAL(20,0)>", True, "the payload"),
        ("session_date", "DATE", False, ""),
    ]
    assert struct_fields("STRUCT<corner: STRING, big: DECIMAL(20,0)>") == [
        ("corner", "STRING"),
        ("big", "DECIMAL(20,0)"),
    ]


def test_an_earlier_releases_per_type_table_moves_into_the_silver_table_and_becomes_a_view(
    platform_settings, spark, tmp_path
):
    """Earlier releases kept one silver table per event type; init moves its rows, nothing lost, once."""
    create_databases(platform_settings, spark)
    session = f"migrated-{uuid.uuid4().hex[:8]}"
    view = spark.table("silver.system").schema
    schema = T.StructType([T.StructField(f.name, f.dataType, True) for f in view.fields])
    values = {f.name: None for f in schema.fields}
    made = [
        {
            **values,
            "event_id": f"{session}-{i}",
            "session_id": session,
            "car_number": 7,
            "kind": "FLAG",
            "flag": "YELLOW",
            "lap_number": i,
            "encoding": "protobuf",
            "kafka_topic": "old",
            "kafka_partition": 0,
            "kafka_offset": i,
        }
        for i in range(3)
    ]
    old = spark.createDataFrame([tuple(r[f.name] for f in schema.fields) for r in made], schema)
    old = old.withColumns(
        {
            "event_time": F.current_timestamp(),
            "event_time_unix_ns": F.lit(1),
            "sequence": F.lit(1),
            "ingested_at": F.current_timestamp(),
            "validated_at": F.current_timestamp(),
            "session_date": F.current_date(),
        }
    )
    spark.sql("DROP VIEW silver.system")
    try:
        old.write.format("delta").option("path", str(tmp_path / "system")).saveAsTable("silver.system")
        create_databases(platform_settings, spark)
        create_databases(platform_settings, spark)  # again: nothing moves twice
    finally:
        create_databases(platform_settings, spark)  # the view is back whatever happened
    assert spark.catalog.getTable("silver.system").tableType == "VIEW"
    moved = spark.table("silver.system").where(F.col("session_id") == session)
    assert sorted(r.lap_number for r in moved.collect()) == [0, 1, 2]
    assert {r.flag for r in moved.collect()} == {"YELLOW"}
    in_table = spark.table(SILVER_TABLE).where(F.col("session_id") == session)
    assert in_table.where("event_type = 'system' AND system.kind = 'FLAG' AND position IS NULL").count() == 3


def test_an_earlier_releases_bronze_table_gets_the_typed_payload_columns(spark):
    """Bronze kept each payload as JSON text (payload_json) before it kept it typed: `f1 init` adds the
    struct columns, and the lake query's rows (without payload_json) append to the table as it is."""
    from streaming.clients.catalog import add_declared_columns
    from streaming.contracts.tables import bronze_table_columns

    old = f"default.bronze_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE TABLE {old} (kafka_topic STRING, payload_json STRING) USING delta")
    try:
        spark.sql(f"""INSERT INTO {old} VALUES ('raw', '{{"x_m": 1.0}}')""")
        declared = [c for c in bronze_table_columns() if c[0] in ("kafka_topic", "position", "tire")]
        assert add_declared_columns(spark, old, declared) == ["position", "tire"]
        assert add_declared_columns(spark, old, declared) == []
        position = dict((c[0], c[1]) for c in declared)["position"]
        row = spark.sql(
            f"SELECT 'raw' AS kafka_topic, from_json('{{\"x_m\": 2.5}}', '{position}') AS position"
        )
        row.write.format("delta").mode("append").saveAsTable(old)
        got = {(r.payload_json, r.position and r.position.x_m) for r in spark.table(old).collect()}
        assert got == {('{"x_m": 1.0}', None), (None, 2.5)}
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {old}")
