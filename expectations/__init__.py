"""Great Expectations 1.x quality suites of every layer, written as code, and the runner that checks them.

One module per layer (`bronze`, `silver`, `gold`) defines its suites; `runner.check_lake_table` runs one on a
table's recent rows and returns a plain `CheckResult`, for the Dagster asset checks to report. Importing
this package does not import Great Expectations: a suite builds its GX expectations when first checked.
"""

from __future__ import annotations

from expectations.suite import Suite


def table_suites(include_gold: bool = False) -> dict[str, tuple[Suite, ...]]:
    """Every table's suites, by table name: {"bronze.telemetry": (schema, decode_error_rate), ...}.

    Gold is left out by default until its models exist (see expectations/gold.py).
    """
    from expectations import bronze, gold, silver

    checks: dict[str, tuple[Suite, ...]] = {**bronze.suites(), **silver.suites()}
    if include_gold:
        checks.update(gold.suites())
    return checks
