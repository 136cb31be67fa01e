"""When gold rebuilds: on a cron tick, once its silver parents have new data, and never on bad silver.

Silver materialises every half minute while a session is live; rebuilding gold that often would keep a
Spark driver busy for nothing, so gold follows GOLD_CRON (within its 15-minute freshness window). And it
waits for its parents' blocking checks (the Great Expectations suites marked blocking, and dbt's
error-severity tests): none of them may have *failed* on its latest evaluation.

Not Dagster's `all_deps_blocking_checks_passed()`: that one counts a check as passed only when its latest
evaluation targeted the parent's *latest materialisation* (dagster/_core/storage/
asset_check_execution_record.py, `AssetCheckExecutionRecord.targets_latest_materialization`, called by
`AssetGraphView.compute_subset_with_status`). The streams report a materialisation of every silver
table every STREAM_REPORT_SECONDS, and the silver checks run on QUALITY_CHECK_CRON, each against the
rows of a recent window, so by the time gold's cron ticks silver has always been materialised again
since its checks ran: "passed" never held, and gold never built. Here a check's verdict is its latest
completed evaluation, whatever materialisation it ran after:

- passed within the window (twice QUALITY_CHECK_CRON's interval): the check is current and passed;
- failed (severity ERROR; a WARN result never blocks, as in a run): gold waits, however old the failure,
  until the check passes again (the next `quality_checks` run, or one from the launchpad);
- not evaluated within the window (or never) and not failed: stale, gold builds anyway (a stopped
  schedule must not stop gold forever), and the evaluation tree says so under the check.

Every part of the condition has a label, so the gold_automation sensor's evaluation tree in the UI says
which part is false.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from datetime import timedelta
from typing import Literal

import dagster as dg
from dagster._core.storage.asset_check_execution_record import (
    COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
    AssetCheckExecutionRecord,
)
from dagster._utils.schedules import cron_string_iterator

from f1_assets.schedules import UNFINISHED
from streaming.settings import Settings

# GOLD_BUILD_CRON and QUALITY_CHECK_CRON, read when the code location loads (the translator has no
# resources to ask)
_SETTINGS = Settings.from_env()
GOLD_CRON = _SETTINGS.gold_build_cron
QUALITY_CRON = _SETTINGS.quality_check_cron
GOLD_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(minutes=15), warn_window=timedelta(minutes=12)
)

# The stream runs are always unfinished; gold's own runs come after them in the newest-first list.
UNFINISHED_RUNS_LOOKED_AT = 50
Verdict = Literal["passed", "failed", "stale"]


def cron_interval(cron: str, *, ticks: int = 50) -> timedelta:
    """The longest gap between two consecutive ticks of `cron` (UTC) over its next `ticks` ticks."""
    times = list(itertools.islice(cron_string_iterator(time.time(), cron, "UTC"), ticks))
    return max(b - a for a, b in itertools.pairwise(times))


def check_window(quality_cron: str = QUALITY_CRON) -> timedelta:
    """How recent a passed blocking check must be to count as current: two intervals of its schedule."""
    return 2 * cron_interval(quality_cron)


def _minutes(window: timedelta) -> str:
    minutes = window.total_seconds() / 60
    return f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"


def latest_completed_evaluation(
    instance: dg.DagsterInstance, key: dg.AssetCheckKey
) -> AssetCheckExecutionRecord | None:
    """The check's newest evaluation that has a result (passed or failed), whatever it ran against."""
    records = instance.event_log_storage.get_asset_check_execution_history(
        key, limit=1, status=set(COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES)
    )
    return records[0] if records else None


def verdict(record: AssetCheckExecutionRecord | None, now: dt.datetime, window: timedelta) -> Verdict:
    """passed (within `window` of `now`), failed (ERROR severity, any age) or stale (neither)."""
    evaluation = record.evaluation if record else None
    if evaluation is None:
        return "stale"
    if not evaluation.passed:
        return "failed" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "stale"
    evaluated_at = record.event.timestamp if record.event else record.create_timestamp
    return "passed" if evaluated_at >= now.timestamp() - window.total_seconds() else "stale"


class LatestCheckVerdict(dg.AutomationCondition[dg.AssetCheckKey]):
    """True for a check whose latest completed evaluation has the verdict `expected` (see `verdict`)."""

    def __init__(self, expected: Verdict, window: timedelta, label: str | None = None):
        self.expected = expected
        self.window = window
        self.label = label

    def with_label(self, label: str | None) -> LatestCheckVerdict:
        return LatestCheckVerdict(self.expected, self.window, label)

    def get_label(self) -> str | None:
        return self.label

    @property
    def name(self) -> str:
        return f"latest_check_verdict({self.expected}, {self.window})"

    @property
    def description(self) -> str:
        return {
            "passed": f"Its latest evaluation passed, within the last {_minutes(self.window)}",
            "failed": "Its latest evaluation failed with ERROR severity",
            "stale": f"Not evaluated in the last {_minutes(self.window)}, and not failed",
        }[self.expected]

    @property
    def requires_cursor(self) -> bool:
        return False

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        record = latest_completed_evaluation(context.asset_graph_view.instance, context.key)
        matches = verdict(record, context.evaluation_time, self.window) == self.expected
        subset = context.candidate_subset if matches else context.get_empty_subset()
        return dg.AutomationResult(context=context, true_subset=subset)


class NoUnfinishedRun(dg.AutomationCondition[dg.AssetKey]):
    """True for an asset that no unfinished run (queued, starting, started, cancelling) targets.

    Not Dagster's `in_progress()`: that one is false again as soon as the asset is materialised within
    its run. dbt builds every model and test of gold in one run, so lap_metrics was materialised minutes
    before the run ended (stint and session metrics, then the tests): the next cron tick found nothing
    in progress and started a second dbt build beside the first, on the same tables.

    It is also the condition's custom part at the top: Dagster sends a condition whole to its daemon and
    webserver when every node says it can be serialised, and `all_checks_match` does not count its
    operand (LatestCheckVerdict) among its children; with this node the condition goes as its snapshot
    (names and labels), and the gold_automation sensor evaluates it in the code location
    (`use_user_code_server`). Without it the code location failed to load ("Unhandled value type").
    """

    def __init__(self, label: str | None = "no unfinished run targets it"):
        self.label = label

    def with_label(self, label: str | None) -> NoUnfinishedRun:
        return NoUnfinishedRun(label)

    def get_label(self) -> str | None:
        return self.label

    @property
    def name(self) -> str:
        return "no_unfinished_run"

    @property
    def description(self) -> str:
        return "No queued, starting, started or cancelling run targets this asset"

    @property
    def requires_cursor(self) -> bool:
        return False

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        records = context.asset_graph_view.instance.get_run_records(
            filters=dg.RunsFilter(statuses=UNFINISHED), limit=UNFINISHED_RUNS_LOOKED_AT
        )
        busy = any(context.key in (r.dagster_run.asset_selection or ()) for r in records)
        subset = context.get_empty_subset() if busy else context.candidate_subset
        return dg.AutomationResult(context=context, true_subset=subset)


def blocking_checks_not_failed(window: timedelta) -> dg.AutomationCondition:
    """Every blocking check of every parent passed recently, is stale, or runs in this tick's request."""
    per_check = (
        LatestCheckVerdict("passed", window).with_label(f"passed within {_minutes(window)}")
        | LatestCheckVerdict("stale", window).with_label(
            f"not evaluated within {_minutes(window)}: stale, not blocking"
        )
        | dg.AutomationCondition.will_be_requested().with_label("runs with this request")
    ).with_label("did not fail on its latest evaluation")
    every_parent = dg.AutomationCondition.all_deps_match(
        dg.AutomationCondition.all_checks_match(per_check, blocking_only=True).with_label(
            "no blocking check failed on its latest evaluation"
        )
    )
    return every_parent.with_label("no parent's blocking check failed (latest evaluation)")


def gold_automation(cron: str = GOLD_CRON, quality_cron: str = QUALITY_CRON) -> dg.AutomationCondition:
    """Rebuild after a cron tick once any parent changed since the last request, unless a parent's blocking
    check failed.

    Any parent, not all (as `on_cron` wants): silver.sessions changes once per session and
    silver.system only as things happen, but a lap still needs rebuilding when positions arrive.
    """
    tick = dg.AutomationCondition.cron_tick_passed(cron)
    # A change since gold's last request, not since the last tick (Dagster's on_cron): `since(tick)` is
    # reset by an evaluation that sees a tick, change or not, so with a cron as short as the sensor's
    # interval (GOLD_BUILD_CRON every minute) every evaluation saw one and gold never built. And a parent
    # changed after the last build but before the tick is a change gold has not seen either.
    changed = (
        dg.AutomationCondition.any_deps_match(
            dg.AutomationCondition.newly_updated() | dg.AutomationCondition.will_be_requested()
        )
        .since_last_handled()
        .with_label("a parent changed since the last request")
    )
    return (
        tick.since_last_handled().with_label(f"{cron} ticked since the last request")
        & changed
        & blocking_checks_not_failed(check_window(quality_cron))
        & NoUnfinishedRun()
        & (~dg.AutomationCondition.any_deps_in_progress()).with_label("no parent being materialised")
    ).with_label(f"on {cron} once silver changed, unless a blocking check failed")
