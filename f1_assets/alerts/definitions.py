"""Alerts: the sensor that turns asset-check and freshness transitions into alerts."""

from __future__ import annotations

import dagster as dg

from f1_assets.alerts.sensor import asset_alerts

defs = dg.Definitions(sensors=[asset_alerts])
