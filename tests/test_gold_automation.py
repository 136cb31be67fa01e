"""When Dagster builds gold, on a real (temporary) Dagster instance: the automation condition and the
sensor that checks gold after each build.

The silver streams report a materialisation of each silver table every half minute, while silver's
blocking checks run on QUALITY_CHECK_CRON against a recent window of rows: so every check evaluation is
older than silver's latest materialisation. Dagster's `all_deps_blocking_checks_passed()` counts a check
only when it targeted the latest materialisation, which with the streams running never holds (the test
below shows it); gold's condition asks instead whether a blocking check failed on its latest evaluation.
Materialisations and check results are reported to the instance as the streams and the check runs
report them (`report_runless_asset_event`), and the conditions evaluated by Dagster's own evaluator.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from f1_assets.gold.automation import check_window, cron_interval, gold_automation

CRON = "*/10 * * * *"
# The checks' window (twice this interval, 20 min) is longer than gold's interval plus the 65 s a test runs
# past the tick: the checks are reported at the real time and the tick is the next one after it, up to
# 10 min on. With */5 (a 10-min window) a run starting in the first 65 s of a */10 interval saw its passed
# check as stale (CI, 2026-12-07).
QUALITY_CRON = "*/10 * * * *"
WINDOW = "20 min"
SILVER = dg.AssetKey(["silver", "position"])
SESSIONS = dg.AssetKey(["silver", "sessions"])
GOLD = dg.AssetKey(["gold", "laps"])
OLD_GOLD = dg.AssetKey(["gold", "laps_builtin_gating"])
BLOCKING = "valid_events"
ADVISORY = "quarantine_rate"


def old_condition(cron: str) -> dg.AutomationCondition:
    """The condition gold had: Dagster's blocking-check gate (the latest materialisation checked)."""
    tick = dg.AutomationCondition.cron_tick_passed(cron)
    changed = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.newly_updated() | dg.AutomationCondition.will_be_requested()
    ).since(tick)
    return (
        tick.since_last_handled()
        & changed
        & dg.AutomationCondition.all_deps_blocking_checks_passed()
        & ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.any_deps_in_progress()
    )


@dg.asset_check(asset=SILVER, name=BLOCKING, blocking=True)
def valid_events() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset_check(asset=SILVER, name=ADVISORY, blocking=False)
def quarantine_rate() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(key=GOLD, deps=[SILVER, SESSIONS], automation_condition=gold_automation(CRON, QUALITY_CRON))
def laps() -> None:
    pass


@dg.asset(key=OLD_GOLD, deps=[SILVER, SESSIONS], automation_condition=old_condition(CRON))
def laps_builtin_gating() -> None:
    pass


DEFS = dg.Definitions(
    assets=[dg.AssetSpec(SILVER), dg.AssetSpec(SESSIONS), laps, laps_builtin_gating],
    asset_checks=[valid_events, quarantine_rate],
)


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def next_tick(after: dt.datetime) -> dt.datetime:
    """The first tick of CRON (every 10 minutes) after `after`."""
    floor = after.replace(minute=after.minute - after.minute % 10, second=0, microsecond=0)
    return floor + dt.timedelta(minutes=10)


class Ticks:
    """Evaluates the conditions of DEFS on `instance`, carrying the cursor from one evaluation to the next."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance
        self.cursor = None

    def evaluate(self, at: dt.datetime):
        result = dg.evaluate_automation_conditions(
            defs=DEFS, instance=self.instance, cursor=self.cursor, evaluation_time=at
        )
        self.cursor = result.cursor
        return result


@dg.op(config_schema={"times": int})
def report_progress(context) -> None:
    # what the silver stream's run does every STREAM_REPORT_SECONDS (f1_assets/streams/jobs.py)
    for _ in range(context.op_config["times"]):
        context.log_event(dg.AssetMaterialization(SILVER, metadata={"rows_since_last_report": 1000}))


@dg.job
def silver_stream():
    report_progress()


def materialise_silver(instance, times: int = 1) -> None:
    """Materialisations of silver as the stream reports them: from its run (not runless: Dagster takes a
    check and a materialisation of one run as the check of that materialisation)."""
    config = {"ops": {"report_progress": {"config": {"times": times}}}}
    assert silver_stream.execute_in_process(instance=instance, run_config=config).success


def check_result(instance, name: str, passed: bool, severity=dg.AssetCheckSeverity.ERROR) -> None:
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(asset_key=SILVER, check_name=name, passed=passed, severity=severity)
    )


def true_labels(result) -> set[str]:
    """The labels of every node of the evaluation trees that was true (for any asset or check)."""
    labels = set()

    def walk(node):
        label = node.condition.get_label()
        if label is not None and not node.true_subset.is_empty:
            labels.add(label)
        for child in node.child_results:
            walk(child)

    for node in result.results:
        walk(node)
    return labels


def requested(result, key=GOLD) -> bool:
    return result.get_num_requested(key) == 1


def the_tick_then_a_report(instance, ticks: Ticks, tick: dt.datetime):
    """The sensor's first evaluation after the cron tick, then its next one after the streams' next report.

    gold's condition wants a change since its last request, so it is requested on the first; Dagster's
    own (`old_condition`) wants a change *since the tick*: on the evaluation that sees the tick pass, the
    materialisations seen with it came before it, so only the streams' next report (30 s on) counts.
    """
    first = ticks.evaluate(tick + dt.timedelta(seconds=5))
    materialise_silver(instance)
    return first, ticks.evaluate(tick + dt.timedelta(seconds=65))


def built(evaluations) -> bool:
    """gold requested on one of these evaluations (of one tick)."""
    return any(requested(result) for result in evaluations)


def streams_running_since_the_checks(instance, ticks: Ticks, check_passed: bool, severity=None):
    """Silver materialised, checked, then materialised four more times (the streams, every 30 s)."""
    now = dt.datetime.now(dt.UTC)
    ticks.evaluate(now)  # the first evaluation only sets the cursor
    materialise_silver(instance)
    check_result(instance, BLOCKING, check_passed, severity or dg.AssetCheckSeverity.ERROR)
    check_result(instance, ADVISORY, False, dg.AssetCheckSeverity.WARN)  # never blocks
    materialise_silver(instance, times=4)
    return now


def test_the_window_is_twice_the_quality_checks_interval():
    assert cron_interval("*/5 * * * *") == dt.timedelta(minutes=5)
    assert cron_interval("0 3 * * *") == dt.timedelta(days=1)
    assert check_window("*/5 * * * *") == dt.timedelta(minutes=10)


def test_dagsters_gate_never_opens_while_the_streams_run(instance):
    """The cause: the check passed, but on an older materialisation than silver's latest."""
    ticks = Ticks(instance)
    now = streams_running_since_the_checks(instance, ticks, check_passed=True)
    first, result = the_tick_then_a_report(instance, ticks, next_tick(now))
    assert not requested(result, OLD_GOLD)  # Dagster's own gate: the latest materialisation is unchecked
    assert requested(first, GOLD)


def test_gold_builds_after_the_tick_while_silver_materialises_every_30_s(instance):
    ticks = Ticks(instance)
    now = streams_running_since_the_checks(instance, ticks, check_passed=True)
    before = ticks.evaluate(now + dt.timedelta(seconds=1))
    assert not requested(before)  # silver changed, but the cron has not ticked since
    tick = next_tick(now)
    first, result = the_tick_then_a_report(instance, ticks, tick)
    assert requested(first)  # silver changed since gold's last request (before the tick: gold is behind)
    labels = true_labels(first)
    assert f"passed within {WINDOW}" in labels  # the blocking check's verdict, under the check
    assert "a parent changed since the last request" in labels
    # handled: not requested again on the same tick, even as silver keeps materialising
    assert not requested(result)
    materialise_silver(instance, times=2)
    assert not requested(ticks.evaluate(tick + dt.timedelta(seconds=125)))
    # the next tick builds again: silver changed since that request
    assert requested(ticks.evaluate(tick + dt.timedelta(minutes=10, seconds=5)))


def test_a_cron_as_short_as_the_sensors_interval_still_builds(instance):
    """Every evaluation sees a tick (GOLD_BUILD_CRON every minute, the sensor every 60 s): a change
    counted only since the last tick was reset by each of them, and gold never built."""
    minute = "* * * * *"

    @dg.asset(key=GOLD, deps=[SILVER], automation_condition=gold_automation(minute, QUALITY_CRON))
    def every_minute() -> None:
        pass

    @dg.asset(key=OLD_GOLD, deps=[SILVER], automation_condition=old_condition(minute))
    def every_minute_since_the_tick() -> None:
        pass

    defs = dg.Definitions(
        assets=[dg.AssetSpec(SILVER), every_minute, every_minute_since_the_tick],
        asset_checks=[valid_events],
    )
    cursor, built_gold, built_old = None, 0, 0
    start = dt.datetime.now(dt.UTC).replace(second=30, microsecond=0)
    for minutes in range(4):
        materialise_silver(instance)  # the streams report between two evaluations
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=cursor, evaluation_time=start + dt.timedelta(minutes=minutes)
        )
        cursor = result.cursor
        built_gold += result.get_num_requested(GOLD)
        built_old += result.get_num_requested(OLD_GOLD)
    assert built_old == 0  # the cause
    # the first evaluation only sets the cursor; the one after a request sees that request as its last
    # handling, which Dagster counts after that evaluation's tick: the second and the fourth build
    assert built_gold == 2


def test_a_failed_blocking_check_stops_gold(instance):
    ticks = Ticks(instance)
    now = streams_running_since_the_checks(instance, ticks, check_passed=False)
    tick = next_tick(now)
    evaluations = the_tick_then_a_report(instance, ticks, tick)
    assert not built(evaluations)
    labels = true_labels(evaluations[0])
    assert "a parent changed since the last request" in labels  # the tick and the change are there
    assert "no parent's blocking check failed (latest evaluation)" not in labels  # this is why not
    # a failure an hour old still blocks: the data it found bad has not been found good since
    assert not built(the_tick_then_a_report(instance, ticks, tick + dt.timedelta(minutes=50)))
    # the check passes on its next run: gold builds, silver still materialising after it
    check_result(instance, BLOCKING, True)
    materialise_silver(instance, times=2)
    assert built(the_tick_then_a_report(instance, ticks, tick + dt.timedelta(hours=1)))


def test_a_warning_from_a_blocking_check_does_not_stop_gold(instance):
    ticks = Ticks(instance)
    now = streams_running_since_the_checks(
        instance, ticks, check_passed=False, severity=dg.AssetCheckSeverity.WARN
    )
    assert built(the_tick_then_a_report(instance, ticks, next_tick(now)))


def test_nothing_changed_since_the_last_request_is_not_requested(instance):
    ticks = Ticks(instance)
    now = dt.datetime.now(dt.UTC)
    ticks.evaluate(now)
    materialise_silver(instance)
    check_result(instance, BLOCKING, True)
    tick = next_tick(now)
    assert requested(ticks.evaluate(tick + dt.timedelta(seconds=5)))  # silver changed before the tick
    assert not requested(ticks.evaluate(tick + dt.timedelta(seconds=65)))
    result = ticks.evaluate(tick + dt.timedelta(minutes=10, seconds=5))  # the next tick: nothing since
    assert not requested(result)
    assert f"{CRON} ticked since the last request" in true_labels(result)
    assert "a parent changed since the last request" not in true_labels(result)


def test_a_check_not_evaluated_for_long_does_not_block_and_says_so(instance):
    ticks = Ticks(instance)
    now = streams_running_since_the_checks(instance, ticks, check_passed=True)
    # the quality schedule stopped: the latest (passed) evaluation is hours old by the next tick
    result, _ = the_tick_then_a_report(instance, ticks, next_tick(now + dt.timedelta(hours=3)))
    assert requested(result)
    labels = true_labels(result)
    assert f"not evaluated within {WINDOW}: stale, not blocking" in labels
    assert f"passed within {WINDOW}" not in labels


def test_no_second_build_while_the_first_run_is_unfinished(instance):
    """dbt materialises lap_metrics minutes before its run ends: Dagster's in_progress() is false by then,
    and a second build beside the first one ran on the same tables."""
    from dagster._core.storage.dagster_run import DagsterRun

    ticks = Ticks(instance)
    now = streams_running_since_the_checks(instance, ticks, check_passed=True)
    run = DagsterRun(
        job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED, asset_selection=frozenset({GOLD})
    )
    instance.add_run(run)
    instance.report_runless_asset_event(dg.AssetMaterialization(GOLD))  # built; its tests still run
    result, _ = the_tick_then_a_report(instance, ticks, next_tick(now))
    assert not requested(result)
    assert "no unfinished run targets it" not in true_labels(result)
    instance.report_run_canceled(run)  # over: the next tick builds
    assert built(the_tick_then_a_report(instance, ticks, next_tick(now) + dt.timedelta(minutes=10)))


def test_a_check_never_evaluated_does_not_block(instance):
    ticks = Ticks(instance)
    now = dt.datetime.now(dt.UTC)
    ticks.evaluate(now)
    materialise_silver(instance, times=3)
    result, _ = the_tick_then_a_report(instance, ticks, next_tick(now))
    assert requested(result)
    assert f"not evaluated within {WINDOW}: stale, not blocking" in true_labels(result)


# ----- the gold_built sensor, from the code location's definitions -----


def test_gold_built_requests_one_run_per_materialisation_of_lap_metrics(instance):
    from f1_assets.definitions import defs

    sensor = defs.resolve_sensor_def("gold_built")
    laps_key = dg.AssetKey(["gold", "lap_metrics"])

    def tick(cursor):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
        return sensor.evaluate_tick(context)

    first = tick(None)
    assert not first.run_requests and "has not been materialised yet" in first.skip_message

    instance.report_runless_asset_event(dg.AssetMaterialization(laps_key))
    result = tick(first.cursor)
    assert result.skip_message is None
    (request,) = result.run_requests
    assert request.job_name in (None, "gold_quality_checks")
    storage_id = int(result.cursor)
    assert request.run_key == f"lap_metrics-{storage_id}"

    again = tick(result.cursor)
    assert not again.run_requests and f"since event {storage_id}" in again.skip_message

    # two more builds before the next tick: one run, for the newest, with a new run key
    instance.report_runless_asset_event(dg.AssetMaterialization(laps_key))
    instance.report_runless_asset_event(dg.AssetMaterialization(laps_key))
    later = tick(result.cursor)
    (request2,) = later.run_requests
    assert int(later.cursor) > storage_id and request2.run_key == f"lap_metrics-{later.cursor}"


@pytest.mark.parametrize(
    ("planned", "finished", "evaluated", "expected"),
    [
        (True, False, False, "in its run, later"),  # dbt done, its Great Expectations step still to come
        (True, True, True, "in its run"),
        (True, False, True, "in its run"),
        (True, True, False, "not checked"),  # the run ended (failed) before its checks
        (False, False, False, "not checked"),  # a dbt-only selection
        (False, True, False, "not checked"),
    ],
)
def test_gold_built_leaves_a_build_to_the_checks_of_its_own_run(planned, finished, evaluated, expected):
    from f1_assets.quality.definitions import checked_by_its_run

    assert checked_by_its_run(planned, finished, evaluated) == expected
