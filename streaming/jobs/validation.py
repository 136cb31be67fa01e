"""Silver's validation: pure DataFrame functions that parse each payload and name the first rule it breaks.

`validate(rows)` takes bronze rows joined with their session context (see `streaming.jobs.sessions`) and
adds `reason` (a code from `REASONS`, null when the record is valid), `reason_detail` (which field and
value, for people) and one parsed payload struct per event type (`p_position`, ...). Everything is a
column expression: Spark evaluates the rules in generated code, with no Python in the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import payload_fields

# Reason codes, in the order the rules are checked: a record is quarantined for the first one it breaks.
REASONS = (
    "undecodable",  # bronze could not read the bytes (a tombstone, truncated, not the wire format, bad JSON)
    "schema_violation",  # JSON breaking the registered JSON Schema (unknown field, wrong type, two payloads)
    "event_type_mismatch",  # the envelope's event_type disagrees with the payload it carries
    "batch_failed",  # the record's micro-batch kept failing (streaming/jobs/failures.py): set aside whole
    "unknown_schema_id",  # the schema id is not one of its topic's telemetry schemas
    "missing_field",  # a required envelope or payload field is absent or empty
    "invalid_event_id",  # event_id is not a UUID (the contract's identity of an event)
    "unknown_session",  # no session metadata for session_id on the sessions topic
    "unknown_car",  # the car is not in the session's entry list
    "invalid_enum",  # an enum value outside the contract (or UNSPECIFIED where one is required)
    "out_of_range",  # a value no car can produce (1,500 km/h, 250 % wear, NaN), or no column can hold
    "future_timestamp",  # event time after the record reached Kafka (beyond the tolerance)
    "before_session",  # event time before the session started (beyond the tolerance)
    "late",  # older than its stream's watermark (streaming/jobs/watermarks.py): beyond the allowed lateness
)

# (min, max) a car can produce, per event type and field. The simulator's values sit well inside; a
# value outside is a sensor or encoding fault. None means unbounded on that side.
RANGES: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "position": {
        "x_m": (-20_000, 20_000),
        "y_m": (-20_000, 20_000),
        "z_m": (-1_000, 3_000),
        "lap_number": (0, 200),
        "lap_distance_m": (0, None),  # upper bound: the circuit's length, from the session
        "race_position": (1, 99),
    },
    "dynamics": {
        "speed_kmh": (0, 420),
        "throttle_pct": (0, 100),
        "brake_pct": (0, 100),
        "gear": (-1, 8),
        "engine_rpm": (0, 16_000),
        "steering_angle_deg": (-360, 360),
        "lateral_g": (-10, 10),
        "longitudinal_g": (-10, 10),
    },
    "power_unit": {
        "ice_rpm": (0, 16_000),
        "mgu_k_power_kw": (-150, 150),
        "mgu_h_power_kw": (-150, 150),
        "ers_store_energy_kj": (0, 4_000),
        "fuel_remaining_kg": (0, 150),
        "oil_temp_c": (-30, 200),
        "water_temp_c": (-30, 200),
    },
    "tire": {
        "surface_temp_c": (-30, 250),
        "inner_temp_c": (-30, 250),
        "pressure_kpa": (0, 400),
        "wear_pct": (0, 100),
        "age_laps": (0, 200),
    },
    "aerodynamics": {
        "front_wing_angle_deg": (-45, 45),
        "rear_wing_angle_deg": (-45, 45),
        "downforce_n": (0, 100_000),
        "drag_n": (0, 50_000),
    },
    "system": {
        "engine_mode": (0, 20),
        "pit_stop_duration_s": (0, 3_600),
        "lap_number": (0, 200),
    },
}

NS_PER_S = 1_000_000_000
# Event times silver accepts at all, in Unix ns: [2000-01-01, 2200-01-01). Anything outside is a broken
# clock or encoding, whatever its session says; bronze keeps such a time in event_time_unix_ns only.
EVENT_TIME_RANGE_NS = (946_684_800 * NS_PER_S, 7_258_118_400 * NS_PER_S)
INT_RANGE = (-(2**31), 2**31 - 1)
# The contract's event id: a UUID in its canonical text form, any case. Silver finds a repeat of an event
# by its id in the session and second of event time it names; an id that is not a UUID (a producer bug, a
# hostile record: "0", 20,000 x's) could name two different events, and silver would hold both.
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


@dataclass(frozen=True)
class SchemaIds:
    """The registry's schema ids as silver checks them.

    A record's schema id must be one of its own topic's telemetry subject (the Protobuf id on the
    Protobuf topic, the JSON Schema id on the JSON topic); `subjects` names the subject of every other id
    the registry holds, so that a record with, say, the sessions schema's id is told apart from an id the
    registry has never seen.
    """

    protobuf: frozenset[int]
    json: frozenset[int]
    subjects: tuple[tuple[int, str], ...] = ()

    @classmethod
    def of(cls, ids: SchemaIds | Iterable[int]) -> SchemaIds:
        """`ids` as it is, or a set of ids valid on both topics (the tests' shorthand)."""
        if isinstance(ids, SchemaIds):
            return ids
        both = frozenset(ids)
        return cls(both, both)


def payload_column(event_type: str) -> str:
    return f"p_{event_type}"


def parse_payloads(rows: DataFrame) -> DataFrame:
    """One struct column per event type (`p_<type>`): the row's own payload as bronze decoded it, typed
    (`streaming.jobs.bronze`), and null for the other types."""
    return rows.select(
        "*",
        *(F.when(F.col("event_type") == t, F.col(t)).alias(payload_column(t)) for t in EVENT_TYPES),
    )


def _rule(condition: Column, reason: str, detail: Column | str) -> tuple[Column, str, Column]:
    return condition, reason, detail if isinstance(detail, Column) else F.lit(detail)


def _blank(column: Column) -> Column:
    return column.isNull() | (column == "")


def _schema_id_rule(schema_ids: SchemaIds) -> tuple[Column, str, Column]:
    schema_id, encoding = F.col("schema_id"), F.col("encoding")
    valid = F.lit(False)
    for name, ids in (("protobuf", schema_ids.protobuf), ("json", schema_ids.json)):
        if ids:
            valid = valid | ((encoding == name) & schema_id.isin(sorted(ids)))
    said = F.concat(F.lit("schema id "), schema_id.cast("string"))
    unregistered = F.concat(said, F.lit(" is not registered"))
    detail = unregistered
    if schema_ids.subjects:
        subjects = F.create_map(*(F.lit(x) for pair in sorted(schema_ids.subjects) for x in pair))
        subject = F.element_at(subjects, schema_id)
        other = F.concat(
            said,
            F.lit(" is registered for "),
            subject,
            F.lit(", not for this topic's "),
            encoding,
            F.lit(" telemetry"),
        )
        detail = F.when(subject.isNotNull(), other).otherwise(unregistered)
    return _rule(schema_id.isNull() | ~valid, "unknown_schema_id", detail)


def _envelope_rules(schema_ids: SchemaIds) -> tuple[list, list]:
    """(envelope rules, timing rules): timing is checked last, after the payload's own rules.

    The first rule is bronze's verdict (`decode_reason`): its code is read from the row (see
    `_first_failure`). Time arithmetic is `try_*`: an overflow yields null, which passes that rule, and the
    event-time range rule before it rejects every time that could overflow.
    """
    event_time = F.col("event_time_unix_ns")
    kafka_ns = F.try_multiply(F.unix_micros("kafka_timestamp"), F.lit(1000))
    low_ns, high_ns = EVENT_TIME_RANGE_NS
    return [
        _rule(F.col("decode_error").isNotNull(), "undecodable", F.col("decode_error")),
        _schema_id_rule(schema_ids),
        _rule(_blank(F.col("event_id")), "missing_field", "event_id"),
        _rule(_blank(F.col("session_id")), "missing_field", "session_id"),
        _rule(F.col("car_number").isNull() | (F.col("car_number") <= 0), "missing_field", "car_number"),
        _rule(event_time.isNull() | (event_time == 0), "missing_field", "event_time_unix_ns"),
        _rule(F.col("sequence").isNull() | (F.col("sequence") <= 0), "missing_field", "sequence"),
        _rule(F.col("event_type") == "missing", "missing_field", "payload"),
        _rule(
            ~F.col("event_id").rlike(UUID_PATTERN),
            "invalid_event_id",
            F.concat(
                F.lit("event_id '"),
                F.substring("event_id", 1, 40),
                F.when(F.length("event_id") > 40, F.lit("...")).otherwise(F.lit("")),
                F.lit("' is not a UUID"),
            ),
        ),
        _rule(
            F.col("ctx_start_time_unix_ns").isNull(),
            "unknown_session",
            F.concat(F.lit("session "), F.col("session_id"), F.lit(" is not on the sessions topic")),
        ),
        _rule(
            F.col("ctx_driver_code").isNull(),
            "unknown_car",
            F.concat(F.lit("car "), F.col("car_number").cast("string"), F.lit(" is not in the entry list")),
        ),
    ], [
        _rule(
            (event_time < low_ns) | (event_time >= high_ns),
            "out_of_range",
            F.concat(
                F.lit("event_time_unix_ns="),
                event_time.cast("string"),
                F.lit(" outside [2000-01-01, 2200-01-01)"),
            ),
        ),
        _rule(
            event_time > F.try_add(kafka_ns, F.col("ctx_future_tolerance_ns")),
            "future_timestamp",
            F.concat(
                F.lit("event time "),
                F.col("event_time").cast("string"),
                F.lit(" is after the Kafka timestamp "),
                F.col("kafka_timestamp").cast("string"),
            ),
        ),
        _rule(
            event_time < F.try_subtract(F.col("ctx_start_time_unix_ns"), F.col("ctx_future_tolerance_ns")),
            "before_session",
            F.concat(
                F.lit("event time "), F.col("event_time").cast("string"), F.lit(" is before the session")
            ),
        ),
        _rule(
            event_time < F.col("ctx_watermark_unix_ns"),
            "late",
            F.concat(
                F.lit("event time "),
                F.col("event_time").cast("string"),
                F.lit(" is behind the watermark of its car and event type, "),
                F.timestamp_micros(F.floor(F.col("ctx_watermark_unix_ns") / 1000).cast("long")).cast(
                    "string"
                ),
            ),
        ),
    ]


def _payload_rules(event_type: str) -> tuple[list, list]:
    """(missing, enum-and-range) rules of one event type, for rows of that type only."""
    struct = F.col(payload_column(event_type))
    missing, enums, ranges = [], [], []
    for field in payload_fields(event_type):
        value = struct[field.name]
        if field.required:
            missing.append(_rule(value.isNull(), "missing_field", f"{event_type}.{field.name}"))
        if field.enum_prefix:
            allowed = [field.enum_prefix + v for v in field.enum_values]
            enums.append(
                _rule(
                    value.isNotNull() & ~value.isin(allowed),
                    "invalid_enum",
                    F.concat(F.lit(f"{field.name}="), value),
                )
            )
    fields = {f.name: f for f in payload_fields(event_type)}
    for name, (low, high) in RANGES[event_type].items():
        value = struct[name]
        if fields[name].parse_type == "DOUBLE":  # NaN and infinities pass a comparison with a null bound
            ranges.append(
                _rule(
                    F.isnan(value) | (F.abs(value) == float("inf")),
                    "out_of_range",
                    F.concat(
                        F.lit(f"{event_type}.{name}="), value.cast("string"), F.lit(" is not a finite number")
                    ),
                )
            )
        if fields[name].table_type == "INT":  # the table's column must hold it, whatever the range says
            low = INT_RANGE[0] if low is None else max(low, INT_RANGE[0])
            high = INT_RANGE[1] if high is None else min(high, INT_RANGE[1])
        if name == "lap_distance_m":
            high_column = F.col("ctx_circuit_length_m") + 1.0
        else:
            high_column = F.lit(high) if high is not None else None
        outside = F.lit(False)
        if low is not None:
            outside = outside | (value < low)
        if high_column is not None:
            outside = outside | (value > high_column)
        bounds = F.concat(
            F.lit(f" outside [{low}, "),
            high_column.cast("string") if high_column is not None else F.lit("inf"),
            F.lit("]"),
        )
        ranges.append(
            _rule(
                value.isNotNull() & outside,
                "out_of_range",
                F.concat(F.lit(f"{event_type}.{name}="), value.cast("string"), bounds),
            )
        )
    return missing, enums + ranges


# The rules in checking order, as segments: a list of rules for every row, or {event type: rules} for the
# rows of that type (a CASE on event_type, so that a row only evaluates its own type's rules).
Segment = list | dict


def _segments(schema_ids: SchemaIds) -> list[Segment]:
    envelope, timing = _envelope_rules(schema_ids)
    per_type = {t: _payload_rules(t) for t in EVENT_TYPES}
    # envelope presence first, then the payload's fields (also missing_field), then the id, session and car
    split = next(i for i, r in enumerate(envelope) if r[1] == "invalid_event_id")
    return [
        envelope[:split],
        {t: missing for t, (missing, _) in per_type.items()},
        envelope[split:],
        {t: values for t, (_, values) in per_type.items()},
        timing,
    ]


def rules(schema_ids: SchemaIds | Iterable[int], event_type: str) -> list[tuple[Column, str, Column]]:
    """The rules a row of `event_type` is checked against, in order: the first that fails names the reason."""
    ordered = []
    for segment in _segments(SchemaIds.of(schema_ids)):
        ordered += segment if isinstance(segment, list) else segment[event_type]
    codes = [code for _, code, _ in ordered]
    assert codes == sorted(codes, key=REASONS.index), f"{event_type} rules out of REASONS order"
    return ordered


def _first_failure(segments: list[Segment]) -> tuple[Column, Column, Column]:
    """(rule id, reason, detail): the first rule whose condition holds; nulls when none does.

    Every condition is evaluated once per row at most: a chain of CASEs yields the failing rule's id, and
    the reason and detail (read from the RULE_ID column) are looked up by that id.
    """
    chains, codes, details, next_id = [], [], [], 0

    def chain(rules_: list) -> Column | None:
        nonlocal next_id
        expression = None
        for condition, code, detail in rules_:
            # a null condition (a comparison with a null) counts as passing
            holds = F.coalesce(condition, F.lit(False))
            step = F.lit(next_id)
            expression = F.when(holds, step) if expression is None else expression.when(holds, step)
            codes.append(code)
            details.append(detail)
            next_id += 1
        return expression

    for segment in segments:
        if isinstance(segment, list):
            chains.append(chain(segment))
            continue
        by_type = None
        for event_type in EVENT_TYPES:
            rules_of_type = chain(segment[event_type])
            if rules_of_type is None:
                continue
            is_type = F.col("event_type") == event_type
            by_type = (
                F.when(is_type, rules_of_type) if by_type is None else by_type.when(is_type, rules_of_type)
            )
        chains.append(by_type)
    rule_id = F.coalesce(*(c for c in chains if c is not None))
    # reason and detail read the rule id from its own column, so that the chain is evaluated once
    chosen = F.col(RULE_ID)
    # rule 0 is bronze's verdict, whose code bronze wrote (rows of earlier releases have none: undecodable)
    bronze_reason = F.coalesce(F.col("decode_reason"), F.lit(codes[0]))
    reason = F.when(chosen == 0, bronze_reason).otherwise(
        F.get(F.array(*(F.lit(code) for code in codes)), chosen)
    )
    detail = None
    for i, text in enumerate(details):
        detail = F.when(chosen == i, text) if detail is None else detail.when(chosen == i, text)
    return rule_id, reason, detail


RULE_ID = "_rule_id"


@lru_cache(maxsize=8)
def _validation_columns(spark_context_id: int, schema_ids: SchemaIds) -> tuple[Column, ...]:
    # Building the rules takes a thousand calls into the JVM; a micro-batch reuses them (the key holds
    # the SparkContext, whose JVM the columns live in).
    return _first_failure(_segments(schema_ids))


def validate(rows: DataFrame, schema_ids: SchemaIds | Iterable[int]) -> DataFrame:
    """Bronze rows with context columns (ctx_*) -> the same rows with payloads parsed, reason and detail."""
    context_id = id(rows.sparkSession.sparkContext)
    if "decode_reason" not in rows.columns:  # bronze rows of an earlier release
        rows = rows.withColumn("decode_reason", F.lit(None).cast("string"))
    rule_id, reason, detail = _validation_columns(context_id, SchemaIds.of(schema_ids))
    return (
        parse_payloads(rows)
        .withColumn(RULE_ID, rule_id)
        .withColumns({"reason": reason, "reason_detail": detail})
        .drop(RULE_ID)
    )
