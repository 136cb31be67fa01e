"""Quality: Great Expectations suites as asset checks: bronze and silver on QUALITY_CHECK_CRON, gold after
each build of gold.lap_metrics (an asset sensor)."""

from __future__ import annotations

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


@dg.sensor(
    job=gold_quality_checks_job,
    name="gold_built",
    description="Runs gold's Great Expectations checks after each materialisation of gold/lap_metrics.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
def gold_built(context: dg.SensorEvaluationContext):
    """One run per new materialisation of gold/lap_metrics (the newest, when several came since a tick).

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
    context.update_cursor(str(latest.storage_id))
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
