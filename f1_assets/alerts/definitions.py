"""Alerts: the sensor that turns asset-check and freshness transitions into alerts."""

from __future__ import annotations

import dagster as dg

from f1_assets.alerts.sensor import asset_alerts
from streaming.settings import Settings


def build(settings: Settings) -> dg.Definitions:
    return dg.Definitions(sensors=[asset_alerts])
