"""Encode event blocks as Kafka record values: Protobuf or JSON, in the Confluent wire format.

The Protobuf hot path is vectorised: the payloads of the simulator's five periodic event types have only
fixed-width fields (doubles, and enums or small integers that fit one varint byte), so a whole block is
laid out as a numpy structured array whose bytes *are* the wire-format records, tags included. Explicitly
encoded zero values are valid Protobuf. Anything that does not fit that layout (system events, a value
that needs a longer varint) takes the generic path through the protobuf library; tests check that both
decode to the same messages.
"""

from __future__ import annotations

import json

import numpy as np
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor

from streaming.contracts import FIRST_MESSAGE_INDEX, MAGIC_BYTE, frame
from streaming.contracts import telemetry_pb2 as pb
from streaming.contracts.event_types import EVENT_TYPE_NAMES
from streaming.simulator.events import PRODUCER_LATENCY_NS, SYSTEM, EventBlock

_ENVELOPE = pb.TelemetryEvent.DESCRIPTOR
_FIXED = {
    FieldDescriptor.TYPE_DOUBLE: (1, "<f8"),
    FieldDescriptor.TYPE_SFIXED64: (1, "<i8"),
    FieldDescriptor.TYPE_FIXED64: (1, "<u8"),
}
_ONE_BYTE_VARINT = {
    FieldDescriptor.TYPE_ENUM,
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_BOOL,
}


def _tag(field: FieldDescriptor, wire_type: int) -> int:
    tag = (field.number << 3) | wire_type
    assert tag < 128, f"field {field.full_name}: tag needs more than one byte"
    return tag


def _payload_layout(payload_field: FieldDescriptor) -> list[tuple[str, str, int | None]]:
    """[(column, numpy type, tag)] of a payload message: fixed-width fields only."""
    layout = []
    for field in sorted(payload_field.message_type.fields, key=lambda f: f.number):
        if field.type in _FIXED:
            wire, dtype = _FIXED[field.type]
        elif field.type in _ONE_BYTE_VARINT:
            wire, dtype = 0, "u1"
        else:
            raise TypeError(f"{field.full_name} has no fixed-width layout")
        layout.append((field.name, dtype, _tag(field, wire)))
    return layout


class ProtobufBlockEncoder:
    """Encodes blocks of one session into Confluent-framed TelemetryEvent records."""

    def __init__(self, schema_id: int, session_id: str):
        self.schema_id = schema_id
        self.session_id = session_id.encode()
        assert len(self.session_id) < 128
        self._dtypes: dict[int, tuple[np.dtype, list, list]] = {}
        for event_type, name in EVENT_TYPE_NAMES.items():
            if event_type != SYSTEM:
                payload_field = _ENVELOPE.fields_by_name[name]
                self._dtypes[event_type] = self._record_dtype(payload_field)

    def _record_dtype(self, payload_field: FieldDescriptor) -> tuple[np.dtype, list, list]:
        """(record dtype, constant fields to fill, payload layout) of one event type."""
        layout = _payload_layout(payload_field)
        payload_size = sum(1 + np.dtype(dtype).itemsize for _, dtype, _ in layout)
        f = _ENVELOPE.fields_by_name
        fields = [
            ("magic", "u1"),
            ("schema_id", ">u4"),
            ("index", "u1"),
            ("t_id", "u1"),
            ("l_id", "u1"),
            ("event_id", "S36"),
            ("t_session", "u1"),
            ("l_session", "u1"),
            ("session_id", f"S{len(self.session_id)}"),
            ("t_car", "u1"),
            ("car_number", "u1"),
            ("t_type", "u1"),
            ("event_type", "u1"),
            ("t_event_time", "u1"),
            ("event_time", "<i8"),
            ("t_producer_time", "u1"),
            ("producer_time", "<i8"),
            ("t_sequence", "u1"),
            ("sequence", "<u8"),
            ("t_payload", "u1"),
            ("l_payload", "u1"),
        ]
        constants = {
            "magic": MAGIC_BYTE,
            "schema_id": self.schema_id,
            "index": FIRST_MESSAGE_INDEX[0],
            "t_id": _tag(f["event_id"], 2),
            "l_id": 36,
            "t_session": _tag(f["session_id"], 2),
            "l_session": len(self.session_id),
            "session_id": self.session_id,
            "t_car": _tag(f["car_number"], 0),
            "t_type": _tag(f["event_type"], 0),
            "t_event_time": _tag(f["event_time_unix_ns"], 1),
            "t_producer_time": _tag(f["producer_time_unix_ns"], 1),
            "t_sequence": _tag(f["sequence"], 1),
            "t_payload": _tag(payload_field, 2),
            "l_payload": payload_size,
        }
        for column, dtype, tag in layout:
            fields += [(f"t_{column}", "u1"), (column, dtype)]
            constants[f"t_{column}"] = tag
        return np.dtype(fields), [(k, v) for k, v in constants.items()], layout

    def encode(self, block: EventBlock) -> list[bytes]:
        if block.event_type == SYSTEM or not self._fits(block):
            return [frame(self.schema_id, m.SerializeToString()) for m in messages(block)]
        dtype, constants, layout = self._dtypes[block.event_type]
        records = np.empty(len(block), dtype=dtype)
        for name, value in constants:
            records[name] = value
        records["event_id"] = block.event_ids
        records["car_number"] = block.car_number
        records["event_type"] = block.event_type
        records["event_time"] = block.event_time_ns
        records["producer_time"] = block.event_time_ns + PRODUCER_LATENCY_NS
        records["sequence"] = block.sequence
        for column, _, _ in layout:
            records[column] = block.columns[column]
        raw = records.tobytes()
        size = dtype.itemsize
        return [raw[i : i + size] for i in range(0, len(raw), size)]

    def _fits(self, block: EventBlock) -> bool:
        """Every one-byte varint column holds 0..127 (the simulator's always do; checked, not assumed)."""
        if block.car_number.max(initial=0) > 127:
            return False
        for column, dtype, _ in self._dtypes[block.event_type][2]:
            if dtype == "u1":
                values = block.columns[column]
                if values.min(initial=0) < 0 or values.max(initial=0) > 127:
                    return False
        return True


def messages(block: EventBlock) -> list[pb.TelemetryEvent]:
    """The block as protobuf messages: the generic (slow) path, and the reference for the fast one."""
    name = EVENT_TYPE_NAMES[block.event_type]
    result = []
    for i in range(len(block)):
        msg = pb.TelemetryEvent(
            event_id=block.event_ids[i].decode(),
            session_id=block.session_id,
            car_number=int(block.car_number[i]),
            event_type=block.event_type,
            event_time_unix_ns=block.event_time_ns,
            producer_time_unix_ns=block.event_time_ns + PRODUCER_LATENCY_NS,
            sequence=int(block.sequence[i]),
        )
        payload = getattr(msg, name)
        if block.event_type == SYSTEM:
            record = block.system[i]
            payload.kind = record.kind
            for key, value in record.fields.items():
                setattr(payload, key, value)
        else:
            for column, values in block.columns.items():
                value = values[i]
                setattr(payload, column, value.item() if hasattr(value, "item") else value)
        result.append(msg)
    return result


def message_to_json(msg: pb.TelemetryEvent) -> dict:
    """The JSON encoding of the contract (see streaming/contracts/codegen.py): names, enums by name,
    64-bit integers as JSON integers, every field present."""
    data = json_format.MessageToDict(
        msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    for key in ("event_time_unix_ns", "producer_time_unix_ns", "sequence"):
        data[key] = int(data[key])
    return data


class JsonBlockEncoder:
    """Encodes blocks as Confluent-framed JSON (JSON Schema subject)."""

    def __init__(self, schema_id: int):
        self.schema_id = schema_id

    def encode(self, block: EventBlock) -> list[bytes]:
        return [
            frame(
                self.schema_id, json.dumps(message_to_json(m), separators=(",", ":")).encode(), protobuf=False
            )
            for m in messages(block)
        ]
