"""Silver: decoded raw records -> validated, deduplicated, flattened, enriched events; the rest to quarantine.

`SilverBatch` is the silver stage of the lake query's micro-batch (`streaming.jobs.lake`): it takes the
batch's bronze rows (decoded once, cached) and

1. drops repeats of an `event_id`: within the batch (`without_repeats`), and of events silver already
   holds, by looking each row's event id up in the silver table and the quarantine, pruned to the batch's
   sessions and to the seconds of event time its rows cover (`lookup_intervals`; the tables keep stats on
   session_id and event_time, so a batch of live events reads the newest file or two of each table). The
   tables themselves are the memory: dedup needs no state store, survives any restart or new checkpoint,
   and has no horizon (a session replayed days later lands nothing twice);
2. joins each event with its session context (`streaming.jobs.sessions`) and validates it
   (`streaming.jobs.validation`): a record that breaks a rule goes to `silver.quarantine` with the reason;
3. optionally sends the accepted events, enriched, to a Kafka topic (Protobuf, registered);
4. appends them to the one silver table, `silver.telemetry_enriched` (each event type's payload in its own
   struct column; the views `silver.<event_type>` flatten them), idempotently per table
   (`streaming.jobs.appends`), together with the batch's other appends (bronze, the quarantine): three
   commits a batch, so a batch replayed after a crash is never written twice; then saves the session
   watermarks for the next batch.

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

from streaming.clients.security import spark_kafka_options
from streaming.contracts import ENRICHED_PROTOBUF, TELEMETRY_JSON, TELEMETRY_PROTOBUF, topics
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import CONTEXT_COLUMNS, SILVER_TABLE, payload_fields, silver_table_columns
from streaming.jobs import SCHEDULER_POOL, TxnAppId, failures, release, sessions
from streaming.jobs.appends import BatchAppends
from streaming.jobs.recent_ids import RecentIds
from streaming.jobs.validation import EVENT_TIME_RANGE_NS, NS_PER_S, SchemaIds, payload_column, validate
from streaming.jobs.watermarks import WatermarkStore, merge_newest, session_watermarks, stream_key
from streaming.settings import Settings

QUARANTINE_TABLE = "silver.quarantine"
# SILVER_TABLE (silver.telemetry_enriched) is defined with its columns in streaming.contracts.tables.
TELEMETRY_SUBJECTS = (TELEMETRY_PROTOBUF.subject, TELEMETRY_JSON.subject)


def table_name(event_type: str) -> str:
    """The view of one event type's rows of the silver table, its payload flattened to columns: what
    Spark SQL, dbt and the quality checks read. (Readers of the Delta log read SILVER_TABLE.)"""
    return f"silver.{event_type}"


def dedup_key() -> Column:
    """event_id, or the record's Kafka coordinates when it has none (those are never duplicates)."""
    has_id = F.col("event_id").isNotNull() & (F.col("event_id") != "")
    return F.when(has_id, F.col("event_id")).otherwise(
        F.concat_ws(":", "kafka_topic", "kafka_partition", "kafka_offset")
    )


def without_repeats(batch: DataFrame) -> DataFrame:
    """The batch with one row per `dedup_key`: of the rows sharing one, the first by Kafka coordinates.

    Repeats within a batch are rare, so they are found on a narrow aggregation (the key and the record's
    coordinates) and the few keys with repeats are broadcast back: the batch's wide rows (bytes, payloads)
    are never shuffled, as `dropDuplicates` would shuffle them. The row kept is the same on every try.
    """
    keyed = batch.withColumn("dedup_key", dedup_key())
    coordinates = F.struct("kafka_topic", "kafka_partition", "kafka_offset")
    repeated = (
        keyed.groupBy("dedup_key")
        .agg(F.count(F.lit(1)).alias("copies"), F.min(coordinates).alias("kept"))
        .where(F.col("copies") > 1)
        .drop("copies")
    )
    marked = keyed.join(F.broadcast(repeated), "dedup_key", "left")
    return marked.where(F.col("kept").isNull() | (coordinates == F.col("kept"))).drop("kept")


# Event time is looked up in one-second buckets: a batch's rows cover a few seconds of event time each
# session, and laggards (a repeat sent minutes later) add their own second, not the minutes in between.
LOOKUP_BUCKET_NS = NS_PER_S
# Most event-time intervals one lookup filters on; beyond, the closest intervals are merged (fewer
# predicates, a few more files read).
MAX_LOOKUP_INTERVALS = 64


def lookup_bucket() -> Column:
    """The second of event time a row is looked up in (null: the row cannot be in silver at all).

    Only rows with an event id, a session id and an event time silver can accept: any other time is
    quarantined as out of range (those rows are looked up by id alone: `looked_up_by_id`), and a row
    without an id is keyed by its Kafka coordinates, which never repeat.
    """
    event_ns = F.col("event_time_unix_ns")
    low_ns, high_ns = EVENT_TIME_RANGE_NS
    possible = (F.col("event_id") != "") & (F.col("session_id") != "") & event_ns.between(low_ns, high_ns - 1)
    return F.when(possible, F.expr(f"event_time_unix_ns div {LOOKUP_BUCKET_NS}"))


def looked_up_by_id() -> Column:
    """A row with an event id that no session and second of event time can find: no session id, or an
    event time silver can't accept. It can only be in the quarantine, and is looked up there by its id
    (a replay of a hostile record would otherwise be quarantined again). Rare: only broken records."""
    return F.coalesce((F.col("event_id") != "") & lookup_bucket().isNull(), F.lit(False))


def lookup_intervals(buckets: list[int], most: int = MAX_LOOKUP_INTERVALS) -> list[tuple[int, int]]:
    """Sorted, disjoint (first, last) bucket intervals covering `buckets`: runs of adjacent buckets, and
    at most `most` of them (the intervals with the smallest gaps between them are merged first)."""
    intervals: list[list[int]] = []
    for bucket in sorted(set(buckets)):
        if intervals and bucket == intervals[-1][1] + 1:
            intervals[-1][1] = bucket
        else:
            intervals.append([bucket, bucket])
    while len(intervals) > most:
        gaps = [intervals[i + 1][0] - intervals[i][1] for i in range(len(intervals) - 1)]
        i = gaps.index(min(gaps))
        intervals[i : i + 2] = [[intervals[i][0], intervals[i + 1][1]]]
    return [(first, last) for first, last in intervals]


def lookup_filter(intervals_by_session: dict[str, list[tuple[int, int]]]) -> Column:
    """Rows of a silver table in these sessions and event-time intervals (data skipping on their stats)."""
    condition = None
    for session_id, intervals in sorted(intervals_by_session.items()):
        times = None
        for first, last in intervals:
            low = F.timestamp_micros(F.lit(first * LOOKUP_BUCKET_NS // 1000))
            high = F.timestamp_micros(F.lit(((last + 1) * LOOKUP_BUCKET_NS) // 1000 - 1))
            between = F.col("event_time").between(low, high)
            times = between if times is None else times | between
        session = (F.col("session_id") == F.lit(session_id)) & times
        condition = session if condition is None else condition | session
    return condition


# --- pure projections: validated rows -> table rows -------------------------------------------------------


def _context_value(name: str) -> Column:
    return F.col(f"ctx_{name}")


def accepted() -> Column:
    """A row silver lands: valid, and not a repeat of an event the tables already hold."""
    return F.col("reason").isNull() & ~F.col("in_silver")


def quarantined() -> Column:
    return F.col("reason").isNotNull() & ~F.col("in_silver")


def payload_struct(event_type: str) -> Column:
    """The event type's parsed payload as silver stores it: table types, enums by their short names."""
    struct = F.col(payload_column(event_type))
    fields = []
    for f in payload_fields(event_type):
        value = struct[f.name]
        if f.enum_prefix:  # TIRE_COMPOUND_SOFT -> SOFT
            value = F.expr(f"substring({payload_column(event_type)}.{f.name}, {len(f.enum_prefix) + 1})")
        fields.append(value.cast(f.table_type).alias(f.name))
    return F.struct(*fields)


def silver_rows(validated: DataFrame, validated_at: dt.datetime) -> DataFrame:
    """Accepted rows of every event type, as rows of the silver table (SILVER_TABLE): the payload in the
    struct column of its type, the other types' columns null."""
    computed = {
        **{t: F.when(F.col("event_type") == t, payload_struct(t)) for t in EVENT_TYPES},
        **{name: _context_value(name) for name, *_ in CONTEXT_COLUMNS},
        "validated_at": F.lit(validated_at),
        "session_date": F.coalesce(_context_value("session_date"), F.col("session_date")),
    }
    return validated.where(accepted()).select(
        *(
            (computed[name] if name in computed else F.col(name)).cast(type_).alias(name)
            for name, type_, *_ in silver_table_columns()
        )
    )


def _quarantine_columns(reason: Column, detail: Column, session_date: Column, quarantined_at: dt.datetime):
    """silver.quarantine's columns, from bronze's own: the record's bytes and coordinates as they are."""
    return (
        reason.alias("reason"),
        detail.alias("reason_detail"),
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
        session_date.alias("session_date"),
    )


def quarantine_rows(validated: DataFrame, quarantined_at: dt.datetime) -> DataFrame:
    session_date = F.coalesce(_context_value("session_date"), F.col("session_date"))
    columns = _quarantine_columns(F.col("reason"), F.col("reason_detail"), session_date, quarantined_at)
    return validated.where(quarantined()).select(*columns)


def set_aside_rows(batch: DataFrame, detail: str, quarantined_at: dt.datetime) -> DataFrame:
    """Bronze rows of a batch that kept failing, as quarantine rows with reason `batch_failed`.

    Only bronze's own columns, copied: nothing here reads a record's contents, so nothing can fail.
    """
    reason, detail_ = F.lit(failures.REASON), F.lit(detail)
    batch = batch.withColumn("payload_json", F.lit(None).cast("string"))
    return batch.select(*_quarantine_columns(reason, detail_, F.col("session_date"), quarantined_at))


ENRICHED_VALUE = "enriched_value"


def enriched_value(schema_id: int, validated_ns: int) -> Column:
    """The enriched topic's Protobuf value of an accepted event (null for the others)."""
    value = F.call_function(
        "f1_enriched_protobuf",
        F.col("raw_value"),
        F.col("encoding"),
        _context_value("enriched_context_json"),
        F.lit(validated_ns),
        F.lit(schema_id),
    )
    return F.when(accepted(), value)


def enriched_records(rows: DataFrame) -> DataFrame:
    """Accepted events as Kafka records of the enriched topic: key = car number, Protobuf value."""
    return rows.where(accepted()).select(
        F.col("car_number").cast("string").alias("key"), F.col(ENRICHED_VALUE).alias("value")
    )


# Columns the writes never read once the rules have run: the batch caches the rest only.
UNUSED_AFTER_VALIDATION = (
    "kafka_key",
    "decode_error",
    "dedup_key",
    "ctx_start_time_unix_ns",
    "ctx_watermark_unix_ns",
    "ctx_future_tolerance_ns",
    "ctx_circuit_length_m",
    "ctx_enriched_context_json",
)


def cacheable(validated: DataFrame, enriched: Column | None) -> DataFrame:
    """What a batch keeps of its validated rows: the record's bytes only where quarantine needs them.

    The raw value is most of a row's size, and only quarantined rows keep it, with their payload as JSON
    text for people (`payload_json`: rare rows, so no text is made for the accepted ones); accepted rows
    carry their enriched Kafka value instead (computed here, from the raw value), and their payload as the
    struct the tables read (`p_<type>`; bronze's own payload columns are dropped).
    """
    keep_original = quarantined()
    payload = F.coalesce(*(F.to_json(t) for t in EVENT_TYPES))
    columns = {
        "raw_value": F.when(keep_original, F.col("raw_value")),
        "payload_json": F.when(keep_original, payload),
    }
    if enriched is not None:
        columns[ENRICHED_VALUE] = enriched
    unused = [*UNUSED_AFTER_VALIDATION, *EVENT_TYPES]
    return validated.withColumns(columns).drop(*(c for c in unused if c in validated.columns))


# --- the micro-batch ---------------------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    """What one micro-batch did; the metrics and the tests read it."""

    batch_id: int
    input_rows: int = 0
    broken: int = 0  # rows that break their contract (bronze's decode_reason): what goes to the DLQ
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
    """The silver stage of a query's micro-batches. It keeps the session and schema-id caches."""

    def __init__(
        self,
        spark: SparkSession,
        s: Settings,
        *,
        app_id: str,
        checkpoint: str,
        sessions_topic: str = topics.SESSIONS,
        enriched_topic: str | None = topics.ENRICHED,
        on_outcome: Callable[[BatchOutcome], None] | None = None,
        query: str,
    ):
        self.spark, self.s, self.query = spark, s, query
        txn_app_id = TxnAppId(spark, app_id, checkpoint)
        # one app id for every table the query writes, bronze's included
        self.appends = BatchAppends(spark, txn_app_id)
        # a batch set aside is its own write to the quarantine, apart from the batch's ordinary one
        self.set_aside_appends = BatchAppends(spark, _Suffixed(txn_app_id, "set-aside"))
        self.sessions_topic, self.enriched_topic = sessions_topic, enriched_topic
        self.on_outcome = on_outcome
        self.store = WatermarkStore(spark, f"{checkpoint}/session_watermarks")
        self.sessions: dict[str, object] = {}
        self.schema_ids = SchemaIds(frozenset(), frozenset())
        self.enriched_schema_id: int | None = None
        self._registry_checked_at = 0.0
        self.lateness_ns = s.silver_allowed_lateness_seconds * NS_PER_S
        self.tolerance_ns = s.silver_future_tolerance_seconds * NS_PER_S
        # the ids this run landed lately: a live batch looks its repeats up there, not in the tables
        self.recent = RecentIds(self._ids_in_tables)

    def retrying(self, batch_id: int) -> None:
        """A try of `batch_id` failed: it runs again, and may have landed in some tables already."""
        self.appends.retrying(batch_id)
        self.recent.forget()

    # caches ------------------------------------------------------------------------------------------------

    def _refresh_sessions(self, wanted: set[str]) -> None:
        missing = {sid for sid in wanted if sid and sid not in self.sessions}
        if not missing:
            return
        found = sessions.read_sessions_topic(self.spark, spark_kafka_options(self.s), self.sessions_topic)
        new = {sid: info for sid, info in found.items() if sid not in self.sessions}
        if new:
            sessions.upsert_sessions(self.spark, new.values())
            self.sessions.update(new)

    def _refresh_schema_ids(self, seen: set[int]) -> None:
        # Ask the registry again when an id shows up that we do not know, at most every 30 s: a fault
        # injector (or a broken producer) sends unknown ids in every batch.
        known = self.schema_ids.protobuf | self.schema_ids.json | {i for i, _ in self.schema_ids.subjects}
        unknown = {i for i in seen if i is not None and i not in known}
        if known and (not unknown or time.monotonic() - self._registry_checked_at < 30):
            return
        from streaming.clients.registry import registry_client

        client = registry_client(self.s)
        subjects: dict[int, str] = {}
        for subject in client.get_subjects():
            for version in client.get_versions(subject):
                subjects.setdefault(client.get_version(subject, version).schema_id, subject)
        by_subject = {
            name: frozenset(i for i, s in subjects.items() if s == name) for name in TELEMETRY_SUBJECTS
        }
        self.schema_ids = SchemaIds(
            protobuf=by_subject[TELEMETRY_PROTOBUF.subject],
            json=by_subject[TELEMETRY_JSON.subject],
            subjects=tuple(sorted(subjects.items())),
        )
        if self.enriched_topic:
            latest = client.get_latest_version(ENRICHED_PROTOBUF.subject)
            self.enriched_schema_id = latest.schema_id
        self._registry_checked_at = time.monotonic()

    # steps -------------------------------------------------------------------------------------------------

    def _ids_in_tables(self, where: Column) -> DataFrame:
        """(session_id, event_time, event_id) of the rows silver and the quarantine hold, where `where`."""
        found = [
            self.spark.table(table).where(where).select("session_id", "event_time", "event_id")
            for table in (SILVER_TABLE, QUARANTINE_TABLE)
        ]
        return found[0].unionByName(found[1]).where(F.col("event_id").isNotNull())

    def _mark_events_in_silver(
        self,
        rows: DataFrame,
        intervals: dict[str, list[tuple[int, int]]],
        by_id: bool,
        remembered: DataFrame | None = None,
    ) -> DataFrame:
        """`in_silver`: the event has landed already, in a silver table or in quarantine (a repeat).

        Quarantine counts as landed: a record quarantined as late the first time could otherwise be
        accepted the second time (a new checkpoint starts its lateness watermarks afresh and splits the
        topics into other batches), and then be in both. Repeats still go through validation, so that they
        move the lateness watermarks as they did the first time.
        """
        existing = remembered  # the ids of seconds the run's memory covers (streaming.jobs.recent_ids)
        if intervals:
            ids = self._ids_in_tables(lookup_filter(intervals)).select("event_id")
            existing = ids if existing is None else existing.unionByName(ids)
        if by_id:  # a few broken records: the quarantine's ids, joined with theirs
            wanted = rows.where(looked_up_by_id()).select("event_id")
            ids = self.spark.table(QUARANTINE_TABLE).select("event_id").join(wanted, "event_id", "left_semi")
            existing = ids if existing is None else existing.unionByName(ids)
        # distinct: a repeat may be in quarantine twice already. Materialised now (an eager local
        # checkpoint): a cached batch whose plan still read the silver tables would be dropped from the
        # cache by each of the batch's own appends to them, and recomputed for every next table.
        existing = (
            existing.where(F.col("event_id").isNotNull())
            .distinct()
            .withColumn("in_silver", F.lit(True))
            .localCheckpoint()
        )
        # Broadcast: the ids silver holds in the batch's sessions and seconds are about as many as the
        # batch's rows at most (bounded by STREAM_MAX_OFFSETS_PER_TRIGGER), and a broadcast join leaves the
        # batch's rows where they are instead of shuffling all of them once more.
        marked = rows.join(F.broadcast(existing), "event_id", "left")
        return marked.withColumn("in_silver", F.coalesce("in_silver", F.lit(False)))

    def set_aside(self, rows: DataFrame, batch_id: int, detail: str) -> None:
        """Quarantine a failed batch's records as `batch_failed`, but for those a failed try landed already.

        `rows` are the batch's records as bronze's set-aside rows (`bronze.set_aside`): their bytes and
        Kafka coordinates only.
        """
        self._describe(batch_id, "set aside")
        landed = [table for table in (SILVER_TABLE, QUARANTINE_TABLE) if self.appends.landed(table, batch_id)]
        if landed:  # the rare case: the try failed after some of its appends; those rows are in place
            # A try re-decodes the batch (new ingested_at): the landed rows are found by their Kafka
            # coordinates among the rows the tables took in the last hour.
            since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
            coordinates = ["kafka_topic", "kafka_partition", "kafka_offset"]
            for table in landed:
                stamp = "quarantined_at" if table == QUARANTINE_TABLE else "validated_at"
                there = self.spark.table(table).where(F.col(stamp) >= F.lit(since))
                rows = rows.join(there.select(*coordinates), coordinates, "left_anti")
        now = dt.datetime.now(dt.UTC)
        self.set_aside_appends.append(
            set_aside_rows(rows, detail, now).coalesce(1), QUARANTINE_TABLE, batch_id
        )

    def _describe(self, batch_id: int, step: str) -> None:
        """Name the Spark jobs of this thread's next step, as the Spark UI shows them, and keep them in
        the query's scheduler pool (the parallel appends run in threads that do not inherit it)."""
        context = self.spark.sparkContext
        context.setJobDescription(f"{self.query} batch {batch_id}: {step}")
        context.setLocalProperty(SCHEDULER_POOL, self.query)

    def process(
        self, batch: DataFrame, batch_id: int, also: list[tuple[str, DataFrame]] = ()
    ) -> BatchOutcome | None:
        """Validate, deduplicate and land one batch of decoded rows (bronze's columns; cached by the caller).

        `also`: the batch's other appends, (table, rows), made with silver's in one round of idempotent
        commits. Returns what the batch did (None for an empty batch, which writes nothing).
        """
        spark = self.spark
        batch = failures.with_injected_fault(batch, self.s.stream_fault_fail_batch_event_id_prefix)
        clock = time.perf_counter()
        self._describe(batch_id, "read and summarise")
        summary = (
            batch.groupBy("session_id", "schema_id", lookup_bucket().alias("bucket"))
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.count(F.when(looked_up_by_id(), True)).alias("by_id"),
                F.count("decode_reason").alias("broken"),
            )
            .collect()
        )
        outcome = BatchOutcome(
            batch_id, input_rows=sum(r.rows for r in summary), broken=sum(r.broken for r in summary)
        )
        clock = outcome.timed("read and summarise", clock)
        if not summary:
            return None
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
        clock = outcome.timed("session context", clock)
        buckets: dict[str, list[int]] = {}
        for r in summary:
            if r.bucket is not None:
                buckets.setdefault(r.session_id, []).append(r.bucket)
        by_id = any(r.by_id for r in summary)
        clock = outcome.timed("plan", clock)
        self._describe(batch_id, "look up repeats")
        # seconds the run's memory covers are looked up there; the others (old ones) in the tables
        in_memory, in_tables = self.recent.split(buckets)
        remembered = self.recent.lookup(in_memory)
        intervals = {sid: lookup_intervals(found) for sid, found in in_tables.items()}
        # A repeat within the batch is dropped here (the first copy by Kafka coordinates stays: they are
        # the same event); a repeat of an event an earlier batch landed is marked by the lookup.
        unique = without_repeats(batch)
        rows = (
            self._mark_events_in_silver(unique, intervals, by_id, remembered)
            if intervals or by_id or remembered is not None
            else unique.withColumn("in_silver", F.lit(False))
        )
        clock = outcome.timed("look up repeats", clock)
        enriched = enriched_value(self.enriched_schema_id, time.time_ns()) if self.enriched_topic else None
        validated = cacheable(validate(sessions.with_context(rows, context), self.schema_ids), enriched)
        clock = outcome.timed("plan", clock)
        # Validated once, into a local checkpoint: the rows stay in memory and every later job (the counts,
        # each table's append, the enriched topic, the memory of ids) starts from them with a plan of one
        # node. Cached instead, each of those jobs analysed, looked up, printed and shipped the validation
        # plan (hundreds of rules) again: a third of a small batch's time (JFR of the driver, 2 cars).
        self._describe(batch_id, "validate")
        validated = validated.localCheckpoint(eager=True)
        clock = outcome.timed("validate", clock)
        try:
            self._write(validated, batch_id, outcome, newest_before, list(also), buckets)
        finally:
            release(validated)
        return outcome

    def _write(self, validated, batch_id, outcome: BatchOutcome, newest_before, also, buckets) -> None:
        clock = time.perf_counter()
        self._describe(batch_id, "count outcomes")
        # Counts, newest and oldest event time per stream and reason: what the metrics, the watermarks and
        # the outcome need; and, in the grand total row of the same aggregation, the accepted rows' event
        # time quantiles for the lag metric: one job over a few columns of the checkpointed rows.
        keys = ("in_silver", "reason", "session_id", "car_number", "event_type")
        rows = (
            validated.groupingSets([list(keys), []], *keys)
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.max("event_time_unix_ns").alias("newest_ns"),
                F.min("event_time_unix_ns").alias("oldest_ns"),
                F.percentile_approx(F.when(accepted(), F.col("event_time_unix_ns")), [0.01, 0.5], 1000).alias(
                    "quantiles"
                ),
                F.grouping_id().alias("total"),
            )
            .collect()
        )
        stats = [r for r in rows if r.total == 0]
        # repeats within the batch were dropped before validation
        outcome.replayed_duplicates = outcome.input_rows - sum(r.rows for r in stats)
        for r in stats:
            if r.in_silver:
                outcome.replayed_duplicates += r.rows
            elif r.reason is None:
                outcome.valid[r.event_type] = outcome.valid.get(r.event_type, 0) + r.rows
            else:
                outcome.quarantined[r.reason] = outcome.quarantined.get(r.reason, 0) + r.rows
        quantiles = None
        if outcome.valid_total:  # the oldest accepted event time comes from the stats already collected
            oldest = min(r.oldest_ns for r in stats if r.reason is None and not r.in_silver)
            (p01, p50) = next(r.quantiles for r in rows if r.total != 0)
            quantiles = {"0.5": p50, "0.99": p01, "1": oldest}
        clock = outcome.timed("count outcomes", clock)

        now = outcome.validated_at = dt.datetime.now(dt.UTC)
        writes = [*also]
        if outcome.valid_total:
            writes.append((SILVER_TABLE, silver_rows(validated, now)))
        if outcome.quarantined_total:
            writes.append((QUARANTINE_TABLE, quarantine_rows(validated, now)))
        # The enriched topic is written beside the appends: a crash before the batch is in the checkpoint
        # runs the whole batch again, Kafka's write included (at least once), whichever finished first.
        enriched = None
        if self.enriched_topic and outcome.valid_total:
            enriched = lambda: self._publish_enriched(validated, batch_id)  # noqa: E731
        self._append_all(writes, batch_id, also_run=enriched)
        outcome.committed_ns = time.time_ns()
        clock = outcome.timed("delta appends and enriched to kafka", clock)

        # what the batch landed, for the next batches' lookups (after the commits: a try that fails before
        # them makes the memory forget everything instead)
        landed = validated.where(~F.col("in_silver")).withColumn("bucket", lookup_bucket())
        self.recent.remember(landed.select("session_id", "bucket", "event_id"), buckets)
        clock = outcome.timed("remember ids", clock)

        batch_newest = {
            stream_key(r.session_id, r.car_number, r.event_type): r.newest_ns
            for r in stats
            if r.reason is None
        }
        self.store.save(batch_id, merge_newest(newest_before, batch_newest))
        outcome.timed("watermarks", clock)

        if quantiles is not None:
            outcome.lag_seconds = {q: (outcome.committed_ns - ns) / NS_PER_S for q, ns in quantiles.items()}
        if self.on_outcome:
            self.on_outcome(outcome)

    def _publish_enriched(self, validated: DataFrame, batch_id: int) -> None:
        self._describe(batch_id, "enriched to kafka")
        (
            enriched_records(validated)
            .write.format("kafka")
            .options(**spark_kafka_options(self.s))
            .option("topic", self.enriched_topic)
            .save()
        )

    def _append_all(
        self, writes: list[tuple[str, DataFrame]], batch_id: int, also_run: Callable[[], None] | None = None
    ) -> None:
        """Append to each table idempotently, and run `also_run`: independent writes, so they overlap."""

        def append(item: tuple[str, DataFrame]) -> None:
            table, frame = item
            self._describe(batch_id, f"append to {table}")
            self.append(frame, table, batch_id, self.appends)

        with ThreadPoolExecutor(max_workers=max(1, self.s.silver_parallel_writes)) as pool:
            done = [pool.submit(append, item) for item in writes]
            if also_run is not None:
                done.append(pool.submit(also_run))
            for future in done:
                future.result()

    @staticmethod
    def append(frame: DataFrame, table: str, batch_id: int, appends: BatchAppends) -> bool:
        """One batch's idempotent append to `table`: one task, so a file per partition value (not one per
        partition value and cached partition)."""
        txn_app_id = f"{appends.app_id}:{table}"
        return appends.append(frame.coalesce(1), table, batch_id, txn_app_id=txn_app_id)


class _Suffixed:
    """An app id with a suffix, read as late as the app id itself (TxnAppId reads the checkpoint)."""

    def __init__(self, app_id: TxnAppId, suffix: str):
        self.app_id, self.suffix = app_id, suffix

    def __str__(self) -> str:
        return f"{self.app_id}:{self.suffix}"
