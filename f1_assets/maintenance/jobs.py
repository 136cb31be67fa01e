"""Delta maintenance on a schedule (MAINTENANCE_CRON): compact and vacuum every bronze, silver and gold table.

Safe while the streams run (streaming/jobs/maintenance.py says why); each table's result is a
materialisation-free observation, so the asset graph shows when a table was last compacted.
"""

# No `from __future__ import annotations`: Dagster reads the op and sensor parameter types at runtime.

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from f1_assets.keys import table_asset_key
from f1_assets.resources import PlatformSettings
from streaming.clients.spark import require_metastore
from streaming.jobs.maintenance import DEFAULT_RETAIN_HOURS, maintain


class MaintenanceConfig(dg.Config):
    retain_hours: int = DEFAULT_RETAIN_HOURS
    tables: list[str] = []  # empty: every table


@dg.op(description="OPTIMIZE then VACUUM each Delta table of the platform.", tags={"kind": "delta"})
def compact_and_vacuum(
    context: dg.OpExecutionContext,
    config: MaintenanceConfig,
    platform: PlatformSettings,
    spark: LazyPySparkResource,
) -> None:
    require_metastore(platform.get())
    for result in maintain(spark.spark_session, config.tables or None, config.retain_hours):
        context.log.info(
            f"{result.table}: {result.files_removed} files compacted into {result.files_added}, "
            f"{result.vacuumed} vacuumed in {result.seconds:.1f} s"
        )
        context.log_event(
            dg.AssetObservation(
                table_asset_key(result.table),
                metadata={
                    "files_compacted": result.files_removed,
                    "files_written": result.files_added,
                    "files_vacuumed": result.vacuumed,
                    "maintenance_seconds": result.seconds,
                },
            )
        )


@dg.job(description="Compacts small files and vacuums old ones in every Delta table.")
def delta_maintenance():
    compact_and_vacuum()
