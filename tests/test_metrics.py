"""The streaming jobs' Prometheus exporter and alert rules.

A real streaming query (Kafka in, foreachBatch out) runs with the listener and exporter, and the exporter
is scraped over HTTP; the alert rules are checked and unit-tested with promtool and loaded by the test
platform's Prometheus. The offset, checkpoint-age and listener logic is also tested on its own, without
Spark, with PySpark's real event classes.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from confluent_kafka import Producer
from prometheus_client.parser import text_string_to_metric_families
from pyspark.sql import functions as F
from pyspark.sql.streaming.listener import (
    QueryIdleEvent,
    QueryProgressEvent,
    QueryStartedEvent,
    QueryTerminatedEvent,
    StreamingQueryProgress,
)

from streaming.clients.kafka_admin import create_topics
from streaming.contracts.topics import TopicSpec
from streaming.errors import ConfigError
from streaming.observability import metrics as stream_metrics
from streaming.observability.metrics import (
    LAG_QUANTILES,
    MetricsListener,
    StreamMetrics,
    kafka_offsets_behind,
    offset_lag,
    start_exporter,
)
from streaming.runtime.ephemeral import free_port
from streaming.runtime.services import SERVICES
from streaming.settings import PROJECT_ROOT

PROMETHEUS_DIR = PROJECT_ROOT / "monitoring" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts.test.yml"

# Every metric the exporter serves for a query, as sample names.
PER_QUERY_SAMPLES = (
    "f1_streaming_lag_seconds",
    "f1_kafka_offset_lag_records",
    "f1_processing_latency_seconds",
    "f1_batch_duration_seconds_bucket",
    "f1_batch_duration_seconds_count",
    "f1_batch_duration_seconds_sum",
    "f1_validation_failure_rate",
    "f1_checkpoint_age_seconds",
    "f1_input_rows_per_second",
    "f1_processed_rows_per_second",
    "f1_input_rows_total",
    "f1_batches_total",
    "f1_records_total",
    "f1_quarantined_records_total",
    "f1_stream_up",
    "f1_stream_starts_total",
    "f1_last_batch_id",
)


# --- Alert rules -------------------------------------------------------------------------------------------


def _promtool() -> str:
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: it comes with Debian's prometheus package (`make install-system`)"
    return promtool


def test_alert_rules_are_valid():
    result = subprocess.run([_promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_their_promtool_unit_tests():
    result = subprocess.run([_promtool(), "test", "rules", str(ALERTS_TEST)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_not_firing():
    alerts = {
        rule["alert"] for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    }
    cases = [
        case for test in yaml.safe_load(ALERTS_TEST.read_text())["tests"] for case in test["alert_rule_test"]
    ]
    firing = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert alerts == firing == silent


def test_the_local_prometheus_loads_the_alert_rules(platform_settings):
    url = f"http://127.0.0.1:{platform_settings.prometheus_port}/api/v1/rules"
    with urllib.request.urlopen(url, timeout=10) as response:
        groups = {group["name"]: group for group in json.load(response)["data"]["groups"]}
    assert "f1-streaming" in groups, f"rule groups loaded: {sorted(groups)}"
    group = groups["f1-streaming"]
    assert Path(group["file"]) == SERVICES["prometheus"].alert_rules.resolve()
    expected = {rule["alert"] for rule in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]}
    assert {rule["name"] for rule in group["rules"]} == expected
    assert all(rule["type"] == "alerting" and not rule.get("lastError") for rule in group["rules"])


# --- A real query, scraped over HTTP -----------------------------------------------------------------------


class _RecordingListener(MetricsListener):
    """The real listener, which also keeps what it saw of one query, to compare the export against."""

    def __init__(self, metrics: StreamMetrics, query: str):
        super().__init__(metrics)
        self.query = query
        self.progress: list[StreamingQueryProgress] = []
        # The offset-lag gauge right after each of the query's progress events.
        self.offset_lag_after: list[float] = []
        self.errors: list[BaseException] = []

    def onQueryProgress(self, event):
        try:
            super().onQueryProgress(event)
            if event.progress.name == self.query:
                gauge = self.metrics.registry.get_sample_value(
                    "f1_kafka_offset_lag_records", {"query": self.query}
                )
                self.offset_lag_after.append(gauge)
                self.progress.append(event.progress)
        except BaseException as error:  # surfaced by the test: Spark would only log it
            self.errors.append(error)
            raise


def _scrape(port: int) -> dict[tuple[str, frozenset], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def _wait_for(condition, what: str, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_real_query_is_exported_with_every_metric(platform_settings, spark, tmp_path):
    s = platform_settings
    records = 100
    topic = f"test.metrics.{uuid.uuid4().hex[:8]}"
    create_topics(s, [TopicSpec(topic, 3, {})])
    producer = Producer({"bootstrap.servers": s.kafka_bootstrap_servers})
    for n in range(records):
        producer.produce(topic, key=str(n % 7), value=str(n))
    assert producer.flush(30) == 0

    query_name = f"metrics_test_{uuid.uuid4().hex[:6]}"
    metrics = StreamMetrics()
    listener = _RecordingListener(metrics, query_name)
    port = free_port()
    server = start_exporter(metrics, port)
    outcomes: list[dict] = []

    def validate(batch, batch_id):
        """A stand-in for silver's validation: n % 10 == 0 fails, n % 10 == 5 is a duplicate."""
        rows = batch.select(
            F.col("value").cast("string").cast("int").alias("n"), F.unix_millis("timestamp").alias("ms")
        ).collect()
        numbers = [row.n for row in rows]
        now_ms = time.time() * 1000
        lags = sorted((now_ms - row.ms) / 1000 for row in rows)
        outcome = dict(
            input_rows=len(rows),
            valid=sum(n % 5 != 0 for n in numbers),
            quarantined=sum(n % 10 == 0 for n in numbers),
            duplicates=sum(n % 10 == 5 for n in numbers),
            reasons={
                "out_of_range": sum(n % 20 == 0 for n in numbers),
                "missing_field": sum(n % 20 == 10 for n in numbers),
            },
            lag_seconds={
                "0.5": lags[len(lags) // 2],
                "0.99": lags[int(0.99 * (len(lags) - 1))],
                "1": lags[-1],
            }
            if lags
            else None,
        )
        metrics.record_batch_outcome(query_name, **outcome)
        outcomes.append(outcome)

    spark.streams.addListener(listener)
    query = None
    try:
        query = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", s.kafka_bootstrap_servers)
            .option("subscribe", topic)
            .option("startingOffsets", "earliest")
            # Several batches, each leaving records behind: the offset lag is measurable.
            .option("maxOffsetsPerTrigger", "30")
            .load()
            .writeStream.queryName(query_name)
            .option("checkpointLocation", str(tmp_path / "checkpoint"))
            .trigger(processingTime="0.5 seconds")
            .foreachBatch(validate)
            .start()
        )

        def progressed_through_everything() -> bool:
            if query.exception():
                raise AssertionError(f"the query failed: {query.exception()}")
            return sum(p.numInputRows for p in listener.progress) >= records

        _wait_for(progressed_through_everything, "the query to read every record")
        during = _scrape(port)
        query.stop()
        # The listener bus delivers events in order: once up is 0, every progress event has been seen.
        _wait_for(lambda: _value(_scrape(port), "f1_stream_up", query=query_name) == 0, "f1_stream_up == 0")

        since = metrics.checkpoint_age_since(query_name)
        before = time.time()
        samples = _scrape(port)
        after = time.time()
    finally:
        spark.streams.removeListener(listener)
        if query is not None and query.isActive:
            query.stop()
        server.shutdown()
        server.server_close()

    assert not listener.errors
    q = query_name
    progress = listener.progress
    for name in PER_QUERY_SAMPLES:
        assert any(key[0] == name and ("query", q) in key[1] for key in samples), f"{name} is not exported"

    # Liveness: it ran, once, and has stopped.
    assert _value(during, "f1_stream_up", query=q) == 1
    assert _value(samples, "f1_stream_up", query=q) == 0
    assert _value(samples, "f1_stream_starts_total", query=q) == 1

    # Progress: every batch and record, and the last batch's figures.
    assert len(progress) >= 2
    assert _value(samples, "f1_batches_total", query=q) == len(progress)
    assert _value(samples, "f1_input_rows_total", query=q) == records
    last = progress[-1]
    assert _value(samples, "f1_last_batch_id", query=q) == last.batchId
    assert _value(samples, "f1_processing_latency_seconds", query=q) == last.batchDuration / 1000
    assert _value(samples, "f1_input_rows_per_second", query=q) == pytest.approx(last.inputRowsPerSecond)
    assert _value(samples, "f1_processed_rows_per_second", query=q) == pytest.approx(
        last.processedRowsPerSecond
    )
    assert _value(samples, "f1_processed_rows_per_second", query=q) > 0
    assert _value(samples, "f1_batch_duration_seconds_count", query=q) == len(progress)
    assert _value(samples, "f1_batch_duration_seconds_sum", query=q) == pytest.approx(
        sum(p.batchDuration for p in progress) / 1000
    )
    assert _value(samples, "f1_batch_duration_seconds_bucket", query=q, le="+Inf") == len(progress)

    # Kafka offset lag: all records were produced before the start, so after each batch the query is
    # behind by what it has not read yet, and caught up at the end.
    read_so_far = 0
    for p, lag in zip(progress, listener.offset_lag_after, strict=True):
        read_so_far += p.numInputRows
        assert lag == records - read_so_far
    assert max(listener.offset_lag_after) > 0
    assert _value(samples, "f1_kafka_offset_lag_records", query=q) == 0

    # What foreachBatch recorded.
    assert sum(o["input_rows"] for o in outcomes) == records
    assert _value(samples, "f1_records_total", query=q, outcome="valid") == 80
    assert _value(samples, "f1_records_total", query=q, outcome="quarantined") == 10
    assert _value(samples, "f1_records_total", query=q, outcome="duplicate") == 10
    assert _value(samples, "f1_quarantined_records_total", query=q, reason="out_of_range") == 5
    assert _value(samples, "f1_quarantined_records_total", query=q, reason="missing_field") == 5
    last_outcome = outcomes[-1]
    failure_rate = _value(samples, "f1_validation_failure_rate", query=q)
    assert 0 <= failure_rate <= 1
    assert failure_rate == last_outcome["quarantined"] / last_outcome["input_rows"]
    lag = {
        quantile: _value(samples, "f1_streaming_lag_seconds", query=q, quantile=quantile)
        for quantile in LAG_QUANTILES
    }
    assert lag == last_outcome["lag_seconds"]
    assert 0 <= lag["0.5"] <= lag["0.99"] <= lag["1"]

    # Checkpoint age: measured at scrape time from the listener's own timestamp of the query's last
    # completed batch (or a later idle trigger), which is when the last batch was committed, or later.
    last_committed = datetime.fromisoformat(last.timestamp).timestamp() + last.batchDuration / 1000
    assert last_committed <= since <= before
    age = _value(samples, "f1_checkpoint_age_seconds", query=q)
    assert before - since - 1e-6 <= age <= after - since + 1e-6


def test_install_is_idempotent_and_uninstall_frees_the_port(platform_settings, spark):
    s = dataclasses.replace(platform_settings, metrics_exporter_port=free_port())
    try:
        first = stream_metrics.install(spark, s)
        assert stream_metrics.install(spark, s) is first
        # No query has run yet: no stream figure to report, only the driver JVM's own (heap, GC, CPU)
        scraped = _scrape(s.metrics_exporter_port)
        streams = {name for name, _ in scraped if name.startswith("f1_")}
        assert not streams, streams
        assert {name for name, _ in scraped} >= {"jvm_memory_used_bytes", "process_cpu_seconds_total"}
    finally:
        stream_metrics.uninstall()
    # The exporter is gone, and its port can be used again.
    server = start_exporter(StreamMetrics(), s.metrics_exporter_port)
    server.shutdown()
    server.server_close()


def test_a_taken_exporter_port_names_the_setting():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"METRICS_EXPORTER_PORT={port}.*already in use"):
            start_exporter(StreamMetrics(), port)


# --- Pure logic, without Spark -----------------------------------------------------------------------------


def test_kafka_offsets_behind_sums_latest_minus_end_over_partitions():
    end = json.dumps({"raw": {"0": 10, "1": 20}, "raw.json": {"0": 5}})
    latest = json.dumps({"raw": {"0": 15, "1": 20}, "raw.json": {"0": 8}})
    assert kafka_offsets_behind(end, latest) == 5 + 0 + 3
    # A partition only one side knows, and Kafka's -1/-2 markers, are not positions: they do not count.
    assert (
        kafka_offsets_behind(
            json.dumps({"t": {"0": 1, "1": -1}}), json.dumps({"t": {"0": 4, "1": 9, "2": 7}})
        )
        == 3
    )
    # Spark Connect's str() of the parsed offsets is a Python literal, not JSON.
    assert kafka_offsets_behind(str({"t": {"0": 1}}), str({"t": {"0": 6}})) == 5


@pytest.mark.parametrize("missing", [None, "None", "null", "", "not json", "5", '{"sourceVersion": 1}'])
def test_kafka_offsets_behind_is_none_without_kafka_offsets(missing):
    assert kafka_offsets_behind(missing, json.dumps({"t": {"0": 4}})) is None
    assert kafka_offsets_behind(json.dumps({"t": {"0": 4}}), missing) is None


def test_offset_lag_counts_kafka_sources_only():
    kafka = {
        "description": "KafkaV2[Subscribe[f1.telemetry.raw]]",
        "endOffset": json.dumps({"f1.telemetry.raw": {"0": 100, "1": 50}}),
        "latestOffset": json.dumps({"f1.telemetry.raw": {"0": 130, "1": 60}}),
        "metrics": {"avgOffsetsBehindLatest": "20.0", "maxOffsetsBehindLatest": "30"},
    }
    # Spark reports a Delta source's offsets as JSON too, but not per-partition Kafka ones.
    delta = {
        "description": "DeltaSource[file:/tmp/bronze]",
        "endOffset": json.dumps({"sourceVersion": 1, "reservoirVersion": 7, "index": -1}),
        "latestOffset": "None",
        "metrics": {},
    }
    rate = {
        "description": "RateStreamV2[rowsPerSecond=1]",
        "endOffset": "5",
        "latestOffset": "9",
        "metrics": {},
    }
    assert offset_lag([kafka, delta, rate]) == 40
    assert offset_lag([delta, rate]) == 0
    assert offset_lag([]) == 0
    # Without its latest offsets, a Kafka source's own average (per partition) estimates the lag.
    assert offset_lag([{**kafka, "latestOffset": "None"}]) == 40
    assert offset_lag([{**kafka, "latestOffset": "None", "metrics": {}}]) == 0


class _Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _age(metrics: StreamMetrics, query: str) -> float:
    return metrics.registry.get_sample_value("f1_checkpoint_age_seconds", {"query": query})


def test_checkpoint_age_counts_from_the_last_batch_and_idle_triggers_refresh_it():
    clock = _Clock(1000.0)
    metrics = StreamMetrics(clock=clock)
    metrics.query_started("silver", started_at=1000.0)
    clock.now = 1030.0
    assert _age(metrics, "silver") == 30  # no batch yet: from the start

    batch = dict(
        duration_seconds=2.0, input_rows=10, input_rows_per_second=5.0, processed_rows_per_second=5.0
    )
    metrics.batch_completed("silver", batch_id=0, completed_at=1040.0, offsets_behind=0, **batch)
    clock.now = 1100.0
    assert _age(metrics, "silver") == 60

    # Idle: the trigger loop ran and found nothing new to read. Not stale.
    metrics.query_idle("silver", idle_at=1095.0)
    assert _age(metrics, "silver") == 5
    # An event delivered late never moves the base backwards.
    metrics.batch_completed("silver", batch_id=1, completed_at=1090.0, offsets_behind=0, **batch)
    assert _age(metrics, "silver") == 5

    # Stuck or dead: nothing refreshes it, the age grows.
    metrics.query_terminated("silver")
    clock.now = 1500.0
    assert _age(metrics, "silver") == 405
    # A restart counts from its own start.
    metrics.query_started("silver", started_at=1490.0)
    assert _age(metrics, "silver") == 10
    assert metrics.registry.get_sample_value("f1_stream_starts_total", {"query": "silver"}) == 2


def test_record_batch_outcome():
    metrics = StreamMetrics()
    value = metrics.registry.get_sample_value
    lag = {"0.5": 0.4, "0.99": 2.5, "1": 3.0}
    metrics.record_batch_outcome(
        "silver", input_rows=200, valid=190, quarantined=6, duplicates=4, reasons={"late": 6}, lag_seconds=lag
    )
    assert value("f1_validation_failure_rate", {"query": "silver"}) == 0.03
    assert value("f1_records_total", {"query": "silver", "outcome": "duplicate"}) == 4
    assert value("f1_quarantined_records_total", {"query": "silver", "reason": "late"}) == 6
    assert value("f1_streaming_lag_seconds", {"query": "silver", "quantile": "0.99"}) == 2.5

    # An empty batch: no failures, and no lag measured, so the last measurement stays.
    metrics.record_batch_outcome(
        "silver", input_rows=0, valid=0, quarantined=0, duplicates=0, reasons={}, lag_seconds=None
    )
    assert value("f1_validation_failure_rate", {"query": "silver"}) == 0
    assert value("f1_streaming_lag_seconds", {"query": "silver", "quantile": "0.99"}) == 2.5
    # Bronze quarantines nothing; its series exist all the same.
    metrics.record_batch_outcome(
        "bronze", input_rows=5, valid=5, quarantined=0, duplicates=0, reasons={}, lag_seconds=None
    )
    assert value("f1_records_total", {"query": "bronze", "outcome": "quarantined"}) == 0
    # Outcomes alone say nothing of a query's progress: only what the listener saw has a checkpoint age.
    assert value("f1_checkpoint_age_seconds", {"query": "bronze"}) is None

    with pytest.raises(ValueError, match="lag_seconds"):
        metrics.record_batch_outcome(
            "silver", input_rows=1, valid=1, quarantined=0, duplicates=0, reasons={}, lag_seconds={"p99": 1.0}
        )
    with pytest.raises(ValueError, match="negative"):
        metrics.record_batch_outcome(
            "silver", input_rows=1, valid=-1, quarantined=0, duplicates=0, reasons={}, lag_seconds=None
        )
    assert value("f1_records_total", {"query": "silver", "outcome": "valid"}) == 190


def test_listener_labels_by_name_or_id_and_follows_a_query_through_its_life():
    metrics = StreamMetrics()
    listener = MetricsListener(metrics)
    value = metrics.registry.get_sample_value
    named, unnamed = (uuid.uuid4(), uuid.uuid4()), (uuid.uuid4(), uuid.uuid4())
    listener.onQueryStarted(QueryStartedEvent(*named, "bronze", "2025-05-01T12:00:00.000Z", set()))
    listener.onQueryStarted(QueryStartedEvent(*unnamed, None, "2025-05-01T12:00:00.000Z", set()))
    assert value("f1_stream_up", {"query": "bronze"}) == 1
    assert value("f1_stream_up", {"query": str(unnamed[0])}) == 1

    progress = StreamingQueryProgress.fromJson(
        {
            "id": str(named[0]),
            "runId": str(named[1]),
            "name": "bronze",
            "timestamp": "2025-05-01T12:00:05.000Z",
            "batchId": 7,
            "batchDuration": 1500,
            "durationMs": {"triggerExecution": 1500},
            "stateOperators": [],
            "sources": [
                {
                    "description": "KafkaV2[Subscribe[f1.telemetry.raw]]",
                    "startOffset": {"f1.telemetry.raw": {"0": 0}},
                    "endOffset": {"f1.telemetry.raw": {"0": 300}},
                    "latestOffset": {"f1.telemetry.raw": {"0": 420}},
                    "numInputRows": 300,
                    "inputRowsPerSecond": 60.0,
                    "processedRowsPerSecond": 200.0,
                    "metrics": {},
                }
            ],
            "sink": {"description": "ForeachBatchSink", "numOutputRows": -1, "metrics": {}},
            "numInputRows": 300,
            "inputRowsPerSecond": 60.0,
            "processedRowsPerSecond": 200.0,
        }
    )
    listener.onQueryProgress(QueryProgressEvent(progress))
    assert value("f1_last_batch_id", {"query": "bronze"}) == 7
    assert value("f1_processing_latency_seconds", {"query": "bronze"}) == 1.5
    assert value("f1_kafka_offset_lag_records", {"query": "bronze"}) == 120
    assert value("f1_input_rows_total", {"query": "bronze"}) == 300
    assert value("f1_batch_duration_seconds_bucket", {"query": "bronze", "le": "2.0"}) == 1
    assert value("f1_batch_duration_seconds_bucket", {"query": "bronze", "le": "1.0"}) == 0
    # Committed at 12:00:06.5: the start of the trigger plus its duration.
    assert metrics.checkpoint_age_since("bronze") == 1746100806.5

    listener.onQueryIdle(QueryIdleEvent(*named, "2025-05-01T12:00:20.000Z"))
    assert metrics.checkpoint_age_since("bronze") == 1746100820.0

    # The terminated event has no name: the listener remembers it from the start.
    listener.onQueryTerminated(QueryTerminatedEvent(*named, None, None))
    listener.onQueryTerminated(QueryTerminatedEvent(*unnamed, "boom", None))
    assert value("f1_stream_up", {"query": "bronze"}) == 0
    assert value("f1_stream_up", {"query": str(unnamed[0])}) == 0
