"""The platform's Kafka topics as external asset specs (kind `kafka`), the roots of the lineage graph."""

from __future__ import annotations

import dagster as dg

from streaming import topics

_DESCRIPTIONS = {
    topics.RAW_PROTOBUF: "Raw telemetry events, Protobuf (Confluent wire format), keyed by car number.",
    topics.RAW_JSON: "Raw telemetry events, JSON Schema (Confluent wire format), keyed by car number.",
    topics.SESSIONS: "Session metadata (circuit, session type, entry list); compacted, latest per session.",
    topics.ENRICHED: "Validated, enriched events re-streamed for live consumers.",
    topics.DLQ: "Records that could not be decoded at all, kept for replay.",
}


def topic_asset_key(topic: str) -> dg.AssetKey:
    return dg.AssetKey(["kafka", *topic.split(".")])


def kafka_topic_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            topic_asset_key(topic),
            description=description,
            kinds={"kafka"},
            group_name="kafka",
            metadata={"topic": topic},
        )
        for topic, description in _DESCRIPTIONS.items()
    ]
