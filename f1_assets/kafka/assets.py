"""The platform's Kafka topics as asset specs (kind `kafka`): the raw topics are the lineage graph's roots.

The enriched topic is written by the silver stream and the dead-letter topic by bronze, so they hang below
those tables.
"""

from __future__ import annotations

import dagster as dg

from f1_assets.keys import table_asset_key, topic_asset_key
from streaming.contracts import topics
from streaming.jobs import bronze, silver

_DESCRIPTIONS = {
    topics.RAW_PROTOBUF: "Raw telemetry events, Protobuf (Confluent wire format), keyed by car number.",
    topics.RAW_JSON: "Raw telemetry events, JSON Schema (Confluent wire format), keyed by car number.",
    topics.SESSIONS: "Session metadata (circuit, session type, entry list); compacted, latest per session.",
    topics.ENRICHED: "Validated, enriched events re-streamed for live consumers.",
    topics.DLQ: "Records that could not be decoded at all, kept for replay.",
}
_WRITTEN_FROM = {
    topics.ENRICHED: [table_asset_key(silver.SILVER_TABLE)],
    topics.DLQ: [table_asset_key(bronze.TABLE)],
}


def kafka_topic_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            topic_asset_key(topic),
            description=description,
            deps=_WRITTEN_FROM.get(topic, []),
            kinds={"kafka"},
            group_name="kafka",
            metadata={"topic": topic},
        )
        for topic, description in _DESCRIPTIONS.items()
    ]
