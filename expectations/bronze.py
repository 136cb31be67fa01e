"""Quality suites of bronze.telemetry: its schema against sql/010_bronze.sql, and the decode error rate.

Bronze keeps every record, so its rows cannot be "wrong"; what can go wrong is the table drifting from its
contract, and the share of records the stream could not decode (they land with `decode_error` set and
`event_type` 'undecodable', and go to the DLQ): a rising share means a producer or the registry broke.
"""

from __future__ import annotations

from functools import cache

from expectations.suite import Suite, ddl_columns, schema_expectations
from streaming.jobs import bronze

TABLE = bronze.TABLE
TIME_COLUMN = "ingested_at"
MAX_DECODE_ERROR_RATE = 0.01  # share of the window's records; the simulator's faults stay near 0.1 %


@cache
def schema_suite() -> Suite:
    """The table's columns and types are those of its CREATE TABLE in sql/."""
    columns = ddl_columns(TABLE)
    return Suite(
        name="schema",
        description=f"{TABLE} has the columns and types of sql/010_bronze.sql",
        define=lambda E: schema_expectations(E, columns),
        time_column=TIME_COLUMN,
        blocking=True,
    )


@cache
def decode_error_suite(max_rate: float = MAX_DECODE_ERROR_RATE) -> Suite:
    """At most `max_rate` of the window's records are undecodable; event types are the contract's."""

    def define(E):
        return [
            # mostly: the share of rows that must have no decode error
            E.ExpectColumnValuesToBeNull(column="decode_error", mostly=1.0 - max_rate),
            # 'undecodable' and 'missing' (no payload) are bronze's own markers (streaming/jobs/bronze.py)
            E.ExpectColumnValuesToBeInSet(
                column="event_type", value_set=[*bronze.PAYLOADS, "undecodable", "missing"]
            ),
        ]

    return Suite(
        name="decode_error_rate",
        description=f"at most {max_rate:.1%} of bronze records in the window failed to decode",
        define=define,
        time_column=TIME_COLUMN,
        index_columns=("kafka_topic", "kafka_partition", "kafka_offset", "encoding", "schema_id"),
    )


def suites() -> dict[str, tuple[Suite, ...]]:
    return {TABLE: (schema_suite(), decode_error_suite())}
