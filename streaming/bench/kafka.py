"""`f1 bench produce` and `f1 bench kafka`: the simulator's and confluent-kafka's throughput against
Kafka's own perf tools (kafka-producer-perf-test, kafka-consumer-perf-test), same records, same settings."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from streaming.clients.jars import jar_set
from streaming.clients.kafka_admin import create_topics
from streaming.clients.security import kafka_config, write_kafka_java_config
from streaming.contracts.topics import TopicSpec
from streaming.settings import Settings
from streaming.simulator.runner import PRODUCER_CONFIG

CARS = 50
ROUNDS = 2


def _payload(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


def bench_confluent_produce(s: Settings, topic: str, count: int, size: int) -> float:
    from confluent_kafka import Producer

    producer = Producer({**kafka_config(s), **PRODUCER_CONFIG})
    keys = [str(car).encode() for car in range(1, CARS + 1)]
    value = _payload(size)
    start = time.perf_counter()
    for i in range(count):
        while True:
            try:
                producer.produce(topic, key=keys[i % CARS], value=value)
                break
            except BufferError:  # local queue full: let the client deliver, then retry
                producer.poll(0.05)
        if i % 10000 == 0:
            producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError("producer did not deliver every record within 120 s")
    return count / (time.perf_counter() - start)


def bench_confluent_consume(s: Settings, topic: str, count: int) -> float:
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            **kafka_config(s),
            "group.id": f"bench-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen, start = 0, None
    deadline = time.monotonic() + 300
    try:
        while seen < count and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=10000, timeout=1.0)
            if batch and start is None:
                start = time.perf_counter()
            seen += sum(1 for msg in batch if not msg.error())
    finally:
        consumer.close()
    if seen < count:
        raise RuntimeError(f"consumed {seen} of {count} records within 300 s")
    return count / (time.perf_counter() - start)


def _kafka_tool(s: Settings, main_class: str, args: list[str], config_option: str) -> str:
    """Run one of Kafka's tools; `config_option` names its client properties file (the security profile)."""
    with tempfile.TemporaryDirectory(prefix="f1-bench-") as folder:
        config = [config_option, str(write_kafka_java_config(s, Path(folder)))]
        cmd = [s.java, "-Xmx512m", "-cp", jar_set(s.f1_jvm_lib_dir, "kafka").classpath(), main_class]
        result = subprocess.run([*cmd, *args, *config], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{main_class} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def bench_kafka_producer_perf_test(s: Settings, topic: str, count: int, size: int) -> float:
    props = [f"{k}={str(v).lower()}" for k, v in PRODUCER_CONFIG.items() if k in _JAVA_PRODUCER_KEYS]
    out = _kafka_tool(
        s,
        "org.apache.kafka.tools.ProducerPerformance",
        [
            "--topic",
            topic,
            "--num-records",
            str(count),
            "--record-size",
            str(size),
            "--throughput",
            "-1",
            "--producer-props",
            f"bootstrap.servers={s.kafka_bootstrap_servers}",
            *props,
        ],
        "--producer.config",
    )
    final = [line for line in out.splitlines() if "records sent" in line][-1]
    return float(re.search(r"([\d.]+) records/sec", final).group(1))


# The producer settings that the Java client shares with librdkafka.
_JAVA_PRODUCER_KEYS = {"acks", "enable.idempotence", "compression.type", "linger.ms", "batch.size"}


def bench_kafka_consumer_perf_test(s: Settings, topic: str, count: int) -> float:
    out = _kafka_tool(
        s,
        "org.apache.kafka.tools.ConsumerPerformance",
        [
            "--bootstrap-server",
            s.kafka_bootstrap_servers,
            "--topic",
            topic,
            "--messages",
            str(count),
            "--timeout",
            "60000",
        ],
        "--consumer.config",
    )
    lines = [line for line in out.splitlines() if line.strip()]
    header = [h.strip() for h in lines[-2].split(",")]
    values = [v.strip() for v in lines[-1].split(",")]
    return float(values[header.index("nMsg.sec")])


def run_kafka_benchmarks(s: Settings, count: int, size: int) -> dict[str, float]:
    ours, theirs = f"bench.ours.{uuid.uuid4().hex[:6]}", f"bench.baseline.{uuid.uuid4().hex[:6]}"
    create_topics(
        s, [TopicSpec(ours, s.kafka_topic_partitions, {}), TopicSpec(theirs, s.kafka_topic_partitions, {})]
    )
    produce = bench_confluent_produce(s, ours, count, size)
    produce_baseline = bench_kafka_producer_perf_test(s, theirs, count, size)
    consume = bench_confluent_consume(s, ours, count)
    consume_baseline = bench_kafka_consumer_perf_test(s, theirs, count)
    return {
        "kafka produce (confluent-kafka)": produce,
        "kafka produce (kafka-producer-perf-test)": produce_baseline,
        "confluent-kafka ratio to kafka-producer-perf-test": produce / produce_baseline,
        "kafka consume (confluent-kafka)": consume,
        "kafka consume (kafka-consumer-perf-test)": consume_baseline,
        "confluent-kafka ratio to kafka-consumer-perf-test": consume / consume_baseline,
    }


def run_produce_benchmark(s: Settings, cars: int, laps: int) -> dict[str, float]:
    """The simulator as fast as possible into Kafka, and Kafka's own tool with records of the same size."""
    from streaming.clients.kafka_admin import create_topics
    from streaming.clients.registration import register_contracts
    from streaming.simulator.race import RaceConfig
    from streaming.simulator.runner import KafkaSink, simulate

    create_topics(s)
    ids = register_contracts(s)
    config = RaceConfig(cars=cars, laps=laps, seed=2026)
    # The same race without a broker: what the simulator and encoder alone can generate.
    alone = simulate(config, ids, None, speed=0)
    baseline_topic = f"bench.perf.{uuid.uuid4().hex[:6]}"
    create_topics(s, [TopicSpec(baseline_topic, s.kafka_topic_partitions, {})])
    # Two rounds each, interleaved, best of each: on two shared cores single runs vary by a third, and
    # whichever runs first also warms the broker up.
    ours, baseline, result = 0.0, 0.0, None
    for _ in range(ROUNDS):
        run = simulate(config, ids, KafkaSink(s), speed=0)
        if run.records_sent / run.seconds > ours:
            ours, result = run.records_sent / run.seconds, run
        record_size = round(run.bytes_sent / run.records_sent)
        count = min(run.records_sent, 1_000_000)
        baseline = max(baseline, bench_kafka_producer_perf_test(s, baseline_topic, count, record_size))
    return {
        "simulated events": float(result.events),
        "average record size": float(record_size),
        "simulator generate+encode, no broker (protobuf, 1 process)": alone.records_sent / alone.seconds,
        "simulator produce (protobuf, 50 Hz physics, 1 process)": ours,
        "simulator produce throughput": result.bytes_sent / result.seconds / 1e6,
        "kafka-producer-perf-test (same record size and settings)": baseline,
        "simulator ratio to kafka-producer-perf-test": ours / baseline,
    }
