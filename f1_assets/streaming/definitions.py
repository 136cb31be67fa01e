"""Streaming: the Kafka topics and Delta tables as assets, the stream jobs and their keeper sensors."""

from __future__ import annotations

import dagster as dg

from f1_assets.kafka.assets import kafka_topic_specs
from f1_assets.streaming.assets import stream_table_specs
from f1_assets.streaming.jobs import STREAM_JOBS
from f1_assets.streaming.sensors import STREAM_SENSORS

defs = dg.Definitions(
    assets=[*kafka_topic_specs(), *stream_table_specs()],
    jobs=list(STREAM_JOBS.values()),
    sensors=STREAM_SENSORS,
)
