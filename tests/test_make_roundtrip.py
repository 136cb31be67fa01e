"""`make up` / `make wait` / `make status` / `make down`: the commands a user types, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest

from streaming import topics
from streaming.runtime import manager
from streaming.runtime.ephemeral import ephemeral_env
from streaming.runtime.services import tcp_open
from streaming.settings import PROJECT_ROOT, SERVICE_NAMES, Settings

pytestmark = pytest.mark.e2e


def make(target: str, env: dict[str, str], timeout_s: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert result.returncode == 0, f"make {target} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def _raw_events_flowing(settings: Settings) -> bool:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap_servers, "group.id": "roundtrip"})
    try:
        for _ in range(60):
            partitions = (
                consumer.list_topics(topics.RAW_PROTOBUF, timeout=10).topics[topics.RAW_PROTOBUF].partitions
            )
            ends = [
                consumer.get_watermark_offsets(TopicPartition(topics.RAW_PROTOBUF, p))[1] for p in partitions
            ]
            if sum(ends) > 1000:
                return True
            time.sleep(1)
        return False
    finally:
        consumer.close()


def _silver_valid(settings: Settings) -> float:
    from streaming.metrics import scrape

    key = ("f1_records_total", (("outcome", "valid"), ("query", "silver")))
    return scrape(settings.metrics_exporter_port).get(key, 0.0)


def test_make_up_wait_status_down_round_trip(tmp_path):
    env = {**os.environ, **ephemeral_env(tmp_path / "state")}
    settings = Settings.from_env(env)
    try:
        up = make("up", env)
        assert "f1.telemetry.dlq" in up.stdout and "database gold: ready" in up.stdout
        make("wait", env)

        status = json.loads(
            subprocess.run(
                ["uv", "run", "--frozen", "f1", "status", "--json"],
                cwd=PROJECT_ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        assert {row["name"] for row in status if row["healthy"] and row["running"]} == set(SERVICE_NAMES)

        with urllib.request.urlopen(f"http://127.0.0.1:{settings.dagster_port}/server_info", timeout=10) as r:
            assert "dagster_webserver_version" in r.read().decode()
        for name in SERVICE_NAMES:
            assert (settings.logs_dir / f"{name}.log").stat().st_size > 0
        assert _raw_events_flowing(settings), "the simulator service sends no events"
        # ... and the streams service lands them in silver
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and _silver_valid(settings) == 0:
            time.sleep(2)
        assert _silver_valid(settings) > 0, "the streams service lands nothing in silver"
    finally:
        down = make("down", env)
    assert "stopped:" in down.stdout
    assert not any(manager.process_of(settings, svc).is_running() for svc in manager.SERVICES.values())
    for port in (
        settings.kafka_port,
        settings.schema_registry_port,
        settings.metastore_port,
        settings.prometheus_port,
        settings.dagster_port,
        settings.metrics_exporter_port,
    ):
        assert not tcp_open("127.0.0.1", port), f"port {port} still open after make down"
