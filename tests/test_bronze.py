"""Bronze on a real broker, registry, Spark and Delta: every record lands once, undecodable ones too."""

from __future__ import annotations

import time
import uuid

from pyspark.sql import functions as F

from streaming.clients.catalog import create_databases
from streaming.clients.kafka_admin import create_topics
from streaming.clients.registration import register_contracts
from streaming.contracts import topics
from streaming.contracts.topics import TopicSpec
from streaming.jobs import TxnAppId, bronze, lake
from streaming.jobs.appends import BatchAppends
from streaming.jobs.silver import SilverBatch
from streaming.simulator.faults import FaultRates
from streaming.simulator.race import RaceConfig
from streaming.simulator.runner import KafkaSink, simulate


def _topic_rows(spark, topic: str):
    return spark.table(bronze.TABLE).where(F.col("kafka_topic") == topic)


def test_bronze_lands_every_record_once_with_decode_errors(platform_settings, spark, tmp_path):
    s = platform_settings
    create_topics(s)
    ids = register_contracts(s)
    create_databases(s)
    start_ns = time.time_ns() - 900 * 10**9
    suffix = uuid.uuid4().hex[:6]
    proto_topic, json_topic = f"t{suffix}.{topics.RAW_PROTOBUF}", f"t{suffix}.{topics.RAW_JSON}"
    create_topics(s, [TopicSpec(proto_topic, 3, {}), TopicSpec(json_topic, 3, {})])
    proto = simulate(
        RaceConfig(cars=2, laps=1, seed=301, start_time_ns=start_ns),
        ids,
        KafkaSink(s.kafka_bootstrap_servers),
        speed=0,
        faults=FaultRates(truncated=0.002, wrong_schema_id=0.002, duplicate=0.002),
        truth_path=tmp_path / "proto.json",
        topic=proto_topic,
    )
    as_json = simulate(
        RaceConfig(cars=2, laps=1, seed=302, start_time_ns=start_ns),
        ids,
        KafkaSink(s.kafka_bootstrap_servers),
        speed=0,
        encoding="json",
        faults=FaultRates(bad_json=0.002),
        truth_path=tmp_path / "json.json",
        topic=json_topic,
    )

    app_id = f"bronze-test-{uuid.uuid4().hex[:6]}"
    checkpoint = str(tmp_path / "checkpoint")
    subscribe = [proto_topic, json_topic]

    def drain(at: str) -> None:
        lake.start(
            spark,
            s,
            available_now=True,
            checkpoint=at,
            app_id=app_id,
            subscribe=subscribe,
            enriched_topic=None,
        ).awaitTermination()

    drain(checkpoint)

    for result, encoding, topic in ((proto, "protobuf", proto_topic), (as_json, "json", json_topic)):
        rows = _topic_rows(spark, topic)
        # Every record that went to the raw topic is in bronze: duplicates and broken ones included.
        assert rows.count() == result.records_sent - 1, encoding  # minus the session-metadata record
        assert rows.where(F.col("encoding") != encoding).count() == 0
        decoded = rows.where("decode_error IS NULL")
        assert decoded.select("event_id").distinct().count() >= result.events * 0.99
        types = {r.event_type for r in decoded.select("event_type").distinct().collect()}
        assert {"position", "dynamics", "power_unit", "tire", "aerodynamics", "system"} <= types
        row = decoded.where("event_type = 'dynamics'").first()
        assert row.session_id == result.session_id and row.dynamics.speed_kmh is not None
        assert row.event_time is not None and row.session_date == row.event_time.date()
    proto_rows = _topic_rows(spark, proto_topic)
    assert proto_rows.where("decode_error IS NOT NULL").count() >= 1  # truncated records
    assert proto_rows.where(f"schema_id = {ids['f1.telemetry.raw-value']}").count() < proto.records_sent - 1
    json_errors = (
        _topic_rows(spark, json_topic)
        .where("decode_reason = 'undecodable' AND decode_error LIKE 'malformed JSON%'")
        .count()
    )
    assert json_errors >= 1

    # Exactly once: running again from the checkpoint adds nothing; so does replaying a batch id.
    before = spark.table(bronze.TABLE).count()
    drain(checkpoint)
    assert spark.table(bronze.TABLE).count() == before
    replay = spark.table(bronze.TABLE).limit(5)
    # batch 0 was committed under this query's app id already
    SilverBatch.append(replay, bronze.TABLE, 0, BatchAppends(spark, TxnAppId(spark, app_id, checkpoint)))
    assert spark.table(bronze.TABLE).count() == before

    # A new checkpoint under the same query name is a new writer: its batches 0, 1, ... land (the raw
    # topics once more), not taken for the old checkpoint's
    in_topics = sum(_topic_rows(spark, topic).count() for topic in subscribe)
    drain(f"{checkpoint}-new")
    assert spark.table(bronze.TABLE).count() == before + in_topics
