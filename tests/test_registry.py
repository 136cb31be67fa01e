"""A real schema registry: Protobuf and JSON Schema registered, fetched, checked, and kept across restarts."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka.schema_registry import Schema

from streaming.clients.registry import registry_client
from streaming.errors import ServiceUnavailable
from streaming.runtime import manager
from streaming.runtime.ephemeral import ephemeral_env
from streaming.settings import Settings

PROTO_V1 = (
    'syntax = "proto3";\npackage f1.test.v1;\nmessage Lap { string event_id = 1; int32 car_number = 2; }\n'
)
PROTO_V2_COMPATIBLE = PROTO_V1.replace(
    "int32 car_number = 2; }", "int32 car_number = 2; double lap_time_s = 3; }"
)
PROTO_V2_RETYPED = PROTO_V1.replace("int32 car_number", "string car_number")

JSON_V1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"event_id": {"type": "string"}, "car_number": {"type": "integer"}},
    "required": ["event_id", "car_number"],
}


def _subject(kind: str) -> str:
    return f"test.{kind}.{uuid.uuid4().hex[:8]}-value"


def test_register_and_fetch_protobuf_and_json_schemas(platform_settings):
    client = registry_client(platform_settings)
    proto_subject, json_subject = _subject("proto"), _subject("json")
    proto_id = client.register_schema(proto_subject, Schema(PROTO_V1, "PROTOBUF"))
    json_id = client.register_schema(json_subject, Schema(json.dumps(JSON_V1), "JSON"))
    assert proto_id != json_id

    fetched = client.get_schema(proto_id)
    assert fetched.schema_type == "PROTOBUF" and "message Lap" in fetched.schema_str
    assert json.loads(client.get_schema(json_id).schema_str) == JSON_V1
    assert client.get_latest_version(json_subject).schema_id == json_id
    assert client.register_schema(proto_subject, Schema(PROTO_V1, "PROTOBUF")) == proto_id, (
        "same schema, same id"
    )


def test_backward_compatibility_accepts_an_added_field_and_rejects_a_retyped_one(platform_settings):
    client = registry_client(platform_settings)
    subject = _subject("compat")
    client.register_schema(subject, Schema(PROTO_V1, "PROTOBUF"))
    client.set_compatibility(subject, "BACKWARD")
    assert client.test_compatibility(subject, Schema(PROTO_V2_COMPATIBLE, "PROTOBUF"))
    assert not client.test_compatibility(subject, Schema(PROTO_V2_RETYPED, "PROTOBUF"))


def test_schemas_survive_a_registry_restart(platform_settings):
    client = registry_client(platform_settings)
    subject = _subject("persist")
    schema_id = client.register_schema(subject, Schema(json.dumps(JSON_V1), "JSON"))

    manager.down(platform_settings, ["registry"])
    manager.up(platform_settings, ["registry"])

    client = registry_client(platform_settings)
    assert subject in client.get_subjects()
    assert json.loads(client.get_schema(schema_id).schema_str) == JSON_V1


def test_missing_registry_says_how_to_start_it(tmp_path):
    s = Settings.from_env(ephemeral_env(tmp_path))
    with pytest.raises(ServiceUnavailable, match=r"(?s)registry.*SCHEMA_REGISTRY_URL.*make up"):
        registry_client(s)
