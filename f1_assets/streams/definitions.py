"""Streams: the bronze and silver tables as assets, the stream jobs and their keeper sensors."""

from __future__ import annotations

import dagster as dg

from f1_assets.streams.assets import stream_table_specs
from f1_assets.streams.jobs import STREAM_JOBS
from f1_assets.streams.sensors import STREAM_SENSORS
from streaming.settings import Settings


def build(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=stream_table_specs(), jobs=list(STREAM_JOBS.values()), sensors=STREAM_SENSORS
    )
