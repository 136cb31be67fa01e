"""What a quality suite is: GX expectations written as code, plus which rows of a table they judge.

A `Suite` is plain data until it is checked: its GX expectations are built on first use, so that importing
the suites (the Dagster code location does, to name its asset checks) does not import Great Expectations,
which takes seconds. Also here: the building blocks the layers share (schema expectations from the DDL).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any

from streaming.clients.catalog import SQL_DIR, struct_fields

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

    from expectations.lake import Lake

# The rows a suite judges, when they are not simply the table's rows in the window:
# (lake, table name, window start or None, window end) -> pandas DataFrame.
RowsFunction = Callable[["Lake", str, "dt.datetime | None", "dt.datetime"], "pd.DataFrame"]

# Every record keeps its Kafka coordinates from bronze on: they name a failing row for people.
KAFKA_COORDINATES = ("kafka_topic", "kafka_partition", "kafka_offset")


@cache
def great_expectations() -> ModuleType:
    """The great_expectations module, imported on first use with usage statistics off.

    GX 1.24 no longer ships its analytics client (the setting is inert), but a later version may bring it
    back and read this variable at import: no check ever phones home.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


@dataclass(frozen=True, eq=False)
class Suite:
    """A GX expectation suite as code, and which rows of a table it checks.

    `define` receives `great_expectations.expectations` and returns the expectations. The rows are the table's
    rows whose `time_column` is in the check window (None: the whole table), with `derived_columns` (name
    -> an expression `pandas.DataFrame.eval` reads) added, or what `rows` returns for a check that spans
    tables. `index_columns` identify a failing row in the samples. `blocking` says whether a failure
    should stop the data from flowing downstream (a hint for the Dagster asset check).
    """

    name: str  # an identifier, usable as a Dagster asset check name
    description: str
    define: Callable[[ModuleType], list[Any]]
    time_column: str | None = None
    index_columns: tuple[str, ...] = KAFKA_COORDINATES
    derived_columns: Mapping[str, str] = field(default_factory=dict)
    rows: RowsFunction | None = None
    blocking: bool = False

    @cached_property
    def expectations(self) -> tuple[Any, ...]:
        """The GX expectation objects, built once per suite object (suite factories are cached)."""
        return tuple(self.define(great_expectations().expectations))


# --- schema expectations from the DDL in sql/ -------------------------------------------------------------

# SQL type in the DDL -> the pyspark.sql.types class GX checks the column's type against.
_SPARK_TYPES = {
    "STRING": "StringType",
    "BOOLEAN": "BooleanType",
    "TINYINT": "ByteType",
    "SMALLINT": "ShortType",
    "INT": "IntegerType",
    "INTEGER": "IntegerType",
    "BIGINT": "LongType",
    "FLOAT": "FloatType",
    "DOUBLE": "DoubleType",
    "DECIMAL": "DecimalType",
    "BINARY": "BinaryType",
    "DATE": "DateType",
    "TIMESTAMP": "TimestampType",
    "TIMESTAMP_NTZ": "TimestampNTZType",
    "STRUCT": "StructType",  # bronze's typed payloads, silver's payload columns
}
_COLUMN = re.compile(r"^\s+(\w+)\s+(STRUCT<.*>|[A-Z_]+(?:\([\d,\s]*\))?)")


def spark_type_name(sql_type: str) -> str:
    """'DECIMAL(20,0)' -> 'DecimalType': the name ExpectColumnValuesToBeOfType takes for Spark."""
    base = re.split(r"[(<]", sql_type, maxsplit=1)[0].strip().upper()
    if base not in _SPARK_TYPES:
        raise ValueError(f"no Spark type known for SQL type {sql_type!r}: add it to _SPARK_TYPES")
    return _SPARK_TYPES[base]


@cache
def ddl_columns(table: str) -> tuple[tuple[str, str], ...]:
    """(column, SQL type) of `table`, in order, as its CREATE TABLE in sql/*.sql declares them."""
    start = re.compile(rf"^CREATE TABLE IF NOT EXISTS {re.escape(table)} \($", re.M)
    for path in sorted(SQL_DIR.glob("*.sql")):
        text = path.read_text()
        match = start.search(text)
        if match is None:
            continue
        columns = []
        for line in text[match.end() :].splitlines()[1:]:
            if line.startswith(")"):
                return tuple(columns)
            column = _COLUMN.match(line)
            if column:
                columns.append((column.group(1), column.group(2)))
    raise LookupError(f"no CREATE TABLE for {table} in {SQL_DIR}")


def schema_expectations(E: ModuleType, columns: tuple[tuple[str, str], ...]) -> list[Any]:
    """The table has exactly these columns, in this order, with these types.

    A Delta table's rows always match its own schema; what can drift is the table against the contract
    (a column added by schema evolution, a table recreated by hand), so the DDL is the reference.
    """
    # GX lists a struct column's fields after it, as `column.field`
    listed = [
        f"{name}.{field}" if field else name
        for name, type_ in columns
        for field in ["", *(f for f, _ in (struct_fields(type_) if type_.startswith("STRUCT<") else []))]
    ]
    return [
        E.ExpectTableColumnsToMatchOrderedList(column_list=listed),
        *(E.ExpectColumnValuesToBeOfType(column=name, type_=spark_type_name(t)) for name, t in columns),
    ]


# Expectations that need only the schema, not the rows: the runner validates them without reading data.
SCHEMA_ONLY = frozenset(
    {
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_column_to_exist",
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_in_type_list",
        "expect_column_type_to_be",
    }
)
