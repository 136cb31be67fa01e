"""Delta maintenance: compact the small files micro-batches leave (OPTIMIZE) and vacuum old ones.

A stream committing every few seconds writes a file per partition per batch; readers then open
thousands of tiny files. OPTIMIZE rewrites them into large ones (a `dataChange=false` commit, so the
streams reading these tables skip it) and VACUUM deletes files no version within the retention needs.
Safe while the streams run: compaction only conflicts with a concurrent delete, and the tables are
append-only. `f1 maintain` runs it; the orchestrator schedules it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pyspark.sql import SparkSession

from streaming.jobs import bronze, sessions, silver

# Retention VACUUM keeps: a week, Delta's default, so time travel and slow readers keep working.
DEFAULT_RETAIN_HOURS = 168


def platform_tables() -> list[str]:
    return [
        bronze.TABLE,
        silver.SILVER_TABLE,  # the event types' views need no maintenance of their own
        silver.QUARANTINE_TABLE,
        sessions.TABLE,
    ]


@dataclass(frozen=True)
class MaintenanceResult:
    table: str
    files_removed: int
    files_added: int
    vacuumed: int
    seconds: float


def maintain_table(
    spark: SparkSession, table: str, retain_hours: int = DEFAULT_RETAIN_HOURS
) -> MaintenanceResult:
    started = time.monotonic()
    metrics = spark.sql(f"OPTIMIZE {table}").first().metrics
    spark.sql(f"VACUUM {table} RETAIN {retain_hours} HOURS")
    # VACUUM returns only the table's path; what it deleted is in the history (vacuum logging is on)
    last = spark.sql(f"DESCRIBE HISTORY {table} LIMIT 1").first()
    vacuumed = int(last.operationMetrics.get("numDeletedFiles", 0)) if last.operation == "VACUUM END" else 0
    return MaintenanceResult(
        table,
        files_removed=int(metrics.numFilesRemoved),
        files_added=int(metrics.numFilesAdded),
        vacuumed=vacuumed,
        seconds=time.monotonic() - started,
    )


def gold_tables(spark: SparkSession) -> list[str]:
    """The Delta tables dbt built in the gold database (views are skipped: nothing to compact)."""
    if not spark.catalog.databaseExists("gold"):
        return []
    return [f"gold.{t.name}" for t in spark.catalog.listTables("gold") if t.tableType != "VIEW"]


def maintain(
    spark: SparkSession, tables: list[str] | None = None, retain_hours: int = DEFAULT_RETAIN_HOURS
) -> list[MaintenanceResult]:
    """OPTIMIZE then VACUUM each table (default: every bronze, silver and gold table)."""
    tables = tables or platform_tables() + gold_tables(spark)
    return [maintain_table(spark, table, retain_hours) for table in tables]
