"""Quality: Great Expectations suites as asset checks: bronze and silver on QUALITY_CHECK_CRON, gold after
each build of gold.lap_metrics (in the build's own run, or launched by the gold_built sensor)."""

from __future__ import annotations

from typing import Literal

import dagster as dg

from expectations.gold import LAP_METRICS_TABLE
from f1_assets.keys import table_asset_key
from f1_assets.quality.checks import BRONZE_SILVER_CHECKS, GOLD_CHECKS
from f1_assets.schedules import exclusive_schedule
from streaming.settings import Settings

quality_checks_job = dg.define_asset_job(
    "quality_checks",
    selection=dg.AssetSelection.checks(BRONZE_SILVER_CHECKS),
    description="Runs the Great Expectations suites of bronze and silver on their recent rows.",
    executor_def=dg.in_process_executor,
)

gold_quality_checks_job = dg.define_asset_job(
    "gold_quality_checks",
    selection=dg.AssetSelection.checks(GOLD_CHECKS),
    description="Runs the Great Expectations suites of gold on the tables dbt just built.",
    executor_def=dg.in_process_executor,
)


LAP_METRICS_KEY = table_asset_key(LAP_METRICS_TABLE)
# Gold's Great Expectations checks of lap_metrics: they ride along in the run that builds it (Dagster adds
# an asset's checks to the automation's and the UI's runs), so this sensor launches them only for builds
# whose run did not check them.
GOLD_EXPECTATION_KEYS = frozenset(k for k in GOLD_CHECKS.check_keys if k.asset_key == LAP_METRICS_KEY)

BuildChecked = Literal["in its run, later", "in its run", "not checked"]


def checked_by_its_run(run_planned_checks: bool, run_finished: bool, evaluated_in_run: bool) -> BuildChecked:
    """Whether the run that built lap_metrics checks it with Great Expectations itself (pure)."""
    if evaluated_in_run:
        return "in its run"
    if run_planned_checks and not run_finished:
        return "in its run, later"
    return "not checked"  # a run without them (a dbt-only selection), or one that ended before them


def _run_facts(instance: dg.DagsterInstance, run_id: str | None) -> tuple[bool, bool, bool]:
    run = instance.get_run_by_id(run_id) if run_id else None
    if run is None:  # a materialisation reported without a run
        return False, True, False
    planned = LAP_METRICS_KEY in (run.asset_selection or ()) and (
        run.asset_check_selection is None or bool(GOLD_EXPECTATION_KEYS & run.asset_check_selection)
    )
    evaluated = any(
        record.run_id == run_id and record.evaluation is not None
        for key in GOLD_EXPECTATION_KEYS
        for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    )
    return planned, run.is_finished, evaluated


@dg.sensor(
    job=gold_quality_checks_job,
    name="gold_built",
    description="Runs gold's Great Expectations checks after each materialisation of gold/lap_metrics "
    "whose own run did not run them.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
def gold_built(context: dg.SensorEvaluationContext):
    """One run per new materialisation of gold/lap_metrics (the newest, when several came since a tick)
    that its own run does not check.

    The cursor and the run key are the materialisation's storage id: an event log *record*'s, which the
    asset_sensor decorator hands its function only as the record's EventLogEntry (no storage id).
    """
    after = int(context.cursor) if context.cursor and context.cursor.isdigit() else None
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=LAP_METRICS_KEY, after_storage_id=after), ascending=False, limit=1
    ).records
    if not records:
        since = f"since event {after}" if after is not None else "yet"
        return dg.SkipReason(
            f"{LAP_METRICS_KEY.to_user_string()} has not been materialised {since}: nothing new to check"
        )
    latest = records[0]
    built = f"{LAP_METRICS_KEY.to_user_string()} (event {latest.storage_id}, run {latest.run_id[:8]})"
    checked = checked_by_its_run(*_run_facts(context.instance, latest.run_id))
    if checked == "in its run, later":  # the cursor stays: looked at again until that run ends
        return dg.SkipReason(f"{built}: its run checks it with Great Expectations after dbt")
    context.update_cursor(str(latest.storage_id))
    if checked == "in its run":
        return dg.SkipReason(f"{built}: checked by Great Expectations in its own run")
    return dg.RunRequest(
        run_key=f"lap_metrics-{latest.storage_id}",
        tags={"f1/lap_metrics_storage_id": str(latest.storage_id), "f1/lap_metrics_run": latest.run_id},
    )


def build(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        asset_checks=[BRONZE_SILVER_CHECKS, GOLD_CHECKS],
        jobs=[quality_checks_job, gold_quality_checks_job],
        sensors=[gold_built],
        schedules=[exclusive_schedule(quality_checks_job, settings.quality_check_cron)],
    )
