"""Bad raw records for an end-to-end test, from the property test's generator (tests/contract_records.py).

`bad_records(template, schema_ids, seed)` derives them from one real event (`template`, a TelemetryEvent of
a live session and car, so that only the broken part decides the reason): every pinned edge of the
property test (`hand_made`, each with its one reason), and a few records Hypothesis draws from the same
generator as the property test (`outgoing`), kept when the contract forbids their change (`FORBIDDEN`,
with the reasons that may say so). The draw is seeded: the same seed gives the same records, so a failure
replays. Pure functions, no Kafka; `latest_event` and `send` are the Kafka side.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from streaming.contracts import telemetry_pb2 as pb
from streaming.contracts import topics
from tests.contract_records import Outgoing, forbidden_reasons, hand_made, outgoing, with_fresh_id

DRAWN = 6


class BadRecord(NamedTuple):
    topic: str
    key: bytes
    value: bytes
    reasons: frozenset[str]  # the quarantine reasons that may say what is wrong with it (one of them, once)
    change: str  # what was done to the template, as the generator says it


def draw_forbidden(
    template: pb.TelemetryEvent, schema_ids: Mapping[str, int], draw_seed: int, count: int = DRAWN
) -> list[Outgoing]:
    """`count` records the property test's generator draws from `template` whose change the contract
    forbids, deterministically for `draw_seed`."""
    strategy = st.lists(
        outgoing([with_fresh_id(template)], dict(schema_ids)).filter(
            # not a drawn event id: two bad records could claim one ("0"), and silver keeps one of them
            lambda o: (
                o.value
                and forbidden_reasons(o.change) is not None
                and not o.change.startswith("envelope.event_id=")
            )
        ),
        min_size=count,
        max_size=count,
    )
    drawn: list[list[Outgoing]] = []

    @settings(
        max_examples=1,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(draw_seed)
    @given(strategy)
    def take(records):
        drawn.append(records)

    take()
    return drawn[0]


def _topic(record: Outgoing) -> str:
    return topics.RAW_PROTOBUF if record.encoding == "protobuf" else topics.RAW_JSON


def bad_records(
    template: pb.TelemetryEvent, schema_ids: Mapping[str, int], draw_seed: int
) -> list[BadRecord]:
    """The property test's pinned edges and `DRAWN` drawn forbidden changes of `template`, each value once.

    `schema_ids`: {subject: id} of the registered contracts (`schema_ids(settings)`).
    """
    ids = dict(schema_ids)
    edges = [
        BadRecord(_topic(o), o.key, o.value, frozenset({reason}), o.change)
        for o, reason in hand_made(with_fresh_id(template), ids)
        if o.value  # a tombstone has no bytes to find it by in the quarantine
    ]
    drawn = [
        BadRecord(_topic(o), o.key, o.value, frozenset(forbidden_reasons(o.change)), o.change)
        for o in draw_forbidden(template, ids, draw_seed)
    ]
    unique: dict[tuple[str, bytes], BadRecord] = {}
    for record in [*edges, *drawn]:
        unique.setdefault((record.topic, record.value), record)
    return list(unique.values())


# -- Kafka -------------------------------------------------------------------------------------------------


def latest_event(settings, payload: str = "position", tail: int = 200, timeout_s: float = 30):
    """The newest event with a `payload` payload among the last `tail` records of each partition of the
    raw Protobuf topic, or None."""
    from confluent_kafka import Consumer, TopicPartition

    from streaming.contracts import unframe

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": f"bad-records-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topics.RAW_PROTOBUF, timeout=10).topics[topics.RAW_PROTOBUF]
        ends, assignment = {}, []
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topics.RAW_PROTOBUF, partition), 10)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(topics.RAW_PROTOBUF, partition, max(low, high - tail)))
        consumer.assign(assignment)
        newest, deadline = None, time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=1.0):
                if message.error():
                    continue
                if message.offset() + 1 >= ends.get(message.partition(), 0):
                    ends.pop(message.partition(), None)
                event = pb.TelemetryEvent.FromString(unframe(message.value())[1])
                if event.WhichOneof("payload") == payload and (
                    newest is None or event.event_time_unix_ns > newest.event_time_unix_ns
                ):
                    newest = event
        return newest
    finally:
        consumer.close()


def send(settings, records: Iterable[BadRecord]) -> list[tuple[str, int, int]]:
    """Produce `records` and wait for the broker's acknowledgements: [(topic, partition, offset)]."""
    from confluent_kafka import Producer

    delivered, errors = [], []

    def on_delivery(error, message):
        if error is not None:
            errors.append(error)
        else:
            delivered.append((message.topic(), message.partition(), message.offset()))

    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap_servers, "acks": "all"})
    for record in records:
        producer.produce(record.topic, record.value, record.key, on_delivery=on_delivery)
    remaining = producer.flush(30)
    assert remaining == 0 and not errors, f"bad records not delivered: {remaining} pending, errors {errors}"
    return delivered
