"""Run the streaming queries in one Spark application: `f1 stream run` (and the `streams` service).

Bronze and silver run as two queries of one SparkSession by default: on two cores one JVM beats two.
The process serves the Prometheus metrics (streaming.metrics), writes each query's latest progress to a
status file (`f1 stream status`, and a heartbeat for the orchestrator), and stops cleanly on SIGTERM or
Ctrl-C: the queries are stopped, and a batch cut short is replayed from the checkpoint on the next start
(every write is idempotent), so nothing is lost or written twice.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

from streaming.settings import Settings

STATUS_FILE = "streams.status.json"


def status_path(s: Settings) -> Path:
    return s.run_dir / STATUS_FILE


def read_status(s: Settings) -> dict | None:
    """The latest status the running streams wrote, or None when there is none."""
    try:
        return json.loads(status_path(s).read_text())
    except (OSError, ValueError):
        return None


def _write_status(s: Settings, queries, state: str) -> None:
    status = {"pid": os.getpid(), "state": state, "updated_at": time.time(), "queries": {}}
    for query in queries:
        progress = query.lastProgress or {}
        status["queries"][query.name] = {
            "active": query.isActive,
            "batch_id": progress.get("batchId"),
            "timestamp": progress.get("timestamp"),
            "input_rows": progress.get("numInputRows"),
            "input_rows_per_second": progress.get("inputRowsPerSecond"),
            "processed_rows_per_second": progress.get("processedRowsPerSecond"),
            "batch_duration_ms": progress.get("batchDuration"),
        }
    path = status_path(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status, indent=1))
    tmp.replace(path)  # readers never see half a file


def start_queries(spark, s: Settings, names: tuple[str, ...], *, available_now: bool = False, metrics=None):
    """Start the named queries in this SparkSession; returns them in start order."""
    from streaming.jobs import bronze, silver

    started = []
    if "bronze" in names:
        started.append(bronze.start(spark, s, available_now=available_now))
        if available_now and "silver" in names:
            started[-1].awaitTermination()  # silver drains what bronze has landed
    if "silver" in names:
        on_outcome = None
        if metrics is not None:

            def on_outcome(outcome):
                metrics.record_batch_outcome(
                    silver.QUERY_NAME,
                    input_rows=outcome.input_rows,
                    valid=outcome.valid_total,
                    quarantined=outcome.quarantined_total,
                    duplicates=outcome.replayed_duplicates,
                    reasons=outcome.quarantined,
                    lag_seconds=outcome.lag_seconds or None,
                )

        started.append(silver.start(spark, s, available_now=available_now, on_outcome=on_outcome))
    return started


def run(s: Settings, names: tuple[str, ...] | None = None, *, available_now: bool = False) -> int:
    """Run until stopped (or, available-now, until the queries have drained their input). Exit code."""
    from streaming import metrics as stream_metrics
    from streaming.spark import get_spark

    names = names or s.stream_queries
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    spark = get_spark(s, "f1-streams")
    metrics = stream_metrics.install(spark, s)
    queries = start_queries(spark, s, names, available_now=available_now, metrics=metrics)
    print(f"streams: {', '.join(q.name for q in queries)} running; metrics on :{s.metrics_exporter_port}")
    failed = None
    try:
        while not stop.is_set():
            _write_status(s, queries, "running")
            for query in queries:
                error = query.exception()
                if error is not None:
                    failed = f"query {query.name} failed: {error}"
            if failed or all(not q.isActive for q in queries):
                break
            stop.wait(2.0)
    finally:
        for query in queries:
            query.stop()
        _write_status(s, queries, "failed" if failed else "stopped")
        stream_metrics.uninstall()
        spark.stop()
    if failed:
        print(failed)
        return 1
    return 0
