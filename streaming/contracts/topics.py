"""The platform's Kafka topics: names, partitions and retention (created by clients/kafka_admin.py)."""

from __future__ import annotations

from dataclasses import dataclass

from streaming.settings import Settings

RAW_PROTOBUF = "f1.telemetry.raw"
RAW_JSON = "f1.telemetry.raw.json"
SESSIONS = "f1.sessions"
ENRICHED = "f1.telemetry.enriched"
DLQ = "f1.telemetry.dlq"

_HOUR_MS = 3_600_000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def platform_topics(s: Settings) -> list[TopicSpec]:
    """Telemetry topics are keyed by car number; session metadata is compacted (latest per session)."""
    retention = {"retention.ms": str(s.kafka_retention_hours * _HOUR_MS), "cleanup.policy": "delete"}
    return [
        TopicSpec(RAW_PROTOBUF, s.kafka_topic_partitions, retention),
        TopicSpec(RAW_JSON, s.kafka_topic_partitions, retention),
        TopicSpec(ENRICHED, s.kafka_topic_partitions, retention),
        TopicSpec(
            DLQ, 1, {"retention.ms": str(s.kafka_dlq_retention_hours * _HOUR_MS), "cleanup.policy": "delete"}
        ),
        TopicSpec(SESSIONS, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}),
    ]
