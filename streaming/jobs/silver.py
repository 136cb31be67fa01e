"""Silver: bronze -> validated, deduplicated, flattened, enriched events; the rest to quarantine.

The query streams `bronze.telemetry` (a Delta source) and, per micro-batch:

1. drops duplicates on `event_id` with Spark's state store (`dropDuplicatesWithinWatermark`, watermark on
   bronze's ingestion time, so no record is ever "late" to Spark itself and dropped silently). The state
   lives in the checkpoint and survives restarts; it forgets a key after SILVER_DEDUP_HORIZON_MINUTES.
   Records older than that horizon when they arrive (a session replayed hours later) are checked against
   the silver tables themselves (an anti-join pruned to their sessions and event-time range);
2. joins each event with its session context (`streaming.jobs.sessions`) and validates it
   (`streaming.jobs.validation`): a record that breaks a rule goes to `silver.quarantine` with the reason;
3. sends the accepted events, enriched, to the `f1.telemetry.enriched` topic (Protobuf, registered);
4. appends them to `silver.<event_type>`, each table with Delta's txnAppId/txnVersion, so a batch replayed
   after a crash is never written twice; then saves the session watermarks for the next batch.

Kafka gets the enriched events before the Delta commits: a crash in between re-sends them (at least once,
`event_id` identifies them) rather than losing them. Every step is a column expression in the JVM.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from streaming import topics
from streaming.contracts import ENRICHED_PROTOBUF, TELEMETRY_JSON, TELEMETRY_PROTOBUF
from streaming.jobs import bronze, sessions, start_with_trigger
from streaming.jobs.silver_schema import CONTEXT_COLUMNS, EVENT_TYPES, payload_fields, table_columns
from streaming.jobs.validation import NS_PER_S, payload_column, validate
from streaming.jobs.watermarks import WatermarkStore, merge_newest, session_watermarks, stream_key
from streaming.settings import Settings

QUERY_NAME = "silver"
QUARANTINE_TABLE = "silver.quarantine"
TELEMETRY_SUBJECTS = (TELEMETRY_PROTOBUF.subject, TELEMETRY_JSON.subject)


def table_name(event_type: str) -> str:
    return f"silver.{event_type}"


def dedup_key() -> Column:
    """event_id, or the record's Kafka coordinates when it has none (those are never duplicates)."""
    has_id = F.col("event_id").isNotNull() & (F.col("event_id") != "")
    return F.when(has_id, F.col("event_id")).otherwise(
        F.concat_ws(":", "kafka_topic", "kafka_partition", "kafka_offset")
    )


def deduplicated(bronze_rows: DataFrame, horizon_s: int) -> DataFrame:
    """The stream without records whose event_id was seen in the last `horizon_s` of ingestion time."""
    return (
        bronze_rows.withColumn("dedup_key", dedup_key())
        .withWatermark("ingested_at", f"{horizon_s} seconds")
        .dropDuplicatesWithinWatermark(["dedup_key"])
    )


# --- pure projections: validated rows -> table rows -------------------------------------------------------


def _context_value(name: str) -> Column:
    return F.col(f"ctx_{name}")


def accepted() -> Column:
    """A row silver lands: valid, and not a repeat of an event the tables already hold."""
    return F.col("reason").isNull() & ~F.col("in_silver")


def quarantined() -> Column:
    return F.col("reason").isNotNull() & ~F.col("in_silver")


def silver_rows(validated: DataFrame, event_type: str, validated_at: dt.datetime) -> DataFrame:
    """Accepted rows of one event type, flattened to the columns of silver.<event_type>."""
    struct = F.col(payload_column(event_type))
    payload = {}
    for f in payload_fields(event_type):
        value = struct[f.name]
        if f.enum_prefix:  # TIRE_COMPOUND_SOFT -> SOFT
            value = F.expr(f"substring({payload_column(event_type)}.{f.name}, {len(f.enum_prefix) + 1})")
        payload[f.name] = value.cast(f.table_type)
    computed = {
        **payload,
        **{name: _context_value(name) for name, *_ in CONTEXT_COLUMNS},
        "validated_at": F.lit(validated_at),
        "session_date": F.coalesce(_context_value("session_date"), F.col("session_date")),
    }
    rows = validated.where(accepted() & (F.col("event_type") == event_type))
    return rows.select(
        *(
            (computed[name] if name in computed else F.col(name)).cast(type_).alias(name)
            for name, type_, *_ in table_columns(event_type)
        )
    )


def quarantine_rows(validated: DataFrame, quarantined_at: dt.datetime) -> DataFrame:
    return validated.where(quarantined()).select(
        "reason",
        "reason_detail",
        F.when(F.col("event_id") != "", F.col("event_id")).alias("event_id"),
        F.when(F.col("session_id") != "", F.col("session_id")).alias("session_id"),
        "car_number",
        "event_type",
        "event_time",
        "encoding",
        "schema_id",
        "raw_value",
        "payload_json",
        "kafka_topic",
        "kafka_partition",
        "kafka_offset",
        "kafka_timestamp",
        "ingested_at",
        F.lit(quarantined_at).alias("quarantined_at"),
        F.coalesce(_context_value("session_date"), F.col("session_date")).alias("session_date"),
    )


def enriched_records(validated: DataFrame, schema_id: int, validated_ns: int) -> DataFrame:
    """Accepted events as Kafka records of the enriched topic: key = car number, Protobuf value."""
    context = F.to_json(
        F.struct(
            _context_value("circuit").alias("circuit"),
            F.concat(F.lit("SESSION_TYPE_"), _context_value("session_type")).alias("session_type"),
            _context_value("session_date").cast("string").alias("session_date"),
            _context_value("total_laps").alias("total_laps"),
            _context_value("driver_code").alias("driver_code"),
            _context_value("driver_name").alias("driver_name"),
            _context_value("team").alias("team"),
        )
    )
    value = F.call_function(
        "f1_enriched_protobuf",
        F.col("raw_value"),
        F.col("encoding"),
        context,
        F.lit(validated_ns),
        F.lit(schema_id),
    )
    return validated.where(accepted()).select(
        F.col("car_number").cast("string").alias("key"), value.alias("value")
    )


# --- the micro-batch ---------------------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    """What one micro-batch did; the metrics and the tests read it."""

    batch_id: int
    input_rows: int = 0
    replayed_duplicates: int = 0
    valid: dict[str, int] = field(default_factory=dict)  # per event type
    quarantined: dict[str, int] = field(default_factory=dict)  # per reason
    lag_seconds: dict[str, float] = field(default_factory=dict)  # "0.5", "0.99", "1"
    validated_at: dt.datetime | None = None  # the batch's validated_at stamp in the silver tables
    committed_ns: int | None = None  # when the batch's tables were committed
    step_seconds: dict[str, float] = field(default_factory=dict)  # where the batch's time went

    def timed(self, step: str, started: float) -> float:
        """Add the time since `started` to `step`; returns now, for the next step."""
        now = time.perf_counter()
        self.step_seconds[step] = self.step_seconds.get(step, 0.0) + now - started
        return now

    @property
    def valid_total(self) -> int:
        return sum(self.valid.values())

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())


class SilverBatch:
    """The foreachBatch function of the silver query. It keeps the session and schema-id caches."""

    def __init__(
        self,
        spark: SparkSession,
        s: Settings,
        *,
        app_id: str,
        state_folder: str,
        sessions_topic: str = topics.SESSIONS,
        enriched_topic: str | None = topics.ENRICHED,
        on_outcome: Callable[[BatchOutcome], None] | None = None,
    ):
        self.spark, self.s, self.app_id = spark, s, app_id
        self.sessions_topic, self.enriched_topic = sessions_topic, enriched_topic
        self.on_outcome = on_outcome
        self.store = WatermarkStore(spark, state_folder)
        self.sessions: dict[str, object] = {}
        self.schema_ids: set[int] = set()
        self.enriched_schema_id: int | None = None
        self._registry_checked_at = 0.0
        self.horizon_ns = s.silver_dedup_horizon_minutes * 60 * NS_PER_S
        self.lateness_ns = s.silver_allowed_lateness_seconds * NS_PER_S
        self.tolerance_ns = s.silver_future_tolerance_seconds * NS_PER_S

    # caches ------------------------------------------------------------------------------------------------

    def _refresh_sessions(self, wanted: set[str]) -> None:
        missing = {sid for sid in wanted if sid and sid not in self.sessions}
        if not missing:
            return
        found = sessions.read_sessions_topic(self.spark, self.s.kafka_bootstrap_servers, self.sessions_topic)
        new = {sid: info for sid, info in found.items() if sid not in self.sessions}
        if new:
            sessions.upsert_sessions(self.spark, new.values())
            self.sessions.update(new)

    def _refresh_schema_ids(self, seen: set[int]) -> None:
        # Ask the registry again when an id shows up that we do not know, at most every 30 s: a fault
        # injector (or a broken producer) sends unknown ids in every batch.
        unknown = {i for i in seen if i is not None and i not in self.schema_ids}
        if self.schema_ids and (not unknown or time.monotonic() - self._registry_checked_at < 30):
            return
        from streaming.registry import registry_client

        client = registry_client(self.s)
        for subject in TELEMETRY_SUBJECTS:
            for version in client.get_versions(subject):
                self.schema_ids.add(client.get_version(subject, version).schema_id)
        if self.enriched_topic:
            latest = client.get_latest_version(ENRICHED_PROTOBUF.subject)
            self.enriched_schema_id = latest.schema_id
        self._registry_checked_at = time.monotonic()

    # steps -------------------------------------------------------------------------------------------------

    def _mark_events_in_silver(self, rows: DataFrame, old: list) -> DataFrame:
        """`in_silver`: the event is already in a silver table (a repeat the state store has forgotten).

        Only rows older than the dedup horizon are looked up, in their sessions and event-time range. They
        still go through validation, so that they move the lateness watermarks as they did the first time.
        """
        sessions_ = sorted({r.session_id for r in old})
        low = F.timestamp_micros(F.lit(min(r.old_min_ns for r in old) // 1000))
        high = F.timestamp_micros(F.lit(max(r.old_max_ns for r in old) // 1000))
        existing = None
        for event_type in EVENT_TYPES:
            ids = (
                self.spark.table(table_name(event_type))
                .where(F.col("session_id").isin(sessions_) & F.col("event_time").between(low, high))
                .select("event_id", F.lit(True).alias("in_silver"))
            )
            existing = ids if existing is None else existing.unionByName(ids)
        marked = rows.join(existing, "event_id", "left")
        return marked.withColumn("in_silver", F.coalesce("in_silver", F.lit(False)))

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        batch = batch.persist()
        try:
            self._process(batch, batch_id)
        finally:
            batch.unpersist()

    def _process(self, batch: DataFrame, batch_id: int) -> None:
        spark = self.spark
        clock = time.perf_counter()
        is_old = (F.unix_micros("ingested_at") * 1000 - F.col("event_time_unix_ns")) > self.horizon_ns
        summary = (
            batch.groupBy("session_id", "schema_id")
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.min(F.when(is_old, F.col("event_time_unix_ns"))).alias("old_min_ns"),
                F.max(F.when(is_old, F.col("event_time_unix_ns"))).alias("old_max_ns"),
            )
            .collect()
        )
        outcome = BatchOutcome(batch_id, input_rows=sum(r.rows for r in summary))
        clock = outcome.timed("read and summarise", clock)
        if not summary:
            return
        self._refresh_sessions({r.session_id for r in summary})
        self._refresh_schema_ids({r.schema_id for r in summary})
        clock = outcome.timed("sessions and schema ids", clock)

        newest_before = self.store.before(batch_id)
        batch_sessions = {r.session_id for r in summary}
        context = sessions.context_frame(
            spark,
            {sid: info for sid, info in self.sessions.items() if sid in batch_sessions},
            session_watermarks(newest_before, self.lateness_ns),
            self.tolerance_ns,
        )
        old = [r for r in summary if r.old_min_ns is not None and r.session_id in self.sessions]
        rows = self._mark_events_in_silver(batch, old) if old else batch.withColumn("in_silver", F.lit(False))
        # One shuffle by car for all tables: each table's write then makes one file per car partition.
        # The columnar cache (deserialized) lets each table's write read only the columns it needs.
        validated = (
            validate(sessions.with_context(rows, context), self.schema_ids)
            .repartition(self.s.spark_shuffle_partitions, "car_number")
            .persist()
        )
        outcome.timed("plan", clock)
        try:
            self._write(validated, batch, batch_id, outcome, newest_before)
        finally:
            validated.unpersist()

    def _write(self, validated, batch, batch_id, outcome: BatchOutcome, newest_before) -> None:
        clock = time.perf_counter()
        # One job, two grouping sets: counts and newest event time per stream and reason (level 0), and
        # the event-time quantiles per reason (level 7: session, car and type rolled up) for the lag metric.
        keys = ("in_silver", "reason", "session_id", "car_number", "event_type")
        stats = (
            validated.groupingSets([keys, keys[:2]], *keys)
            .agg(
                F.grouping_id().alias("level"),
                F.count(F.lit(1)).alias("rows"),
                F.max("event_time_unix_ns").alias("newest_ns"),
                F.min("event_time_unix_ns").alias("oldest_ns"),
                F.percentile_approx("event_time_unix_ns", [0.01, 0.5], 1000).alias("quantiles_ns"),
            )
            .where(F.col("level").isin(0, 7))
            .collect()
        )
        detail = [r for r in stats if r.level == 0]
        for r in detail:
            if r.in_silver:
                outcome.replayed_duplicates += r.rows
            elif r.reason is None:
                outcome.valid[r.event_type] = outcome.valid.get(r.event_type, 0) + r.rows
            else:
                outcome.quarantined[r.reason] = outcome.quarantined.get(r.reason, 0) + r.rows
        batch.unpersist()  # the validated rows are cached now; the raw batch is no longer needed
        clock = outcome.timed("validate", clock)

        now = outcome.validated_at = dt.datetime.now(dt.UTC)
        if self.enriched_topic and outcome.valid_total:
            (
                enriched_records(validated, self.enriched_schema_id, time.time_ns())
                .write.format("kafka")
                .option("kafka.bootstrap.servers", self.s.kafka_bootstrap_servers)
                .option("topic", self.enriched_topic)
                .save()
            )
            clock = outcome.timed("enriched to kafka", clock)
        writes = [
            (table_name(t), silver_rows(validated, t, now)) for t in EVENT_TYPES if outcome.valid.get(t)
        ]
        if outcome.quarantined_total:
            writes.append((QUARANTINE_TABLE, quarantine_rows(validated, now)))
        self._append_all(writes, batch_id)
        outcome.committed_ns = time.time_ns()
        clock = outcome.timed("delta appends", clock)

        batch_newest = {
            stream_key(r.session_id, r.car_number, r.event_type): r.newest_ns
            for r in detail
            if r.reason is None
        }
        self.store.save(batch_id, merge_newest(newest_before, batch_newest))
        outcome.timed("watermarks", clock)

        accepted = next((r for r in stats if r.level == 7 and r.reason is None and not r.in_silver), None)
        if accepted is not None:
            p01, p50 = accepted.quantiles_ns
            outcome.lag_seconds = {
                "0.5": (outcome.committed_ns - p50) / NS_PER_S,
                "0.99": (outcome.committed_ns - p01) / NS_PER_S,
                "1": (outcome.committed_ns - accepted.oldest_ns) / NS_PER_S,
            }
        if self.on_outcome:
            self.on_outcome(outcome)

    def _append_all(self, writes: list[tuple[str, DataFrame]], batch_id: int) -> None:
        """Append to each table idempotently; tables are independent, so their commits overlap."""

        def append(item: tuple[str, DataFrame]) -> None:
            table, frame = item
            (
                frame.write.format("delta")
                .mode("append")
                .option("txnAppId", f"{self.app_id}:{table}")
                .option("txnVersion", batch_id)
                .saveAsTable(table)
            )

        with ThreadPoolExecutor(max_workers=max(1, self.s.silver_parallel_writes)) as pool:
            list(pool.map(append, writes))


def read_bronze(
    spark: SparkSession, s: Settings, source_table: str = bronze.TABLE, starting_version: str | None = None
) -> DataFrame:
    reader = spark.readStream.format("delta")
    if starting_version is not None:  # a new checkpoint starts there ("latest" or a version number)
        reader = reader.option("startingVersion", starting_version)
    # By location: the Delta source honours startingVersion there (measured: not through .table()).
    location = spark.sql(f"DESCRIBE DETAIL {source_table}").first().location
    return (
        reader.option("maxFilesPerTrigger", str(s.silver_max_files_per_trigger))
        .option("maxBytesPerTrigger", s.silver_max_bytes_per_trigger)
        .load(location)
    )


def start(
    spark: SparkSession,
    s: Settings,
    *,
    available_now: bool = False,
    trigger_seconds: float | None = None,
    checkpoint: str | None = None,
    app_id: str = QUERY_NAME,
    source_table: str = bronze.TABLE,
    sessions_topic: str = topics.SESSIONS,
    enriched_topic: str | None = topics.ENRICHED,
    on_outcome: Callable[[BatchOutcome], None] | None = None,
    starting_version: str | None = None,
):
    """Start the silver query (available-now: drain what bronze holds and stop).

    A new checkpoint reads bronze from its first version, or from `starting_version` ("latest", or a
    version number: the tests and benchmarks process only what they landed).
    """
    checkpoint = checkpoint or f"{s.spark_checkpoint_path}/{app_id}"
    handler = SilverBatch(
        spark,
        s,
        app_id=app_id,
        state_folder=f"{checkpoint}/session_watermarks",
        sessions_topic=sessions_topic,
        enriched_topic=enriched_topic,
        on_outcome=on_outcome,
    )
    horizon_s = s.silver_dedup_horizon_minutes * 60
    writer = (
        deduplicated(read_bronze(spark, s, source_table, starting_version), horizon_s)
        .writeStream.queryName(app_id)
        .option("checkpointLocation", checkpoint)
        .foreachBatch(handler)
    )
    return start_with_trigger(
        writer, s.stream_trigger_seconds, available_now=available_now, trigger_seconds=trigger_seconds
    )
