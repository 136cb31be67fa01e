"""The Great Expectations asset checks in Dagster, on real Delta tables: pass, fail, and block gold.

The checks run as a Dagster job in a real temporary instance, with the code location's resources, reading
the test database's Delta tables with delta-rs as the platform's checks do. Good silver passes; silver
with null keys fails with a blocking ERROR whose metadata names the failing expectations and their sample
rows; and gold's automation condition does not rebuild gold while a parent's blocking check fails, then
does once it passes.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from expectations import silver
from expectations.runner import DEFAULT_WINDOW
from f1_assets.gold.automation import GOLD_CRON, gold_automation
from f1_assets.keys import table_asset_key
from f1_assets.quality.checks import SLICE_OVERLAP, lake_expectation_checks, slice_window
from f1_assets.resources import resources_for
from tests.quality_tables import NOW

GOLD = dg.AssetKey(["gold", "quality_test_laps"])


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def definitions(platform_settings, lake, db: str, bad_table: str) -> dg.Definitions:
    good, bad = f"{db}.dynamics", f"{db}.{bad_table}"
    checks = lake_expectation_checks(
        "quality_test",
        {good: (silver.suite_for("dynamics"),), bad: (silver.suite_for("position"),)},
        lake_of=lambda settings: lake,
    )

    @dg.asset(
        key=GOLD, deps=[table_asset_key(good), table_asset_key(bad)], automation_condition=gold_automation()
    )
    def gold_laps() -> None:
        pass

    return dg.Definitions(
        assets=[dg.AssetSpec(table_asset_key(good)), dg.AssetSpec(table_asset_key(bad)), gold_laps],
        asset_checks=[checks],
        jobs=[
            dg.define_asset_job(
                "checks", selection=dg.AssetSelection.checks(checks), executor_def=dg.in_process_executor
            )
        ],
        resources=resources_for(platform_settings, platform_settings.as_env()),
    )


def run_checks(defs, instance) -> tuple[bool, dict[str, dg.AssetCheckEvaluation]]:
    # the window ends when the fixture's rows were written: the session fixture may be older than 15 minutes
    config = {"ops": {"quality_test": {"config": {"window_end": NOW.isoformat()}}}}
    result = defs.resolve_job_def("checks").execute_in_process(
        instance=instance, run_config=config, raise_on_error=False
    )
    return result.success, {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}


def gold_requested(defs, instance, cursor, at: dt.datetime):
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=cursor, evaluation_time=at
    )
    return result.get_num_requested(GOLD) == 1, result.cursor


def test_checks_pass_fail_with_samples_and_block_gold(platform_settings, quality_lake, quality_db, instance):
    defs = definitions(platform_settings, quality_lake, quality_db, "position_null_keys")
    now = dt.datetime.now(dt.UTC)
    _, cursor = gold_requested(defs, instance, None, now)
    # one second past a tick of gold's cron, two ticks on: every later evaluation (up to a minute after)
    # falls before the next tick, which would start a new "changed since the tick" (10% of runs, by chance)
    ticks = cron_string_iterator(now.timestamp(), GOLD_CRON, "UTC")
    next(ticks)
    tick = next(ticks) + dt.timedelta(seconds=1)
    requested, cursor = gold_requested(defs, instance, cursor, tick)
    assert not requested  # the tick alone: silver has not changed since

    # silver changes, then its checks run on the new data
    for key in (
        table_asset_key(f"{quality_db}.dynamics"),
        table_asset_key(f"{quality_db}.position_null_keys"),
    ):
        instance.report_runless_asset_event(dg.AssetMaterialization(key))
    succeeded, evaluations = run_checks(defs, instance)
    assert not succeeded  # a failed blocking check fails the run, after every check has reported

    good, bad = evaluations["dynamics"], evaluations["position_null_keys"]
    assert good.passed and good.metadata["rows_checked"].value == 50
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR
    assert "expect_column_values_to_not_be_null(event_id)" in bad.metadata["failing_expectations"].value
    failures = {f["expectation"] + ":" + f.get("column", ""): f for f in bad.metadata["failures"].value}
    null_ids = failures["expect_column_values_to_not_be_null:event_id"]
    assert null_ids["unexpected_count"] == 2 and len(null_ids["sample_rows"]) == 2
    assert defs.resolve_asset_graph().get_check_spec(bad.asset_check_key).blocking

    # silver changed after the tick, but a parent's blocking check failed: gold is not rebuilt
    requested, cursor = gold_requested(defs, instance, cursor, tick + dt.timedelta(seconds=30))
    assert not requested

    # the parent is fixed (its check passes on its latest data): gold rebuilds
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=bad.asset_key,
            check_name=bad.check_name,
            passed=True,
            severity=dg.AssetCheckSeverity.ERROR,
        )
    )
    requested, cursor = gold_requested(defs, instance, cursor, tick + dt.timedelta(seconds=60))
    assert requested


def test_a_scheduled_check_reads_the_slice_since_its_last_evaluation(
    platform_settings, quality_lake, quality_db, instance
):
    """Without a window_end (the schedule's runs), each check reads from where its last evaluation ended
    (less the overlap for rows stamped before and committed after a read), not the whole window again."""
    defs = definitions(platform_settings, quality_lake, quality_db, "position_null_keys")
    job = defs.resolve_job_def("checks")
    runs = [job.execute_in_process(instance=instance, raise_on_error=False) for _ in range(2)]
    first, second = (
        {e.asset_key.path[-1]: e.metadata for e in r.get_asset_check_evaluations()} for r in runs
    )

    def bounds(metadata) -> tuple[dt.datetime, dt.datetime]:
        return tuple(dt.datetime.fromisoformat(metadata[k].value) for k in ("window_start", "window_end"))

    for table in ("dynamics", "position_null_keys"):
        start, end = bounds(first[table])
        assert end - start == DEFAULT_WINDOW  # never evaluated before: the whole window
        next_start, next_end = bounds(second[table])
        assert next_start == end - SLICE_OVERLAP and next_end > end


def test_a_slice_reaches_back_to_the_last_end_less_the_overlap_at_most_the_window():
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    window = dt.timedelta(minutes=15)
    assert slice_window(window, now, None) == window  # never evaluated
    five_ago = now - dt.timedelta(minutes=5)
    assert slice_window(window, now, five_ago) == dt.timedelta(minutes=5) + SLICE_OVERLAP
    assert slice_window(window, now, now - dt.timedelta(hours=3)) == window  # after a long pause: capped
    assert slice_window(window, now, now + dt.timedelta(seconds=5)) == SLICE_OVERLAP  # clocks apart
    assert slice_window(None, now, five_ago) is None  # a full scan stays one
