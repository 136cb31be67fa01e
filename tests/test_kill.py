"""Exactly once under SIGKILL: the streams' driver is killed mid-batch, again and again, while a race streams.

`f1 stream run` (the lake query: bronze and silver from one micro-batch) runs as a real process; the test
kills its whole process group (the Python driver and Spark's JVM) with SIGKILL at random points, and right
after a micro-batch has started but before it committed, then restarts it. At the end every event the
simulator sent is in silver exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from streaming.clients.catalog import create_databases
from streaming.clients.kafka_admin import create_topics
from streaming.clients.registration import register_contracts
from streaming.contracts.event_types import EVENT_TYPES
from streaming.jobs import silver
from streaming.observability.metrics import scrape
from streaming.runtime.ephemeral import free_port
from streaming.settings import PROJECT_ROOT
from streaming.simulator.faults import FaultRates
from streaming.simulator.race import RaceConfig
from streaming.simulator.runner import KafkaSink, simulate
from tests.kafka_events import sent_event_ids

pytestmark = pytest.mark.e2e
KILLS = 4


def _stream_env(settings, checkpoints: Path) -> dict[str, str]:
    return {
        **os.environ,
        **settings.as_env(),
        "SPARK_CHECKPOINT_PATH": str(checkpoints),
        "METRICS_EXPORTER_PORT": str(free_port()),
        "SPARK_UI_PORT": str(free_port()),
        "STREAM_TRIGGER_SECONDS": "1",
        "SPARK_DRIVER_MEMORY": "2g",
    }


def _start(env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "streaming.cli", "stream", "run", *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the JVM is killed with it
    )


def _kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def _uncommitted_batch(checkpoint: Path) -> bool:
    """A micro-batch has been planned (offsets written) but not committed yet."""
    offsets, commits = checkpoint / "offsets", checkpoint / "commits"
    if not offsets.is_dir():
        return False
    planned = {p.name for p in offsets.iterdir() if p.name.isdigit()}
    done = {p.name for p in commits.iterdir() if p.name.isdigit()} if commits.is_dir() else set()
    return bool(planned - done)


def _wait_for(condition, timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return False


def _check_live_metrics(port: str) -> None:
    """After real batches, every metric of the lake query is exported with a sane value."""

    def value(name: str, query: str, **labels: str) -> float:
        key = (name, tuple(sorted({"query": query, **labels}.items())))
        assert key in scraped, f"{name} {labels} of {query} is not exported"
        return scraped[key]

    scraped = {}

    def landed() -> bool:
        # silver's outcome is recorded inside its batch, the progress event just after it
        scraped.update(scrape(int(port)))
        batches = scraped.get(("f1_batches_total", (("query", "lake"),)), 0)
        return value_or_zero(scraped, "lake") > 0 and batches >= 1

    ready = _wait_for(landed, 240, 1.0)
    assert ready, "silver landed nothing while the streams ran"
    for query in ("lake",):
        assert value("f1_stream_up", query) == 1
        assert value("f1_stream_starts_total", query) == 1
        assert value("f1_batches_total", query) >= 1
        assert value("f1_input_rows_total", query) > 0
        assert value("f1_processing_latency_seconds", query) > 0
        assert value("f1_batch_duration_seconds_count", query) >= 1
        assert value("f1_checkpoint_age_seconds", query) >= 0
        assert value("f1_input_rows_per_second", query) >= 0
        assert value("f1_processed_rows_per_second", query) >= 0
        assert value("f1_kafka_offset_lag_records", query) >= 0
        assert value("f1_last_batch_id", query) >= 0
    assert 0 <= value("f1_validation_failure_rate", "lake") <= 1
    assert value("f1_records_total", "lake", outcome="quarantined") >= 0
    for quantile in ("0.5", "0.99", "1"):
        assert value("f1_streaming_lag_seconds", "lake", quantile=quantile) > 0
    assert value("f1_streaming_lag_seconds", "lake", quantile="0.5") <= value(
        "f1_streaming_lag_seconds", "lake", quantile="1"
    )


def value_or_zero(scraped: dict, query: str) -> float:
    return scraped.get(("f1_records_total", (("outcome", "valid"), ("query", query))), 0.0)


def test_sigkill_mid_batch_loses_and_duplicates_nothing(platform_settings, spark, tmp_path):
    s = platform_settings
    create_topics(s)
    ids = register_contracts(s)
    create_databases(s)
    env = _stream_env(s, tmp_path / "checkpoints")
    log = tmp_path / "streams.log"
    rng = random.Random(7)

    # a 3-car race at 2x real time, with duplicates, streaming while the driver is killed
    config = RaceConfig(cars=3, laps=2, seed=913, start_time_ns=time.time_ns() - 3600 * 10**9)
    race = threading.Thread(
        target=simulate,
        args=(config, ids, KafkaSink(s.kafka_bootstrap_servers)),
        kwargs={"speed": 2, "faults": FaultRates(duplicate=0.01), "truth_path": tmp_path / "truth.json"},
    )
    race.start()
    kills = []
    try:
        for attempt in range(KILLS):
            process = _start(env, log)
            assert _wait_for(lambda: (tmp_path / "checkpoints" / "lake" / "commits").is_dir(), 240), (
                log.read_text()[-3000:]
            )
            if attempt == 0:
                _check_live_metrics(env["METRICS_EXPORTER_PORT"])
            # odd attempts: between a batch's planning and its commit
            query = "lake" if attempt % 2 else None
            if query:  # kill between a batch's planning and its commit
                _wait_for(lambda q=query: _uncommitted_batch(tmp_path / "checkpoints" / q), 30)
            else:  # kill at a random moment
                time.sleep(rng.uniform(2, 8))
            assert process.poll() is None, log.read_text()[-3000:]
            _kill(process)
            kills.append(query or "random")
    finally:
        race.join()

    # drain everything that is left, then stop
    drain = _start(env, log, "--available-now")
    assert drain.wait(600) == 0, log.read_text()[-3000:]

    sent = sent_event_ids(s, config.session_id)
    assert len(kills) == KILLS and len(sent) > 10_000
    landed = None
    for event_type in EVENT_TYPES:
        part = spark.table(silver.table_name(event_type)).where(F.col("session_id") == config.session_id)
        part = part.select("event_id")
        landed = part if landed is None else landed.unionByName(part)
    landed_ids = [r.event_id for r in landed.collect()]
    missing = set(sent) - set(landed_ids)
    duplicated = len(landed_ids) - len(set(landed_ids))
    print(
        f"kill test: {len(kills)} kills {kills}, {len(sent)} records sent, {len(set(sent))} events, "
        f"{len(missing)} lost, {duplicated} duplicated"
    )
    assert not missing
    assert duplicated == 0
    assert set(landed_ids) == set(sent)
