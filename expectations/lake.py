"""The bronze and silver tables as the quality checks read them: with delta-rs, without a Spark JVM.

A check run used to start a Spark driver of its own every few minutes beside the streams (a JVM, hundreds of
MB and minutes of CPU on two cores): the rows of a check window are few, and delta-rs reads them from the
table's log and Parquet files in-process. Only reads: delta-rs must never write a table Spark writes (on a
local disk Spark commits by check-then-rename, which can overwrite a commit of another writer).

A silver event view (`silver.position`, ...) is no Delta table: it is the rows of one event type in the one
silver table, with its payload struct's fields as columns (streaming/contracts/tables.py `view_select`).
`Lake` reads a view the same way, from that table.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import SILVER_TABLE, view_select
from streaming.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from deltalake import DeltaTable

# `position`.x_m AS x_m: a payload field of the view; a plain name: a column of the silver table
_PAYLOAD_FIELD = re.compile(r"^`(\w+)`\.(\w+) AS (\w+)$")


def as_pandas(rows: pa.Table) -> pd.DataFrame:
    """`rows` in pandas' nullable dtypes for strings, integers, floats and booleans: a null stays NA (a
    float's NaN stays NaN, judged by a range as Spark judges it, not skipped as missing), an integer
    column with nulls stays integers, and strings stay in Arrow's buffers, not one Python object per
    value (a window of bronze at the nominal rate holds millions)."""
    import pandas as pd
    import pyarrow as pa

    nullable = {
        pa.string(): pd.StringDtype("pyarrow"),
        pa.large_string(): pd.StringDtype("pyarrow"),
        pa.bool_(): pd.BooleanDtype(),
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.float32(): pd.Float32Dtype(),
        pa.float64(): pd.Float64Dtype(),
    }
    return rows.to_pandas(types_mapper=nullable.get)


@dataclass(frozen=True)
class Lake:
    """Where the tables are (`root`: DELTA_STORAGE_PATH, a table at root/database/name, as sql/ creates it)
    and how to reach them. `locations` names tables kept elsewhere ({"db.name": location})."""

    root: str
    storage_options: Mapping[str, str] = field(default_factory=dict)
    locations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, settings) -> Lake:
        """The platform's tables, with the S3_* settings when DELTA_STORAGE_PATH is s3a://."""
        options: dict[str, str] = {}
        if settings.delta_storage_path.startswith("s3a://"):
            if settings.s3_endpoint_url:
                options["AWS_ENDPOINT_URL"] = settings.s3_endpoint_url
                options["AWS_ALLOW_HTTP"] = str(settings.s3_endpoint_url.startswith("http:")).lower()
            options["AWS_REGION"] = settings.s3_region or ("us-east-1" if settings.s3_endpoint_url else "")
            if settings.s3_access_key_id:
                options["AWS_ACCESS_KEY_ID"] = settings.s3_access_key_id
                options["AWS_SECRET_ACCESS_KEY"] = settings.s3_secret_access_key
            if settings.s3_path_style_access:
                options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "false"
            options = {k: v for k, v in options.items() if v}
        return cls(settings.delta_storage_path, options)

    def location(self, table: str) -> str:
        if table in self.locations:
            return self.locations[table]
        database, name = table.split(".")
        root = re.sub(r"^s3a://", "s3://", self.root.rstrip("/"))
        return f"{root}/{database}/{name}"

    def delta_table(self, table: str) -> DeltaTable:
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        location = self.location(table)
        try:
            return DeltaTable(location, storage_options=dict(self.storage_options) or None)
        except TableNotFoundError:
            raise ConfigError(
                [f"{table}: no Delta table at {location}: create the tables with `make init` (`f1 init`)"]
            ) from None

    @staticmethod
    def view_of(table: str) -> str | None:
        """The event type whose silver view `table` is (silver.position -> position), or None."""
        name = table.split(".")[1]
        return name if name in EVENT_TYPES else None

    def _stored(self, table: str) -> str:
        """The Delta table holding `table`'s rows: itself, or the silver table of its database under a view
        (silver.position -> silver.telemetry_enriched)."""
        database = table.split(".")[0]
        return f"{database}.{SILVER_TABLE.split('.')[1]}" if self.view_of(table) else table

    def schema(self, table: str) -> list[tuple[str, object]]:
        """(column, pyspark DataType) of `table` in order, from its Delta log's schema (pure Python: pyspark's
        types parse Spark's schema JSON, which Delta keeps). A view's columns are those its select makes."""
        from pyspark.sql.types import StructType

        stored = self.delta_table(self._stored(table))
        struct = StructType.fromJson(json.loads(stored.schema().to_json()))
        types = {f.name: f.dataType for f in struct.fields}
        event_type = self.view_of(table)
        if event_type is None:
            return list(types.items())
        columns = []
        for item in view_select(event_type):
            payload = _PAYLOAD_FIELD.match(item)
            if payload is None:
                columns.append((item, types[item]))
            else:
                struct_type, name, alias = payload.groups()
                columns.append((alias, types[struct_type][name].dataType))
        return columns

    def read(
        self,
        table: str,
        columns: list[str],
        time_column: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> pa.Table:
        """`columns` of `table`'s rows whose `time_column` lies in [start, end] (every row without a start),
        in Arrow (`as_pandas` for GX). Files whose statistics lie outside the window are not read."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        event_type = self.view_of(table)
        stored = self.delta_table(self._stored(table))
        dataset = stored.to_pyarrow_dataset()
        present = set(dataset.schema.names)
        condition = None
        if event_type is not None:
            condition = ds.field("event_type") == event_type
        if time_column is not None and start is not None:
            unit = dataset.schema.field(time_column).type
            window = (ds.field(time_column) >= pa.scalar(start, unit)) & (
                ds.field(time_column) <= pa.scalar(end or dt.datetime.now(dt.UTC), unit)
            )
            condition = window if condition is None else condition & window
        # a view's payload fields are fields of its struct column; a column neither has is left out (the
        # expectations that read it then fail with GX's error, as they would on Spark)
        payload = {name for name in columns if event_type and name not in present}
        read = [c for c in columns if c in present] + ([event_type] if payload else [])
        frame = dataset.to_table(columns=read, filter=condition)
        if not payload:
            return frame
        struct = frame.column(event_type)
        fields = {f.name for f in struct.type}
        out = {c: frame.column(c) for c in columns if c in present}
        out.update({c: pc.struct_field(struct, c) for c in payload if c in fields})
        return pa.table({c: out[c] for c in columns if c in out})
