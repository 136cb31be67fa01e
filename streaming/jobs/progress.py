"""What the running streams wrote to each table since the last report: the orchestrator's view of progress.

The orchestrator shows a live stream as periodic materialisations of its tables (rows since the last
report, Delta version, batch id, lag). A table is reported when its query finished a batch since the last
report, or when its query is idle and caught up with its source; a query stuck in a batch reports nothing,
so its tables turn stale, which is what a freshness policy should see.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from streaming.contracts.event_types import EVENT_TYPES
from streaming.jobs import bronze, lake, sessions, silver


def tables_written_by(query: str) -> list[str]:
    """The Delta tables a streaming query appends to."""
    if query != lake.QUERY_NAME:
        return []
    return [bronze.TABLE, silver.SILVER_TABLE, silver.QUARANTINE_TABLE, sessions.TABLE]


def reported_by(query: str) -> list[str]:
    """What a streaming query reports progress of: its tables, and the silver views over them (each an
    asset of its own, with the rows of its event type and the silver table's version)."""
    views = [silver.table_name(t) for t in EVENT_TYPES] if query == lake.QUERY_NAME else []
    return [*tables_written_by(query), *views]


def _stored_in(table: str) -> str:
    """The Delta table behind a name: a silver view's is the silver table."""
    views = {silver.table_name(t) for t in EVENT_TYPES}
    return silver.SILVER_TABLE if table in views else table


@dataclass(frozen=True)
class TableReport:
    table: str
    query: str
    rows: int  # appended since the last report
    delta_version: int | None
    batch_id: int | None
    details: dict = field(default_factory=dict)  # lag, rates: numbers only


class ProgressTracker:
    """Collects the queries' progress between reports; `on_outcome` may be called from Spark's thread."""

    def __init__(self, queries: tuple[str, ...]):
        self.queries = queries
        self._lock = threading.Lock()
        self._rows: Counter[str] = Counter()
        self._silver_details: dict = {}
        self._last_batch: dict[str, int] = {}  # per query, the newest batch already counted
        self._reported_batch: dict[str, int | None] = {}

    def on_outcome(self, outcome) -> None:
        """Count what a silver batch appended (silver.BatchOutcome)."""
        with self._lock:
            for event_type, rows in outcome.valid.items():
                self._rows[silver.table_name(event_type)] += rows
            self._rows[silver.SILVER_TABLE] += outcome.valid_total
            self._rows[silver.QUARANTINE_TABLE] += outcome.quarantined_total
            self._silver_details = {
                "quarantined": outcome.quarantined_total,
                "replayed_duplicates": outcome.replayed_duplicates,
                **{f"lag_seconds_p{float(q) * 100:g}": v for q, v in (outcome.lag_seconds or {}).items()},
            }

    def _count_bronze(self, name: str, query) -> None:
        """Bronze lands every record the query reads: its rows are the batches' input rows."""
        last = self._last_batch.get(name, -1)
        for progress in query.recentProgress or []:
            if progress["batchId"] > last and progress["numInputRows"]:
                self._rows[bronze.TABLE] += progress["numInputRows"]
                self._last_batch[name] = progress["batchId"]

    def take(self, spark, running: dict) -> list[TableReport]:
        """Reports for the tables of the queries in `running` ({name: StreamingQuery}) that progressed."""
        reports = []
        for name, query in running.items():
            progress = query.lastProgress
            if not query.isActive or progress is None:
                continue
            if name == lake.QUERY_NAME:
                self._count_bronze(name, query)
            batch_id = progress["batchId"]
            caught_up = progress["numInputRows"] == 0  # an idle progress: nothing new in its source
            if batch_id == self._reported_batch.get(name) and not caught_up:
                continue  # no batch finished since the last report: a slow or stuck batch
            self._reported_batch[name] = batch_id
            source = (progress.get("sources") or [{}])[0]
            details = {
                "input_rows_per_second": progress.get("inputRowsPerSecond") or 0.0,
                "processed_rows_per_second": progress.get("processedRowsPerSecond") or 0.0,
            }
            behind = (source.get("metrics") or {}).get("maxOffsetsBehindLatest")
            if behind is not None:
                details["kafka_offsets_behind_latest"] = int(behind)
            with self._lock:
                if name == lake.QUERY_NAME:
                    details.update(self._silver_details)
                rows = {table: self._rows.pop(table, 0) for table in reported_by(name)}
            for table, count in rows.items():
                reports.append(
                    TableReport(
                        table, name, count, delta_version(spark, _stored_in(table)), batch_id, details
                    )
                )
        return reports


def delta_version(spark, table: str) -> int | None:
    """The table's newest Delta version (its log only, no data read)."""
    try:
        return int(spark.sql(f"DESCRIBE HISTORY {table} LIMIT 1").first().version)
    except Exception:  # a table the stream has not created yet
        return None
