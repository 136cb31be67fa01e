"""Asset keys of the platform's topics and tables, in one place: every integration names them the same way."""

from __future__ import annotations

import dagster as dg


def topic_asset_key(topic: str) -> dg.AssetKey:
    """f1.telemetry.raw → AssetKey(["kafka", "f1", "telemetry", "raw"])."""
    return dg.AssetKey(["kafka", *topic.split(".")])


def table_asset_key(table: str) -> dg.AssetKey:
    """bronze.telemetry → AssetKey(["bronze", "telemetry"]): the same key for dbt sources and checks."""
    return dg.AssetKey(table.split("."))
