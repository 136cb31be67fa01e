"""Kafka administration: a client on a reachable broker, and creating the platform's topics (`f1 init`)."""

from __future__ import annotations

from streaming.clients.security import kafka_config
from streaming.contracts.topics import TopicSpec, platform_topics
from streaming.errors import ServiceUnavailable
from streaming.settings import Settings


def admin_client(s: Settings):
    from confluent_kafka.admin import AdminClient

    return AdminClient({**kafka_config(s), "log_level": 0})


def require_kafka(s: Settings, timeout_s: float = 5.0):
    """An AdminClient on a reachable broker, or a ServiceUnavailable that says how to start one."""
    admin = admin_client(s)
    try:
        admin.list_topics(timeout=timeout_s)
    except Exception as error:
        raise ServiceUnavailable(
            "kafka", s.kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS", str(error)
        ) from None
    return admin


def create_topics(s: Settings, specs: list[TopicSpec] | None = None) -> dict[str, str]:
    """Create the topics that do not exist yet; returns {topic: 'created' | 'exists'}. Idempotent."""
    from confluent_kafka.admin import NewTopic

    admin = require_kafka(s)
    specs = platform_topics(s) if specs is None else specs
    existing = set(admin.list_topics(timeout=10).topics)
    result = {spec.name: "exists" for spec in specs if spec.name in existing}
    new = [
        NewTopic(
            spec.name,
            num_partitions=spec.partitions,
            replication_factor=s.kafka_replication_factor,
            config=spec.config,
        )
        for spec in specs
        if spec.name not in existing
    ]
    for name, future in (admin.create_topics(new, operation_timeout=30) if new else {}).items():
        future.result()
        result[name] = "created"
    return result
