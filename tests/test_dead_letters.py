"""Where the records that cannot go on end up, on a real Kafka, Spark and Delta: the dead-letter topic,
and a batch set aside after it kept failing in Spark.

- Every record bronze finds broken is copied to `f1.telemetry.dlq` with headers that trace it back: the
  reason and its detail, and the raw record's topic, partition, offset and timestamp. Read back from the
  raw topic at those coordinates, each is the very record, byte for byte.
- A lake batch that fails inside its Spark job (STREAM_FAULT_FAIL_BATCH_EVENT_ID_PREFIX: a JVM-side
  `raise_error` on a marked record) is tried STREAM_BATCH_TRIES times, then each of its records lands in
  the quarantine as `batch_failed`, with the error; the next batch goes to silver as usual.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

from confluent_kafka import Consumer, TopicPartition
from pyspark.sql import functions as F

from streaming.contracts import frame, telemetry_pb2, topics, unframe
from streaming.contracts.event_types import EVENT_TYPES
from streaming.jobs import bronze, silver
from streaming.simulator.race import RaceConfig
from tests.helpers import RaceLanding
from tests.kafka_events import read_topic


def _race(landing: RaceLanding, seed: int):
    """The session records and the first telemetry records of a short race that started a minute ago."""
    _, records = landing.simulate(
        RaceConfig(cars=2, laps=1, seed=seed, start_time_ns=time.time_ns() - 60 * 10**9)
    )
    sessions = [r for r in records if r.topic == topics.SESSIONS]
    events = [r for r in records if r.topic == topics.RAW_PROTOBUF]
    return sessions, events


def _with_event(record, event: telemetry_pb2.TelemetryEvent):
    schema_id = unframe(record.value)[0]
    return replace(record, value=frame(schema_id, event.SerializeToString()))


def _raw_record(settings, topic: str, partition: int, offset: int):
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap_servers, "group.id": f"trace-{uuid.uuid4().hex}"}
    )
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        message = consumer.poll(10)
        assert message is not None and message.error() is None, f"nothing at {topic}/{partition}/{offset}"
        return message
    finally:
        consumer.close()


def test_every_dead_letter_carries_headers_that_trace_back_to_its_raw_record(
    platform_settings, spark, tmp_path
):
    landing = RaceLanding(spark, platform_settings, tmp_path)
    sessions, events = _race(landing, seed=88)
    good = events[:50]
    mismatched = telemetry_pb2.TelemetryEvent.FromString(unframe(good[0].value)[1])
    mismatched.event_id = str(uuid.uuid4())
    mismatched.event_type = next(t for t in (1, 2, 3) if t != mismatched.event_type)
    schema_id = unframe(good[0].value)[0]
    broken = [
        replace(good[0], value=good[0].value[:5]),  # the wire header alone
        replace(good[0], value=b"\x01" + good[0].value[1:]),  # no Confluent magic byte
        replace(good[0], value=frame(schema_id, b"\xff\xff\xff")),  # bytes no message decodes from
        _with_event(good[0], mismatched),  # decodes, but its envelope's type is not its payload's
    ]
    landing.land([*sessions, *good, *broken])

    letters = read_topic(
        platform_settings,
        topics.DLQ,
        lambda m: dict(m.headers() or []).get("source_topic") == landing.topic.encode(),
    )
    assert sorted(m.value() for m in letters) == sorted(r.value for r in broken), "each broken record, once"
    landed = {
        (r.kafka_partition, r.kafka_offset): r
        for r in spark.table(bronze.TABLE).where(F.col("kafka_topic") == landing.topic).collect()
    }
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers()}
        assert set(headers) == set(bronze.DLQ_HEADERS), f"headers {sorted(headers)}"
        partition, offset = int(headers["source_partition"]), int(headers["source_offset"])
        raw = _raw_record(platform_settings, headers["source_topic"], partition, offset)
        assert raw.value() == letter.value() and raw.key() == letter.key(), "the raw record, byte for byte"
        assert int(headers["source_timestamp"]) == raw.timestamp()[1], "the raw record's Kafka timestamp"
        row = landed[(partition, offset)]
        assert headers["reason"] == row.decode_reason and headers["reason"] in (
            "undecodable",
            "event_type_mismatch",
        ), headers
        assert headers["detail"] and headers["detail"] == row.decode_error, headers


def test_a_batch_failing_in_spark_is_quarantined_as_batch_failed_and_the_stream_moves_on(
    platform_settings, spark, tmp_path, capfd
):
    prefix = f"fault-{uuid.uuid4().hex[:6]}"
    s = replace(platform_settings, stream_fault_fail_batch_event_id_prefix=prefix, stream_batch_tries=2)
    landing = RaceLanding(spark, s, tmp_path)
    sessions, events = _race(landing, seed=89)
    first, later = events[:40], events[40:80]
    marked = telemetry_pb2.TelemetryEvent.FromString(unframe(first[-1].value)[1])
    marked.event_id = f"{prefix}-1"
    poisoned = [*first[:-1], _with_event(first[-1], marked)]

    landing.land([*sessions, *poisoned])
    tries = [line for line in capfd.readouterr().out.splitlines() if "of a batch failed" in line]
    assert [t.split(": try ")[1][:6] for t in tries if t.startswith("lake")] == ["1 of 2", "2 of 2"], tries
    assert all("injected fault" in t for t in tries), tries

    quarantine = spark.table(silver.QUARANTINE_TABLE).where(F.col("kafka_topic") == landing.topic)
    set_aside = quarantine.select("reason", "reason_detail", "raw_value").collect()
    assert {r.reason for r in set_aside} == {"batch_failed"}
    assert sorted(bytes(r.raw_value) for r in set_aside) == sorted(r.value for r in poisoned), "every record"
    assert all("injected fault" in r.reason_detail and prefix in r.reason_detail for r in set_aside)

    landing.land(later)  # the stream goes on: the next batch lands in silver
    in_silver = sum(
        spark.table(silver.table_name(t)).where(F.col("kafka_topic") == landing.topic).count()
        for t in EVENT_TYPES
    )
    assert in_silver == len(later)
    assert quarantine.count() == len(poisoned), "nothing of the later batch set aside"
