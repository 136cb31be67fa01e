"""Our JVM contract functions in a real Spark: f1_telemetry_json_violation checks JSON telemetry against
the registered JSON Schema (schemas/f1.telemetry.v1.TelemetryEvent.json, a jar resource), and
f1_protobuf_decode keeps unknown enum numbers as numbers and gives truncated records its error."""

from __future__ import annotations

import copy
import json
import zipfile

import jsonschema
import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from streaming.contracts import TELEMETRY_JSON, frame
from streaming.contracts.event_types import EVENT_TYPE_NAMES
from streaming.settings import Settings
from streaming.simulator.encoding import JsonBlockEncoder, messages
from streaming.simulator.events import EventSource
from streaming.simulator.race import Race, RaceConfig

FUNCTION = "f1_telemetry_json_violation"
JAVA_CLASS = "io.f1telemetry.spark.TelemetryJsonViolation"
U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def checker(spark):
    """The session, with the function registered (idempotent: clients.spark.FUNCTIONS may list it too)."""
    spark.udf.registerJavaFunction(FUNCTION, JAVA_CLASS, StringType())
    return spark


@pytest.fixture(scope="module")
def events():
    """JSON texts of every event type, as the project's JSON encoder sends them (without the 5-byte
    Confluent header), and the protobuf messages they encode."""
    race = Race(RaceConfig(cars=3, laps=1, seed=17))
    source = EventSource(race)
    encoder = JsonBlockEncoder(1)
    texts, msgs, seen = [], [], set()
    for _ in range(12):
        for block in source.tick_blocks(race.tick_index, race.time_ns, race.tick()):
            for msg, value in zip(messages(block), encoder.encode(block), strict=True):
                texts.append(value[5:].decode())
                msgs.append(msg)
                seen.add(block.event_type)
    assert seen == set(EVENT_TYPE_NAMES)
    return texts, msgs


def violations(spark, texts: list[str | None]) -> list[str | None]:
    """f1_telemetry_json_violation of each text, in order."""
    df = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "i INT, text STRING")
    rows = df.select("i", F.expr(f"{FUNCTION}(text)").alias("v")).orderBy("i").collect()
    return [r.v for r in rows]


def _of(texts, payload):
    return json.loads(next(t for t in texts if f'"{payload}":' in t))


def test_the_jar_holds_the_registered_schemas():
    jar = next((Settings.from_env({}).f1_jvm_lib_dir / "spark").glob("f1-spark-functions-*.jar"))
    with zipfile.ZipFile(jar) as z:
        packed = z.read("f1/schemas/f1.telemetry.v1.TelemetryEvent.json").decode()
    assert json.loads(packed) == json.loads(TELEMETRY_JSON.schema_text()), "rebuild the jar: make install"


def test_the_encoders_records_are_valid(checker, events):
    texts, _ = events
    assert violations(checker, texts) == [None] * len(texts)


def test_null_in_null_out(checker):
    assert checker.sql(f"SELECT {FUNCTION}(CAST(NULL AS STRING)) AS v").first().v is None
    assert violations(checker, [None]) == [None]


def test_extreme_but_valid_values(checker, events):
    texts, _ = events
    event = _of(texts, "position")
    cases = [
        {**event, "car_number": U32_MAX, "event_time_unix_ns": I64_MIN, "sequence": U64_MAX},
        {
            **event,
            "car_number": 0,
            "event_time_unix_ns": I64_MAX,
            "producer_time_unix_ns": I64_MIN,
            "sequence": 0,
        },
        {**event, "position": {**event["position"], "x_m": -1.7976931348623157e308, "lap_number": U32_MAX}},
        {**event, "position": {**event["position"], "y_m": 5e-324, "z_m": 0}},  # an integer is a number
        {**event, "car_number": 7.0},  # draft 2020-12: a number with a zero fractional part is an integer
    ]
    system = _of(texts, "system")
    cases.append(
        {**system, "system": {"kind": "SYSTEM_EVENT_KIND_FLAG", "lap_number": 3, "flag": "FLAG_RED"}}
    )
    texts = [json.dumps(c) for c in cases] + ["  " + json.dumps(cases[0]) + "\n"]
    assert violations(checker, texts) == [None] * len(texts)


def _broken(texts):
    """(JSON text, what the detail must say), one per kind of violation."""
    pos, dyn = _of(texts, "position"), _of(texts, "dynamics")
    system = _of(texts, "system")
    p = copy.deepcopy(pos)
    p["position"]["foo"] = 1
    text = [
        (p, "$.position.foo: unknown field"),
        ({**pos, "foo": 1}, "$.foo: unknown field"),
        ({**pos, "car_number": "7"}, '$.car_number: expected integer, got string "7"'),
        ({**pos, "car_number": 7.5}, "$.car_number: expected integer, got number 7.5"),
        (
            {**pos, "car_number": U32_MAX + 1},
            "$.car_number: 4294967296 is greater than the maximum 4294967295",
        ),
        ({**pos, "car_number": -1}, "$.car_number: -1 is less than the minimum 0"),
        ({**pos, "sequence": U64_MAX + 1}, "$.sequence: 18446744073709551616 is greater than the maximum"),
        (
            {**pos, "event_time_unix_ns": I64_MIN - 1},
            "$.event_time_unix_ns: -9223372036854775809 is less than",
        ),
        ({**pos, "session_id": None}, "$.session_id: expected string, got null"),
        ({**pos, "event_type": "EVENT_TYPE_FOO"}, "$.event_type: EVENT_TYPE_FOO is not one of EVENT_TYPE_"),
        ({**pos, "event_type": 99}, "$.event_type: expected one of EVENT_TYPE_UNSPECIFIED,"),
        (
            {**pos, "position": {**pos["position"], "track_status": "TRACK_STATUS_PURPLE"}},
            "$.position.track_status: TRACK_STATUS_PURPLE is not one of TRACK_STATUS_",
        ),
        (
            {**system, "system": {**system["system"], "flag": "FLAG_PINK"}},
            "$.system.flag: FLAG_PINK is not one of FLAG_",
        ),
        ({**pos, "dynamics": dyn["dynamics"]}, "two payloads: position and dynamics"),
        ({k: v for k, v in pos.items() if k != "position"}, "no payload: expected one of position, dynamics"),
        (
            {**dyn, "dynamics": {**dyn["dynamics"], "speed_kmh": "fast"}},
            "$.dynamics.speed_kmh: expected number",
        ),
        # protobuf's JSON mapping writes NaN as the string "NaN"; the schema says `type: number`, so it is not
        (
            {**dyn, "dynamics": {**dyn["dynamics"], "speed_kmh": "NaN"}},
            '$.dynamics.speed_kmh: expected number, got string "NaN"',
        ),
        (
            {**dyn, "dynamics": {**dyn["dynamics"], "gear": 2**31}},
            "$.dynamics.gear: 2147483648 is greater than",
        ),
        (
            {**pos, "position": {**pos["position"], "in_pit_lane": 0}},
            "$.position.in_pit_lane: expected boolean",
        ),
        ({k: v for k, v in pos.items() if k != "event_id"}, "$.event_id: missing (required)"),
        (
            {**pos, "position": {k: v for k, v in pos["position"].items() if k != "x_m"}},
            "$.position.x_m: missing (required)",
        ),
        ({**pos, "position": None}, "$.position: expected object, got null"),
        ({**pos, "position": [pos["position"]]}, "$.position: expected object, got array"),
        ([pos], "not a JSON object (got array)"),
        ("7", "not a JSON object"),
    ]
    cases = [(json.dumps(c) if not isinstance(c, str) else c, want) for c, want in text]
    cases += [
        ("", "not valid JSON: empty text"),
        ('{"event_id": "a", ', "not valid JSON"),
        ("not json", "not valid JSON"),
        ("\ufffd\ufffd", "not valid JSON"),  # what CAST(x'fffe' AS STRING) gives
        ('{"event_id": "a"} x', "not valid JSON"),
        (json.dumps(pos) + " {}", "not valid JSON: trailing content"),
        # NaN/Infinity are not JSON numbers (RFC 8259): the parser refuses them
        (json.dumps(dyn).replace('"speed_kmh": ', '"speed_kmh": NaN, "x": '), "not valid JSON"),
        (json.dumps(dyn).replace('"speed_kmh": ', '"speed_kmh": -Infinity, "x": '), "not valid JSON"),
        # an object key twice: which value counts is undefined, so it is a violation
        (json.dumps(pos)[:-1] + ', "car_number": 8}', "$.car_number: duplicate field"),
        # a violation early on, but the text is not even JSON: that is what is said
        (json.dumps({**pos, "foo": 1})[:-1], "not valid JSON"),
    ]
    return cases


def test_each_violation_is_named(checker, events):
    texts, _ = events
    cases = _broken(texts)
    got = violations(checker, [t for t, _ in cases])
    for (text, want), detail in zip(cases, got, strict=True):
        assert detail is not None and detail.startswith(want), (text, detail)


def test_agrees_with_a_reference_validator(checker, events):
    """Where plain JSON is concerned, valid means what the Python jsonschema (draft 2020-12) says."""
    texts, _ = events
    validator = jsonschema.Draft202012Validator(json.loads(TELEMETRY_JSON.schema_text()))
    reference = []
    for text, want in _broken(texts):
        if want.startswith("not valid JSON") or "duplicate" in want:
            continue  # Python's json module reads NaN; duplicates: the last wins
        reference.append(text)
    reference += texts[:50]
    got = violations(checker, reference)
    for text, detail in zip(reference, got, strict=True):
        assert (detail is None) == validator.is_valid(json.loads(text)), (text, detail)


def test_first_violation_in_document_order(checker, events):
    texts, _ = events
    pos = _of(texts, "position")
    both = {"car_number": "7", **{k: v for k, v in pos.items() if k != "car_number"}, "foo": 1}
    assert (
        violations(checker, [json.dumps(both)] * 3) == ['$.car_number: expected integer, got string "7"'] * 3
    )


def _framed(msg) -> bytes:
    return frame(1, msg.SerializeToString())


def test_protobuf_decode_keeps_unknown_enum_numbers_and_never_throws(checker, events):
    _, msgs = events
    msg = next(m for m in msgs if m.WhichOneof("payload") == "position")
    unknown_type = type(msg)()
    unknown_type.CopyFrom(msg)
    unknown_type.event_type = 99
    unknown_status = type(msg)()
    unknown_status.CopyFrom(msg)
    unknown_status.position.track_status = 42
    good = msg.SerializeToString()
    values = [
        _framed(unknown_type),
        _framed(unknown_status),
        frame(1, good[:-1]),  # the last field cut short
        frame(1, good[:5]),  # event_id: a string cut short
        frame(1, bytes([0x18, 0x80])),  # car_number: a varint cut short
        frame(1, bytes([0x29, 1, 2, 3])),  # event_time_unix_ns: an sfixed64 cut short
        frame(1, bytes([0x52, 4, 0x09, 1, 2, 3])),  # position.x_m: a double cut short inside its message
        frame(1, bytes([0x52, 9, 0x09])),  # position: longer than the record
        b"\x00\x00\x00\x00\x01\x80",  # the message index varint cut short
    ]
    df = checker.createDataFrame([(i, v) for i, v in enumerate(values)], "i INT, value BINARY")
    rows = df.select("i", F.expr("f1_protobuf_decode(value)").alias("record")).orderBy("i").collect()
    # an open proto3 enum keeps a number it does not name: the number, which validation rejects
    assert rows[0].record.event_type == "99"
    assert rows[1].record.position.track_status == "42"
    assert rows[0].record["__decode_error"] is None and rows[1].record["__decode_error"] is None
    for row in rows[2:]:
        assert row.record["__decode_error"], row
        assert row.record.event_id is None and row.record.position is None, row
