"""A real KRaft broker: topics from `f1 init`, and records produced and consumed."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import ConfigResource

from streaming.clients.kafka_admin import admin_client, create_topics
from streaming.contracts import topics
from streaming.contracts.topics import TopicSpec


def test_init_creates_platform_topics_with_partitions_and_retention(platform_settings):
    s = platform_settings
    first = create_topics(s)
    assert set(first) == {t.name for t in topics.platform_topics(s)}
    assert create_topics(s) == dict.fromkeys(first, "exists"), "init must be idempotent"

    admin = admin_client(s)
    metadata = admin.list_topics(timeout=10).topics
    assert len(metadata[topics.RAW_PROTOBUF].partitions) == s.kafka_topic_partitions
    assert len(metadata[topics.DLQ].partitions) == 1

    resources = [ConfigResource("topic", topics.SESSIONS), ConfigResource("topic", topics.DLQ)]
    configs = {r.name: f.result() for r, f in admin.describe_configs(resources).items()}
    assert configs[topics.SESSIONS]["cleanup.policy"].value == "compact"
    assert int(configs[topics.DLQ]["retention.ms"].value) == s.kafka_dlq_retention_hours * 3_600_000


def test_produce_and_consume_keyed_records(platform_settings):
    s = platform_settings
    topic = f"test.roundtrip.{uuid.uuid4().hex[:8]}"
    create_topics(s, [TopicSpec(topic, 3, {})])

    producer = Producer({"bootstrap.servers": s.kafka_bootstrap_servers, "enable.idempotence": True})
    sent = {(f"car-{car}", f"lap-{lap}") for car in range(1, 6) for lap in range(20)}
    for key, value in sorted(sent):
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": s.kafka_bootstrap_servers,
            "group.id": f"test-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    received, partition_of_key = set(), {}
    try:
        for _ in range(600):
            if len(received) == len(sent):
                break
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            key = msg.key().decode()
            received.add((key, msg.value().decode()))
            assert partition_of_key.setdefault(key, msg.partition()) == msg.partition()
    finally:
        consumer.close()
    assert received == sent
