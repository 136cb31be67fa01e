"""The fast tier's one real-service test: a few records through Kafka, bronze and silver on a real Spark.

A two-car race's first seconds go to a raw topic of this test's own on the session's real broker, then
through the real bronze and silver jobs (available-now) into the Delta tables. Every event lands in
bronze, and in silver's table of its event type once, enriched with its session's driver; a record with
a field out of range lands in the quarantine with its reason instead. If this passes, the wiring between
the contracts, the registry, Kafka, Spark, Delta and the catalog holds; `make test` checks the rest.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import replace

import pytest
from pyspark.sql import functions as F

from streaming.contracts import frame, telemetry_pb2, topics, unframe
from streaming.jobs import bronze, silver
from streaming.simulator.race import RaceConfig
from tests.helpers import RaceLanding

pytestmark = pytest.mark.smoke
FIRST_EVENTS = 300


def test_a_few_records_through_kafka_bronze_and_silver(platform_settings, spark, tmp_path):
    landing = RaceLanding(spark, platform_settings, tmp_path)
    _, records = landing.simulate(
        RaceConfig(cars=2, laps=1, seed=77, start_time_ns=time.time_ns() - 120 * 10**9)
    )
    sessions = [r for r in records if r.topic == topics.SESSIONS]
    events = [r for r in records if r.topic == topics.RAW_PROTOBUF][:FIRST_EVENTS]
    good = [telemetry_pb2.TelemetryEvent.FromString(unframe(r.value)[1]) for r in events]
    # one record broken the way a faulty sensor breaks it: a speed no car reaches
    broken = telemetry_pb2.TelemetryEvent()
    broken.CopyFrom(next(e for e in good if e.WhichOneof("payload") == "dynamics"))
    broken.event_id = str(uuid.uuid4())  # an event of its own
    broken.dynamics.speed_kmh = 5000.0
    schema_id = unframe(events[0].value)[0]
    bad = replace(events[0], key=b"99", value=frame(schema_id, broken.SerializeToString()))

    landing.land([*sessions, *events, bad])

    in_bronze = spark.table(bronze.TABLE).where(F.col("kafka_topic") == landing.topic)
    assert in_bronze.count() == len(events) + 1, "bronze lands every record"
    wanted = Counter(e.WhichOneof("payload") for e in good)
    for event_type, count in wanted.items():
        rows = spark.table(silver.table_name(event_type)).where(F.col("kafka_topic") == landing.topic)
        assert rows.count() == count, f"silver.{event_type}: {rows.count()} rows, wanted {count}"
        assert rows.where(F.col("driver_name").isNull()).count() == 0, f"silver.{event_type} not enriched"
    quarantined = (
        spark.table(silver.QUARANTINE_TABLE)
        .where(F.col("kafka_topic") == landing.topic)
        .select("event_id", "reason")
        .collect()
    )
    assert [(r.event_id, r.reason) for r in quarantined] == [(broken.event_id, "out_of_range")]
