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


def _silver_outcome_recorder(metrics):
    from streaming.jobs import silver

    def record(outcome) -> None:
        metrics.record_batch_outcome(
            silver.QUERY_NAME,
            input_rows=outcome.input_rows,
            valid=outcome.valid_total,
            quarantined=outcome.quarantined_total,
            duplicates=outcome.replayed_duplicates,
            reasons=outcome.quarantined,
            lag_seconds=outcome.lag_seconds or None,
        )

    return record


def query_starters(spark, s: Settings, *, available_now: bool = False, metrics=None) -> dict:
    """{query name: function that starts it}: what `run` starts, and restarts after a failure."""
    from streaming.jobs import bronze, silver

    on_outcome = _silver_outcome_recorder(metrics) if metrics is not None else None
    return {
        "bronze": lambda: bronze.start(spark, s, available_now=available_now),
        "silver": lambda: silver.start(spark, s, available_now=available_now, on_outcome=on_outcome),
    }


class SupervisedQuery:
    """A query restarted from its checkpoint, in this process, when it fails; a few times at most.

    Restarting is always safe (every write is idempotent per batch), and one failure is expected after a
    crash: Spark 4.1.1's Kafka source throws a NullPointerException while reporting the progress of the
    first batch it re-runs from the offset log (SPARK-55271, fixed after 4.1.1), after that batch has
    committed. A query that keeps failing fails the process, so that its supervisor sees it.
    """

    MAX_FAILURES = 3
    WINDOW_S = 600.0

    def __init__(self, name: str, start):
        self.name, self._start = name, start
        self.failures: list[float] = []
        self.query = start()

    def check(self) -> str | None:
        """None while the query runs (or was restarted); why, when it failed too often."""
        error = self.query.exception()
        if error is None:
            return None
        now = time.monotonic()
        self.failures = [t for t in self.failures if now - t < self.WINDOW_S] + [now]
        if len(self.failures) >= self.MAX_FAILURES:
            return f"query {self.name} failed {len(self.failures)} times in {self.WINDOW_S:.0f} s: {error}"
        print(f"query {self.name} failed; restarting it from its checkpoint: {error}", flush=True)
        self.query = self._start()
        return None

    @property
    def done(self) -> bool:
        return not self.query.isActive and self.query.exception() is None


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
    starters = query_starters(spark, s, available_now=available_now, metrics=metrics)
    # Available-now drains stage by stage (silver after bronze has landed everything); otherwise the
    # queries run side by side.
    stages = [[n] for n in names] if available_now else [list(names)]
    running: list[SupervisedQuery] = []
    failed = None
    try:
        for stage in stages:
            running += [SupervisedQuery(name, starters[name]) for name in stage if name in starters]
            started = ", ".join(q.name for q in running)
            print(f"streams: {started} running; metrics on :{s.metrics_exporter_port}", flush=True)
            while not stop.is_set() and failed is None:
                _write_status(s, [q.query for q in running], "running")
                failed = next((e for e in (q.check() for q in running) if e), None)
                if all(q.done for q in running):
                    break
                stop.wait(2.0)
            if stop.is_set() or failed:
                break
    finally:
        for supervised in running:
            supervised.query.stop()
        _write_status(s, [q.query for q in running], "failed" if failed else "stopped")
        stream_metrics.uninstall()
        spark.stop()
    if failed:
        print(failed, flush=True)
        return 1
    return 0
