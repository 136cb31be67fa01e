"""Run the streaming queries: `f1 stream run`, the `streams` service, and the orchestrator's stream jobs.

The lake query (`streaming.jobs.lake`: Kafka -> bronze, silver and quarantine in one micro-batch) runs in
`f1 stream run` or in the orchestrator's stream run, in one SparkSession. Each query has a lock
file, so that no two processes ever run the same query on one checkpoint, and a status file with its
progress, owner and pid, which `f1 stream status` shows and the orchestrator reads as a heartbeat.
The process serves the Prometheus metrics (streaming.observability.metrics) and stops cleanly on
SIGTERM or Ctrl-C (or when the caller's stop event is set): the queries are stopped, and a batch cut
short is replayed from the checkpoint on the next start (every write is idempotent), so nothing is lost
or written twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from streaming.runtime.process import is_same_process, process_start_time
from streaming.settings import STREAM_QUERY_NAMES, Settings

STATUS_DIR = "streams"
# How often the loop checks the queries and writes their status (the heartbeat), in seconds.
TICK_SECONDS = 2.0


class StreamAlreadyRunning(RuntimeError):
    """Another live process runs this query (on the same checkpoint)."""

    def __init__(self, query: str, holder: dict | None):
        who = f"pid {holder.get('pid')} ({holder.get('owner')})" if holder else "another process"
        super().__init__(
            f"the {query} stream is already running in {who}; stop it first "
            f"(`f1 stream stop`, or stop the Dagster sensor and terminate its run)"
        )


def status_path(s: Settings, query: str) -> Path:
    return s.run_dir / STATUS_DIR / f"{query}.json"


def read_query_status(s: Settings, query: str) -> dict | None:
    """The latest status the process running `query` wrote, or None when there is none."""
    try:
        return json.loads(status_path(s, query).read_text())
    except (OSError, ValueError):
        return None


def read_status(s: Settings) -> dict[str, dict]:
    """{query: latest status} for every query that has written one."""
    statuses = {name: read_query_status(s, name) for name in STREAM_QUERY_NAMES}
    return {name: status for name, status in statuses.items() if status is not None}


def metrics_port(s: Settings, names: tuple[str, ...]) -> int:
    """Where a process running `names` serves its metrics: METRICS_EXPORTER_PORT + the first query's index.

    A process running every query (or the first) uses METRICS_EXPORTER_PORT itself; a process running only
    a later one the next port, so that a stream per process never collides and Prometheus scrapes each.
    """
    return s.metrics_exporter_port + STREAM_QUERY_NAMES.index(names[0])


@contextlib.contextmanager
def query_locks(s: Settings, names: tuple[str, ...]) -> Iterator[None]:
    """Hold each query's lock file while the block runs; the kernel releases it if the process dies."""
    handles = []
    try:
        for name in names:
            path = status_path(s, name).with_suffix(".lock")
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("w")
            handles.append(handle)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StreamAlreadyRunning(name, read_query_status(s, name)) from None
        yield
    finally:
        for handle in handles:
            handle.close()


def _write_json(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(value, indent=1))
    tmp.replace(path)  # readers never see half a file


def write_status(
    s: Settings, name: str, query, state: str, owner: str, failures: FailureRecord | None = None
) -> None:
    """Record `name`'s state and latest progress (query may be None while the process starts).

    A query that failed and has made no progress since (`failures.restarts` > 0) is `failing`, whatever
    `state` says, with its last error and the number of restarts: a crash loop shows as one.
    """
    progress = (query.lastProgress if query is not None else None) or {}
    source = (progress.get("sources") or [{}])[0]
    pid = os.getpid()
    failures = failures or FailureRecord()
    if failures.restarts and state in ("running", "starting"):
        state = "failing"
    _write_json(
        status_path(s, name),
        {
            "query": name,
            "state": state,
            "restarts": failures.restarts,
            "last_error": failures.last_error,
            "last_error_at": failures.last_error_at,
            "owner": owner,
            "host": socket.gethostname(),
            "pid": pid,
            "pid_start_time": process_start_time(pid),
            "updated_at": time.time(),
            "active": bool(query is not None and query.isActive),
            "batch_id": progress.get("batchId"),
            "timestamp": progress.get("timestamp"),
            "input_rows": progress.get("numInputRows"),
            "input_rows_per_second": progress.get("inputRowsPerSecond"),
            "processed_rows_per_second": progress.get("processedRowsPerSecond"),
            "batch_duration_ms": progress.get("batchDuration"),
            "offsets_behind_latest": (source.get("metrics") or {}).get("maxOffsetsBehindLatest"),
        },
    )


# The states of a process that holds its queries: one found gone in them died without a word.
RUNNING_STATES = ("starting", "running", "failing")


@dataclasses.dataclass
class FailureRecord:
    """A query's failures since it last made progress: restarts (in this process, and of the processes
    before it that failed), and the last error. Carried over from the previous status file, so that a
    query whose process keeps being relaunched shows as failing, not as freshly started."""

    restarts: int = 0
    last_error: str | None = None
    last_error_at: float | None = None

    @classmethod
    def carried_over(cls, previous: dict | None, previous_alive: bool = False) -> FailureRecord:
        """What a new process starts with: the previous process' record, plus one if it failed or died.

        A process that died without a word (SIGKILL, the out-of-memory killer: its last status still says
        it runs, and it is gone) counts as a failure too, so a driver killed again and again shows as a
        crash loop, not as a fresh start each time.
        """
        if not previous:
            return cls()
        died = previous.get("state") in RUNNING_STATES and not previous_alive
        failed = previous.get("state") == "failed"
        if not (previous.get("restarts") or failed or died):
            return cls()
        restarts = int(previous.get("restarts") or 0) + (1 if failed or died else 0)
        if died:
            error = (
                f"process {previous.get('pid')} ended without a word while {previous.get('state')} "
                "(killed: SIGKILL, or the kernel's out-of-memory killer)"
            )
            return cls(restarts, error, previous.get("updated_at"))
        return cls(restarts, previous.get("last_error"), previous.get("last_error_at"))

    def failed(self, error: object) -> None:
        self.restarts += 1
        self.last_error = str(error).strip().splitlines()[0][:500] if str(error).strip() else repr(error)
        self.last_error_at = time.time()

    def progressed(self) -> None:
        self.restarts = 0


def _silver_outcome_recorder(metrics):
    from streaming.jobs import lake

    def record(outcome) -> None:
        metrics.record_batch_outcome(
            lake.QUERY_NAME,
            input_rows=outcome.input_rows,
            valid=outcome.valid_total,
            quarantined=outcome.quarantined_total,
            duplicates=outcome.replayed_duplicates,
            reasons=outcome.quarantined,
            lag_seconds=outcome.lag_seconds or None,
        )

    return record


def query_starters(spark, s: Settings, *, available_now: bool = False, metrics=None, on_outcome=None) -> dict:
    """{query name: function that starts it}: what `run` starts, and restarts after a failure.

    `on_outcome` is called with each silver BatchOutcome, after the metrics have recorded it.
    """
    from streaming.jobs import lake

    listeners = [_silver_outcome_recorder(metrics)] if metrics is not None else []
    listeners += [on_outcome] if on_outcome is not None else []

    def outcome(batch_outcome) -> None:
        for listener in listeners:
            listener(batch_outcome)

    def set_aside(query: str):
        return (lambda _detail: metrics.batch_set_aside(query)) if metrics is not None else None

    return {
        lake.QUERY_NAME: lambda: lake.start(
            spark,
            s,
            available_now=available_now,
            on_outcome=outcome if listeners else None,
            on_failed=set_aside(lake.QUERY_NAME),
        ),
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

    def __init__(self, name: str, start, record: FailureRecord | None = None):
        self.name, self._start = name, start
        self.failures: list[float] = []
        self.record = record or FailureRecord()
        self.query = start()

    def check(self) -> str | None:
        """None while the query runs (or was restarted); why, when it failed too often."""
        error = self.query.exception()
        if error is None:
            if self.record.restarts and self.query.lastProgress is not None:
                self.record.progressed()  # a trigger completed since the restart: no longer failing
            return None
        self.record.failed(error)
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


@contextlib.contextmanager
def _beating(heartbeat: threading.Thread, done: threading.Event) -> Iterator[None]:
    """Stop the heartbeat thread when the block ends, however it ends."""
    try:
        yield
    finally:
        done.set()
        if heartbeat.is_alive():
            heartbeat.join()


def _heartbeat(
    s: Settings, names, running: list, records: dict[str, FailureRecord], owner: str, done: threading.Event
) -> None:
    """Rewrite each query's status (running, or still starting) every TICK_SECONDS, in a thread of its own.

    Not from the main loop: its work (the orchestrator's progress reports read Delta logs) can wait
    behind a long batch for Spark's task slots, and a late heartbeat would look like a dead process.
    """
    while not done.wait(TICK_SECONDS):
        started = {supervised.name: supervised for supervised in list(running)}
        for name in names:
            supervised = started.get(name)
            query = supervised.query if supervised is not None else None
            record = supervised.record if supervised is not None else records.get(name)
            write_status(s, name, query, "running" if query is not None else "starting", owner, record)


def run(
    s: Settings,
    names: tuple[str, ...] | None = None,
    *,
    available_now: bool = False,
    spark=None,
    stop: threading.Event | None = None,
    on_tick: Callable[[list[SupervisedQuery]], None] | None = None,
    on_outcome=None,
    owner: str = "f1 stream run",
) -> int:
    """Run until stopped (or, available-now, until the queries have drained their input). Exit code.

    Without `spark` the process makes (and at the end stops) its own SparkSession. Without `stop` it
    stops on SIGTERM and Ctrl-C (only possible from the main thread). `on_tick` sees the running queries
    every TICK_SECONDS; `owner` says in the status files who runs them.
    """
    from streaming.clients.bootstrap import bootstrap
    from streaming.clients.spark import get_spark
    from streaming.jobs.progress import tables_written_by
    from streaming.jobs.sql_server import serving_sql
    from streaming.observability import metrics as stream_metrics

    names = tuple(names or s.stream_queries)
    if stop is None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())

    running: list[SupervisedQuery] = []
    beating = threading.Event()
    records: dict[str, FailureRecord] = {}
    heartbeat = threading.Thread(
        target=_heartbeat,
        args=(s, names, running, records, owner, beating),
        name="f1-stream-heartbeat",
        daemon=True,
    )
    with query_locks(s, names), _beating(heartbeat, beating):
        for name in names:  # read under the lock: the previous status is the previous holder's last word
            previous = read_query_status(s, name)
            alive = bool(previous) and is_same_process(previous["pid"], previous.get("pid_start_time"))
            records[name] = FailureRecord.carried_over(previous, previous_alive=alive)
            write_status(s, name, None, "starting", owner, records[name])
        heartbeat.start()  # Spark's start and the bootstrap can take a while on a busy machine
        own_spark = spark is None
        spark = get_spark(s, "f1-streams") if own_spark else spark
        # Topics, contracts and tables must exist before the queries start (the same as `f1 init`).
        bootstrap(s, spark=spark)
        metrics = stream_metrics.install(spark, s, port=metrics_port(s, names))
        stream_metrics.watch_table_sizes(spark, [t for name in names for t in tables_written_by(name)])
        starters = query_starters(
            spark, s, available_now=available_now, metrics=metrics, on_outcome=on_outcome
        )
        # Available-now drains query by query; otherwise the queries run side by side.
        stages = [[n] for n in names] if available_now else [list(names)]
        # Gold's dbt builds run on this warm driver, not on a Spark of their own, while the streams run.
        gold_sql = contextlib.ExitStack()
        if not available_now:
            gold_sql.enter_context(serving_sql(spark, s))
        failed = None
        try:
            for stage in stages:
                running += [
                    SupervisedQuery(name, starters[name], records[name]) for name in stage if name in starters
                ]
                started = ", ".join(q.name for q in running)
                print(f"streams: {started} running; metrics on :{metrics_port(s, names)}", flush=True)
                while not stop.is_set() and failed is None:
                    failed = next((e for e in (q.check() for q in running) if e), None)
                    if on_tick is not None:
                        on_tick(running)
                    if all(q.done for q in running):
                        break
                    stop.wait(TICK_SECONDS)
                if stop.is_set() or failed:
                    break
        finally:
            beating.set()  # the final states below are the last word
            heartbeat.join()
            gold_sql.close()
            for supervised in running:
                supervised.query.stop()
            for supervised in running:
                state = "failed" if failed else "stopped"
                write_status(s, supervised.name, supervised.query, state, owner, supervised.record)
            stream_metrics.uninstall()
            if own_spark:
                spark.stop()
    if failed:
        print(failed, flush=True)
        return 1
    return 0
