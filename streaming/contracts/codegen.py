"""Generate everything derived from the Protobuf contracts in proto/: one source of truth.

* Python classes (`streaming/contracts/generated/*_pb2.py`), by protoc from grpcio-tools.
* the descriptor set (`jvm/udf/.../contracts.desc`) that the Spark function f1_protobuf_decode reads;
* the DDL of the bronze table (`sql/010_bronze.sql`, streaming/contracts/tables.py);
* the DDL of the silver event tables (`sql/020_silver_events.sql`, streaming/contracts/tables.py);
* JSON Schemas, draft 2020-12 (`schemas/<full message name>.json`), for the JSON encoding of the same
  events: snake_case field names, enums by name, 64-bit integers as JSON integers, the oneof payload as
  one nested object. Fields without explicit presence are required; proto3 `optional` fields and oneof
  members are not. Comments in the .proto become descriptions.

`f1 contracts generate` rewrites the files; `f1 contracts generate --check` fails when the committed ones
differ from what the generator makes (a test runs it too).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2

from streaming.contracts import PROTO_DIR, SCHEMAS_DIR
from streaming.settings import PROJECT_ROOT

# Dependencies before the files that import them: the descriptor set lists files in this order, and the JVM
# functions build each file's descriptor from those before it.
PROTO_FILES = (
    "f1/telemetry/v1/telemetry.proto",
    "f1/telemetry/v1/session.proto",
    "f1/telemetry/v1/enriched.proto",
)
GENERATED_DIR = Path(__file__).parent / "generated"
# The descriptor set our Spark functions (jvm/udf) decode Protobuf records with.
DESCRIPTOR_SET = (
    PROJECT_ROOT / "jvm" / "udf" / "src" / "main" / "resources" / "f1" / "telemetry" / "v1" / "contracts.desc"
)
# dbt's macro event_types(): the event types, for the models that go over every one of them.
DBT_EVENT_TYPES = PROJECT_ROOT / "dbt" / "macros" / "event_types.sql"
# The top-level messages that travel on topics, one JSON Schema each.
ROOT_MESSAGES = ("f1.telemetry.v1.TelemetryEvent", "f1.telemetry.v1.SessionInfo")

FDP = descriptor_pb2.FieldDescriptorProto
_INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
_INT64 = {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
_UINT64 = {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}
_SCALARS = {
    FDP.TYPE_DOUBLE: {"type": "number"},
    FDP.TYPE_FLOAT: {"type": "number"},
    FDP.TYPE_INT32: _INT32,
    FDP.TYPE_SINT32: _INT32,
    FDP.TYPE_SFIXED32: _INT32,
    FDP.TYPE_UINT32: _UINT32,
    FDP.TYPE_FIXED32: _UINT32,
    FDP.TYPE_INT64: _INT64,
    FDP.TYPE_SINT64: _INT64,
    FDP.TYPE_SFIXED64: _INT64,
    FDP.TYPE_UINT64: _UINT64,
    FDP.TYPE_FIXED64: _UINT64,
    FDP.TYPE_BOOL: {"type": "boolean"},
    FDP.TYPE_STRING: {"type": "string"},
    FDP.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}


def _protoc(args: list[str]) -> None:
    from grpc_tools import protoc  # dev dependency: only generation needs it

    include = str(Path(protoc.__file__).parent / "_proto")
    code = protoc.main(["protoc", f"-I{PROTO_DIR}", f"-I{include}", *args, *PROTO_FILES])
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code}")


def descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """The contracts' descriptors, with comments (source info)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "contracts.desc"
        _protoc([f"--descriptor_set_out={out}", "--include_source_info"])
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _comments(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    result = {}
    for location in file.source_code_info.location:
        text = (location.leading_comments or location.trailing_comments).strip()
        if text:
            result[tuple(location.path)] = " ".join(line.strip() for line in text.splitlines())
    return result


class _SchemaBuilder:
    """Turns message descriptors into JSON Schema definitions."""

    def __init__(self, files: list[descriptor_pb2.FileDescriptorProto]):
        self.messages, self.enums, self.docs = {}, {}, {}
        for file in files:
            comments = _comments(file)
            # Paths per descriptor.proto: 4 = message_type, 5 = enum_type, 2 = field.
            for i, message in enumerate(file.message_type):
                name = f"{file.package}.{message.name}"
                self.messages[name] = message
                self.docs[name] = comments.get((4, i), "")
                for j, field in enumerate(message.field):
                    self.docs[f"{name}.{field.name}"] = comments.get((4, i, 2, j), "")
            for i, enum in enumerate(file.enum_type):
                name = f"{file.package}.{enum.name}"
                self.enums[name] = enum
                self.docs[name] = comments.get((5, i), "")

    def schema(self, root: str) -> dict:
        defs: dict[str, dict] = {}
        body = self._message(root, defs)
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": root, **body}
        if defs:
            schema["$defs"] = dict(sorted(defs.items()))
        return schema

    def _message(self, name: str, defs: dict) -> dict:
        message = self.messages[name]
        properties, required, oneofs = {}, [], {}
        for field in message.field:
            spec = self._field(field, defs)
            doc = self.docs.get(f"{name}.{field.name}")
            properties[field.name] = {**spec, "description": doc} if doc else spec
            if field.HasField("oneof_index") and not field.proto3_optional:
                oneofs.setdefault(field.oneof_index, []).append(field.name)
            elif not field.proto3_optional:
                required.append(field.name)
        schema: dict = {"type": "object"}
        if self.docs.get(name):
            schema["description"] = self.docs[name]
        schema |= {"properties": properties, "required": required, "additionalProperties": False}
        for members in oneofs.values():
            schema.setdefault("allOf", []).append({"oneOf": [{"required": [m]} for m in members]})
        return schema

    def _field(self, field: descriptor_pb2.FieldDescriptorProto, defs: dict) -> dict:
        if field.type == FDP.TYPE_MESSAGE:
            ref = field.type_name.lstrip(".")
            if ref not in defs:
                defs[ref] = {}  # placeholder first: guards against recursion
                defs[ref] = self._message(ref, defs)
            item = {"$ref": f"#/$defs/{ref}"}
        elif field.type == FDP.TYPE_ENUM:
            ref = field.type_name.lstrip(".")
            enum = self.enums[ref]
            defs[ref] = {"type": "string", "enum": [value.name for value in enum.value]}
            if self.docs.get(ref):
                defs[ref]["description"] = self.docs[ref]
            item = {"$ref": f"#/$defs/{ref}"}
        else:
            item = dict(_SCALARS[field.type])
        if field.label == FDP.LABEL_REPEATED:
            return {"type": "array", "items": item}
        return item


def json_schemas(files: list[descriptor_pb2.FileDescriptorProto]) -> dict[str, str]:
    """{file name: JSON text} for every root message."""
    builder = _SchemaBuilder(files)
    return {f"{root}.json": json.dumps(builder.schema(root), indent=2) + "\n" for root in ROOT_MESSAGES}


# protoc imports a module of another .proto by its proto path (f1/telemetry/v1/x.proto -> f1.telemetry.v1);
# the generated modules live side by side in one package instead.
_PROTO_PACKAGE_IMPORT = b"from f1.telemetry.v1 import "
_FLAT_IMPORT = b"from streaming.contracts.generated import "


def _flat_imports(source: bytes) -> bytes:
    return source.replace(_PROTO_PACKAGE_IMPORT, _FLAT_IMPORT)


def outputs() -> dict[Path, bytes]:
    """Every generated file (path under the project root) and its content."""
    files: dict[Path, bytes] = {}
    generated = GENERATED_DIR.relative_to(PROJECT_ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        _protoc([f"--python_out={tmp}", f"--pyi_out={tmp}"])
        for source in sorted(Path(tmp).rglob("*_pb2.py*")):
            files[generated / source.name] = _flat_imports(source.read_bytes())
        desc = Path(tmp) / "contracts.desc"
        _protoc([f"--descriptor_set_out={desc}"])
        files[DESCRIPTOR_SET.relative_to(PROJECT_ROOT)] = desc.read_bytes()
    files[generated / "__init__.py"] = (
        b'"""Generated by `f1 contracts generate` from proto/. Do not edit."""\n'
    )
    from streaming.contracts.tables import (
        BRONZE_DDL_PATH,
        EVENTS_DDL_PATH,
        render_bronze_ddl,
        render_event_tables_ddl,
    )

    schemas = SCHEMAS_DIR.relative_to(PROJECT_ROOT)
    fresh = descriptor_set()
    for name, text in json_schemas(list(fresh.file)).items():
        files[schemas / name] = text.encode()
    files[EVENTS_DDL_PATH.relative_to(PROJECT_ROOT)] = render_event_tables_ddl(_envelope(fresh)).encode()
    files[BRONZE_DDL_PATH.relative_to(PROJECT_ROOT)] = render_bronze_ddl(_envelope(fresh)).encode()
    files[DBT_EVENT_TYPES.relative_to(PROJECT_ROOT)] = render_dbt_event_types(_envelope(fresh)).encode()
    return files


def render_dbt_event_types(envelope) -> str:
    """dbt's copy of the one list of event types (streaming/contracts/event_types.py), as a macro."""
    names = [f.name for f in sorted(envelope.oneofs_by_name["payload"].fields, key=lambda f: f.number)]
    return (
        "{#- Generated by `f1 contracts generate` from the TelemetryEvent payload oneof"
        " (streaming/contracts/event_types.py). Do not edit. -#}\n"
        "{% macro event_types() -%}\n"
        f"    {{{{ return({names!r}) }}}}\n"
        "{%- endmacro %}\n"
    )


def _envelope(files: descriptor_pb2.FileDescriptorSet):
    """TelemetryEvent's descriptor compiled from the working tree's .proto files (not the old module)."""
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return pool.FindMessageTypeByName("f1.telemetry.v1.TelemetryEvent")


def generate() -> list[Path]:
    """Write the generated files; returns their paths."""
    written = []
    for relative, content in outputs().items():
        target = PROJECT_ROOT / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written


def check() -> list[str]:
    """The committed generated files that differ from a fresh generation (empty when in sync)."""
    return [
        str(relative)
        for relative, content in outputs().items()
        if not (PROJECT_ROOT / relative).is_file() or (PROJECT_ROOT / relative).read_bytes() != content
    ]
