"""The silver table's layout on a real Spark and Delta: after maintenance, a one-car query of one session
reads a small share of the table's files (liquid clustering by session date and car, and file statistics
on the columns readers filter by).

The table is made from the real DDL (sql/020_silver_events.sql, renamed), filled the way the lake query
fills it (every batch a file holding every car), then compacted by the maintenance job with a small
target file size, so that a table of test size has many files.
"""

from __future__ import annotations

import re
import uuid

from pyspark.sql import functions as F

from streaming.clients.catalog import SQL_DIR, render_sql
from streaming.contracts.tables import SILVER_TABLE
from streaming.jobs.maintenance import maintain

CARS = 20
SESSIONS = 2
BATCHES = 60  # files before maintenance, each with rows of every car of both sessions


def _create_like_silver(spark, settings, name: str, root) -> None:
    statements = render_sql(settings, (SQL_DIR / "020_silver_events.sql").read_text())
    [ddl] = [s for s in statements if re.match(rf"CREATE TABLE IF NOT EXISTS {SILVER_TABLE}\b", s)]
    ddl = ddl.replace(SILVER_TABLE, name, 1)
    ddl = re.sub(r"LOCATION '[^']*'", f"LOCATION '{root}'", ddl)
    spark.sql(ddl)


def _files_read(spark, frame) -> tuple[int, int]:
    """(files read, rows) of a query: the scan's own metric, after Delta's data skipping."""
    spark.conf.set("spark.sql.adaptive.enabled", "false")  # the scan node in the executed plan itself
    try:
        rows = len(frame.collect())  # the frame's own plan runs, so its scan's metrics are set
        plan = frame._jdf.queryExecution().executedPlan()
        leaves = plan.collectLeaves()
        scans = [leaves.apply(i) for i in range(leaves.size()) if "Scan" in leaves.apply(i).nodeName()]
        files = sum(int(scan.metrics().get("numFiles").get().value()) for scan in scans)
    finally:
        spark.conf.unset("spark.sql.adaptive.enabled")
    return files, rows


def test_a_one_car_query_reads_a_tenth_of_the_files_after_maintenance(platform_settings, spark, tmp_path):
    name = f"default.layout_{uuid.uuid4().hex[:8]}"
    _create_like_silver(spark, platform_settings, name, tmp_path / "silver")
    try:
        template = spark.table(name)
        sessions = [f"layout-{uuid.uuid4().hex[:6]}-{i}" for i in range(SESSIONS)]
        # 50 samples a car, session and batch; a batch's rows in one file, as the lake query writes them
        rows = (
            spark.range(BATCHES * SESSIONS * CARS * 50)
            .withColumns(
                {
                    "car_number": (F.col("id") % CARS + 1).cast("int"),
                    "session": (F.col("id") / CARS).cast("long") % SESSIONS,
                }
            )
            .withColumns(
                {
                    "event_id": F.expr("uuid()"),
                    "session_id": F.element_at(
                        F.array(*map(F.lit, sessions)), (F.col("session") + 1).cast("int")
                    ),
                    "event_type": F.lit("dynamics"),
                    "event_time": F.timestamp_micros(F.lit(1_790_000_000_000_000) + F.col("id") * 1000),
                    "event_time_unix_ns": F.lit(1_790_000_000_000_000_000) + F.col("id") * 1_000_000,
                    "sequence": F.col("id"),
                    "encoding": F.lit("protobuf"),
                    "kafka_topic": F.lit("layout"),
                    "kafka_partition": F.lit(0),
                    "kafka_offset": F.col("id"),
                    "ingested_at": F.current_timestamp(),
                    "validated_at": F.current_timestamp(),
                    "session_date": F.to_date(F.lit("2026-09-06")),
                }
            )
        )
        rows = rows.select(
            *(
                F.col(f.name).cast(f.dataType)
                if f.name in rows.columns
                else F.lit(None).cast(f.dataType).alias(f.name)
                for f in template.schema.fields
            )
        )
        rows.repartition(BATCHES).writeTo(name).append()  # every file holds every car
        files_before = spark.sql(f"DESCRIBE DETAIL {name}").first().numFiles
        assert files_before >= 50

        # OPTIMIZE clusters by (session_date, car_number); a small target size keeps many files
        spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(64 * 1024))
        try:
            maintain(spark, [name])
        finally:
            spark.conf.unset("spark.databricks.delta.optimize.maxFileSize")
        files = spark.sql(f"DESCRIBE DETAIL {name}").first().numFiles
        assert files >= 50, f"{files} files after maintenance: too few to show pruning"

        one_car = spark.table(name).where((F.col("session_id") == sessions[0]) & (F.col("car_number") == 7))
        read, count = _files_read(spark, one_car)
        assert count == BATCHES * 50
        print(f"one car, one session: {read} of {files} files read ({files_before} before maintenance)")
        assert 1 <= read <= files / 10, f"{read} of {files} files read for one car of one session"
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {name}")
