"""Test helpers: read a topic back from Kafka, and every raw event a simulated session sent."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from streaming.contracts import telemetry_pb2, topics, unframe


def read_topic(settings, topic: str, where: Callable = lambda _: True, idle_polls: int = 10) -> list:
    """Every message of `topic` from its start for which `where(message)` holds, read until `idle_polls`
    polls of a second in a row found nothing new."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": f"read-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    found, idle = [], 0
    try:
        while idle < idle_polls:
            messages = consumer.consume(5000, timeout=1.0)
            idle = idle + 1 if not messages else 0
            found += [m for m in messages if m.error() is None and where(m)]
    finally:
        consumer.close()
    return found


def sent_event_ids(settings, session_id: str, topic: str = topics.RAW_PROTOBUF) -> list[str]:
    """Every event id of the session on the raw topic (repeats included), read back from Kafka."""
    messages = read_topic(settings, topic)
    events = (telemetry_pb2.TelemetryEvent.FromString(unframe(m.value())[1]) for m in messages)
    return [event.event_id for event in events if event.session_id == session_id]
