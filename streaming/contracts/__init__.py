"""The contracts: Protobuf classes, JSON Schemas, registry subjects, wire format, topics, tables, event types.

Records on the raw topics use the Confluent wire format, so any Kafka tool with a schema registry reads
them: magic byte 0, the 4-byte big-endian schema id, for Protobuf the message-index list (the single
byte 0: every root message comes first in its file), then the encoded message. The enriched topic
(silver's re-stream) uses the same format for EnrichedTelemetryEvent (`enriched.proto`).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import cache

from streaming.contracts import topics
from streaming.contracts.generated import enriched_pb2, session_pb2, telemetry_pb2
from streaming.settings import PROJECT_ROOT

# The contracts' sources: Protobuf under proto/, the JSON Schemas generated from it under schemas/.
PROTO_DIR = PROJECT_ROOT / "proto"
SCHEMAS_DIR = PROJECT_ROOT / "schemas"

__all__ = [
    "enriched_pb2",
    "session_pb2",
    "telemetry_pb2",
    "Contract",
    "CONTRACTS",
    "frame",
    "unframe",
    "decode_enriched",
]

MAGIC_BYTE = 0
# Message indexes [0] in Confluent's zigzag-varint encoding: the first message of the file.
FIRST_MESSAGE_INDEX = b"\x00"
_HEADER = struct.Struct(">bI")


@dataclass(frozen=True)
class Contract:
    """One registry subject: which schema it holds and how that schema's text is found."""

    subject: str
    schema_type: str  # PROTOBUF or JSON
    source: str  # path under proto/ or schemas/
    # The contracts whose files this one imports, registered as schema references: the import path is
    # the reference's name, and they must be registered first (CONTRACTS lists them before).
    references: tuple[Contract, ...] = ()

    def schema_text(self) -> str:
        base = PROTO_DIR if self.schema_type == "PROTOBUF" else SCHEMAS_DIR
        return (base / self.source).read_text()

    def registry_text(self, text: str | None = None) -> str:
        """The schema as the registry holds it.

        Apicurio 3.0's JSON Schema compatibility checker knows drafts 4 to 7 only and fails on a
        `$schema` of 2020-12 ("could not determine version"). The generated schemas use only keywords
        that mean the same in draft 7 and 2020-12 (`$defs` is reached by a plain JSON pointer), so the
        registry gets them without the `$schema` line; tests validate events under both drafts.
        """
        text = self.schema_text() if text is None else text
        if self.schema_type != "JSON":
            return text
        schema = json.loads(text)
        schema.pop("$schema", None)
        return json.dumps(schema, indent=2) + "\n"


# Subjects follow Confluent's TopicNameStrategy: <topic>-value.
TELEMETRY_PROTOBUF = Contract(f"{topics.RAW_PROTOBUF}-value", "PROTOBUF", "f1/telemetry/v1/telemetry.proto")
TELEMETRY_JSON = Contract(f"{topics.RAW_JSON}-value", "JSON", "f1.telemetry.v1.TelemetryEvent.json")
SESSIONS_PROTOBUF = Contract(f"{topics.SESSIONS}-value", "PROTOBUF", "f1/telemetry/v1/session.proto")
# enriched.proto imports telemetry.proto and session.proto, so the registry holds it with references to
# their subjects (Apicurio 3.0's Confluent API resolves them: an unknown subject or version is rejected,
# and compatibility checks and `referencedby` work), and the shared messages are defined once.
ENRICHED_PROTOBUF = Contract(
    f"{topics.ENRICHED}-value",
    "PROTOBUF",
    "f1/telemetry/v1/enriched.proto",
    references=(TELEMETRY_PROTOBUF, SESSIONS_PROTOBUF),
)
# Registration order: every contract after the ones it references.
CONTRACTS = (TELEMETRY_PROTOBUF, TELEMETRY_JSON, SESSIONS_PROTOBUF, ENRICHED_PROTOBUF)


def frame(schema_id: int, payload: bytes, protobuf: bool = True) -> bytes:
    """The Confluent wire format around an encoded message."""
    return _HEADER.pack(MAGIC_BYTE, schema_id) + (FIRST_MESSAGE_INDEX if protobuf else b"") + payload


def unframe(value: bytes, protobuf: bool = True) -> tuple[int, bytes]:
    """(schema id, encoded message) of a wire-format record; ValueError if it is not one."""
    if len(value) < 5 or value[0] != MAGIC_BYTE:
        raise ValueError("not in the Confluent wire format (no magic byte 0)")
    schema_id = _HEADER.unpack_from(value)[1]
    if protobuf:
        if value[5:6] != FIRST_MESSAGE_INDEX:
            raise ValueError("unexpected Protobuf message indexes")
        return schema_id, value[6:]
    return schema_id, value[5:]


def decode_enriched(value: bytes) -> enriched_pb2.EnrichedTelemetryEvent:
    """A record of the enriched topic as its message; ValueError if it is not one."""
    from google.protobuf.message import DecodeError

    try:
        return enriched_pb2.EnrichedTelemetryEvent.FromString(unframe(value)[1])
    except DecodeError as error:
        raise ValueError(f"not an EnrichedTelemetryEvent: {error}") from None


@cache
def telemetry_json_schema() -> dict:
    return json.loads(TELEMETRY_JSON.schema_text())
