"""The one list of event types: the cases of the TelemetryEvent payload oneof, in field-number order.

Everything that goes per event type takes it from here: bronze's payload columns, the silver tables, the
simulator, the Dagster assets and, through the macro `f1 contracts generate` writes
(dbt/macros/event_types.sql), dbt. A new case in telemetry.proto is a new event type everywhere.
"""

from __future__ import annotations

from streaming.contracts.generated import telemetry_pb2

_PAYLOAD = telemetry_pb2.TelemetryEvent.DESCRIPTOR.oneofs_by_name["payload"]

EVENT_TYPES: tuple[str, ...] = tuple(f.name for f in sorted(_PAYLOAD.fields, key=lambda f: f.number))
# The EventType enum's value of each type (EVENT_TYPE_POSITION = 1 is "position").
EVENT_TYPE_NAMES: dict[int, str] = {
    telemetry_pb2.EventType.Value(f"EVENT_TYPE_{name.upper()}"): name for name in EVENT_TYPES
}
