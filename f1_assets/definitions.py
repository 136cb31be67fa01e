"""The code location's Definitions (workspace.yaml), merged from one module per integration.

- kafka: the platform's topics as assets;
- streams: bronze/silver Delta tables as assets, stream jobs, stream keeper sensors;
- quality: Great Expectations 1.x suites as asset checks on bronze and silver;
- gold: the dbt project's models as assets, dbt tests as asset checks;
- alerts: one alert per asset-check or freshness transition, to the log and a webhook;
- maintenance: scheduled Delta compaction and vacuum.

Resources are chosen per environment (F1_ENV) from the platform's settings (f1_assets/resources.py).
"""

from __future__ import annotations

import dagster as dg

from f1_assets.alerts import definitions as alerts
from f1_assets.gold import definitions as gold
from f1_assets.kafka import definitions as kafka
from f1_assets.maintenance import definitions as maintenance
from f1_assets.quality import definitions as quality
from f1_assets.resources import resources_for
from f1_assets.streams import definitions as streams
from streaming.settings import Settings

# Each integration's definitions module has the same entry point: build(settings) -> dg.Definitions.
INTEGRATIONS = (kafka, streams, gold, quality, alerts, maintenance)


def build_definitions(settings: Settings, environ: dict[str, str] | None = None) -> dg.Definitions:
    """Every integration's definitions with the resources of `settings` (`environ`: see resources_for)."""
    return dg.Definitions.merge(
        *(integration.build(settings) for integration in INTEGRATIONS),
        # The asset jobs (gold's dbt build and the GX checks riding along) run their steps in the run
        # worker: a process per step cost ~50 s on two busy cores between dbt and the checks.
        dg.Definitions(resources=resources_for(settings, environ), executor=dg.in_process_executor),
    )


defs = build_definitions(Settings.from_env())
