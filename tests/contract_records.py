"""Records over every contract field's whole type domain, for the property-based test of the streams.

Each record is a real event of a simulated race (so that it has a session, a car and a plausible time)
with one thing changed: one field of the envelope or payload set to a value from its Protobuf type's
whole domain (0, ±1, the type's minimum and maximum, NaN, ±Inf, empty and very long strings, unknown
enum numbers), or, in the JSON encoding, the JSON broken against its schema (unknown field, wrong type,
two payloads, unknown enum name), or the framing broken (tombstone, truncated, wrong magic byte, another
subject's schema id, an unknown one). Some records are sent unchanged, some twice.
"""

from __future__ import annotations

import json
import math
import os
import random
import uuid
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from hypothesis import strategies as st

from streaming.contracts import frame, telemetry_pb2
from streaming.contracts.event_types import EVENT_TYPES
from streaming.jobs.validation import RANGES
from streaming.simulator.encoding import message_to_json

# The seed of every draw from these strategies in this test session, printed by the tests that draw: a
# failure in CI replays with F1_PROPERTY_SEED=<seed> (and locally from the example database under .f1/).
PROPERTY_SEED = int(os.environ.get("F1_PROPERTY_SEED") or random.SystemRandom().randrange(2**32))

PAYLOADS = EVENT_TYPES
INT32 = (-(2**31), 2**31 - 1)
UINT32 = (0, 2**32 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT64 = (0, 2**64 - 1)
_DOMAINS = {
    FieldDescriptor.TYPE_INT32: INT32,
    FieldDescriptor.TYPE_SINT32: INT32,
    FieldDescriptor.TYPE_SFIXED32: INT32,
    FieldDescriptor.TYPE_UINT32: UINT32,
    FieldDescriptor.TYPE_FIXED32: UINT32,
    FieldDescriptor.TYPE_INT64: INT64,
    FieldDescriptor.TYPE_SINT64: INT64,
    FieldDescriptor.TYPE_SFIXED64: INT64,
    FieldDescriptor.TYPE_UINT64: UINT64,
    FieldDescriptor.TYPE_FIXED64: UINT64,
}


@dataclass(frozen=True)
class Outgoing:
    """One record to send: its encoding, key and value (None: a tombstone), and what was done to it."""

    encoding: str  # "protobuf" or "json"
    key: bytes
    value: bytes | None
    change: str


def integers_of(low: int, high: int) -> st.SearchStrategy[int]:
    edges = sorted({v for v in (low, low + 1, -1, 0, 1, high - 1, high) if low <= v <= high})
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def floats_of(width: int) -> st.SearchStrategy[float]:
    edges = [0.0, -0.0, 1.0, -1.0, math.nan, math.inf, -math.inf, 5e-324 if width == 64 else 1e-45]
    edges += [1.7976931348623157e308, -1.7976931348623157e308] if width == 64 else [3.4e38, -3.4e38]
    return st.one_of(st.sampled_from(edges), st.floats(width=width, allow_nan=True, allow_infinity=True))


def strings() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["", " ", "x" * 20_000, "é\u0000\ud7ff"]), st.text(max_size=40))


def field_values(field: FieldDescriptor) -> st.SearchStrategy:
    """Every value the field's Protobuf type can carry."""
    if field.type in _DOMAINS:
        return integers_of(*_DOMAINS[field.type])
    if field.type == FieldDescriptor.TYPE_DOUBLE:
        return floats_of(64)
    if field.type == FieldDescriptor.TYPE_FLOAT:
        return floats_of(32)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_STRING:
        return strings()
    if field.type == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), integers_of(*INT32))  # proto3 enums are open
    raise AssertionError(f"no strategy for {field.full_name} (type {field.type})")


def _fields_of(event: telemetry_pb2.TelemetryEvent) -> list[tuple[str | None, FieldDescriptor]]:
    """(payload name or None for the envelope, field) of every scalar field the event can carry."""
    envelope = [(None, f) for f in event.DESCRIPTOR.fields if f.message_type is None]
    payload = event.WhichOneof("payload")
    inner = getattr(event, payload).DESCRIPTOR.fields if payload else []
    return envelope + [(payload, f) for f in inner]


def with_fresh_id(event: telemetry_pb2.TelemetryEvent) -> telemetry_pb2.TelemetryEvent:
    """A copy of `event` with an event id of its own: never a repeat of an event silver holds."""
    copy = telemetry_pb2.TelemetryEvent()
    copy.CopyFrom(event)
    copy.event_id = str(uuid.uuid4())
    return copy


@st.composite
def changed_field(draw, event: telemetry_pb2.TelemetryEvent) -> tuple[telemetry_pb2.TelemetryEvent, str]:
    """The event with one scalar field set to a value of its type's whole domain."""
    copy = with_fresh_id(event)
    owner, field = draw(st.sampled_from(_fields_of(copy)))
    value = draw(field_values(field))
    target = copy if owner is None else getattr(copy, owner)
    if field.type == FieldDescriptor.TYPE_FLOAT and math.isfinite(value) and abs(value) > 3.4028234e38:
        value = math.copysign(math.inf, value)
    setattr(target, field.name, value)
    return copy, f"{owner or 'envelope'}.{field.name}={value!r:.40}"


@st.composite
def second_payload(draw, event: telemetry_pb2.TelemetryEvent) -> dict:
    """The event's JSON with a second payload object beside its own (the contract has a oneof)."""
    data = message_to_json(with_fresh_id(event))
    own = event.WhichOneof("payload")
    other = draw(st.sampled_from([p for p in PAYLOADS if p != own]))
    data[other] = message_to_json(_with_payload(event, other))[other]
    return data


def _with_payload(event: telemetry_pb2.TelemetryEvent, payload: str) -> telemetry_pb2.TelemetryEvent:
    copy = with_fresh_id(event)
    getattr(copy, payload).SetInParent()
    return copy


def _other_json_types(value) -> list:
    """JSON values of another type than `value`'s (a number for a string, a string for a number, ...)."""
    if isinstance(value, bool):
        return ["true", 1, [True]]
    if isinstance(value, int | float):
        return [str(value), [value], {"value": value}, True]
    return [7, [value], {"value": value}, False]


@st.composite
def broken_json(draw, event: telemetry_pb2.TelemetryEvent) -> tuple[bytes, str]:
    """JSON text that breaks the registered JSON Schema, or is no JSON at all."""
    data = message_to_json(with_fresh_id(event))
    payload = event.WhichOneof("payload")
    kind = draw(st.sampled_from(["unknown_field", "wrong_type", "two_payloads", "enum_name", "not_json"]))
    if kind == "unknown_field":
        where = draw(st.sampled_from(["envelope", "payload"]))
        (data if where == "envelope" else data[payload])[
            draw(st.sampled_from(["extra", "x_m2", "SPEED"]))
        ] = 1
    elif kind == "wrong_type":
        name = draw(st.sampled_from(sorted(data[payload]) + ["car_number", "sequence", "event_time_unix_ns"]))
        target = data if name in data else data[payload]
        target[name] = draw(st.sampled_from(_other_json_types(target[name])))
    elif kind == "two_payloads":
        data = draw(second_payload(event))
    elif kind == "enum_name":
        data["event_type"] = draw(st.sampled_from(["EVENT_TYPE_FOO", "position", "", "EVENT_TYPE_POSITION "]))
    else:
        return draw(st.sampled_from([b"{", b"[]", b"null", b"\xff\xfe", b'{"event_id": "a"} x'])), kind
    return json.dumps(data).encode(), kind


@st.composite
def outgoing(draw, events: list[telemetry_pb2.TelemetryEvent], ids: dict[str, int]) -> Outgoing:
    """One record to send: a race event changed in one way, encoded and framed (mostly) correctly."""
    proto_id, json_id = ids["f1.telemetry.raw-value"], ids["f1.telemetry.raw.json-value"]
    event = draw(st.sampled_from(events))
    encoding = draw(st.sampled_from(["protobuf", "json"]))
    key = str(event.car_number).encode()
    kind = draw(st.sampled_from(["field", "field", "field", "unchanged", "event_type", "json", "framing"]))
    change = kind
    if kind == "json" and encoding == "json":
        body, change = draw(broken_json(event))
        return Outgoing("json", key, frame(json_id, body, protobuf=False), f"json: {change}")
    if kind in ("field", "json"):
        event, change = draw(changed_field(event))
    elif kind == "framing":
        # an event of its own: records sharing an event id are one event, and silver keeps one of them
        event = with_fresh_id(event)
    elif kind == "event_type":
        event = with_fresh_id(event)
        event.event_type = draw(
            st.sampled_from(
                [
                    v.number
                    for v in event.DESCRIPTOR.fields_by_name["event_type"].enum_type.values
                    if v.number != event.event_type
                ]
            )
        )
        change = f"event_type={event.event_type}"
    if encoding == "protobuf":
        value = frame(proto_id, event.SerializeToString())
    else:
        value = frame(json_id, json.dumps(message_to_json(event), allow_nan=True).encode(), protobuf=False)
    if kind == "framing":
        how = draw(
            st.sampled_from(["tombstone", "truncated", "magic", "unknown_id", "other_subject", "swap"])
        )
        change = f"framing: {how}"
        if how == "tombstone":
            value = None
        elif how == "truncated":
            value = value[: draw(st.integers(0, len(value) - 1))]
        elif how == "magic":
            value = bytes([draw(st.integers(1, 255))]) + value[1:]
        elif how == "unknown_id":
            unknown = draw(st.integers(-(2**31), 2**31 - 1).filter(lambda i: i not in ids.values()))
            value = value[:1] + unknown.to_bytes(4, "big", signed=True) + value[5:]
        elif how == "other_subject":
            value = value[:1] + ids["f1.sessions-value"].to_bytes(4, "big") + value[5:]
        else:  # the other encoding's telemetry schema id
            other = json_id if encoding == "protobuf" else proto_id
            value = value[:1] + other.to_bytes(4, "big") + value[5:]
    return Outgoing(encoding, key, value, change)


def hand_made(event: telemetry_pb2.TelemetryEvent, ids: dict[str, int]) -> list[tuple[Outgoing, str]]:
    """Records at the edges, each with the reason it must be quarantined for: always sent with the drawn
    ones, so that every run covers them whatever Hypothesis draws."""
    proto_id, json_id = ids["f1.telemetry.raw-value"], ids["f1.telemetry.raw.json-value"]
    key = str(event.car_number).encode()

    def proto(change: str, **fields) -> Outgoing:
        copy = with_fresh_id(event)
        for name, value in fields.items():
            setattr(copy, name, value)
        return Outgoing("protobuf", key, frame(proto_id, copy.SerializeToString()), change)

    def as_json(change: str, data: dict) -> Outgoing:
        return Outgoing("json", key, frame(json_id, json.dumps(data).encode(), protobuf=False), change)

    own = event.WhichOneof("payload")
    mismatched = next(
        v.number
        for v in event.DESCRIPTOR.fields_by_name["event_type"].enum_type.values
        if v.number not in (0, event.event_type)
    )
    unknown_type = message_to_json(with_fresh_id(event))
    unknown_type["event_type"] = "EVENT_TYPE_WARP_DRIVE"
    extra = message_to_json(with_fresh_id(event))
    extra[own]["boost"] = 1
    valid = proto("valid")

    def payload_proto(change: str, name: str, value: float) -> Outgoing:
        copy = with_fresh_id(event)
        setattr(getattr(copy, own), name, value)
        return Outgoing("protobuf", key, frame(proto_id, copy.SerializeToString()), change)

    # a ranged floating-point field of the event's payload: NaN and infinities pass every comparison
    ranged = next(
        (
            name
            for name in RANGES.get(own, {})
            if getattr(event, own).DESCRIPTOR.fields_by_name[name].type
            in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)
        ),
        None,
    )
    not_finite = (
        [
            (payload_proto(f"{own}.{ranged}=nan", ranged, math.nan), "out_of_range"),
            (payload_proto(f"{own}.{ranged}=-inf", ranged, -math.inf), "out_of_range"),
        ]
        if ranged
        else []
    )
    other = next(p for p in PAYLOADS if p != own)
    two_payloads = message_to_json(with_fresh_id(event))
    two_payloads[other] = message_to_json(_with_payload(event, other))[other]
    return [
        *not_finite,
        (proto("event_time_unix_ns=int64 min", event_time_unix_ns=INT64[0]), "out_of_range"),
        (proto("event_time_unix_ns=int64 max", event_time_unix_ns=INT64[1]), "out_of_range"),
        (proto("car_number=uint32 max", car_number=UINT32[1]), "out_of_range"),
        (proto("sequence=uint64 max", sequence=UINT64[1]), "out_of_range"),
        (proto("event_type mismatch", event_type=mismatched), "event_type_mismatch"),
        (proto("event_id=uuid without dashes", event_id=uuid.uuid4().hex), "invalid_event_id"),
        (Outgoing("protobuf", key, None, "tombstone"), "undecodable"),
        (Outgoing("protobuf", key, valid.value[:5], "5-byte header alone"), "undecodable"),
        (Outgoing("protobuf", key, valid.value[:3], "3 bytes"), "undecodable"),
        (Outgoing("protobuf", key, b"\x01" + valid.value[1:], "magic byte 1"), "undecodable"),
        (
            Outgoing(
                "protobuf",
                key,
                valid.value[:1] + ids["f1.sessions-value"].to_bytes(4, "big") + valid.value[5:],
                "sessions schema id",
            ),
            "unknown_schema_id",
        ),
        (as_json("json unknown event_type", unknown_type), "schema_violation"),
        (as_json("json unknown payload field", extra), "schema_violation"),
        (as_json("json two payloads", two_payloads), "schema_violation"),
        (
            Outgoing("json", key, frame(json_id, b'{"event_id": ', protobuf=False), "json cut short"),
            "undecodable",
        ),
    ]


# Changes the contract forbids, and the reasons that may say so.
FORBIDDEN = {
    "framing: tombstone": {"undecodable"},
    "framing: magic": {"undecodable"},
    "framing: truncated": {"undecodable", "missing_field"},  # a cut at a field's end leaves a shorter record
    "framing: unknown_id": {"unknown_schema_id"},
    "framing: other_subject": {"unknown_schema_id"},
    "framing: swap": {"unknown_schema_id"},
    "json: ": {"schema_violation", "undecodable"},
    "event_type=": {"event_type_mismatch"},
    "envelope.event_id=": {"missing_field", "invalid_event_id"},  # blank, or not a UUID
}


def forbidden_reasons(change: str) -> set[str] | None:
    """The reasons that may quarantine a record changed by `change`, or None if the contract allows it."""
    return next((reasons for prefix, reasons in FORBIDDEN.items() if change.startswith(prefix)), None)
