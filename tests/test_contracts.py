"""The contracts: generated files in sync, JSON Schema valid, registry subjects, wire format, compatibility,
and a round trip of every event type in both encodings through a real broker and registry."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict

import jsonschema
import pytest
from confluent_kafka import Consumer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from streaming.clients.kafka_admin import create_topics
from streaming.clients.registration import check_contracts, register_contracts, schema_ids
from streaming.clients.registry import registry_client
from streaming.contracts import (
    CONTRACTS,
    TELEMETRY_JSON,
    TELEMETRY_PROTOBUF,
    Contract,
    telemetry_pb2,
    topics,
    unframe,
)
from streaming.contracts.codegen import check
from streaming.contracts.event_types import EVENT_TYPE_NAMES
from streaming.contracts.topics import TopicSpec
from streaming.simulator.encoding import JsonBlockEncoder, ProtobufBlockEncoder, message_to_json, messages
from streaming.simulator.events import EventSource
from streaming.simulator.race import Race, RaceConfig


def test_generated_files_are_in_sync_with_the_proto():
    assert check() == [], "run `uv run f1 contracts generate` and commit the result"


def test_json_schema_is_valid_2020_12_and_matches_the_json_encoding():
    schema = json.loads(TELEMETRY_JSON.schema_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    # The registry holds it without `$schema` and may read it as draft 7: both must agree.
    as_registered = json.loads(TELEMETRY_JSON.registry_text())
    draft7 = jsonschema.Draft7Validator(as_registered)
    race = Race(RaceConfig(cars=3, laps=1, seed=9))
    source = EventSource(race)
    seen = set()
    for _ in range(12):
        tick = race.tick_index
        for block in source.tick_blocks(tick, race.time_ns, race.tick()):
            for msg in messages(block):
                validator.validate(message_to_json(msg))
                draft7.validate(message_to_json(msg))
                seen.add(block.event_type)
    assert seen == set(EVENT_TYPE_NAMES)
    event = message_to_json(msg)
    for broken in (
        {k: v for k, v in event.items() if k != "event_id"},
        {**event, "event_type": "EVENT_TYPE_FAST"},
        {**event, "car_number": -1},
        {k: v for k, v in event.items() if k != msg.WhichOneof("payload")},
    ):
        assert not validator.is_valid(broken)
        assert not draft7.is_valid(broken)


def test_init_registers_every_contract_with_backward_compatibility(platform_settings):
    ids = register_contracts(platform_settings)
    assert set(ids) == {c.subject for c in CONTRACTS}
    assert register_contracts(platform_settings) == ids, "registration must be idempotent"
    assert schema_ids(platform_settings) == ids
    client = registry_client(platform_settings)
    for contract in CONTRACTS:
        assert client.get_compatibility(contract.subject) == "BACKWARD"
        assert client.get_schema(ids[contract.subject]).schema_str == contract.registry_text()


PROTO_ADDED = TELEMETRY_PROTOBUF.schema_text().replace(
    "  fixed64 sequence = 7;", "  fixed64 sequence = 7;\n  string firmware_version = 8;"
)
PROTO_RETYPED = TELEMETRY_PROTOBUF.schema_text().replace(
    "  uint32 car_number = 3;", "  string car_number = 3;"
)


def _json_text(mutate) -> str:
    schema = json.loads(TELEMETRY_JSON.schema_text())
    mutate(schema)
    return json.dumps(schema)


def _json_add(schema):
    schema["properties"]["firmware_version"] = {"type": "string"}


def _json_remove(schema):
    del schema["properties"]["sequence"]
    schema["required"].remove("sequence")


def _json_retype(schema):
    schema["properties"]["car_number"] = {"type": "string"}


@pytest.mark.parametrize(
    ("contract", "text", "compatible"),
    [
        (TELEMETRY_PROTOBUF, PROTO_ADDED, True),
        (TELEMETRY_PROTOBUF, PROTO_RETYPED, False),
        (TELEMETRY_JSON, _json_text(_json_add), True),
        (TELEMETRY_JSON, _json_text(_json_remove), False),
        (TELEMETRY_JSON, _json_text(_json_retype), False),
    ],
    ids=[
        "proto-added-field",
        "proto-retyped-field",
        "json-added-optional",
        "json-removed-field",
        "json-retyped",
    ],
)
def test_contract_check_accepts_compatible_and_rejects_incompatible_changes(
    platform_settings, contract: Contract, text: str, compatible: bool
):
    register_contracts(platform_settings)
    [result] = check_contracts(platform_settings, (contract,), {contract.subject: text})
    assert result.compatible is compatible, result.detail


def test_every_event_type_round_trips_in_both_encodings(platform_settings):
    s = platform_settings
    ids = register_contracts(s)
    suffix = uuid.uuid4().hex[:6]
    proto_topic, json_topic = f"{topics.RAW_PROTOBUF}.rt{suffix}", f"{topics.RAW_JSON}.rt{suffix}"
    create_topics(s, [TopicSpec(proto_topic, 3, {}), TopicSpec(json_topic, 3, {})])

    race = Race(RaceConfig(cars=4, laps=1, seed=21))
    source = EventSource(race)
    proto = ProtobufBlockEncoder(ids[TELEMETRY_PROTOBUF.subject], race.config.session_id)
    as_json = JsonBlockEncoder(ids[TELEMETRY_JSON.subject])
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": s.kafka_bootstrap_servers})
    expected = {}
    for _ in range(11):  # 11 ticks: every type, system events (session start) included
        tick = race.tick_index
        for block in source.tick_blocks(tick, race.time_ns, race.tick()):
            for msg, pv, jv in zip(messages(block), proto.encode(block), as_json.encode(block), strict=True):
                expected[msg.event_id] = msg
                key = str(msg.car_number).encode()
                producer.produce(proto_topic, pv, key)
                producer.produce(json_topic, jv, key)
    assert producer.flush(30) == 0

    proto_deserializer = ProtobufDeserializer(telemetry_pb2.TelemetryEvent, {"use.deprecated.format": False})
    json_deserializer = JSONDeserializer(None, schema_registry_client=registry_client(s))
    received = defaultdict(dict)
    for topic in (proto_topic, json_topic):
        for value in _consume_all(s, topic, len(expected)):
            ctx = SerializationContext(topic, MessageField.VALUE)
            if topic == proto_topic:
                assert unframe(value)[0] == ids[TELEMETRY_PROTOBUF.subject]
                msg = proto_deserializer(value, ctx)
                received["protobuf"][msg.event_id] = msg
            else:
                data = json_deserializer(value, ctx)  # fetches the writer's schema by id and validates
                msg = telemetry_pb2.TelemetryEvent()
                from google.protobuf import json_format

                json_format.ParseDict(data, msg)
                received["json"][msg.event_id] = msg
    for encoding in ("protobuf", "json"):
        assert received[encoding] == expected, encoding
    types = {m.WhichOneof("payload") for m in expected.values()}
    assert types == set(EVENT_TYPE_NAMES.values())


def _consume_all(s, topic: str, count: int) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": s.kafka_bootstrap_servers,
            "group.id": f"t-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    values = []
    try:
        for _ in range(240):
            if len(values) >= count:
                break
            for msg in consumer.consume(1000, timeout=0.5):
                if not msg.error():
                    values.append(msg.value())
    finally:
        consumer.close()
    assert len(values) == count
    return values
