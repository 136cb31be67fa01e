"""The code location's Definitions, merged from one module per integration.

So far: the Kafka topics the platform owns, as external assets. The streaming jobs and sensors,
Delta tables, dbt gold models and quality checks plug in here as they land.
"""

from __future__ import annotations

import dagster as dg

from f1_assets.kafka.assets import kafka_topic_specs

defs = dg.Definitions(assets=kafka_topic_specs())
