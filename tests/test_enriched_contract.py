"""The enriched re-stream's contract: EnrichedTelemetryEvent registered with references to the raw and
session subjects, BACKWARD-checked, and encoded in real Spark by f1_enriched_protobuf from raw records of
every event type in both encodings, read back with the generated class and confluent-kafka."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2

from streaming.clients.registration import check_contracts, register_contracts
from streaming.clients.registry import registry_client
from streaming.contracts import (
    CONTRACTS,
    ENRICHED_PROTOBUF,
    SESSIONS_PROTOBUF,
    TELEMETRY_JSON,
    TELEMETRY_PROTOBUF,
    decode_enriched,
    enriched_pb2,
    frame,
    session_pb2,
    topics,
    unframe,
)
from streaming.contracts.event_types import EVENT_TYPE_NAMES
from streaming.simulator.encoding import JsonBlockEncoder, ProtobufBlockEncoder, messages
from streaming.simulator.events import EventSource
from streaming.simulator.race import Race, RaceConfig
from streaming.simulator.runner import session_info

ENRICHED = "f1_enriched_protobuf(raw_value, encoding, context_json, validated_time_unix_ns, schema_id)"


def test_enriched_event_is_the_first_message_of_its_file():
    """The framing's message index [0] (the single byte 0) relies on it."""
    file = descriptor_pb2.FileDescriptorProto.FromString(enriched_pb2.DESCRIPTOR.serialized_pb)
    assert file.message_type[0].name == "EnrichedTelemetryEvent"
    assert CONTRACTS.index(ENRICHED_PROTOBUF) > max(CONTRACTS.index(c) for c in ENRICHED_PROTOBUF.references)
    assert {c.source for c in ENRICHED_PROTOBUF.references} == set(file.dependency)


def test_registered_with_references_and_backward_compatibility(platform_settings):
    ids = register_contracts(platform_settings)
    client = registry_client(platform_settings)
    subject = ENRICHED_PROTOBUF.subject
    assert subject == "f1.telemetry.enriched-value"
    assert client.get_compatibility(subject) == "BACKWARD"
    registered = client.get_schema(ids[subject])
    assert registered.schema_type == "PROTOBUF"
    assert registered.schema_str == ENRICHED_PROTOBUF.schema_text()
    expected = {
        (c.source, c.subject, client.lookup_schema(c.subject, Schema(c.schema_text(), "PROTOBUF")).version)
        for c in (TELEMETRY_PROTOBUF, SESSIONS_PROTOBUF)
    }
    assert {(r.name, r.subject, r.version) for r in registered.references} == expected
    assert register_contracts(platform_settings)[subject] == ids[subject], "registration must be idempotent"


def test_the_registry_resolves_the_references(platform_settings):
    """Apicurio's Confluent API must not take references it cannot resolve (or we would fall back)."""
    register_contracts(platform_settings)
    client = registry_client(platform_settings)
    dangling = [SchemaReference(TELEMETRY_PROTOBUF.source, TELEMETRY_PROTOBUF.subject, 9999)]
    with pytest.raises(SchemaRegistryError, match="(?i)reference"):
        client.register_schema(
            f"test.enriched.{uuid.uuid4().hex[:8]}-value",
            Schema(ENRICHED_PROTOBUF.schema_text(), "PROTOBUF", dangling),
        )


ENRICHED_TEXT = ENRICHED_PROTOBUF.schema_text()


@pytest.mark.parametrize(
    ("text", "compatible"),
    [
        (ENRICHED_TEXT.replace("  string team = 7;", "  string team = 7;\n  string team_colour = 8;"), True),
        (ENRICHED_TEXT.replace("uint32 total_laps = 4;", "string total_laps = 4;"), False),
        (ENRICHED_TEXT.replace("sfixed64 validated_time_unix_ns = 3;", "string validated_time = 3;"), False),
    ],
    ids=["added-field", "retyped-field", "retyped-top-level-field"],
)
def test_contract_check_on_the_enriched_subject(platform_settings, text: str, compatible: bool):
    ids = register_contracts(platform_settings)
    [result] = check_contracts(platform_settings, (ENRICHED_PROTOBUF,), {ENRICHED_PROTOBUF.subject: text})
    assert result.compatible is compatible, result.detail
    if not compatible:  # and the registry itself refuses it as a new version
        client = registry_client(platform_settings)
        references = client.get_schema(ids[ENRICHED_PROTOBUF.subject]).references
        with pytest.raises(SchemaRegistryError):
            client.register_schema(ENRICHED_PROTOBUF.subject, Schema(text, "PROTOBUF", references))
        assert (
            client.get_latest_version(ENRICHED_PROTOBUF.subject).schema_id == ids[ENRICHED_PROTOBUF.subject]
        )


def _race_records(ids: dict[str, int]):
    """(raw rows, expected events by id, the session) for every event type, in both encodings."""
    race = Race(RaceConfig(cars=4, laps=1, seed=33))
    info = session_info(race.config, race)
    source = EventSource(race)
    proto = ProtobufBlockEncoder(ids[TELEMETRY_PROTOBUF.subject], race.config.session_id)
    as_json = JsonBlockEncoder(ids[TELEMETRY_JSON.subject])
    rows, expected = [], {}
    for _ in range(11):  # 11 ticks: every type, system events (session start) included
        for block in source.tick_blocks(race.tick_index, race.time_ns, race.tick()):
            for msg, pv, jv in zip(messages(block), proto.encode(block), as_json.encode(block), strict=True):
                expected[msg.event_id] = msg
                validated = msg.event_time_unix_ns + 7_000_000
                rows.append((pv, "protobuf", msg.event_id, msg.car_number, validated))
                rows.append((jv, "json", msg.event_id, msg.car_number, validated))
    assert {m.WhichOneof("payload") for m in expected.values()} == set(EVENT_TYPE_NAMES.values())
    return rows, expected, info


def test_every_event_type_in_both_encodings_is_enriched_in_spark(platform_settings, spark):
    from pyspark.sql import functions as F

    ids = register_contracts(platform_settings)
    enriched_id = ids[ENRICHED_PROTOBUF.subject]
    rows, expected, info = _race_records(ids)
    raw = spark.createDataFrame(
        rows,
        "raw_value BINARY, encoding STRING, event_id STRING, car_number INT, validated_time_unix_ns BIGINT",
    )
    # The session context as silver has it: one row per car, turned into JSON by Spark itself.
    session_type = session_pb2.SessionType.Name(info.session_type)
    sessions = spark.createDataFrame(
        [
            (e.car_number, info.circuit, session_type, info.session_date, info.total_laps)
            + (e.driver_code, e.driver_name, e.team)
            for e in info.entries
        ],
        "car_number INT, circuit STRING, session_type STRING, session_date STRING, total_laps INT, "
        "driver_code STRING, driver_name STRING, team STRING",
    )
    context = F.to_json(F.struct(*(c for c in sessions.columns if c != "car_number")))
    out = (
        raw.join(sessions, "car_number")
        .withColumn("context_json", context)
        .withColumn("schema_id", F.lit(enriched_id))
        .select("event_id", "encoding", "validated_time_unix_ns", F.expr(ENRICHED).alias("value"))
        .collect()
    )
    assert len(out) == 2 * len(expected)

    deserializer = ProtobufDeserializer(enriched_pb2.EnrichedTelemetryEvent, {"use.deprecated.format": False})
    ctx = SerializationContext(topics.ENRICHED, MessageField.VALUE)
    entries = {e.car_number: e for e in info.entries}
    seen = {"protobuf": set(), "json": set()}
    for row in out:
        assert row.value is not None, (row.encoding, row.event_id)
        value = bytes(row.value)
        assert unframe(value)[0] == enriched_id
        enriched = decode_enriched(value)
        assert deserializer(value, ctx) == enriched
        original = expected[row.event_id]
        assert enriched.event == original, row.encoding
        entry = entries[original.car_number]
        assert enriched.session == enriched_pb2.SessionContext(
            circuit=info.circuit,
            session_type=info.session_type,
            session_date=info.session_date,
            total_laps=info.total_laps,
            driver_code=entry.driver_code,
            driver_name=entry.driver_name,
            team=entry.team,
        )
        assert enriched.validated_time_unix_ns == row.validated_time_unix_ns
        seen[row.encoding].add(row.event_id)
    assert seen["protobuf"] == seen["json"] == set(expected)


def test_invalid_input_gives_null_and_a_missing_context_is_left_out(platform_settings, spark):
    ids = register_contracts(platform_settings)
    rows, expected, info = _race_records(ids)
    good_proto, _, event_id, _, _ = next(r for r in rows if r[1] == "protobuf")
    good_json = next(r[0] for r in rows if r[1] == "json")
    context = '{"circuit": "Monza", "session_type": "RACE", "total_laps": 53, "driver_code": "VER"}'
    cases = {
        # name: (raw_value, encoding, context_json, schema_id), all of which must give NULL
        "null value": (None, "protobuf", context, 7),
        "empty value": (b"", "protobuf", context, 7),
        "no magic byte": (b"\x01" + good_proto[1:], "protobuf", context, 7),
        "header only": (good_proto[:6], "json", context, 7),
        "truncated protobuf": (good_proto[:-3], "protobuf", context, 7),
        "other message index": (good_proto[:5] + b"\x02\x02" + good_proto[6:], "protobuf", context, 7),
        "garbage protobuf": (
            b"\x00\x00\x00\x00\x01\x00" + bytes(range(250, 256)) * 4,
            "protobuf",
            context,
            7,
        ),
        "bad UTF-8 in a string": (frame(1, b"\x0a\x02\xc3\x28"), "protobuf", context, 7),
        "JSON read as protobuf": (good_json, "protobuf", context, 7),
        "protobuf read as JSON": (good_proto, "json", context, 7),
        "truncated JSON": (good_json[:-1], "json", context, 7),
        "unknown enum name": (good_json.replace(b'"EVENT_TYPE_', b'"EVENT_TYPE_X'), "json", context, 7),
        "out of range": (good_json.replace(b'"car_number":', b'"car_number":-1,"x":'), "json", context, 7),
        "unknown encoding": (good_proto, "avro", context, 7),
        "null encoding": (good_proto, None, context, 7),
        "bad context": (good_proto, "protobuf", '{"circuit": ', 7),
        "bad context enum": (good_proto, "protobuf", '{"session_type": "SESSION_TYPE_DERBY"}', 7),
        "null schema id": (good_proto, "protobuf", context, None),
    }
    df = spark.createDataFrame(
        [(name, *case, 1) for name, case in cases.items()]
        + [("no context", good_proto, "protobuf", None, 7, None)],
        "name STRING, raw_value BINARY, encoding STRING, context_json STRING, schema_id INT, "
        "validated_time_unix_ns BIGINT",
    )
    results = {r.name: r.value for r in df.selectExpr("name", f"{ENRICHED} AS value").collect()}
    for name in cases:
        assert results[name] is None, name
    no_context = decode_enriched(bytes(results["no context"]))
    assert no_context.event == expected[event_id] and not no_context.HasField("session")
    assert no_context.validated_time_unix_ns == 0

    # Unknown JSON fields are skipped (a newer producer's additions), as bronze's from_json does; enums
    # may come by short name (RACE), as the silver tables store them.
    with_unknown = good_json[:-1] + b',"firmware":{"v":[1,"a\\u00e9",null,-2.5e3]}}'
    [row] = (
        spark.createDataFrame([(with_unknown, context)], "raw_value BINARY, context_json STRING")
        .selectExpr("f1_enriched_protobuf(raw_value, 'json', context_json, 5L, 9) AS value")
        .collect()
    )
    enriched = decode_enriched(bytes(row.value))
    assert unframe(bytes(row.value))[0] == 9
    assert enriched.event == expected[enriched.event.event_id]
    assert enriched.session == enriched_pb2.SessionContext(
        circuit="Monza",
        session_type=session_pb2.SESSION_TYPE_RACE,
        total_laps=53,
        driver_code="VER",
    )
    assert enriched.validated_time_unix_ns == 5


def _event_json(**changes) -> dict:
    event = {
        "event_id": "e-1",
        "session_id": "s-1",
        "car_number": 16,
        "event_type": "EVENT_TYPE_DYNAMICS",
        "event_time_unix_ns": 1788000000860000000,
        "producer_time_unix_ns": 1788000000863000000,
        "sequence": 7,
        "dynamics": {"speed_kmh": 301.25, "gear": 8},
    }
    return {k: v for k, v in (event | changes).items() if v is not ...}


# JSON that protobuf's own JSON parser (json_format) accepts, in forms the simulator does not write.
JSON_EDGE_CASES = {
    "escapes and non-ASCII": _event_json(event_id='\u00e9\n"\\/\t\U0001f3ce x', session_id="Säo Paulo"),
    "integers as strings and exponents": _event_json(
        event_time_unix_ns="1788000000860000000", sequence="18446744073709551615", car_number=1e1
    ),
    "negative int32 and int64 extremes": _event_json(
        dynamics={"gear": -1, "speed_kmh": 0.0}, event_time_unix_ns=-5, producer_time_unix_ns=-(2**63)
    ),
    "special and extreme doubles": _event_json(
        dynamics={"speed_kmh": "NaN", "throttle_pct": "Infinity", "brake_pct": "-Infinity"}
    ),
    "more doubles": _event_json(
        dynamics={
            "speed_kmh": -0.0,
            "throttle_pct": 1e-7,
            "brake_pct": 5e-324,
            "engine_rpm": 1.7976931348623157e308,
            "lateral_g": 0.1,
            "longitudinal_g": 123456789012345678,
            "steering_angle_deg": 4802.021052631582,
        }
    ),
    "enum by number, null and lowerCamel names": _event_json(
        event_type=2, session_id=None, event_id=..., eventId="camel", car_number=..., carNumber=3
    ),
    "optional fields at their defaults": _event_json(
        event_type="EVENT_TYPE_SYSTEM",
        dynamics=...,
        system={
            "kind": "SYSTEM_EVENT_KIND_FLAG",
            "flag": "FLAG_UNSPECIFIED",
            "engine_mode": 0,
            "message": "",
        },
    ),
    "empty payload": _event_json(dynamics={}),
}


def test_json_edge_cases_encode_as_protobufs_own_json_parser_reads_them(platform_settings, spark):
    import json

    from google.protobuf import json_format

    from streaming.contracts import telemetry_pb2

    records = [
        (name, frame(1, json.dumps(event, indent=2 if i % 2 else None).encode(), protobuf=False))
        for i, (name, event) in enumerate(JSON_EDGE_CASES.items())
    ]
    out = (
        spark.createDataFrame(records, "name STRING, raw_value BINARY")
        .selectExpr("name", "f1_enriched_protobuf(raw_value, 'json', NULL, 1L, 5) AS value")
        .collect()
    )
    assert len(out) == len(JSON_EDGE_CASES)
    for row in out:
        assert row.value is not None, row.name
        expected = json_format.Parse(json.dumps(JSON_EDGE_CASES[row.name]), telemetry_pb2.TelemetryEvent())
        got = decode_enriched(bytes(row.value)).event
        assert got.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True), (
            row.name
        )


def test_protobuf_events_are_copied_byte_for_byte(platform_settings, spark):
    """Field 1 holds the raw event bytes as they came: a newer producer's unknown fields survive, and the
    long form of the message index [0] (count 1, index 0) is read too."""
    from google.protobuf import json_format

    from streaming.contracts import telemetry_pb2

    event = json_format.ParseDict(_event_json(), telemetry_pb2.TelemetryEvent()).SerializeToString()
    newer = event + b"\xa0\x06\x01"  # field 100, varint 1: not in this contract
    long_index = b"\x00\x00\x00\x00\x01\x02\x00" + event
    out = (
        spark.createDataFrame([(frame(1, newer),), (long_index,)], "raw_value BINARY")
        .selectExpr("f1_enriched_protobuf(raw_value, 'protobuf', NULL, NULL, 3) AS value")
        .collect()
    )
    first, second = (bytes(row.value) for row in out)
    # tag of field 1, its length, the event bytes; nothing else (no context, validated time 0)
    assert first == frame(3, b"\x0a" + bytes([len(newer)]) + newer)
    assert decode_enriched(first).event.SerializeToString() == newer
    assert second == frame(3, b"\x0a" + bytes([len(event)]) + event)
