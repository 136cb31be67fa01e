"""Prometheus metrics of the streaming jobs: one exporter per Spark driver process.

Two feeds fill the same registry: `MetricsListener`, a StreamingQueryListener that turns every query's
progress into rates, durations, Kafka offset lag and liveness, and the jobs themselves, which report what
each micro-batch did with its records (`StreamMetrics.record_batch_outcome`, called from foreachBatch).
Every metric is labelled by `query`, the streaming query's name. `install(spark, settings)` wires it
all up once per process; Prometheus scrapes `METRICS_EXPORTER_PORT` as the `f1-streaming` job and
monitoring/prometheus/alerts.yml alerts on these metrics.
"""

from __future__ import annotations

import ast
import errno
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from pyspark.sql.streaming import StreamingQueryListener

from streaming.errors import ConfigError
from streaming.jobs.validation import REASONS as QUARANTINE_REASONS
from streaming.observability.driver_metrics import DeltaTableSizeCollector, DriverJvmCollector

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from pyspark.sql import SparkSession
    from pyspark.sql.streaming.listener import (
        QueryIdleEvent,
        QueryProgressEvent,
        QueryStartedEvent,
        QueryTerminatedEvent,
    )

    from streaming.settings import Settings

log = logging.getLogger(__name__)

# The quantiles of event-time lag a job reports per batch; "1" is the maximum.
LAG_QUANTILES = ("0.5", "0.99", "1")
OUTCOMES = ("valid", "quarantined", "duplicate")
# Micro-batches take from a tenth of a second (a few records) to a minute (a backlog after a restart).
BATCH_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)


def kafka_offsets_behind(end_offset: str | None, latest_offset: str | None) -> int | None:
    """Records a Kafka source has not read yet: the sum over partitions of latest - end offset.

    Both arguments are a progress' offset JSON, `{"topic": {"partition": offset, ...}, ...}`. None when
    either is missing or not Kafka offsets. Only partitions present in both count: a partition missing
    from one side has nothing to measure against.
    """
    end, latest = _partition_offsets(end_offset), _partition_offsets(latest_offset)
    if end is None or latest is None:
        return None
    return sum(max(0, latest[partition] - end[partition]) for partition in latest.keys() & end.keys())


def _partition_offsets(offset_json: str | None) -> dict[tuple[str, int], int] | None:
    # py4j turns a null Java offset into the string "None"; Spark's own JSON says null.
    if not offset_json or offset_json in ("None", "null"):
        return None
    try:
        parsed = json.loads(offset_json)
    except ValueError:
        # Under Spark Connect, PySpark builds SourceProgress from JSON and str()s the offset object,
        # which gives a Python literal ({'topic': {'0': 5}}) rather than JSON.
        try:
            parsed = ast.literal_eval(offset_json)
        except (ValueError, SyntaxError):
            return None
    if not isinstance(parsed, dict):
        return None
    offsets = {}
    for topic, partitions in parsed.items():
        if not isinstance(partitions, dict):
            return None
        for partition, offset in partitions.items():
            # -1 and -2 are Kafka's "latest"/"earliest" markers, not positions one can subtract.
            if isinstance(offset, int) and offset >= 0 and str(partition).isdigit():
                offsets[(topic, int(partition))] = offset
    return offsets


def offset_lag(sources: Iterable[Mapping]) -> int:
    """Records behind the latest offsets, summed over a progress' Kafka sources (others count 0).

    `sources` are the progress' SourceProgress objects (dicts). From the offset JSON when the source
    reports its latest offsets; otherwise from the Kafka source's own `avgOffsetsBehindLatest` metric
    (an average over partitions) times its partitions.
    """
    total = 0
    for source in sources:
        if not str(source.get("description", "")).startswith("Kafka"):
            continue
        behind = kafka_offsets_behind(source.get("endOffset"), source.get("latestOffset"))
        if behind is None:
            behind = _estimate_from_source_metrics(source)
        total += behind
    return total


def _estimate_from_source_metrics(source: Mapping) -> int:
    average = (source.get("metrics") or {}).get("avgOffsetsBehindLatest")
    partitions = _partition_offsets(source.get("endOffset"))
    try:
        return round(float(average) * len(partitions)) if average is not None and partitions else 0
    except ValueError:
        return 0


def _epoch_seconds(spark_timestamp: str | None, default: float) -> float:
    """Spark's event timestamps are ISO 8601 in UTC ("2025-05-01T12:00:00.123Z")."""
    try:
        return datetime.fromisoformat(spark_timestamp).timestamp()
    except (TypeError, ValueError):
        return default


class StreamMetrics:
    """The streaming jobs' metrics, in a registry of their own (so that tests can make several)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.registry = CollectorRegistry()
        self._clock = clock
        self._lock = threading.Lock()
        # Per query: when its checkpoint age is measured from (see checkpoint_age_since).
        self._checkpoint_age_since: dict[str, float] = {}
        self._queries: set[str] = set()
        registry = self.registry

        def gauge(name: str, doc: str, *labels: str) -> Gauge:
            return Gauge(name, doc, ["query", *labels], registry=registry)

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, ["query", *labels], registry=registry)

        self.streaming_lag = gauge(
            "f1_streaming_lag_seconds",
            "Seconds from event time to the commit of the batch that landed the event, over the last "
            "batch's events (quantile 1 is the maximum).",
            "quantile",
        )
        self.kafka_offset_lag = gauge(
            "f1_kafka_offset_lag_records",
            "Records behind the latest Kafka offsets when the last batch was planned, summed over the "
            "query's Kafka sources.",
        )
        self.processing_latency = gauge(
            "f1_processing_latency_seconds", "Duration of the query's last micro-batch."
        )
        self.batch_duration = Histogram(
            "f1_batch_duration_seconds",
            "Durations of the query's micro-batches.",
            ["query"],
            buckets=BATCH_DURATION_BUCKETS,
            registry=registry,
        )
        self.validation_failure_rate = gauge(
            "f1_validation_failure_rate",
            "Quarantined records / input records of the last batch (0 for an empty batch).",
        )
        self.checkpoint_age = gauge(
            "f1_checkpoint_age_seconds",
            "Seconds since the query last completed a batch or found nothing new to read (since it "
            "started, before its first batch).",
        )
        self.input_rows_per_second = gauge(
            "f1_input_rows_per_second", "Rate at which records arrived, over the last batch."
        )
        self.processed_rows_per_second = gauge(
            "f1_processed_rows_per_second", "Rate at which the last batch processed its records."
        )
        self.input_rows = counter("f1_input_rows_total", "Records read by the query's micro-batches.")
        self.batches = counter("f1_batches_total", "Micro-batches the query completed.")
        self.records = counter(
            "f1_records_total",
            "Records of the query's batches by outcome: valid, quarantined, duplicate.",
            "outcome",
        )
        self.quarantined_records = counter(
            "f1_quarantined_records_total",
            "Quarantined records by the reason they failed validation.",
            "reason",
        )
        self.stream_up = gauge("f1_stream_up", "1 while the query runs, 0 once it has terminated.")
        self.stream_starts = counter(
            "f1_stream_starts_total", "Times the query started in this process (a restart adds one)."
        )
        self.last_batch_id = gauge("f1_last_batch_id", "Id of the query's last completed micro-batch.")
        self.batches_set_aside = counter(
            "f1_batches_set_aside_total",
            "Micro-batches that kept failing and whose records were set aside (reason batch_failed).",
        )

    # --- Fed by the jobs -------------------------------------------------------------------------------

    def record_batch_outcome(
        self,
        query: str,
        *,
        input_rows: int,
        valid: int,
        quarantined: int,
        duplicates: int,
        reasons: dict[str, int],
        lag_seconds: dict[str, float] | None,
    ) -> None:
        """What one micro-batch did with its records; a job calls this once per batch from foreachBatch.

        `reasons` counts quarantined records by reason; `lag_seconds` maps "0.5", "0.99" and "1" to the
        batch's event-time lag. None (a batch without events) keeps the last measured lag: an empty batch
        measures nothing, and reporting 0 would claim the stream is fresh.
        """
        unknown = set(lag_seconds or {}) - set(LAG_QUANTILES)
        if unknown:
            raise ValueError(f"lag_seconds keys must be among {LAG_QUANTILES}, not {sorted(unknown)}")
        # Checked before anything changes, so that a bad call leaves no half-recorded batch.
        if min(input_rows, valid, quarantined, duplicates, *reasons.values()) < 0:
            raise ValueError(
                f"record counts cannot be negative: {input_rows=} {valid=} {quarantined=} "
                f"{duplicates=} {reasons=}"
            )

        self._ensure_series(query)
        self.validation_failure_rate.labels(query).set(quarantined / input_rows if input_rows else 0.0)
        self.records.labels(query, "valid").inc(valid)
        self.records.labels(query, "quarantined").inc(quarantined)
        self.records.labels(query, "duplicate").inc(duplicates)
        # Every known reason at 0 too: a dashboard shows a flat line, not "no data", for an unseen reason.
        for reason in dict.fromkeys((*QUARANTINE_REASONS, *reasons)):
            self.quarantined_records.labels(query, reason).inc(reasons.get(reason, 0))
        for quantile, seconds in (lag_seconds or {}).items():
            self.streaming_lag.labels(query, quantile).set(seconds)

    def batch_set_aside(self, query: str) -> None:
        """A batch of `query` kept failing; its records went to quarantine as batch_failed."""
        self._ensure_series(query)
        self.batches_set_aside.labels(query).inc()

    # --- Fed by MetricsListener (plain values, so that the logic is testable without Spark) ------------

    def query_started(self, query: str, started_at: float) -> None:
        # A (re)started query's age counts from its start, not from the previous run's last batch:
        # otherwise a query restarted after a pause would look stale until its first batch completes.
        self._measure_checkpoint_age(query, from_time=started_at, restart=True)
        self._ensure_series(query)
        self.stream_starts.labels(query).inc()
        self.stream_up.labels(query).set(1)

    def batch_completed(
        self,
        query: str,
        *,
        batch_id: int,
        completed_at: float,
        duration_seconds: float,
        input_rows: int,
        input_rows_per_second: float,
        processed_rows_per_second: float,
        offsets_behind: int,
        duplicates_dropped: int = 0,
    ) -> None:
        """`duplicates_dropped`: rows the query's deduplication state dropped in this batch."""
        self._measure_checkpoint_age(query, from_time=completed_at)
        self._ensure_series(query)
        self.last_batch_id.labels(query).set(batch_id)
        self.processing_latency.labels(query).set(duration_seconds)
        self.batch_duration.labels(query).observe(duration_seconds)
        self.input_rows_per_second.labels(query).set(input_rows_per_second)
        self.processed_rows_per_second.labels(query).set(processed_rows_per_second)
        self.kafka_offset_lag.labels(query).set(offsets_behind)
        self.input_rows.labels(query).inc(input_rows)
        self.batches.labels(query).inc()
        if duplicates_dropped:
            self.records.labels(query, "duplicate").inc(duplicates_dropped)

    def query_idle(self, query: str, idle_at: float) -> None:
        """The query ran a trigger and found nothing new in its sources.

        This refreshes the checkpoint age: the trigger loop is alive and has read everything there is,
        so the query is not stale, only quiet (a paused simulator must not page anyone). A query that is
        stuck in a batch, or dead, posts no idle events, so its age keeps growing and the alert fires.
        Spark posts idle events every spark.sql.streaming.noDataProgressEventInterval (10 s by default),
        well under the 60 s alert threshold.
        """
        self._measure_checkpoint_age(query, from_time=idle_at)

    def query_terminated(self, query: str) -> None:
        self._ensure_series(query)
        self.stream_up.labels(query).set(0)

    def checkpoint_age_since(self, query: str) -> float | None:
        """Epoch seconds the query's checkpoint age is measured from (None for an unknown query)."""
        with self._lock:
            return self._checkpoint_age_since.get(query)

    def _measure_checkpoint_age(self, query: str, from_time: float, restart: bool = False) -> None:
        # Events can arrive late (the listener bus is asynchronous): only a start moves the base back.
        with self._lock:
            known = query in self._checkpoint_age_since
            previous = self._checkpoint_age_since.get(query, from_time)
            self._checkpoint_age_since[query] = from_time if restart else max(from_time, previous)
        if not known:
            # Computed at scrape time, so that a query that stops completing batches shows a growing age.
            # Only queries the listener has seen get it: a job's outcomes alone say nothing of progress.
            self.checkpoint_age.labels(query).set_function(lambda: self._checkpoint_age(query))

    def _checkpoint_age(self, query: str) -> float:
        return max(0.0, self._clock() - self.checkpoint_age_since(query))

    def _ensure_series(self, query: str) -> None:
        """Create a query's counters at 0, so that rate() and increase() count from its first event."""
        with self._lock:
            if query in self._queries:
                return
            self._queries.add(query)
        for outcome in OUTCOMES:
            self.records.labels(query, outcome)
        for labelled in (self.input_rows, self.batches, self.stream_starts, self.batches_set_aside):
            labelled.labels(query)


class MetricsListener(StreamingQueryListener):
    """Feeds a StreamMetrics from the life-cycle events of every query of a SparkSession.

    Spark calls onQueryStarted synchronously from `start()`, the others from its listener bus, in order.
    Only the started and progress events carry the query's name, so the listener remembers it per run.
    """

    def __init__(self, metrics: StreamMetrics):
        super().__init__()
        self.metrics = metrics
        self._names: dict[uuid.UUID, str] = {}

    def _name(self, query_id: uuid.UUID, run_id: uuid.UUID, name: str | None = None) -> str:
        # An unnamed query is labelled by its id, which survives restarts from the same checkpoint.
        resolved = name or self._names.get(run_id) or str(query_id)
        self._names[run_id] = resolved
        return resolved

    def onQueryStarted(self, event: QueryStartedEvent) -> None:
        query = self._name(event.id, event.runId, event.name)
        self.metrics.query_started(query, _epoch_seconds(event.timestamp, default=time.time()))

    def onQueryProgress(self, event: QueryProgressEvent) -> None:
        progress = event.progress
        query = self._name(progress.id, progress.runId, progress.name)
        # The progress' timestamp is when the trigger began; the batch was committed batchDuration later.
        started = _epoch_seconds(progress.timestamp, default=time.time() - progress.batchDuration / 1000)
        self.metrics.batch_completed(
            query,
            batch_id=progress.batchId,
            completed_at=started + progress.batchDuration / 1000,
            duration_seconds=progress.batchDuration / 1000,
            input_rows=progress.numInputRows or 0,
            input_rows_per_second=_finite(progress.inputRowsPerSecond),
            processed_rows_per_second=_finite(progress.processedRowsPerSecond),
            offsets_behind=offset_lag(progress.sources),
            duplicates_dropped=state_duplicates_dropped(progress.stateOperators),
        )

    def onQueryIdle(self, event: QueryIdleEvent) -> None:
        query = self._name(event.id, event.runId)
        self.metrics.query_idle(query, _epoch_seconds(event.timestamp, default=time.time()))

    def onQueryTerminated(self, event: QueryTerminatedEvent) -> None:
        query = self._name(event.id, event.runId)
        self.metrics.query_terminated(query)
        if event.exception:
            log.warning("streaming query %s terminated with an error: %s", query, event.exception)
        self._names.pop(event.runId, None)


def state_duplicates_dropped(state_operators) -> int:
    """Rows dropped as duplicates by the query's deduplication operators in one batch."""
    total = 0
    for operator in state_operators or ():
        custom = getattr(operator, "customMetrics", None) or {}
        total += int(custom.get("numDroppedDuplicateRows", 0) or 0)
    return total


def _finite(value: float | None) -> float:
    # Spark reports NaN rates for a batch whose duration or interval was 0.
    return value if value is not None and value == value else 0.0


def start_exporter(metrics: StreamMetrics, port: int, host: str = "127.0.0.1") -> WSGIServer:
    """Serve `metrics` at http://host:port/metrics from a daemon thread; returns the server.

    Stop it with `server.shutdown(); server.server_close()`.
    """
    try:
        server, _thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as error:
        why = (
            "the port is already in use (is another streaming job running on this machine?)"
            if error.errno == errno.EADDRINUSE
            else f"it cannot be bound: {error.strerror or error}"
        )
        raise ConfigError(
            [f"METRICS_EXPORTER_PORT={port} is not usable for the metrics exporter on {host}: {why}."]
        ) from error
    return server


class _Installation:
    def __init__(self, metrics: StreamMetrics, listener: MetricsListener, server: WSGIServer):
        self.metrics, self.listener, self.server = metrics, listener, server
        self.sessions: list[SparkSession] = []
        self.table_sizes: DeltaTableSizeCollector | None = None


_installation: _Installation | None = None
_install_lock = threading.Lock()


def install(spark: SparkSession, s: Settings, port: int | None = None) -> StreamMetrics:
    """This process' streaming metrics: exporter on `port` (METRICS_EXPORTER_PORT), listener on `spark`.

    Idempotent: later calls return the same StreamMetrics (the exporter keeps its first port), and add
    the listener to `spark` only if it is a session it does not listen to yet.
    """
    global _installation
    with _install_lock:
        if _installation is None:
            metrics = StreamMetrics()
            server = start_exporter(metrics, port or s.metrics_exporter_port, s.metrics_exporter_host)
            _installation = _Installation(metrics, MetricsListener(metrics), server)
            metrics.registry.register(DriverJvmCollector(spark))
        if not any(session is spark for session in _installation.sessions):
            spark.streams.addListener(_installation.listener)
            _installation.sessions.append(spark)
        return _installation.metrics


def watch_table_sizes(spark: SparkSession, tables: list[str]) -> None:
    """Export the size of `tables` (the ones this process' queries write) from the installed exporter."""
    with _install_lock:
        if _installation is None or _installation.table_sizes is not None:
            return
        _installation.table_sizes = DeltaTableSizeCollector(spark, tables).start()
        _installation.metrics.registry.register(_installation.table_sizes)


def uninstall() -> None:
    """Undo `install`: remove the listener from its sessions and stop the exporter."""
    global _installation
    with _install_lock:
        if _installation is None:
            return
        for session in _installation.sessions:
            session.streams.removeListener(_installation.listener)
        if _installation.table_sizes is not None:
            _installation.table_sizes.stop()
        _installation.server.shutdown()
        _installation.server.server_close()
        _installation = None


def scrape(port: int, host: str = "127.0.0.1") -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted label pairs): value} from a running exporter; {} when none answers."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
