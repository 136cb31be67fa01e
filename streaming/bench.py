"""`make bench`: throughput of the platform's Kafka clients against Kafka's own perf tools.

It starts a throwaway broker on free loopback ports (or uses the configured one with --use-running),
produces telemetry-sized keyed records with the same client settings the platform's producers use, reads
them back, and runs kafka-producer-perf-test / kafka-consumer-perf-test on the same broker as the
baseline. Each figure is printed on its own line with its unit; --json also writes them to a file.

Later benchmarks (simulator, bronze/silver pipeline, gold) add their figures here.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from streaming.jars import jar_set
from streaming.runtime.ephemeral import ephemeral_platform
from streaming.settings import Settings
from streaming.topics import TopicSpec, create_topics

# The producer settings of the platform's telemetry producers: durable, ordered per car, batched.
PRODUCER_CONFIG = {
    "acks": "all",
    "enable.idempotence": True,
    "compression.type": "lz4",
    "linger.ms": 5,
    "batch.size": 262144,
}
CARS = 50


def _payload(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


def bench_confluent_produce(s: Settings, topic: str, count: int, size: int) -> float:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": s.kafka_bootstrap_servers, **PRODUCER_CONFIG})
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
            "bootstrap.servers": s.kafka_bootstrap_servers,
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


def _kafka_tool(s: Settings, main_class: str, args: list[str]) -> str:
    cmd = [s.java, "-Xmx512m", "-cp", jar_set(s.f1_jvm_lib_dir, "kafka").classpath(), main_class, *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{main_class} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def bench_kafka_producer_perf_test(s: Settings, topic: str, count: int, size: int) -> float:
    props = [f"{k}={str(v).lower()}" for k, v in PRODUCER_CONFIG.items()]
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
    )
    final = [line for line in out.splitlines() if "records sent" in line][-1]
    return float(re.search(r"([\d.]+) records/sec", final).group(1))


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
        "ratio to kafka-producer-perf-test": produce / produce_baseline,
        "kafka consume (confluent-kafka)": consume,
        "kafka consume (kafka-consumer-perf-test)": consume_baseline,
        "ratio to kafka-consumer-perf-test": consume / consume_baseline,
    }


def _print(results: dict[str, float]) -> None:
    for name, value in results.items():
        if name.startswith("ratio"):
            print(f"{name}: {value:.2f}")
        else:
            print(f"{name}: {value:.0f} events/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="f1-bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=500_000, help="records per run")
    parser.add_argument("--record-size", type=int, default=200, help="bytes per record (a telemetry event)")
    parser.add_argument("--use-running", action="store_true", help="use the configured broker (make up)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    print(f"events per run: {args.events}")
    print(f"record size: {args.record_size} bytes")
    if args.use_running:
        results = run_kafka_benchmarks(Settings.from_env(), args.events, args.record_size)
    else:
        with (
            tempfile.TemporaryDirectory(prefix="f1-bench-") as state,
            ephemeral_platform(Path(state), ["kafka"], KAFKA_TOPIC_PARTITIONS="6") as settings,
        ):
            results = run_kafka_benchmarks(settings, args.events, args.record_size)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
