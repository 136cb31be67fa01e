"""The dbt project's models as assets (`@dbt_assets`): lineage silver → staging → gold marts.

The translator maps dbt's silver sources onto the silver table assets the streams materialise (so the
UI draws silver → gold), puts every model in the `gold` group with kinds dbt/spark/delta, and gives the
marts their freshness policy and automation condition (f1_assets/gold/automation.py). dbt tests become
asset checks. dbt runs as `dbt build` in a subprocess (dagster-dbt's DbtCliResource) with the
platform's Spark configuration in its environment (streaming.clients.dbt.dbt_env): while the streams run it
sends its SQL to the Spark SQL server of their driver (streaming/jobs/sql_server.py) and starts no Spark;
otherwise the session method starts Spark there, on the shared table catalog.
"""

# No `from __future__ import annotations`: Dagster reads the op parameter types at runtime.

import fcntl
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from f1_assets.gold.automation import GOLD_FRESHNESS, gold_automation
from f1_assets.keys import table_asset_key
from f1_assets.resources import PlatformSettings
from streaming.clients.dbt import DBT_PROJECT_DIR, STREAMS_TARGET, dbt_env, gold_target


def _manifest_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    sources = (p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in (".sql", ".yml", ".yaml"))
    return any(p.stat().st_mtime > built for p in sources if not {"target", "logs"} & set(p.parts))


def dbt_project() -> DbtProject:
    """The project, with a manifest no older than its models (`dbt parse`, which needs no Spark).

    Not dagster-dbt's prepare_if_dev: every run worker of `dagster dev` loads this module, and the
    stream runs would parse the project (seconds, into one target folder) each time they start.
    """
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    lock_path = DBT_PROJECT_DIR / "target" / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # processes loading the code location at once parse once
        if _manifest_stale(project):
            project.preparer.prepare(project)
    return project


class GoldTranslator(DagsterDbtTranslator):
    """Silver sources are the streams' table assets; models live in the `gold` group."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return table_asset_key(f"{dbt_resource_props['source_name']}.{dbt_resource_props['name']}")
        schema = dbt_resource_props.get("schema") or "gold"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "gold"

    def _is_mart(self, dbt_resource_props: Mapping[str, Any]) -> bool:
        return dbt_resource_props["resource_type"] == "model" and "marts" in dbt_resource_props.get("fqn", [])

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        # Every model follows the cron once silver changed, the staging views too: a mart reads them, and a
        # new platform has none until they are built (a mart built alone failed: TABLE_OR_VIEW_NOT_FOUND
        # gold_staging.stg_position). A view's rebuild is one DDL statement in the same dbt run.
        return gold_automation()

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] != "model":
            return spec
        if not self._is_mart(props):
            return spec.merge_attributes(kinds={"spark"})  # staging: views over silver
        # A mart reads silver through views, which are never materialised: it depends on those silver
        # tables itself, so that its automation sees silver change and waits for silver's blocking checks.
        silver = {
            self.get_asset_spec(manifest, source_id, project).key
            for parent_id in props.get("depends_on", {}).get("nodes", [])
            if parent_id.startswith("model.") and not self._is_mart(manifest["nodes"][parent_id])
            for source_id in manifest["nodes"][parent_id].get("depends_on", {}).get("nodes", [])
            if source_id.startswith("source.")
        }
        deps = [*spec.deps, *(dg.AssetDep(key) for key in sorted(silver, key=str))]
        return spec.replace_attributes(deps=deps, freshness_policy=GOLD_FRESHNESS).merge_attributes(
            kinds={"spark", "delta"}
        )


TRANSLATOR = GoldTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
DBT_PROJECT = dbt_project()


# The project's default selector (dbt/selectors.yml): without it dagster-dbt selects `fqn:*`, and every
# build re-ran the silver_scan tests, full scans of silver (unique event ids: a shuffle of every row of
# the race): 87 nodes instead of 44, most of a build's time as silver grows.
GOLD_SELECTOR = "gold"


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    dagster_dbt_translator=TRANSLATOR,
    name="gold_dbt_models",
    selector=GOLD_SELECTOR,
)
def gold_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, platform: PlatformSettings):
    # the dbt subprocess inherits this environment: the platform's Spark configuration and SQL port
    settings = platform.get()
    os.environ.update(dbt_env(settings))
    target = gold_target(settings)
    where = "the streams' Spark SQL server" if target == STREAMS_TARGET else "a Spark of its own"
    context.log.info(f"dbt build on target {target}: {where}")
    yield from dbt.cli(["build", "--target", target], context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT_DIR))
