"""Maintenance: the Delta compaction and vacuum job, on MAINTENANCE_CRON."""

from __future__ import annotations

import dagster as dg

from f1_assets.maintenance.jobs import delta_maintenance
from f1_assets.schedules import exclusive_schedule
from streaming.settings import Settings


def build(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        jobs=[delta_maintenance], schedules=[exclusive_schedule(delta_maintenance, settings.maintenance_cron)]
    )
