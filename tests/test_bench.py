"""The benchmark code runs end to end on a real broker (small counts; figures are not asserted)."""

from __future__ import annotations

from streaming.bench.kafka import run_kafka_benchmarks, run_produce_benchmark


def test_kafka_benchmark_produces_every_figure(platform_settings):
    results = run_kafka_benchmarks(platform_settings, count=2000, size=200)
    assert set(results) == {
        "kafka produce (confluent-kafka)",
        "kafka produce (kafka-producer-perf-test)",
        "confluent-kafka ratio to kafka-producer-perf-test",
        "kafka consume (confluent-kafka)",
        "kafka consume (kafka-consumer-perf-test)",
        "confluent-kafka ratio to kafka-consumer-perf-test",
    }
    assert all(value > 0 for value in results.values())


def test_produce_benchmark_produces_every_figure(platform_settings):
    results = run_produce_benchmark(platform_settings, cars=4, laps=1)
    assert results["simulated events"] > 10_000
    assert 100 < results["average record size"] < 250
    assert all(value > 0 for value in results.values())
    assert "simulator ratio to kafka-producer-perf-test" in results
