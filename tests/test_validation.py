"""Silver's validation, flattening and enrichment as pure DataFrame functions, on small hand-made frames."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from streaming.clients.catalog import create_databases
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import (
    EVENTS_DDL_PATH,
    decoded_struct_type,
    render_event_tables_ddl,
    table_columns,
    view_select,
)
from streaming.jobs import silver
from streaming.jobs.validation import REASONS, SchemaIds, validate

SCHEMA_ID = 7
START_NS = 1_788_000_000_000_000_000
T0 = START_NS + 600 * 10**9  # ten minutes into the session
COLUMNS = (
    "decode_error STRING, decode_reason STRING, schema_id INT, event_id STRING, session_id STRING, "
    "car_number INT, event_type STRING, event_time_unix_ns BIGINT, producer_time_unix_ns BIGINT, "
    "sequence BIGINT, "
    + "".join(f"`{t}` {decoded_struct_type(t)}, " for t in EVENT_TYPES)
    + "kafka_timestamp TIMESTAMP, event_time TIMESTAMP, session_date DATE, "
    "encoding STRING, kafka_topic STRING, kafka_partition INT, kafka_offset BIGINT, raw_value BINARY, "
    "ingested_at TIMESTAMP, in_silver BOOLEAN, "
    "ctx_circuit STRING, ctx_circuit_length_m DOUBLE, ctx_session_type STRING, "
    "ctx_session_date DATE, ctx_total_laps INT, ctx_start_time_unix_ns BIGINT, ctx_watermark_unix_ns BIGINT, "
    "ctx_future_tolerance_ns BIGINT, ctx_driver_code STRING, ctx_driver_name STRING, ctx_team STRING"
)
PAYLOADS = {
    "position": {
        "x_m": 10.0,
        "y_m": -5.0,
        "z_m": 1.0,
        "lap_number": 3,
        "lap_distance_m": 1200.0,
        "track_status": "TRACK_STATUS_GREEN",
        "race_position": 4,
        "in_pit_lane": False,
    },
    "dynamics": {
        "speed_kmh": 312.5,
        "throttle_pct": 100.0,
        "brake_pct": 0.0,
        "gear": 8,
        "engine_rpm": 11800.0,
        "steering_angle_deg": -2.0,
        "lateral_g": 0.4,
        "longitudinal_g": 0.2,
    },
    "power_unit": {
        "ice_rpm": 11800.0,
        "mgu_k_power_kw": 120.0,
        "mgu_h_power_kw": -20.0,
        "ers_store_energy_kj": 2500.0,
        "ers_deploy_mode": "ERS_DEPLOY_MODE_BALANCED",
        "fuel_remaining_kg": 80.0,
        "oil_temp_c": 110.0,
        "water_temp_c": 95.0,
    },
    "tire": {
        "corner": "TIRE_CORNER_FRONT_LEFT",
        "compound": "TIRE_COMPOUND_SOFT",
        "surface_temp_c": 98.0,
        "inner_temp_c": 104.0,
        "pressure_kpa": 160.0,
        "wear_pct": 12.0,
        "age_laps": 3,
    },
    "aerodynamics": {
        "drs_state": "DRS_STATE_OPEN",
        "front_wing_angle_deg": 12.0,
        "rear_wing_angle_deg": 8.0,
        "downforce_n": 15000.0,
        "drag_n": 4000.0,
    },
    "system": {"kind": "SYSTEM_EVENT_KIND_PIT_STOP", "pit_stop_duration_s": 2.4, "lap_number": 20},
}


def uuid_of(name: str) -> str:
    """A UUID for a test row's event id, named by what the row is (the contract's ids are UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def event(event_type: str = "dynamics", payload: dict | None = None, **changes) -> dict:
    """A valid bronze row of `event_type` with its session context; `changes` override columns."""
    ts = dt.datetime.fromtimestamp(T0 / 1e9, dt.UTC)
    row = {
        "decode_error": None,
        "decode_reason": None,
        "schema_id": SCHEMA_ID,
        "event_id": uuid_of(f"id-{event_type}"),
        "session_id": "monza-test",
        "car_number": 16,
        "event_type": event_type,
        "event_time_unix_ns": T0,
        "producer_time_unix_ns": T0 + 10**6,
        "sequence": 42,
        # the payload as bronze decodes it: typed, in the struct named after its type
        **{t: None for t in EVENT_TYPES},
        event_type: PAYLOADS[event_type] if payload is None else payload,
        "kafka_timestamp": ts + dt.timedelta(milliseconds=5),
        "event_time": ts,
        "session_date": ts.date(),
        "encoding": "protobuf",
        "kafka_topic": "f1.telemetry.raw",
        "kafka_partition": 0,
        "kafka_offset": 1,
        "raw_value": b"\x00",
        "ingested_at": ts + dt.timedelta(seconds=1),
        "in_silver": False,
        "ctx_circuit": "Autodromo Nazionale Monza",
        "ctx_circuit_length_m": 5793.0,
        "ctx_session_type": "RACE",
        "ctx_session_date": dt.date(2026, 8, 29),
        "ctx_total_laps": 53,
        "ctx_start_time_unix_ns": START_NS,
        "ctx_watermark_unix_ns": T0 - 120 * 10**9,
        "ctx_future_tolerance_ns": 60 * 10**9,
        "ctx_driver_code": "LEC",
        "ctx_driver_name": "Charles Leclerc",
        "ctx_team": "Ferrari",
    }
    row.update(changes)
    return row


def reasons_of(spark, rows: list[dict]) -> list[tuple[str | None, str | None]]:
    frame = spark.createDataFrame(rows, schema=COLUMNS)
    return [(r.reason, r.reason_detail) for r in validate(frame, [SCHEMA_ID]).collect()]


def with_payload(event_type: str, **changes) -> dict:
    return event(
        event_type, {**PAYLOADS[event_type], **changes}, event_id=uuid_of(f"id-{event_type}-{changes}")
    )


def without(event_type: str, field: str) -> dict:
    payload = {k: v for k, v in PAYLOADS[event_type].items() if k != field}
    return event(event_type, payload)


def test_valid_events_of_every_type_pass(spark):
    assert reasons_of(spark, [event(t) for t in EVENT_TYPES]) == [(None, None)] * len(EVENT_TYPES)


@pytest.mark.parametrize(
    ("row", "reason", "detail_contains"),
    [
        (
            {**event(decode_error="malformed JSON"), "event_type": "undecodable"},
            "undecodable",
            "malformed JSON",
        ),
        (event(schema_id=2_000_000_000), "unknown_schema_id", "2000000000"),
        (event(event_id=""), "missing_field", "event_id"),
        (event(event_id="0"), "invalid_event_id", "event_id '0' is not a UUID"),
        (event(event_id="x" * 20_000), "invalid_event_id", "'" + "x" * 40 + "...' is not"),
        (event(event_id=uuid_of("a")[:-1]), "invalid_event_id", "is not a UUID"),
        (event(event_id=uuid_of("a").upper()), None, None),  # any case
        (event(session_id=None), "missing_field", "session_id"),
        ({**event(dynamics=None), "event_type": "missing"}, "missing_field", "payload"),
        (without("dynamics", "speed_kmh"), "missing_field", "dynamics.speed_kmh"),
        (without("tire", "corner"), "missing_field", "tire.corner"),
        (event(ctx_start_time_unix_ns=None, ctx_driver_code=None), "unknown_session", "monza-test"),
        (event(ctx_driver_code=None), "unknown_car", "car 16"),
        (with_payload("tire", compound="TIRE_COMPOUND_UNSPECIFIED"), "invalid_enum", "compound="),
        (with_payload("aerodynamics", drs_state="FLAPPY"), "invalid_enum", "drs_state=FLAPPY"),
        (with_payload("dynamics", speed_kmh=1500.0), "out_of_range", "dynamics.speed_kmh=1500.0"),
        (with_payload("tire", wear_pct=250.0), "out_of_range", "tire.wear_pct=250.0"),
        (with_payload("position", lap_distance_m=-250.0), "out_of_range", "lap_distance_m=-250.0"),
        (with_payload("position", lap_distance_m=6000.0), "out_of_range", "5794.0"),  # beyond the circuit
        (with_payload("system", pit_stop_duration_s=-1.0), "out_of_range", "pit_stop_duration_s"),
        (with_payload("power_unit", fuel_remaining_kg=-5.0), "out_of_range", "fuel_remaining_kg"),
        (event(event_time_unix_ns=T0 + 3 * 3600 * 10**9), "future_timestamp", "after the Kafka timestamp"),
        (event(event_time_unix_ns=START_NS - 2 * 3600 * 10**9), "before_session", "before the session"),
        (event(event_time_unix_ns=T0 - 121 * 10**9), "late", "watermark"),
        # bronze's verdicts keep their own codes
        (
            event(decode_error="$.x: unknown field", decode_reason="schema_violation"),
            "schema_violation",
            "$.x",
        ),
        (
            event(decode_error="envelope event_type", decode_reason="event_type_mismatch"),
            "event_type_mismatch",
            "",
        ),
        (event(decode_error="batch failed: boom", decode_reason="batch_failed"), "batch_failed", "boom"),
        # the limits of the types: the contract's ranges exclude them, and nothing overflows
        (event(event_time_unix_ns=-(2**63)), "out_of_range", "outside [2000-01-01"),
        (event(event_time_unix_ns=2**63 - 1), "out_of_range", "outside [2000-01-01"),
        (event(ctx_start_time_unix_ns=-(2**63)), None, None),  # session start at the limit: no overflow
        (with_payload("dynamics", speed_kmh=float("nan")), "out_of_range", "not a finite number"),
        (with_payload("position", lap_distance_m=float("inf")), "out_of_range", "not a finite number"),
        (with_payload("dynamics", gear=2**32 - 1), "out_of_range", "gear=4294967295"),
        (with_payload("tire", age_laps=2**40), "out_of_range", "age_laps"),
    ],
)
def test_each_rule_names_its_reason(spark, row, reason, detail_contains):
    [(got, detail)] = reasons_of(spark, [row])
    assert got == reason
    assert detail_contains is None and detail is None or detail_contains in detail


def test_schema_ids_are_checked_per_topic_and_name_another_subject(spark):
    ids = SchemaIds(protobuf=frozenset({7}), json=frozenset({8}), subjects=((3, "f1.sessions-value"),))
    rows = [
        event(),  # the Protobuf id on the Protobuf topic
        event(encoding="json", schema_id=8, event_id=uuid_of("j")),
        event(encoding="json", schema_id=7, event_id=uuid_of("swapped")),  # the Protobuf id on the JSON topic
        event(schema_id=3, event_id=uuid_of("sessions")),
        event(schema_id=99, event_id=uuid_of("unknown")),
        event(schema_id=None, event_id=uuid_of("none")),
    ]
    frame = spark.createDataFrame(rows, schema=COLUMNS)
    got = [(r.reason, r.reason_detail) for r in validate(frame, ids).collect()]
    assert got[:2] == [(None, None), (None, None)]
    assert got[2] == ("unknown_schema_id", "schema id 7 is not registered")
    assert got[3] == (
        "unknown_schema_id",
        "schema id 3 is registered for f1.sessions-value, not for this topic's protobuf telemetry",
    )
    assert got[4] == ("unknown_schema_id", "schema id 99 is not registered")
    assert got[5][0] == "unknown_schema_id"


def test_first_failing_rule_wins_and_optional_fields_may_be_absent(spark):
    # out of range AND late: out_of_range comes first in REASONS
    both = with_payload("dynamics", speed_kmh=1500.0)
    both["event_time_unix_ns"] = T0 - 3600 * 10**9
    assert REASONS.index("out_of_range") < REASONS.index("late")
    # a system event without its optional fields (flag, fault_code, ...) is valid
    minimal = event("system", {"kind": "SYSTEM_EVENT_KIND_DRS_AVAILABLE", "lap_number": 2})
    # within the tolerances: slightly ahead of Kafka's clock, slightly behind the watermark's edge
    tolerated = event(event_time_unix_ns=T0 + 30 * 10**9, event_id=uuid_of("ahead"))
    assert [r for r, _ in reasons_of(spark, [both, minimal, tolerated])] == ["out_of_range", None, None]


def test_silver_rows_are_enriched_match_the_table_and_read_flat_through_the_views(spark, platform_settings):
    create_databases(platform_settings)
    validated = validate(spark.createDataFrame([event(t) for t in EVENT_TYPES], schema=COLUMNS), [SCHEMA_ID])
    now = dt.datetime(2026, 8, 29, 12, tzinfo=dt.UTC)
    rows = silver.silver_rows(validated, now)
    table = spark.table(silver.SILVER_TABLE)
    assert [(f.name, f.dataType) for f in rows.schema] == [(f.name, f.dataType) for f in table.schema]
    landed = {row.event_type: row for row in rows.collect()}
    assert set(landed) == set(EVENT_TYPES)
    for event_type, row in landed.items():
        assert row.driver_code == "LEC" and row.team == "Ferrari" and row.circuit.startswith("Autodromo")
        assert row.session_date == dt.date(2026, 8, 29)  # the session's date, not the event's
        # the payload in its own type's struct column, every other type's null
        assert [t for t in EVENT_TYPES if row[t] is not None] == [event_type]
    tire, system = landed["tire"].tire, landed["system"].system
    assert (tire.corner, tire.compound, tire.age_laps) == ("FRONT_LEFT", "SOFT", 3)  # enum prefixes stripped
    assert system.kind == "PIT_STOP" and system.flag is None and system.pit_stop_duration_s == 2.4
    # each view flattens its type's rows to the columns the contract generates, nothing else
    view = f"silver_rows_{uuid.uuid4().hex[:8]}"
    rows.createOrReplaceTempView(view)
    for event_type in EVENT_TYPES:
        select = ", ".join(view_select(event_type))
        flat = spark.sql(f"SELECT {select} FROM {view} WHERE event_type = '{event_type}'")
        assert flat.columns == [name for name, *_ in table_columns(event_type)]
        real_view = spark.table(silver.table_name(event_type))
        assert [(f.name, f.dataType) for f in flat.schema] == [(f.name, f.dataType) for f in real_view.schema]
        assert flat.count() == 1


def test_quarantine_rows_keep_the_original_record(spark, platform_settings):
    create_databases(platform_settings)
    bad = with_payload("dynamics", speed_kmh=1500.0)
    validated = validate(spark.createDataFrame([bad, event()], schema=COLUMNS), [SCHEMA_ID])
    # as the batch does: what it caches of the validated rows (the quarantined keep their payload as JSON)
    rows = silver.quarantine_rows(silver.cacheable(validated, None), dt.datetime(2026, 8, 29, tzinfo=dt.UTC))
    table = spark.table(silver.QUARANTINE_TABLE)
    assert [f.name for f in rows.schema] == [f.name for f in table.schema]
    [row] = rows.collect()
    assert row.reason == "out_of_range" and bytes(row.raw_value) == b"\x00"
    assert json.loads(row.payload_json)["speed_kmh"] == 1500.0


def test_event_tables_ddl_is_generated_from_the_contract():
    assert EVENTS_DDL_PATH.read_text() == render_event_tables_ddl(), "run `uv run f1 contracts generate`"
    for event_type in EVENT_TYPES:
        names = [name for name, *_ in table_columns(event_type)]
        assert len(names) == len(set(names)), event_type


def test_every_event_type_checks_its_rules_in_reasons_order(spark):
    from streaming.jobs.validation import rules

    for event_type in EVENT_TYPES:
        codes = [code for _, code, _ in rules([SCHEMA_ID], event_type)]
        assert codes == sorted(codes, key=REASONS.index)
        assert {"missing_field", "out_of_range", "late"} <= set(codes)


def test_repeats_are_looked_up_in_runs_of_event_time_seconds():
    """A batch's seconds of event time become few intervals: adjacent seconds join, and beyond the limit
    the closest intervals merge (a few more files read, never an event missed)."""
    assert silver.lookup_intervals([]) == []
    assert silver.lookup_intervals([5, 3, 4, 4, 9]) == [(3, 5), (9, 9)]
    merged = silver.lookup_intervals([0, 10, 11, 30, 100], most=2)
    assert merged == [(0, 30), (100, 100)]
    buckets = list(range(0, 1000, 7))
    intervals = silver.lookup_intervals(buckets)
    assert len(intervals) == silver.MAX_LOOKUP_INTERVALS
    assert all(any(first <= b <= last for first, last in intervals) for b in buckets)


def test_the_lookup_finds_exactly_the_rows_of_its_sessions_and_seconds(spark):
    s_ = 10**9
    base = 1_788_000_000
    rows = [  # (name, session, event time in s)
        ("same second", "a", base + 0.5),
        ("next interval", "a", base + 10.999),
        ("between intervals", "a", base + 5),
        ("other session", "b", base + 0.5),
        ("after", "a", base + 12),
    ]
    frame = spark.createDataFrame(
        [(n, sid, dt.datetime.fromtimestamp(sec, dt.UTC)) for n, sid, sec in rows],
        "name STRING, session_id STRING, event_time TIMESTAMP",
    )
    where = silver.lookup_filter({"a": [(base, base), (base + 10, base + 10)]})
    assert {r.name for r in frame.where(where).collect()} == {"same second", "next interval"}
    # a row's bucket is the second of its event time; none for an event time silver never accepts
    buckets = spark.createDataFrame(
        [
            ("e", "a", base * s_ + s_ // 4),
            ("e", "a", -(2**63)),
            ("", "a", base * s_),
            ("e", "", base * s_),
            ("e", None, base * s_),
        ],
        "event_id STRING, session_id STRING, event_time_unix_ns BIGINT",
    ).select(silver.lookup_bucket().alias("bucket"), silver.looked_up_by_id().alias("by_id"))
    assert [r.bucket for r in buckets.collect()] == [base, None, None, None, None]
    # an event id no session and second can find is looked up by the id alone (in the quarantine)
    assert [r.by_id for r in buckets.collect()] == [False, True, False, True, True]
