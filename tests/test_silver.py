"""Silver on a real broker, registry, Spark and Delta: every record is accounted for, once.

A simulated race with every kind of fault goes through the lake query (bronze and silver in one batch).
Each record that came in ends up in exactly one place: a silver table, the quarantine (with the reason the
fault calls for), or dropped as a duplicate of a record that is already in one of those.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace

import pytest
from pyspark.sql import functions as F

from streaming.clients.catalog import create_databases
from streaming.clients.kafka_admin import create_topics
from streaming.clients.registration import register_contracts
from streaming.contracts import topics
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.topics import TopicSpec
from streaming.jobs import bronze, silver
from streaming.simulator.faults import FaultRates
from streaming.simulator.race import RaceConfig
from streaming.simulator.runner import KafkaSink, simulate
from tests.helpers import drain

INVALID_FAULTS = {
    "wrong_schema_id": {"unknown_schema_id"},
    "out_of_range": {"out_of_range"},
    "missing_field": {"missing_field"},
    "clock_skew": {"future_timestamp", "before_session"},
}


def silver_events(spark, topic_names):
    frames = [
        spark.table(silver.table_name(t)).where(F.col("kafka_topic").isin(topic_names)) for t in EVENT_TYPES
    ]
    result = None
    for event_type, frame in zip(EVENT_TYPES, frames, strict=True):
        part = frame.select(
            "event_id",
            "session_id",
            "driver_code",
            "driver_name",
            "team",
            "circuit",
            "session_type",
            "session_date",
        ).withColumn("event_type", F.lit(event_type))
        result = part if result is None else result.unionByName(part)
    return result


@pytest.fixture(scope="module")
def race(platform_settings, spark, tmp_path_factory):
    """Two simulated sessions with faults (Protobuf and JSON), landed in bronze and silver."""
    tmp = tmp_path_factory.mktemp("silver")
    s = replace(
        platform_settings,
        stream_max_offsets_per_trigger=6000,  # many small batches: lateness, repeats across batches
        silver_allowed_lateness_seconds=20,
    )
    create_topics(s)
    ids = register_contracts(s)
    create_databases(s)
    suffix = uuid.uuid4().hex[:6]
    proto_topic, json_topic = f"s{suffix}.{topics.RAW_PROTOBUF}", f"s{suffix}.{topics.RAW_JSON}"
    enriched_topic = f"s{suffix}.{topics.ENRICHED}"
    create_topics(s, [TopicSpec(name, 3, {}) for name in (proto_topic, json_topic, enriched_topic)])
    start_ns = time.time_ns() - 3600 * 10**9
    proto = simulate(
        RaceConfig(cars=2, laps=2, seed=411, start_time_ns=start_ns),
        ids,
        KafkaSink(s.kafka_bootstrap_servers),
        speed=0,
        faults=FaultRates(
            duplicate=0.004,
            out_of_order=0.004,
            late=0.002,
            truncated=0.001,
            wrong_schema_id=0.001,
            out_of_range=0.002,
            missing_field=0.002,
            clock_skew=0.001,
        ),
        truth_path=tmp / "proto.json",
        topic=proto_topic,
    )
    as_json = simulate(
        RaceConfig(cars=1, laps=1, seed=412, start_time_ns=start_ns),
        ids,
        KafkaSink(s.kafka_bootstrap_servers),
        speed=0,
        encoding="json",
        faults=FaultRates(bad_json=0.002, missing_field=0.002, duplicate=0.004),
        truth_path=tmp / "json.json",
        topic=json_topic,
    )
    run = uuid.uuid4().hex[:6]
    outcomes = []
    drain(
        spark,
        s,
        tmp / "lake",
        f"lake-{run}",
        subscribe=[proto_topic, json_topic],
        enriched_topic=enriched_topic,
        on_outcome=outcomes.append,
    )
    for outcome in outcomes:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.step_seconds.items())
        print(f"silver batch {outcome.batch_id}: {outcome.input_rows} rows; {steps}")
    return {
        "settings": s,
        "tmp": tmp,
        "run": run,
        "topics": [proto_topic, json_topic],
        "enriched_topic": enriched_topic,
        "proto": proto,
        "json": as_json,
        "truth": {
            "proto": json.loads((tmp / "proto.json").read_text()),
            "json": json.loads((tmp / "json.json").read_text()),
        },
        "outcomes": outcomes,
    }


def test_every_record_is_in_silver_quarantine_or_a_duplicate(spark, race):
    names = race["topics"]
    came_in = spark.table(bronze.TABLE).where(F.col("kafka_topic").isin(names))
    distinct_records = came_in.select(silver.dedup_key()).distinct().count()
    in_silver = silver_events(spark, names)
    in_quarantine = spark.table(silver.QUARANTINE_TABLE).where(F.col("kafka_topic").isin(names))
    silver_count, quarantine_count = in_silver.count(), in_quarantine.count()
    # invalid + valid + duplicates = what came in
    duplicates = came_in.count() - distinct_records
    assert silver_count + quarantine_count + duplicates == came_in.count()
    assert duplicates >= 1
    # nothing twice: event ids are unique across the silver tables
    assert in_silver.select("event_id").distinct().count() == silver_count
    # the micro-batches say the same
    outcomes = race["outcomes"]
    assert len(outcomes) > 3
    assert sum(o.input_rows for o in outcomes) == came_in.count()
    assert sum(o.valid_total for o in outcomes) == silver_count
    assert sum(o.quarantined_total for o in outcomes) == quarantine_count
    assert sum(o.replayed_duplicates for o in outcomes) == duplicates


def test_faults_are_quarantined_with_their_reasons(spark, race):
    names = race["topics"]
    quarantine = spark.table(silver.QUARANTINE_TABLE).where(F.col("kafka_topic").isin(names))
    reasons = {r.event_id: r.reason for r in quarantine.where("event_id IS NOT NULL").collect()}
    by_reason = {r.reason: r["count"] for r in quarantine.groupBy("reason").count().collect()}
    proto_faults = race["truth"]["proto"]["faults"]
    json_faults = race["truth"]["json"]["faults"]
    for fault, expected in INVALID_FAULTS.items():
        for event_id in proto_faults["event_ids"][fault]:
            if event_id in reasons:
                assert reasons[event_id] in expected, (fault, event_id, reasons[event_id])
    for fault in ("wrong_schema_id", "out_of_range", "clock_skew"):
        assert proto_faults["counts"][fault] >= 1, fault
        assert all(e in reasons for e in proto_faults["event_ids"][fault]), fault
    # Half a Protobuf record sometimes still parses (cut at a field boundary): a message without its
    # payload, quarantined as missing_field; every other truncated or bad-JSON record is undecodable.
    partial = {e for e in proto_faults["event_ids"]["truncated"] if reasons.get(e) == "missing_field"}
    assert by_reason.get("missing_field") == proto_faults["counts"]["missing_field"] + len(partial)
    # In the JSON encoding a required field left out breaks the registered JSON Schema itself.
    assert json_faults["counts"]["missing_field"] >= 1
    assert by_reason.get("schema_violation") == json_faults["counts"]["missing_field"]
    undecodable = proto_faults["counts"]["truncated"] + json_faults["counts"]["bad_json"]
    assert undecodable >= 2 and by_reason.get("undecodable") == undecodable - len(partial)
    # late events: quarantined as late unless they were within the allowed lateness when they came
    in_silver = {r.event_id for r in silver_events(spark, names).select("event_id").collect()}
    late_ids = proto_faults["event_ids"]["late"]
    assert late_ids and all(e in in_silver or reasons.get(e) == "late" for e in late_ids)
    assert by_reason.get("late", 0) >= 1
    late_quarantined = {e for e, r in reasons.items() if r == "late"}
    assert late_quarantined <= set(late_ids) | set(proto_faults["event_ids"]["out_of_order"])


def test_valid_events_are_all_in_silver_enriched(spark, race):
    names = race["topics"]
    in_silver = silver_events(spark, names)
    for key in ("proto", "json"):
        result, truth = race[key], race["truth"][key]
        faults = truth["faults"]["counts"]
        invalid = sum(faults[f] for f in (*INVALID_FAULTS, "truncated", "bad_json"))
        quarantined_late = (
            spark.table(silver.QUARANTINE_TABLE)
            .where(F.col("kafka_topic").isin(names) & (F.col("reason") == "late"))
            .where(F.col("session_id") == result.session_id)
            .count()
        )
        rows = in_silver.where(F.col("session_id") == result.session_id)
        assert rows.count() == result.events - invalid - quarantined_late, key
        per_type = {r.event_type: r["count"] for r in rows.groupBy("event_type").count().collect()}
        assert set(per_type) == set(EVENT_TYPES)
        assert rows.where("driver_code IS NULL OR circuit IS NULL").count() == 0
        assert {r.session_type for r in rows.select("session_type").distinct().collect()} == {"RACE"}
    sessions = spark.table("silver.sessions").where(F.col("session_id") == race["proto"].session_id).collect()
    assert len(sessions) == 1 and len(sessions[0].entries) == 2


def test_accepted_events_are_re_streamed_enriched(platform_settings, spark, race):
    from streaming.contracts import decode_enriched, session_pb2

    records = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", platform_settings.kafka_bootstrap_servers)
        .option("subscribe", race["enriched_topic"])
        .option("startingOffsets", "earliest")
        .load()
        .select("key", "value")
        .collect()
    )
    in_silver = {r.event_id: r for r in silver_events(spark, race["topics"]).collect()}
    decoded = [decode_enriched(bytes(r.value)) for r in records]
    # every accepted event once (no crash here, so at-least-once is exactly once), nothing else
    assert sorted(m.event.event_id for m in decoded) == sorted(in_silver)
    for record, message in zip(records[:200], decoded[:200], strict=True):
        row = in_silver[message.event.event_id]
        assert record.key.decode() == str(message.event.car_number)
        assert message.session.driver_code == row.driver_code and message.session.circuit == row.circuit
        assert message.session.team == row.team and message.session.driver_name == row.driver_name
        assert (
            message.session.session_type == session_pb2.SESSION_TYPE_RACE and message.session.total_laps > 0
        )
        assert message.session.session_date == str(row.session_date)
        assert message.event.session_id == row.session_id and message.validated_time_unix_ns > 0


def test_rerun_and_replay_add_nothing_to_silver(platform_settings, spark, race):
    names, tmp, run, s = race["topics"], race["tmp"], race["run"], race["settings"]
    before = silver_events(spark, names).count()
    quarantined_before = spark.table(silver.QUARANTINE_TABLE).where(F.col("kafka_topic").isin(names)).count()
    # 1. the same query again from its checkpoint: nothing new
    drain(spark, s, tmp / "lake", f"lake-{run}", subscribe=names, enriched_topic=None)
    assert silver_events(spark, names).count() == before
    # 2. the whole session again through Kafka: bronze keeps every record, silver finds each event in
    # its own tables and adds nothing
    from streaming.clients.security import spark_kafka_options

    resent = spark.table(bronze.TABLE).where(F.col("kafka_topic") == names[0])
    bronze_before = resent.count()
    # sent again as they were (key and bytes) by Spark's Kafka sink: one job, not a Python call per record
    (
        resent.select(F.col("kafka_key").alias("key"), F.col("raw_value").alias("value"))
        .write.format("kafka")
        .options(**spark_kafka_options(platform_settings))
        .option("topic", names[0])
        .save()
    )
    drain(spark, s, tmp / "lake", f"lake-{run}", subscribe=names, enriched_topic=None)
    assert silver_events(spark, names).count() == before
    assert spark.table(bronze.TABLE).where(F.col("kafka_topic") == names[0]).count() == 2 * bronze_before
    # 3. a new checkpoint reads the topics from the start again: every event is found in silver itself
    drain(spark, s, tmp / "lake-new-checkpoint", f"lake-{run}-new", subscribe=names, enriched_topic=None)
    assert silver_events(spark, names).count() == before
    # the quarantine holds each rejected event once too (records without an event id are never repeats)
    quarantine = spark.table(silver.QUARANTINE_TABLE).where(F.col("kafka_topic").isin(names))
    with_ids = quarantine.where("event_id IS NOT NULL")
    assert with_ids.count() == with_ids.select("event_id").distinct().count()
    assert quarantine.where("event_id IS NULL").count() >= 1
    assert quarantine.count() >= quarantined_before


def test_maintenance_compacts_small_files_and_keeps_every_row(spark, race):
    from streaming.jobs.maintenance import maintain

    table = silver.SILVER_TABLE
    rows_before = spark.table(table).count()
    files_before = spark.sql(f"DESCRIBE DETAIL {table}").first().numFiles
    [result] = maintain(spark, [table])
    detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
    assert result.files_removed > result.files_added >= 1  # micro-batches left a file each
    assert detail.numFiles == files_before - result.files_removed + result.files_added
    assert spark.table(table).count() == rows_before
    last = spark.sql(f"DESCRIBE HISTORY {table} LIMIT 3").collect()
    assert {"OPTIMIZE", "VACUUM END"} <= {h.operation for h in last}
