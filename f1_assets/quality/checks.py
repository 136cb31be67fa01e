"""Great Expectations 1.x suites (expectations/) as Dagster asset checks, run by one op per layer.

dagster-ge predates GX 1.0, so these are plain asset checks that call `expectations.runner`. One op checks
every table of a layer, read with delta-rs into GX's pandas engine: a Spark driver per check run (and one more
in each gold build's run, beside dbt's) cost minutes of both cores beside the streams. Each result carries the
failing expectations and sample values as metadata. Suites marked blocking stop bad silver from reaching gold:
gold's automation condition waits for its parents' blocking checks to pass. Each result is also pushed to the
Pushgateway (PUSHGATEWAY_URL) for the Data Quality dashboard.
"""

# No `from __future__ import annotations`: Dagster reads the op parameter types at runtime.

import datetime as dt
from collections.abc import Callable

import dagster as dg

from expectations import gold, table_suites
from expectations.lake import Lake
from expectations.metrics import push_check_result
from expectations.runner import DEFAULT_WINDOW, check_lake_table
from f1_assets.keys import table_asset_key
from f1_assets.resources import PlatformSettings
from streaming.settings import Settings

# A row's lineage time (ingested_at, validated_at) is stamped in its micro-batch, which commits seconds later:
# a slice reaches back this far before the end of the last one, so that a row committed just after a check
# read the table is in the next check's slice.
SLICE_OVERLAP = dt.timedelta(minutes=2)


class CheckWindow(dg.Config):
    """Which rows a run checks.

    A scheduled run (no `window_end`) checks each table's newest slice: the rows since the end of that
    check's last evaluation (less SLICE_OVERLAP), at most the last `window_minutes` (after a long pause,
    older rows are left to a run from the launchpad). From the launchpad, `window_end` checks the
    `window_minutes` before it: a wider window or a past incident's rows, after the fact. `window_minutes`
    0 checks every row (a full scan).
    """

    window_minutes: float = DEFAULT_WINDOW.total_seconds() / 60
    window_end: str | None = None  # ISO 8601, UTC when it has no offset

    def bounds(self) -> tuple[dt.timedelta | None, dt.datetime | None]:
        window = dt.timedelta(minutes=self.window_minutes) if self.window_minutes > 0 else None
        try:
            end = dt.datetime.fromisoformat(self.window_end) if self.window_end else None
        except ValueError as error:
            raise dg.Failure(f"window_end: {self.window_end!r} is not an ISO 8601 time ({error})") from error
        return window, end


def slice_window(
    window: dt.timedelta | None, now: dt.datetime, last_end: dt.datetime | None
) -> dt.timedelta | None:
    """How far back a scheduled check reads: to its last evaluation's end less the overlap, at most `window`
    (None: every row). Without an earlier evaluation, `window`."""
    if window is None or last_end is None:
        return window
    return min(window, max(now - last_end, dt.timedelta(0)) + SLICE_OVERLAP)


def last_window_end(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dt.datetime | None:
    """Where the latest evaluation of `key` ended its window (its metadata), if any evaluated one."""
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=5):
        evaluation = record.event.asset_check_evaluation if record.event else None
        end = evaluation.metadata.get("window_end") if evaluation else None
        if end is not None:
            return dt.datetime.fromisoformat(end.value)
    return None  # never evaluated, or only planned (this run's own execution comes first)


def _spec(table: str, suite) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=suite.name,
        asset=table_asset_key(table),
        description=suite.description,
        blocking=suite.blocking,
        metadata={"suite": suite.name, "table": table},
    )


def _selected(context: dg.AssetCheckExecutionContext, suites: dict[str, tuple]):
    """(table, suite) of every check of the run's selection."""
    selected = context.selected_asset_check_keys
    for table, table_suites_ in suites.items():
        for suite in table_suites_:
            if dg.AssetCheckKey(table_asset_key(table), suite.name) in selected:
                yield table, suite


def _reported(context: dg.AssetCheckExecutionContext, settings, result, suite) -> dg.AssetCheckResult:
    context.log.info(result.summary())
    push_check_result(settings.pushgateway_url, result, blocking=suite.blocking)
    return dg.AssetCheckResult(
        asset_key=table_asset_key(result.table),
        check_name=suite.name,
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN,
        description=result.summary(),
        metadata=result.to_metadata(),
    )


def lake_expectation_checks(
    name: str, suites: dict[str, tuple], lake_of: Callable[[Settings], Lake] = Lake.of
) -> dg.AssetChecksDefinition:
    """One multi-asset check running every suite of `suites` ({table: suites}) on rows read with delta-rs:
    no Spark JVM in the run (expectations/lake.py). `lake_of` says where the tables are (tests: elsewhere)."""

    @dg.multi_asset_check(
        name=name,
        specs=[_spec(table, suite) for table, table_suites_ in suites.items() for suite in table_suites_],
        can_subset=True,
    )
    def run_suites(context: dg.AssetCheckExecutionContext, config: CheckWindow, platform: PlatformSettings):
        window, end = config.bounds()
        now = end or dt.datetime.now(dt.UTC)
        settings = platform.get()
        lake = lake_of(settings)
        for table, suite in _selected(context, suites):
            rows_window = window
            if end is None:  # scheduled: the newest slice, since this check's last evaluation
                key = dg.AssetCheckKey(table_asset_key(table), suite.name)
                rows_window = slice_window(window, now, last_window_end(context.instance, key))
            result = check_lake_table(lake, table, suite, window=rows_window, now=now)
            yield _reported(context, settings, result, suite)

    return run_suites


BRONZE_SILVER_CHECKS = lake_expectation_checks("bronze_silver_expectations", table_suites(include_gold=False))
# Gold is checked after each build of its laps (f1_assets/quality/definitions.py), not on a clock.
GOLD_CHECKS = lake_expectation_checks("gold_expectations", gold.suites())
