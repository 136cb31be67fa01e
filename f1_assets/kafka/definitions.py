"""Kafka: the platform's topics as assets, the roots of the lineage graph."""

from __future__ import annotations

import dagster as dg

from f1_assets.kafka.assets import kafka_topic_specs
from streaming.settings import Settings


def build(settings: Settings) -> dg.Definitions:
    return dg.Definitions(assets=kafka_topic_specs())
