"""`f1 simulate` and `f1 replay` against a real broker and registry: records land, replays are byte for
byte, and Ctrl-C stops cleanly with nothing half-sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

from confluent_kafka import Consumer, TopicPartition

from streaming.clients.kafka_admin import create_topics
from streaming.clients.registration import register_contracts
from streaming.contracts import session_pb2, topics, unframe
from streaming.settings import PROJECT_ROOT
from streaming.simulator.race import RaceConfig
from streaming.simulator.recording import read_recording
from streaming.simulator.runner import KafkaSink, replay, simulate

START_NS = 1_788_000_000_000_000_000


def _records(s, topic: str, session_id: bytes) -> list[tuple[bytes, bytes]]:
    """(key, value) of every record on `topic` that carries `session_id`, in partition order."""
    consumer = Consumer(
        {
            "bootstrap.servers": s.kafka_bootstrap_servers,
            "group.id": f"t-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    ends, start = {}, []
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        if high > low:
            ends[p] = high - 1
            start.append(TopicPartition(topic, p, low))
    consumer.assign(start)
    out = {p: [] for p in ends}
    deadline = time.monotonic() + 120
    while ends and time.monotonic() < deadline:
        for msg in consumer.consume(5000, timeout=1):
            if msg.error():
                continue
            if session_id in msg.value():
                out[msg.partition()].append((msg.key(), msg.value()))
            if msg.offset() >= ends.get(msg.partition(), float("inf")):
                ends.pop(msg.partition())
    consumer.close()
    assert not ends, f"partitions not read to the end: {ends}"
    return [record for p in sorted(out) for record in out[p]]


def test_simulate_into_kafka_then_replay_byte_for_byte(platform_settings, tmp_path):
    s = platform_settings
    create_topics(s)
    ids = register_contracts(s)
    config = RaceConfig(cars=4, laps=1, seed=101, start_time_ns=START_NS)
    recording = tmp_path / "race.f1rec"
    result = simulate(
        config,
        ids,
        KafkaSink(s.kafka_bootstrap_servers),
        speed=0,
        recording=recording,
        truth_path=tmp_path / "truth.json",
    )
    session = config.session_id.encode()
    sent = _records(s, topics.RAW_PROTOBUF, session)
    assert len(sent) == result.events == result.records_sent - 1  # + the session record

    [(key, value)] = [r for r in _records(s, topics.SESSIONS, session)]
    info = session_pb2.SessionInfo.FromString(unframe(value)[1])
    assert key == session and info.circuit_length_m == 5793 and len(info.entries) == 4
    assert unframe(value)[0] == ids["f1.sessions-value"]

    # Replay the recording into the same topic: the same records again, byte for byte, per car in order.
    header, records = read_recording(recording)
    assert header["schema_ids"] == ids
    replayed = replay(recording, KafkaSink(s.kafka_bootstrap_servers), speed=0, expected_schema_ids=ids)
    assert replayed == result.records_sent
    both = _records(s, topics.RAW_PROTOBUF, session)
    assert len(both) == 2 * len(sent)
    by_car = {}
    for key, value in both:
        by_car.setdefault(key, []).append(value)
    for values in by_car.values():
        half = len(values) // 2
        assert values[:half] == values[half:]
    recorded = [r.value for r in read_recording(recording)[1] if r.topic == topics.RAW_PROTOBUF]
    assert sorted(recorded) == sorted(v for _, v in sent)


def test_replay_refuses_a_registry_with_other_schema_ids(platform_settings, tmp_path):
    config = RaceConfig(cars=2, laps=1, seed=5, start_time_ns=START_NS)
    recording = tmp_path / "r.f1rec"
    fake = {"f1.telemetry.raw-value": 901, "f1.telemetry.raw.json-value": 902, "f1.sessions-value": 903}
    simulate(config, fake, None, speed=0, recording=recording)
    try:
        replay(
            recording,
            KafkaSink(platform_settings.kafka_bootstrap_servers),
            speed=0,
            expected_schema_ids=register_contracts(platform_settings),
        )
    except ValueError as error:
        assert "schema ids" in str(error)
    else:
        raise AssertionError("replay accepted mismatched schema ids")


def test_ctrl_c_stops_cleanly_with_nothing_half_sent(platform_settings, tmp_path):
    s = platform_settings
    create_topics(s)
    register_contracts(s)
    truth = tmp_path / "truth.json"
    cmd = [
        sys.executable,
        "-m",
        "streaming.cli",
        "simulate",
        "--cars",
        "20",
        "--laps",
        "3",
        "--seed",
        "77",
        "--speed",
        "1",
        "--start-time",
        "2026-09-06T13:00:00Z",
        "--truth",
        str(truth),
        "--quiet",
    ]
    env = {**os.environ, **s.as_env()}
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "stopped:" in out
    sent = int(out.split(" records,")[0].rsplit(" ", 1)[1].replace(",", ""))
    ground = json.loads(truth.read_text())
    assert ground["complete"] is False
    session = ground["session"]["session_id"].encode()
    # Everything the run counted as sent is in Kafka (the session record is on its own topic).
    assert len(_records(s, topics.RAW_PROTOBUF, session)) == sent - 1 == sum(ground["event_counts"].values())
