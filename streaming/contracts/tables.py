"""The silver tables' columns, derived from the Protobuf contract: one source of truth for parse and DDL.

Each event type's payload message becomes flat columns of `silver.<event_type>`. This module says, per
payload field: its Spark type as parsed from the JSON encoding (wide integers, so that an impossible value
is caught by a range rule instead of turning into a silent null), its type in the table, whether it is
required, and for enums the prefix that silver strips (`TIRE_COMPOUND_SOFT` is stored as `SOFT`).
`render_event_tables_ddl()` writes `sql/020_silver_events.sql`; a test fails when the file drifts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.generated import telemetry_pb2
from streaming.settings import PROJECT_ROOT

EVENTS_DDL_PATH = PROJECT_ROOT / "sql" / "020_silver_events.sql"

_PARSE_TYPES = {
    FieldDescriptor.TYPE_DOUBLE: "DOUBLE",
    FieldDescriptor.TYPE_FLOAT: "DOUBLE",
    FieldDescriptor.TYPE_INT32: "BIGINT",
    FieldDescriptor.TYPE_SINT32: "BIGINT",
    FieldDescriptor.TYPE_UINT32: "BIGINT",
    FieldDescriptor.TYPE_FIXED32: "BIGINT",
    FieldDescriptor.TYPE_SFIXED32: "BIGINT",
    FieldDescriptor.TYPE_INT64: "BIGINT",
    FieldDescriptor.TYPE_SINT64: "BIGINT",
    FieldDescriptor.TYPE_SFIXED64: "BIGINT",
    FieldDescriptor.TYPE_UINT64: "DECIMAL(20,0)",
    FieldDescriptor.TYPE_FIXED64: "DECIMAL(20,0)",
    FieldDescriptor.TYPE_BOOL: "BOOLEAN",
    FieldDescriptor.TYPE_STRING: "STRING",
    FieldDescriptor.TYPE_ENUM: "STRING",
}
_32_BIT = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_SFIXED32,
}


@dataclass(frozen=True)
class PayloadField:
    name: str
    parse_type: str  # as read from JSON
    table_type: str  # as stored in silver
    required: bool  # proto3 `optional` fields may be absent; every other field must be there
    enum_prefix: str | None  # e.g. "TIRE_COMPOUND_" for enums
    enum_values: tuple[str, ...]  # short names, without the UNSPECIFIED value
    doc: str


def _enum_prefix(enum_name: str) -> str:
    # TireCompound -> TIRE_COMPOUND_ (the contract's naming rule for enum values)
    snake = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(enum_name)).upper()
    return snake + "_"


def _field(field: FieldDescriptor) -> PayloadField:
    parse_type = _PARSE_TYPES[field.type]
    table_type = "INT" if field.type in _32_BIT else parse_type
    prefix, values = None, ()
    if field.type == FieldDescriptor.TYPE_ENUM:
        prefix = _enum_prefix(field.enum_type.name)
        values = tuple(
            v.name.removeprefix(prefix) for v in field.enum_type.values if not v.name.endswith("_UNSPECIFIED")
        )
    return PayloadField(
        name=field.name,
        parse_type=parse_type,
        table_type=table_type,
        required=not field.has_presence,
        enum_prefix=prefix,
        enum_values=values,
        doc="",
    )


@cache
def payload_fields(event_type: str, envelope: Descriptor | None = None) -> tuple[PayloadField, ...]:
    """The payload fields of an event type, from `envelope` (default: the generated TelemetryEvent)."""
    envelope = envelope or telemetry_pb2.TelemetryEvent.DESCRIPTOR
    return tuple(_field(f) for f in envelope.fields_by_name[event_type].message_type.fields)


def parse_schema(event_type: str) -> str:
    """DDL schema string for from_json of the payload object."""
    return ", ".join(f"`{f.name}` {f.parse_type}" for f in payload_fields(event_type))


# Columns every silver event table starts with (name, type, nullable, comment); payload columns follow,
# then the session context and lineage.
ENVELOPE_COLUMNS = (
    ("event_id", "STRING", False, "UUID of the event, unique in the table"),
    ("session_id", "STRING", False, "key of silver.sessions"),
    ("car_number", "INT", False, ""),
    ("event_time", "TIMESTAMP", False, "when the car measured it (UTC, microseconds)"),
    ("event_time_unix_ns", "BIGINT", False, "the same, in nanoseconds as sent"),
    ("producer_time_unix_ns", "BIGINT", True, ""),
    ("sequence", "BIGINT", False, "per car, +1 per event"),
)
CONTEXT_COLUMNS = (
    ("circuit", "STRING", True, "from the session metadata"),
    ("session_type", "STRING", True, "RACE, QUALIFYING, ..."),
    ("driver_code", "STRING", True, "three letters, from the entry list"),
    ("driver_name", "STRING", True, ""),
    ("team", "STRING", True, ""),
)
LINEAGE_COLUMNS = (
    ("encoding", "STRING", False, "protobuf or json"),
    ("kafka_topic", "STRING", False, ""),
    ("kafka_partition", "INT", False, ""),
    ("kafka_offset", "BIGINT", False, ""),
    ("ingested_at", "TIMESTAMP", False, "when bronze landed it"),
    ("validated_at", "TIMESTAMP", False, "when silver accepted it"),
    ("session_date", "DATE", False, "the session's date (UTC), a partition column"),
)


def table_columns(event_type: str, envelope: Descriptor | None = None) -> list[tuple[str, str, bool, str]]:
    """(name, type, nullable, comment) of every column of silver.<event_type>, in order."""
    payload = [(f.name, f.table_type, not f.required, f.doc) for f in payload_fields(event_type, envelope)]
    return [*ENVELOPE_COLUMNS, *payload, *CONTEXT_COLUMNS, *LINEAGE_COLUMNS]


def _table_ddl(event_type: str, envelope: Descriptor | None) -> str:
    lines = []
    for name, type_, nullable, comment in table_columns(event_type, envelope):
        line = f"  {name} {type_}{'' if nullable else ' NOT NULL'}"
        if comment:
            line += " COMMENT '" + comment.replace("'", "''") + "'"
        lines.append(line)
    body = ",\n".join(lines)
    return (
        f"CREATE TABLE IF NOT EXISTS silver.{event_type} (\n{body}\n)\nUSING delta\n"
        # Liquid clustering, not partitions: a micro-batch writes one file per table (partitions by car
        # made ~50 a table, ~350 a batch, and most of a batch's commit time); OPTIMIZE clusters the files
        # by date and car incrementally, so a one-car query still skips the other cars' files.
        "CLUSTER BY (session_date, car_number)\n"
        f"LOCATION '${{DELTA_STORAGE_PATH}}/silver/{event_type}'\n"
        "TBLPROPERTIES (\n"
        "  'delta.appendOnly' = 'true',\n"
        # one file a batch already (the lake query writes each table from one task): no shuffle per table
        "  'delta.autoOptimize.optimizeWrite' = 'false',\n"
        # a Delta checkpoint rebuilds the table's state in the committing batch: every 10th commit by
        # default, i.e. most silver batches checkpoint one of their tables (measured: 50 halves an append)
        "  'delta.checkpointInterval' = '50',\n"
        # the clustering columns (stats are required on them); session_id and event_time: the lake query
        # looks repeats up by them; validated_at: the quality checks and gold's incremental models read
        # the newest rows by it
        "  'delta.dataSkippingStatsColumns' = "
        "'session_date,car_number,session_id,event_time,sequence,validated_at'\n"
        ");\n"
    )


def render_event_tables_ddl(envelope: Descriptor | None = None) -> str:
    """The DDL of the six event tables; `envelope` lets the generator pass a freshly compiled contract."""
    header = (
        "-- silver.<event_type>: validated, deduplicated, flattened events with their session context.\n"
        "-- Generated from proto/ by `f1 contracts generate` (streaming/contracts/tables.py).\n"
        "-- Do not edit: change the contract and regenerate.\n"
        "-- Enum columns hold the value's short name (TIRE_COMPOUND_SOFT is stored as SOFT).\n"
    )
    return header + "\n".join(_table_ddl(t, envelope) for t in EVENT_TYPES)
