"""Test helper: read back from Kafka every raw event a simulated session sent."""

from __future__ import annotations

import uuid

from streaming import topics
from streaming.contracts import telemetry_pb2, unframe


def sent_event_ids(settings, session_id: str, topic: str = topics.RAW_PROTOBUF) -> list[str]:
    """Every event id of the session on the raw topic (repeats included), read back from Kafka."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": f"sent-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    ids, idle = [], 0
    try:
        while idle < 10:
            messages = consumer.consume(5000, timeout=1.0)
            idle = idle + 1 if not messages else 0
            for message in messages:
                event = telemetry_pb2.TelemetryEvent.FromString(unframe(message.value())[1])
                if event.session_id == session_id:
                    ids.append(event.event_id)
    finally:
        consumer.close()
    return ids
