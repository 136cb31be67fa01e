"""`make up` / `make wait` / `make status` / `make down`: the commands a user types, end to end.

On the way, the platform's Prometheus must have data for every panel of the Grafana dashboards.
"""

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
from streaming.settings import PROJECT_ROOT, Settings

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
    """Valid records silver landed, from the exporter of the silver run that Dagster's sensor launched."""
    from streaming.jobs.runner import metrics_port
    from streaming.metrics import scrape

    key = ("f1_records_total", (("outcome", "valid"), ("query", "silver")))
    return scrape(metrics_port(settings, ("silver",))).get(key, 0.0)


def _dashboards_with_data(settings: Settings, timeout_s: float):
    """Every dashboard panel's queries against the platform's Prometheus, once all return data (or time out).

    Rates need two scrapes, and the asset-check panels a first check run, so the first rounds miss some.
    """
    from streaming.dashboard_check import check

    prometheus = f"http://127.0.0.1:{settings.prometheus_port}"
    deadline = time.monotonic() + timeout_s
    while True:
        results, missing = check(prometheus)
        if (all(r.ok for r in results) and not missing) or time.monotonic() > deadline:
            return results, missing
        time.sleep(10)


def _stream_run_logs(settings: Settings, tail_chars: int = 3000) -> str:
    """The ends of the Dagster runs' captured stderr, for a failure message: what the streams were doing."""
    logs = sorted(settings.dagster_home.glob("storage/*/compute_logs/*.err"))
    return "\n".join(f"--- {path}\n{path.read_text(errors='replace')[-tail_chars:]}" for path in logs)


# a whole platform with three Spark drivers (bronze, silver, checks) on two cores: minutes, not seconds
@pytest.mark.timeout(1800)
def test_make_up_wait_status_down_round_trip(tmp_path):
    # 10 cars, not 50: this test is about the wiring; `f1 bench pipeline` measures throughput
    env = {
        **os.environ,
        **ephemeral_env(
            tmp_path / "state",
            SIMULATOR_CARS="10",
            # the checks run, so that the Data Quality dashboard has their results; gold is not needed
            QUALITY_CHECK_CRON="*/3 * * * *",
            GOLD_BUILD_CRON="0 0 1 1 *",
            PROMETHEUS_SCRAPE_INTERVAL="5s",
        ),
    }
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
        assert {row["name"] for row in status if row["healthy"] and row["running"]} == set(
            settings.f1_services
        )

        with urllib.request.urlopen(f"http://127.0.0.1:{settings.dagster_port}/server_info", timeout=10) as r:
            assert "dagster_webserver_version" in r.read().decode()
        for name in settings.f1_services:
            assert (settings.logs_dir / f"{name}.log").stat().st_size > 0
        assert _raw_events_flowing(settings), "the simulator service sends no events"
        # ... and the stream runs Dagster's sensors launch land them in silver
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and _silver_valid(settings) == 0:
            time.sleep(2)
        assert _silver_valid(settings) > 0, (
            f"the Dagster stream runs land nothing in silver\n{_stream_run_logs(settings)}"
        )

        # every panel of the Grafana dashboards returns data from the platform's Prometheus
        results, missing = _dashboards_with_data(settings, timeout_s=360)
        empty = [f"{r.dashboard} / {r.panel}: {r.error or 'no data'} [{r.expr}]" for r in results if not r.ok]
        assert not empty and not missing, "\n".join(empty + [f"metric never scraped: {m}" for m in missing])
        # ... and the System Resources panels see the Spark drivers' JVMs beside the services'
        from streaming.dashboard_check import prometheus_api

        prometheus = f"http://127.0.0.1:{settings.prometheus_port}"
        jvms = prometheus_api(
            prometheus, "query", query="count by (service) (rate(process_cpu_seconds_total[1m]))"
        )
        assert {r["metric"].get("service") for r in jvms["result"]} >= {"spark-driver", "kafka", "registry"}
        from streaming.dashboard_check import render

        previews = render(prometheus, tmp_path / "dashboards", minutes=10)
        assert all(path.stat().st_size > 10_000 for path in previews)
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
        settings.metrics_exporter_port + 1,
    ):
        assert not tcp_open("127.0.0.1", port), f"port {port} still open after make down"
