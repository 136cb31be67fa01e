"""The silver table's columns, derived from the Protobuf contract: one source of truth for parse and DDL.

Every event lands in one table, `silver.telemetry_enriched`, its payload in the struct column named after
its type; each event type's view, `silver.<event_type>`, flattens that struct to columns. This module
says, per payload field: its Spark type as parsed from the JSON encoding (wide integers, so that an
impossible value is caught by a range rule instead of turning into a silent null), its type in the table,
whether it is required, and for enums the prefix that silver strips (`TIRE_COMPOUND_SOFT` is stored as
`SOFT`). `render_event_tables_ddl()` writes `sql/020_silver_events.sql` (the table and the views); a test
fails when the file drifts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.generated import telemetry_pb2
from streaming.settings import PROJECT_ROOT

EVENTS_DDL_PATH = PROJECT_ROOT / "sql" / "020_silver_events.sql"
BRONZE_DDL_PATH = PROJECT_ROOT / "sql" / "010_bronze.sql"

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


def parse_schema(event_type: str, envelope: Descriptor | None = None) -> str:
    """DDL schema string of the payload object as decoded: from_json of the JSON encoding, and the
    Protobuf decoder (f1_protobuf_decode) alike."""
    return ", ".join(f"`{f.name}` {f.parse_type}" for f in payload_fields(event_type, envelope))


def _struct_type(event_type: str, envelope: Descriptor | None, types: str) -> str:
    """STRUCT<...> of the payload's fields, each with its `types` attribute (parse_type or table_type)."""
    fields = ", ".join(f"{f.name}: {getattr(f, types)}" for f in payload_fields(event_type, envelope))
    return f"STRUCT<{fields}>"


def decoded_struct_type(event_type: str, envelope: Descriptor | None = None) -> str:
    """The Spark SQL type of event_type's payload as decoded (bronze keeps it so): wide integers."""
    return _struct_type(event_type, envelope, "parse_type")


def decoded_envelope(envelope: Descriptor | None = None) -> list[tuple[str, str]]:
    """(name, Spark type) of the envelope's scalar fields as decoded, in declaration order: the order
    f1_protobuf_decode (jvm/udf ProtobufDecode) writes them in. Wider than the tables' columns
    (car_number uint32 as BIGINT, sequence uint64 as DECIMAL(20,0)), so that a value at the type's
    limit is read and rejected as out of range instead of breaking the parse."""
    envelope = envelope or telemetry_pb2.TelemetryEvent.DESCRIPTOR
    return [(f.name, _PARSE_TYPES[f.type]) for f in envelope.fields if f.message_type is None]


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
    ("session_date", "DATE", False, "the session's date (UTC), a clustering column"),
)


def table_columns(event_type: str, envelope: Descriptor | None = None) -> list[tuple[str, str, bool, str]]:
    """(name, type, nullable, comment) of every column of the view silver.<event_type>, in order."""
    payload = [(f.name, f.table_type, not f.required, f.doc) for f in payload_fields(event_type, envelope)]
    return [*ENVELOPE_COLUMNS, *payload, *CONTEXT_COLUMNS, *LINEAGE_COLUMNS]


# The one silver table. Every event type's rows land in it, each with its payload in the struct column
# named after its type (the others null), so that a micro-batch makes one silver commit, not six.
SILVER_TABLE = "silver.telemetry_enriched"
EVENT_TYPE_COLUMN = (
    "event_type",
    "STRING",
    False,
    "which payload column holds the event: position, dynamics, ...",
)


def payload_struct_type(event_type: str, envelope: Descriptor | None = None) -> str:
    """The Spark SQL type of event_type's payload column in the silver table: its fields as in the view."""
    return _struct_type(event_type, envelope, "table_type")


def silver_table_columns(envelope: Descriptor | None = None) -> list[tuple[str, str, bool, str]]:
    """(name, type, nullable, comment) of every column of the silver table, in order."""
    payloads = [
        (t, payload_struct_type(t, envelope), True, f"the payload when event_type = {t} (null otherwise)")
        for t in EVENT_TYPES
    ]
    return [*ENVELOPE_COLUMNS, EVENT_TYPE_COLUMN, *payloads, *CONTEXT_COLUMNS, *LINEAGE_COLUMNS]


def view_select(event_type: str, envelope: Descriptor | None = None) -> list[str]:
    """The view's select list over the silver table: its columns in table_columns' order."""
    payload = {f.name for f in payload_fields(event_type, envelope)}
    return [
        f"`{event_type}`.{name} AS {name}" if name in payload else name
        for name, *_ in table_columns(event_type, envelope)
    ]


def from_view_select(event_type: str) -> list[str]:
    """The select list that turns rows shaped like the view silver.<event_type> into rows of the silver
    table (an earlier release's per-type table moving in, or a test's made-up rows)."""
    payload = ", ".join(f"'{f.name}', {f.name}" for f in payload_fields(event_type))
    select = []
    for column, type_, *_ in silver_table_columns():
        if column == EVENT_TYPE_COLUMN[0]:
            select.append(f"'{event_type}' AS {column}")
        elif column == event_type:
            select.append(f"CAST(named_struct({payload}) AS {type_}) AS `{column}`")
        elif column in EVENT_TYPES:
            select.append(f"CAST(NULL AS {type_}) AS `{column}`")
        else:
            select.append(column)
    return select


def _column_line(name: str, type_: str, nullable: bool, comment: str) -> str:
    line = f"  {name} {type_}{'' if nullable else ' NOT NULL'}"
    if comment:
        line += " COMMENT '" + comment.replace("'", "''") + "'"
    return line


def _silver_table_ddl(envelope: Descriptor | None) -> str:
    body = ",\n".join(_column_line(*column) for column in silver_table_columns(envelope))
    name = SILVER_TABLE.split(".")[1]
    return (
        f"CREATE TABLE IF NOT EXISTS {SILVER_TABLE} (\n{body}\n)\nUSING delta\n"
        # One table, not one per event type: a micro-batch makes one silver commit (six tables made six,
        # eight with bronze and the quarantine, and the commits were most of a batch's time).
        # Liquid clustering, not partitions: a micro-batch writes one file (partitions by car made ~50 a
        # table); OPTIMIZE clusters the files by date and car incrementally, so that a one-car query reads
        # a few of them.
        "CLUSTER BY (session_date, car_number)\n"
        f"LOCATION '${{DELTA_STORAGE_PATH}}/silver/{name}'\n"
        "TBLPROPERTIES (\n"
        "  'delta.appendOnly' = 'true',\n"
        # one file a batch already (the lake query writes the table from one task): no shuffle
        "  'delta.autoOptimize.optimizeWrite' = 'false',\n"
        # a Delta checkpoint rebuilds the table's state in the committing batch: every 10th commit by
        # default (measured: an interval of 50 halves an append's time)
        "  'delta.checkpointInterval' = '50',\n"
        # the clustering columns (stats are required on them); session_id and event_time: the lake query
        # looks repeats up by them; event_type: the views; validated_at: the quality checks and gold's
        # incremental models read the newest rows by it. Nothing else: every column with stats costs each
        # commit a pass over its values.
        "  'delta.dataSkippingStatsColumns' = "
        "'session_date,car_number,session_id,event_time,event_type,validated_at'\n"
        ");\n"
    )


def _view_ddl(event_type: str, envelope: Descriptor | None) -> str:
    select = ",\n  ".join(view_select(event_type, envelope))
    return (
        f"CREATE OR REPLACE VIEW silver.{event_type} AS SELECT\n  {select}\n"
        f"FROM {SILVER_TABLE} WHERE event_type = '{event_type}';\n"
    )


def render_event_tables_ddl(envelope: Descriptor | None = None) -> str:
    """The silver table's DDL and one view per event type; `envelope` lets the generator pass a freshly
    compiled contract."""
    header = (
        f"-- {SILVER_TABLE}: validated, deduplicated events with their session context, every event type;\n"
        "-- silver.<event_type>: a view of one type's rows, its payload flattened to columns.\n"
        "-- Generated from proto/ by `f1 contracts generate` (streaming/contracts/tables.py).\n"
        "-- Do not edit: change the contract and regenerate.\n"
        "-- Enum columns hold the value's short name (TIRE_COMPOUND_SOFT is stored as SOFT).\n"
    )
    views = "\n".join(_view_ddl(t, envelope) for t in EVENT_TYPES)
    return header + _silver_table_ddl(envelope) + "\n" + views


def decoded_record_schema(envelope: Descriptor | None = None) -> str:
    """The decoded record, as a DDL field list: the envelope's fields, one struct per payload (null unless
    it is the record's), the decoder's error, and from_json's column for text that is no JSON. The Spark
    function f1_protobuf_decode returns this struct, field for field (both follow the descriptor's
    declaration order), and bronze's from_json reads the JSON topic into it."""
    fields = [f"`{name}` {type_}" for name, type_ in decoded_envelope(envelope)]
    fields += [f"`{t}` {decoded_struct_type(t, envelope)}" for t in EVENT_TYPES]
    return ", ".join([*fields, "`__decode_error` STRING", "`_corrupt_record` STRING"])


# --- bronze ----------------------------------------------------------------------------------------------

BRONZE_TABLE = "bronze.telemetry"
_BRONZE_HEAD = (
    ("kafka_topic", "STRING", False, ""),
    ("kafka_partition", "INT", False, ""),
    ("kafka_offset", "BIGINT", False, ""),
    ("kafka_timestamp", "TIMESTAMP", False, ""),
    ("kafka_key", "STRING", True, ""),
    ("raw_value", "BINARY", True, ""),
    ("encoding", "STRING", False, "protobuf or json, from the topic"),
    ("schema_id", "INT", True, "from the Confluent wire-format header"),
    (
        "decode_error",
        "STRING",
        True,
        "why the record cannot be read as its contract says (null: it can); see decode_reason",
    ),
    ("event_id", "STRING", True, ""),
    ("session_id", "STRING", True, ""),
    ("car_number", "INT", True, ""),
    ("event_type", "STRING", False, "position, dynamics, ... or undecodable"),
    ("event_time", "TIMESTAMP", True, ""),
    ("event_time_unix_ns", "BIGINT", True, ""),
    ("producer_time_unix_ns", "BIGINT", True, ""),
    ("sequence", "BIGINT", True, ""),
)
_BRONZE_TAIL = (
    ("ingested_at", "TIMESTAMP", False, ""),
    ("session_date", "DATE", False, "UTC date of the event (of the Kafka timestamp when undecodable)"),
    (
        "decode_reason",
        "STRING",
        True,
        "reason code of decode_error (streaming/jobs/validation.py REASONS): undecodable, schema_violation, "
        "event_type_mismatch, out_of_range, batch_failed",
    ),
)


def bronze_table_columns(envelope: Descriptor | None = None) -> list[tuple[str, str, bool, str]]:
    """(name, type, nullable, comment) of every column of bronze.telemetry, in order: the record's
    coordinates and bytes, its envelope, each payload as decoded (the struct named after its type), and
    what bronze said of it."""
    payloads = [
        (t, decoded_struct_type(t, envelope), True, f"the payload as sent when event_type = {t}")
        for t in EVENT_TYPES
    ]
    return [*_BRONZE_HEAD, *payloads, *_BRONZE_TAIL]


def render_bronze_ddl(envelope: Descriptor | None = None) -> str:
    """bronze.telemetry's DDL (sql/010_bronze.sql)."""
    body = ",\n".join(_column_line(*column) for column in bronze_table_columns(envelope))
    return (
        f"-- {BRONZE_TABLE}: every record of the raw topics, both encodings, as it came from Kafka.\n"
        "-- Undecodable records land too, with decode_error set (and a copy goes to the DLQ topic).\n"
        "-- Generated from proto/ by `f1 contracts generate` (streaming/contracts/tables.py).\n"
        "-- Do not edit: change the contract and regenerate.\n"
        f"CREATE TABLE IF NOT EXISTS {BRONZE_TABLE} (\n{body}\n)\nUSING delta\n"
        "-- Liquid clustering, not partitions: a micro-batch lands one file (partitions by date and event\n"
        "-- type made seven), and OPTIMIZE clusters the files by date and event type for readers.\n"
        "CLUSTER BY (session_date, event_type)\n"
        "LOCATION '${DELTA_STORAGE_PATH}/bronze/telemetry'\n"
        "TBLPROPERTIES (\n"
        "  'delta.appendOnly' = 'true',\n"
        "  'delta.autoOptimize.optimizeWrite' = 'false',\n"
        "  -- stats on what readers filter by (clustering columns must have them), not on bytes or payloads\n"
        "  'delta.dataSkippingStatsColumns' = "
        "'session_date,event_type,kafka_topic,session_id,event_time,ingested_at',\n"
        "  -- a checkpoint rebuilds the table's state inside the committing micro-batch: every 50th commit\n"
        "  'delta.checkpointInterval' = '50',\n"
        "  'delta.enableChangeDataFeed' = 'false'\n"
        ");\n"
    )
