"""Real local Spark with the Delta and Kafka jars and the shared metastore."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

from confluent_kafka import Producer

from streaming.clients.catalog import DATABASES, create_databases
from streaming.clients.kafka_admin import create_topics
from streaming.contracts.topics import TopicSpec


def test_init_creates_the_medallion_databases(platform_settings, spark):
    assert create_databases(platform_settings) == DATABASES
    names = {row.namespace for row in spark.sql("SHOW DATABASES").collect()}
    assert set(DATABASES) <= names
    location = spark.sql("DESCRIBE DATABASE bronze").where("info_name = 'Location'").first().info_value
    assert location.rstrip("/").endswith("delta/bronze")


def test_delta_table_write_read_merge_and_time_travel(spark):
    spark.sql("CREATE DATABASE IF NOT EXISTS scratch")
    table = f"scratch.laps_{uuid.uuid4().hex[:8]}"
    spark.createDataFrame(
        [(1, 1, 92.1), (1, 2, 91.7), (44, 1, 92.4)], "car int, lap int, lap_s double"
    ).write.format("delta").saveAsTable(table)
    spark.sql(f"""
        MERGE INTO {table} t USING (SELECT 44 car, 1 lap, 92.0 lap_s UNION ALL SELECT 44, 2, 91.5) u
        ON t.car = u.car AND t.lap = u.lap
        WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *
    """)
    rows = {(r.car, r.lap): r.lap_s for r in spark.table(table).collect()}
    assert rows == {(1, 1): 92.1, (1, 2): 91.7, (44, 1): 92.0, (44, 2): 91.5}
    detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
    assert detail.format == "delta"
    assert spark.read.option("versionAsOf", 0).table(table).count() == 3


def test_spark_reads_records_from_the_test_broker(platform_settings, spark):
    s = platform_settings
    topic = f"test.spark.{uuid.uuid4().hex[:8]}"
    create_topics(s, [TopicSpec(topic, 2, {})])
    producer = Producer({"bootstrap.servers": s.kafka_bootstrap_servers})
    for i in range(10):
        producer.produce(topic, key=str(i % 3), value=f"event-{i}")
    assert producer.flush(30) == 0

    values = sorted(row.value.decode() for row in _read_topic(spark, s, topic).select("value").collect())
    assert values == sorted(f"event-{i}" for i in range(10))


def test_a_second_spark_process_shares_the_table_catalog(platform_settings, spark):
    """Embedded Derby would refuse a second JVM; the metastore server lets both in at once."""
    spark.sql("CREATE DATABASE IF NOT EXISTS scratch")
    table = f"scratch.shared_{uuid.uuid4().hex[:8]}"
    spark.range(7).write.format("delta").saveAsTable(table)

    script = textwrap.dedent(f"""
        from streaming.settings import Settings
        from streaming.clients.spark import get_spark
        spark = get_spark(Settings.from_env(), "f1-second-process")
        print("COUNT", spark.table("{table}").count())
        spark.range(5).write.format("delta").mode("append").saveAsTable("{table}")
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=platform_settings.as_env() | _path_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "COUNT 7" in result.stdout
    spark.catalog.refreshTable(table)
    assert spark.table(table).count() == 12


def _read_topic(spark, s, topic: str):
    """A batch read of a whole topic."""
    return (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", s.kafka_bootstrap_servers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
    )


def _path_env() -> dict[str, str]:
    import os

    return {k: os.environ[k] for k in ("PATH", "HOME", "JAVA_HOME") if k in os.environ}


def test_protobuf_records_decode_in_spark_to_what_the_json_encoding_reads_as(platform_settings, spark):
    """f1_protobuf_decode (our JVM function) gives, for each Protobuf record, the typed record that
    from_json reads the JSON encoding of the same event into: one struct, whichever topic it came by."""
    import json

    from pyspark.sql import functions as F

    from streaming.clients.registration import register_contracts
    from streaming.jobs.bronze import RECORD_SCHEMA
    from streaming.simulator.encoding import ProtobufBlockEncoder, message_to_json, messages
    from streaming.simulator.events import EventSource
    from streaming.simulator.race import Race, RaceConfig

    s = platform_settings
    ids = register_contracts(s)
    topic = f"test.decode.{uuid.uuid4().hex[:8]}"
    create_topics(s, [TopicSpec(topic, 2, {})])
    race = Race(RaceConfig(cars=3, laps=1, seed=4))
    source = EventSource(race)
    proto = ProtobufBlockEncoder(ids["f1.telemetry.raw-value"], race.config.session_id)
    texts = {}
    producer = Producer({"bootstrap.servers": s.kafka_bootstrap_servers})
    for _ in range(11):  # every event type, system events included
        for block in source.tick_blocks(race.tick_index, race.time_ns, race.tick()):
            for msg, value in zip(messages(block), proto.encode(block), strict=True):
                texts[msg.event_id] = json.dumps(message_to_json(msg))
                producer.produce(topic, value, str(msg.car_number).encode())
    producer.produce(topic, b"\x00\x00\x00\x00\x01\x00\x0a\xff", b"bad")  # truncated
    assert producer.flush(30) == 0

    decoded = _read_topic(spark, s, topic).select(F.expr("f1_protobuf_decode(value)").alias("record"))
    errors = decoded.where("record.__decode_error IS NOT NULL").select("record.*").collect()
    assert len(errors) == 1 and errors[0].event_id is None and "Exception" in errors[0]["__decode_error"]
    from_proto = {
        r.record.event_id: r.record.asDict(recursive=True)
        for r in decoded.where("record.__decode_error IS NULL").collect()
    }
    parsed = spark.createDataFrame(list(texts.items()), "event_id STRING, text STRING").select(
        "event_id", F.from_json("text", RECORD_SCHEMA).alias("record")
    )
    from_json = {r.event_id: r.record.asDict(recursive=True) for r in parsed.collect()}
    assert set(from_proto) == set(texts)
    assert from_proto == from_json  # field for field, typed, every event type
