"""Bad raw records, each with the quarantine reason silver must give it (`streaming/jobs/validation.py`).

`bad_records(template, schema_ids)` derives them from one real event (`template`, a TelemetryEvent of a
live session and car, so that only the broken part decides the reason) and returns `BadRecord`s:
(topic, key, value bytes, expected reason code). Pure functions, no Kafka: a property-based test can call
them with generated templates. `latest_event` and `send` are the Kafka side, for an end-to-end test.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from streaming import topics
from streaming.contracts import TELEMETRY_JSON, TELEMETRY_PROTOBUF, frame
from streaming.contracts import telemetry_pb2 as pb
from streaming.simulator.encoding import message_to_json

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# No registry hands out an id this large to a new platform's handful of subjects.
UNREGISTERED_SCHEMA_ID = 987_654


class BadRecord(NamedTuple):
    topic: str
    key: bytes
    value: bytes
    reason: str  # the quarantine reason code (streaming.jobs.validation.REASONS)


def _copy(template: pb.TelemetryEvent, event_id: str, **fields) -> pb.TelemetryEvent:
    event = pb.TelemetryEvent()
    event.CopyFrom(template)
    event.event_id = event_id
    for name, value in fields.items():
        setattr(event, name, value)
    return event


def bad_records(
    template: pb.TelemetryEvent,
    schema_ids: Mapping[str, int],
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[BadRecord]:
    """The bad records derived from `template`, each with a fresh event id (`new_id`).

    `schema_ids`: {subject: id} of the registered telemetry contracts (`register_contracts`).
    """
    proto_id, json_id = schema_ids[TELEMETRY_PROTOBUF.subject], schema_ids[TELEMETRY_JSON.subject]
    key = str(template.car_number).encode()

    def proto(event: pb.TelemetryEvent, schema_id: int = proto_id) -> bytes:
        return frame(schema_id, event.SerializeToString())

    with_unknown_field = message_to_json(_copy(template, new_id()))
    with_unknown_field["firmware_build"] = "2026.8.1-beta"  # not in the contract
    return [
        # present but absurd event times, the smallest and largest int64: outside the times silver accepts
        # at all ([2000-01-01, 2200-01-01), checked before the session's and Kafka's times)
        BadRecord(
            topics.RAW_PROTOBUF,
            key,
            proto(_copy(template, new_id(), event_time_unix_ns=INT64_MIN)),
            "out_of_range",
        ),
        BadRecord(
            topics.RAW_PROTOBUF,
            key,
            proto(_copy(template, new_id(), event_time_unix_ns=INT64_MAX)),
            "out_of_range",
        ),
        # the wire header alone (magic byte and schema id): no message indexes, no message
        BadRecord(topics.RAW_PROTOBUF, key, proto(_copy(template, new_id()))[:5], "undecodable"),
        # a well-formed event framed with a schema id the registry never issued
        BadRecord(
            topics.RAW_PROTOBUF,
            key,
            proto(_copy(template, new_id()), UNREGISTERED_SCHEMA_ID),
            "unknown_schema_id",
        ),
        # a JSON event with a field its JSON Schema does not allow (additionalProperties: false)
        BadRecord(
            topics.RAW_JSON,
            key,
            frame(json_id, json.dumps(with_unknown_field, separators=(",", ":")).encode(), protobuf=False),
            "schema_violation",
        ),
    ]


def event_id_of(record: BadRecord) -> str | None:
    """The event id inside a record's value, when it decodes (None for the truncated one)."""
    if record.value[5:6] == b"{":
        return json.loads(record.value[5:])["event_id"]
    try:
        return pb.TelemetryEvent.FromString(record.value[6:]).event_id or None
    except Exception:  # noqa: BLE001 - truncated: nothing to decode
        return None


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
