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


@dg.asset_sensor(
    asset_key=table_asset_key(LAP_METRICS_TABLE),
    job=gold_quality_checks_job,
    name="gold_built",
    description="Runs gold's Great Expectations checks after each materialisation of gold/lap_metrics.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def gold_built(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    yield dg.RunRequest(run_key=str(asset_event.storage_id))


def build(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        asset_checks=[BRONZE_SILVER_CHECKS, GOLD_CHECKS],
        jobs=[quality_checks_job, gold_quality_checks_job],
        sensors=[gold_built],
        schedules=[exclusive_schedule(quality_checks_job, settings.quality_check_cron)],
    )
