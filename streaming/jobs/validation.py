"""Silver's validation: pure DataFrame functions that parse each payload and name the first rule it breaks.

`validate(rows)` takes bronze rows joined with their session context (see `streaming.jobs.sessions`) and
adds `reason` (a code from `REASONS`, null when the record is valid), `reason_detail` (which field and
value, for people) and one parsed payload struct per event type (`p_position`, ...). Everything is a
column expression: Spark evaluates the rules in generated code, with no Python in the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streaming.jobs.silver_schema import EVENT_TYPES, parse_schema, payload_fields

# Reason codes, in the order the rules are checked: a record is quarantined for the first one it breaks.
REASONS = (
    "undecodable",  # bronze could not decode the bytes (truncated, not the wire format, bad JSON)
    "unknown_schema_id",  # the wire-format schema id is not a registered telemetry schema
    "missing_field",  # a required envelope or payload field is absent or empty
    "unknown_session",  # no session metadata for session_id on the sessions topic
    "unknown_car",  # the car is not in the session's entry list
    "invalid_enum",  # an enum value outside the contract (or UNSPECIFIED where one is required)
    "out_of_range",  # a value no car can produce (1,500 km/h, 250 % wear)
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


def payload_column(event_type: str) -> str:
    return f"p_{event_type}"


def parse_payloads(rows: DataFrame) -> DataFrame:
    """One struct column per event type, parsed from payload_json only for rows of that type."""
    return rows.select(
        "*",
        *(
            F.when(F.col("event_type") == t, F.from_json("payload_json", parse_schema(t))).alias(
                payload_column(t)
            )
            for t in EVENT_TYPES
        ),
    )


def _rule(condition: Column, reason: str, detail: Column | str) -> tuple[Column, str, Column]:
    return condition, reason, detail if isinstance(detail, Column) else F.lit(detail)


def _blank(column: Column) -> Column:
    return column.isNull() | (column == "")


def _envelope_rules(valid_schema_ids: Iterable[int]) -> tuple[list, list]:
    """(envelope rules, timing rules): timing is checked last, after the payload's own rules."""
    ids = sorted(set(valid_schema_ids))
    event_time = F.col("event_time_unix_ns")
    kafka_ns = F.unix_micros("kafka_timestamp") * 1000
    return [
        _rule(F.col("decode_error").isNotNull(), "undecodable", F.col("decode_error")),
        _rule(
            ~F.col("schema_id").isin(ids) if ids else F.lit(True),
            "unknown_schema_id",
            F.concat(F.lit("schema id "), F.col("schema_id").cast("string"), F.lit(" is not registered")),
        ),
        _rule(_blank(F.col("event_id")), "missing_field", "event_id"),
        _rule(_blank(F.col("session_id")), "missing_field", "session_id"),
        _rule(F.col("car_number").isNull() | (F.col("car_number") <= 0), "missing_field", "car_number"),
        _rule(event_time.isNull() | (event_time <= 0), "missing_field", "event_time_unix_ns"),
        _rule(F.col("sequence").isNull() | (F.col("sequence") <= 0), "missing_field", "sequence"),
        _rule(F.col("event_type") == "missing", "missing_field", "payload"),
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
            event_time > kafka_ns + F.col("ctx_future_tolerance_ns"),
            "future_timestamp",
            F.concat(
                F.lit("event time "),
                F.col("event_time").cast("string"),
                F.lit(" is after the Kafka timestamp "),
                F.col("kafka_timestamp").cast("string"),
            ),
        ),
        _rule(
            event_time < F.col("ctx_start_time_unix_ns") - F.col("ctx_future_tolerance_ns"),
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


def _payload_rules(event_type: str) -> tuple[list, list, list]:
    """(missing, enum, range) rules of one event type; each only fires on rows of that type."""
    struct = F.col(payload_column(event_type))
    is_type = F.col("event_type") == event_type
    missing, enums, ranges = [], [], []
    for field in payload_fields(event_type):
        value = struct[field.name]
        if field.required:
            missing.append(_rule(is_type & value.isNull(), "missing_field", f"{event_type}.{field.name}"))
        if field.enum_prefix:
            allowed = [field.enum_prefix + v for v in field.enum_values]
            enums.append(
                _rule(
                    is_type & value.isNotNull() & ~value.isin(allowed),
                    "invalid_enum",
                    F.concat(F.lit(f"{field.name}="), value),
                )
            )
    for name, (low, high) in RANGES[event_type].items():
        value = struct[name]
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
                is_type & value.isNotNull() & outside,
                "out_of_range",
                F.concat(F.lit(f"{event_type}.{name}="), value.cast("string"), bounds),
            )
        )
    return missing, enums, ranges


def _first_failure(rules: list[tuple[Column, str, Column]]) -> tuple[Column, Column]:
    """(reason, detail) columns of the first rule whose condition holds; null when none does."""
    reason = detail = None
    for condition, code, text in rules:
        # null conditions (a comparison with a null) count as passing
        condition = F.coalesce(condition, F.lit(False))
        reason = F.when(condition, F.lit(code)) if reason is None else reason.when(condition, F.lit(code))
        detail = F.when(condition, text) if detail is None else detail.when(condition, text)
    return reason, detail


def rules(valid_schema_ids: Iterable[int]) -> list[tuple[Column, str, Column]]:
    """Every rule, in the order of REASONS."""
    envelope, timing = _envelope_rules(valid_schema_ids)
    per_type = [_payload_rules(t) for t in EVENT_TYPES]
    missing = [r for m, _, _ in per_type for r in m]
    enums = [r for _, e, _ in per_type for r in e]
    ranges = [r for _, _, r in per_type for r in r]
    # envelope rules up to unknown_car come first, payload field presence belongs with missing_field
    missing_at = next(i for i, r in enumerate(envelope) if r[1] == "unknown_session")
    ordered = envelope[:missing_at] + missing + envelope[missing_at:] + enums + ranges + timing
    assert [code for _, code, _ in ordered] == sorted((code for _, code, _ in ordered), key=REASONS.index), (
        "rules out of REASONS order"
    )
    return ordered


@lru_cache(maxsize=8)
def _validation_columns(spark_context_id: int, valid_schema_ids: frozenset[int]) -> tuple[Column, Column]:
    # Building the rules takes a thousand calls into the JVM; a micro-batch reuses them (the key holds
    # the SparkContext, whose JVM the columns live in).
    return _first_failure(rules(valid_schema_ids))


def validate(rows: DataFrame, valid_schema_ids: Iterable[int]) -> DataFrame:
    """Bronze rows with context columns (ctx_*) -> the same rows with payloads parsed, reason and detail."""
    context_id = id(rows.sparkSession.sparkContext)
    reason, detail = _validation_columns(context_id, frozenset(valid_schema_ids))
    return parse_payloads(rows).withColumns({"reason": reason, "reason_detail": detail})
