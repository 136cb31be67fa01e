"""Gold: the dbt models as assets (dbt tests as asset checks), rebuilt by their automation condition."""

from __future__ import annotations

import dagster as dg

from f1_assets.gold.assets import dbt_resource, gold_dbt_models
from streaming.settings import Settings

# Evaluates the gold models' automation conditions (f1_assets/gold/automation.py) every minute. In the
# code server, not the asset daemon: the condition has a custom part (a blocking check's latest verdict,
# LatestCheckVerdict), which only the code location can evaluate.
gold_automation_sensor = dg.AutomationConditionSensorDefinition(
    "gold_automation",
    target=dg.AssetSelection.groups("gold"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    use_user_code_server=True,
    description="Requests the gold marts on GOLD_BUILD_CRON once silver changed, unless a parent's "
    "blocking check failed on its latest evaluation (see the evaluation tree of each tick for why not).",
)


def build(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[gold_dbt_models], sensors=[gold_automation_sensor], resources={"dbt": dbt_resource()}
    )
