"""Test helper: a database of its own with bronze, silver and quarantine tables of good and bad rows.

Made from the real DDL in sql/ (renamed into the database). Their rows of a minute ago are valid; three
hours earlier, outside the default check window, each table has one kind of fault, which a check of that
older window finds. Null keys need a table without the NOT NULL constraints (Delta enforces them), and a
drifted schema a table of its own: those two are written from DataFrames. The quality suites' tests and
the Dagster asset checks' tests share it (a session fixture in conftest.py).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from pyspark.sql import types as T

from expectations import bronze, silver
from streaming.clients.catalog import SQL_DIR, render_sql
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import SILVER_TABLE, from_view_select

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
RECENT = NOW - dt.timedelta(minutes=1)  # inside the default 15-minute window
OLD = NOW - dt.timedelta(hours=3)  # outside it
AT_OLD = OLD + dt.timedelta(minutes=1)  # `now` of a check whose window holds the old rows
_DEFAULTS = {
    T.StringType: "x",
    T.IntegerType: 1,  # 1 lies inside every range of validation.RANGES
    T.LongType: 1,
    T.DoubleType: 1.0,
    T.BooleanType: False,
    T.BinaryType: b"\x00",
    T.TimestampType: RECENT,
    T.DateType: RECENT.date(),
}


def make_rows(schema: T.StructType, n: int, *, at: dt.datetime = RECENT, offset: int = 0, **values) -> list:
    """n rows of `schema`: defaults by type, unique event ids and offsets, lineage times `at`.

    A value may be a function of the row's number.
    """
    rows = []
    for i in range(n):
        # nullable columns (decode_error, optional payload fields) stay null unless given
        row = {f.name: None if f.nullable else _DEFAULTS[type(f.dataType)] for f in schema}
        for column in ("ingested_at", "validated_at", "quarantined_at", "event_time", "kafka_timestamp"):
            if column in row:
                row[column] = at
        row.update(event_id=str(uuid.uuid4()), kafka_offset=offset + i)
        row.update({k: v(i) if callable(v) else v for k, v in values.items()})
        rows.append(tuple(row[f.name] for f in schema))
    return rows


class Database:
    def __init__(self, spark, root, name: str):
        self.spark, self.name, self.root = spark, name, f"{root}/{name}"
        spark.sql(f"CREATE DATABASE {name} LOCATION '{self.root}'")

    def create_from_ddl(self, *tables: str) -> None:
        """Create bronze.telemetry, silver.<t>, ... from sql/ as <this database>.<t>; a silver view with
        the silver table it reads."""
        settings = SimpleNamespace(delta_storage_path=f"{self.root}/ddl")
        wanted = set(tables) | (
            {SILVER_TABLE} if any(t.split(".")[1] in EVENT_TYPES for t in tables) else set()
        )
        statements, views = [], []
        for path in sorted(SQL_DIR.glob("*.sql")):
            for statement in render_sql(settings, path.read_text()):
                match = re.match(r"CREATE (?:TABLE IF NOT EXISTS|OR REPLACE VIEW) (\w+\.(\w+))", statement)
                if match and match.group(1) in wanted:
                    renamed = statement.replace(match.group(1), f"{self.name}.{match.group(2)}", 1)
                    renamed = renamed.replace(
                        f"FROM {SILVER_TABLE}", f"FROM {self.name}.{SILVER_TABLE.split('.')[1]}"
                    )
                    (views if "VIEW" in statement.split("(")[0] else statements).append(renamed)
        parallel(self.spark.sql, statements)
        parallel(self.spark.sql, views)

    def append(self, table: str, rows: list, schema: T.StructType | None = None) -> None:
        schema = schema or self.schema(table)
        frame = self.spark.createDataFrame(rows, schema=schema)
        if table in EVENT_TYPES:  # a view's rows go to the silver table under it
            frame, table = frame.selectExpr(*from_view_select(table)), SILVER_TABLE.split(".")[1]
        frame.write.format("delta").mode("append").saveAsTable(f"{self.name}.{table}")

    def schema(self, table: str) -> T.StructType:
        return self.spark.table(f"{self.name}.{table}").schema


def parallel(function, items) -> None:
    """A Delta commit is mostly waiting (metastore, log files): a few at a time make the setup quicker."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(function, items))


def build_quality_database(spark, root) -> str:
    """Create the database and its tables under `root`; its name. Drop it with DROP DATABASE ... CASCADE."""
    db = Database(spark, root, f"gx_{uuid.uuid4().hex[:8]}")
    db.create_from_ddl(bronze.TABLE, silver.QUARANTINE_TABLE, *(silver.table_name(t) for t in EVENT_TYPES))
    schema = {t: db.schema(t) for t in ("telemetry", "quarantine", *EVENT_TYPES)}

    # Recent and valid: 1 of 200 bronze records undecodable, 2 of 302 silver records quarantined.
    # Three hours ago: 10 of 100 bronze records undecodable; 10 of 50 quarantined; out-of-range values in
    # dynamics, duplicate event ids in tire.
    rows = {t: make_rows(schema[t], 50) for t in EVENT_TYPES}
    rows["telemetry"] = (
        make_rows(schema["telemetry"], 199, event_type="position")
        + make_rows(
            schema["telemetry"], 1, offset=199, event_type="undecodable", decode_error="malformed JSON"
        )
        + make_rows(schema["telemetry"], 90, at=OLD, offset=1000, event_type="dynamics")
        + make_rows(
            schema["telemetry"],
            10,
            at=OLD,
            offset=1090,
            event_type="undecodable",
            decode_error="malformed JSON",
        )
    )
    rows["dynamics"] += make_rows(
        schema["dynamics"],
        20,
        at=OLD,
        offset=1000,
        speed_kmh=lambda i: 1500.0 if i < 2 else 250.0,
        gear=lambda i: 12 if i == 5 else 3,
    )
    rows["tire"] += make_rows(
        schema["tire"], 20, at=OLD, offset=1000, event_id=lambda i: "dup-1" if i < 3 else str(uuid.uuid4())
    )
    rows["quarantine"] = make_rows(schema["quarantine"], 2, reason="out_of_range") + make_rows(
        schema["quarantine"], 10, at=OLD, offset=1000, reason="late", reason_detail="behind the watermark"
    )
    writes = [(table, table_rows, None) for table, table_rows in rows.items()]

    # tables the DDL would not let exist: null keys, and a bronze table whose schema drifted
    nullable = T.StructType([T.StructField(f.name, f.dataType, True) for f in schema["position"]])
    no_ids = {0: None, 1: None}
    null_keys = make_rows(schema["position"], 20, event_id=lambda i: no_ids.get(i, str(uuid.uuid4())))
    null_keys += make_rows(schema["position"], 1, offset=20, session_id=None)
    drift = [f for f in schema["telemetry"] if f.name != "schema_id"]
    drift = [T.StructField(f.name, T.LongType()) if f.name == "kafka_partition" else f for f in drift]
    drift_schema = T.StructType([*drift, T.StructField("extra", T.StringType())])
    writes += [
        ("position_null_keys", null_keys, nullable),
        ("telemetry_drift", make_rows(drift_schema, 3), drift_schema),
    ]
    parallel(lambda write: db.append(*write), writes)
    return db.name
