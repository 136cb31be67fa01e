"""The schema expectations derived from the DDL (expectations/suite.py): pure, no Spark."""

from __future__ import annotations

from expectations.suite import ddl_columns, great_expectations, schema_expectations, spark_type_name
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import payload_fields


def test_a_struct_column_is_listed_with_its_fields_as_gx_lists_them():
    """Bronze keeps each payload as a struct: GX lists a struct column's fields after it (`tire.corner`),
    and every column of every declared table has a Spark type name."""
    columns = ddl_columns("bronze.telemetry")
    types = dict(columns)
    assert all(
        types[t].startswith("STRUCT<") and spark_type_name(types[t]) == "StructType" for t in EVENT_TYPES
    )
    for table in ("bronze.telemetry", "silver.quarantine", "silver.telemetry_enriched"):
        assert all(spark_type_name(type_) for _, type_ in ddl_columns(table)), table
    [ordered, *typed] = schema_expectations(great_expectations().expectations, columns)
    listed = ordered.column_list
    tire = listed.index("tire")
    fields = [f.name for f in payload_fields("tire")]
    assert listed[tire + 1 : tire + 1 + len(fields)] == [f"tire.{name}" for name in fields]
    assert len(typed) == len(columns) and "payload_json" not in listed
