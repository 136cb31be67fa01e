"""Quality suites of the silver tables: per event type, and the quarantine rate across them.

- `suite_for(event_type)`: the keys are set (event_id, session_id, car_number, event_time), every value is
  in the range silver's validation accepts (`streaming.jobs.validation.RANGES`, the one definition of
  them), and `event_id` is unique in the window. Silver validated these rows on the way in; a failure
  here means a bug in the stream or a write that bypassed it, so the check is blocking for gold.
- `schema_suite(event_type)`: the table's columns and types are those generated from the contract.
- `quarantine_rate_suite()`: at most 1 % of the window's records were quarantined, quarantined / (quarantined
  + valid) over silver.quarantine and the six event tables; sample values are the reasons.

The tables' NOT NULL constraints already stop null keys at write time; the key expectations guard the
rows that reach gold through any other path (a table recreated without the constraints, a backfill).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

from expectations.suite import KAFKA_COORDINATES, Suite, schema_expectations
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import SILVER_TABLE, table_columns
from streaming.jobs import silver
from streaming.jobs.validation import RANGES, REASONS

if TYPE_CHECKING:
    import pandas as pd

    from expectations.lake import Lake

KEYS = ("event_id", "session_id", "car_number", "event_time")
TIME_COLUMN = "validated_at"
QUARANTINE_TABLE = silver.QUARANTINE_TABLE
QUARANTINE_TIME_COLUMN = "quarantined_at"
MAX_QUARANTINE_RATE = 0.01


def table_name(event_type: str) -> str:
    return silver.table_name(event_type)


@cache
def suite_for(event_type: str) -> Suite:
    """Keys not null, values in validation's ranges, event_id unique: rows of silver.<event_type>."""
    if event_type not in RANGES:
        raise ValueError(f"unknown event type {event_type!r}; one of {', '.join(EVENT_TYPES)}")

    def define(E):
        keys = [E.ExpectColumnValuesToNotBeNull(column=c) for c in KEYS]
        # Bounds are inclusive, as validation's `value < low or value > high` rule is; a None bound is
        # open (lap_distance_m's upper bound is the circuit's length, which only silver's join knows).
        ranges = [
            E.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)
            for column, (low, high) in RANGES[event_type].items()
        ]
        return [*keys, *ranges, E.ExpectColumnValuesToBeUnique(column="event_id")]

    return Suite(
        name="valid_events",
        description=f"silver.{event_type}: keys set, values in range, event_id unique in the window",
        define=define,
        time_column=TIME_COLUMN,
        blocking=True,
    )


@cache
def schema_suite(event_type: str) -> Suite:
    columns = tuple((name, type_) for name, type_, *_ in table_columns(event_type))
    return Suite(
        name="schema",
        description=f"silver.{event_type} has the columns and types generated from the contract",
        define=lambda E: schema_expectations(E, columns),
        time_column=TIME_COLUMN,
        blocking=True,
    )


def quarantine_rows(lake: Lake, table: str, start: dt.datetime | None, end: dt.datetime) -> pd.DataFrame:
    """One row per record silver judged in the window: `reason` null when it went to an event table.

    The valid records are the silver table's, the quarantine table's sibling in its database
    (silver.quarantine -> silver.telemetry_enriched), every event type in one read. Each side is filtered
    on its own lineage time column.
    """
    import pyarrow as pa

    from expectations.lake import as_pandas

    database = table.rsplit(".", 1)[0]
    columns = ["reason", "reason_detail", "event_type", *KAFKA_COORDINATES]
    quarantined = lake.read(table, columns, QUARANTINE_TIME_COLUMN, start, end)
    silver_table = f"{database}.{SILVER_TABLE.split('.')[1]}"
    valid = lake.read(silver_table, ["event_type", *KAFKA_COORDINATES], TIME_COLUMN, start, end)
    no_reason = pa.nulls(valid.num_rows, pa.string())
    valid = valid.add_column(0, "reason", no_reason).add_column(1, "reason_detail", no_reason)
    schema = pa.schema([f.with_nullable(True) for f in quarantined.schema])
    return as_pandas(pa.concat_tables([quarantined.cast(schema), valid.cast(schema)]))


@cache
def quarantine_rate_suite(max_rate: float = MAX_QUARANTINE_RATE) -> Suite:
    """At most `max_rate` of the records silver judged in the window went to the quarantine."""

    def define(E):
        return [
            # mostly: the share of records that must have no reason, i.e. were valid
            E.ExpectColumnValuesToBeNull(column="reason", mostly=1.0 - max_rate),
            # the quarantine holds validation's reason codes only (nulls, the valid rows, are skipped)
            E.ExpectColumnValuesToBeInSet(column="reason", value_set=list(REASONS)),
        ]

    return Suite(
        name="quarantine_rate",
        description=f"at most {max_rate:.1%} of the records silver judged in the window were quarantined",
        define=define,
        time_column=QUARANTINE_TIME_COLUMN,
        # the reason's detail and the record's coordinates, beside each sample reason
        index_columns=("event_type", "reason_detail", *KAFKA_COORDINATES),
        rows=quarantine_rows,
    )


def suites() -> dict[str, tuple[Suite, ...]]:
    """Every silver table's suites, by table name."""
    checks = {table_name(t): (schema_suite(t), suite_for(t)) for t in EVENT_TYPES}
    checks[QUARANTINE_TABLE] = (quarantine_rate_suite(),)
    return checks
