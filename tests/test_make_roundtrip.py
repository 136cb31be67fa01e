"""`make up` / `make wait` / `make status` / `make down`: the commands a user types, end to end, and what a
new user gets from `make up` left running (its "first hour", sped up).

With the simulator racing a few cars fast and Dagster's intervals shortened by settings, bad raw records
drawn from the property test's generator go in as soon as silver lands (tests/bad_records.py). On the
way, the platform's Prometheus must have data for every panel of the Grafana dashboards. Then Dagster's
GraphQL API must show a platform that runs by itself (tests/first_hour.py): no sensor tick failed, no run
failed, both stream runs up, gold rebuilt by its automation at least twice, once at least in a run started
after the bad records, the asset checks of bronze, silver and gold evaluated; and each bad record is in
`silver.quarantine` once, with a reason its change calls for.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest

from streaming.clients.dagster_graphql import DagsterGraphQL, Snapshot
from streaming.clients.probes import tcp_open
from streaming.contracts import topics
from streaming.runtime import manager
from streaming.runtime.ephemeral import ephemeral_env
from streaming.settings import PROJECT_ROOT, Settings
from tests.bad_records import bad_records, latest_event, send
from tests.contract_records import PROPERTY_SEED
from tests.first_hour import (
    FIRST_HOUR_DEADLINE_S,
    FIRST_HOUR_SETTINGS,
    FirstHour,
    await_first_hour,
    code_location_loaded,
    quarantined,
    streams_up,
)

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
    """Valid records silver landed, from the exporter of the lake run that Dagster's sensor launched."""
    from streaming.jobs.runner import metrics_port
    from streaming.observability.metrics import scrape

    key = ("f1_records_total", (("outcome", "valid"), ("query", "lake")))
    return scrape(metrics_port(settings, ("lake",))).get(key, 0.0)


def _dashboards_with_data(settings: Settings, timeout_s: float):
    """Every dashboard panel's queries against the platform's Prometheus, once all return data (or time out).

    Rates need two scrapes, and the asset-check panels a first check run, so the first rounds miss some.
    """
    from streaming.observability.dashboard_check import check

    prometheus = f"http://127.0.0.1:{settings.prometheus_port}"
    deadline = time.monotonic() + timeout_s
    while True:
        results, missing = check(prometheus)
        if (all(r.ok for r in results) and not missing) or time.monotonic() > deadline:
            return results, missing
        time.sleep(10)


def _compute_logs(settings: Settings) -> list:
    """The Dagster runs' captured stderr: the stream runs' progress, the gold builds' dbt target."""
    return sorted(settings.dagster_home.glob("storage/*/compute_logs/*.err"))


def _stream_run_logs(settings: Settings, tail_chars: int = 3000) -> str:
    """The ends of the Dagster runs' captured stderr, for a failure message: what the streams were doing."""
    logs = _compute_logs(settings)
    return "\n".join(f"--- {path}\n{path.read_text(errors='replace')[-tail_chars:]}" for path in logs)


@pytest.mark.timeout(2700)
def test_make_up_wait_status_down_round_trip_and_first_hour(tmp_path):
    # a few cars, sped up: this test is about the wiring and the platform running by itself; `f1 bench
    # pipeline` measures throughput
    env = {**os.environ, **ephemeral_env(tmp_path / "state", **FIRST_HOUR_SETTINGS)}
    settings = Settings.from_env(env)
    client = DagsterGraphQL(settings.dagster_url)
    started, injected, seen = time.time(), None, None
    try:
        up = make("up", env)
        assert "f1.telemetry.dlq" in up.stdout and "database gold: ready" in up.stdout
        print(f"first hour: make up returned {time.time() - started:.0f} s after it started")
        make("wait", env)
        print(f"first hour: make wait returned {time.time() - started:.0f} s after make up")

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
        # ... each that runs processes of its own (not `streams`, the Dagster run's queries) with them, their
        # memory and their share of the platform's (`f1 status`)
        assert all(row["processes"] for row in status if row["rss_mib"] > 0)
        assert all(p["rss_mib"] > 0 for row in status for p in row["processes"])
        assert 0.99 < sum(p["share"] for row in status for p in row["processes"]) < 1.01

        with urllib.request.urlopen(f"http://127.0.0.1:{settings.dagster_port}/server_info", timeout=10) as r:
            assert "dagster_webserver_version" in r.read().decode()
        code_location_loaded(client)
        for name in settings.f1_services:
            assert (settings.logs_dir / f"{name}.log").stat().st_size > 0
        assert _raw_events_flowing(settings), "the simulator service sends no events"
        print(f"first hour: raw events flowing {time.time() - started:.0f} s after make up")
        # ... and the stream runs Dagster's sensors launch land them in silver
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and _silver_valid(settings) == 0:
            time.sleep(2)
        assert _silver_valid(settings) > 0, (
            f"the Dagster stream runs land nothing in silver\n{_stream_run_logs(settings)}"
        )
        print(f"first hour: silver landing {time.time() - started:.0f} s after make up")

        # early in the run, bad records into the raw topics: the property test's generator's, derived from
        # a live event of the running race (the seed replays them: F1_PROPERTY_SEED)
        from streaming.clients.registration import schema_ids

        template = latest_event(settings)
        assert template is not None, "no position event on the raw topic to derive the bad records from"
        print(f"first hour: bad records drawn with seed {PROPERTY_SEED} (F1_PROPERTY_SEED={PROPERTY_SEED})")
        bad = bad_records(template, schema_ids(settings), PROPERTY_SEED)
        send(settings, bad)
        injected = time.time()
        print(f"first hour: {len(bad)} bad records sent {injected - started:.0f} s after make up")

        # every panel of the Grafana dashboards returns data from the platform's Prometheus
        results, missing = _dashboards_with_data(settings, timeout_s=360)
        empty = [f"{r.dashboard} / {r.panel}: {r.error or 'no data'} [{r.expr}]" for r in results if not r.ok]
        assert not empty and not missing, "\n".join(empty + [f"metric never scraped: {m}" for m in missing])
        # ... and the System Resources panels see the Spark drivers' JVMs beside the services'
        from streaming.observability.dashboard_check import prometheus_api

        prometheus = f"http://127.0.0.1:{settings.prometheus_port}"
        jvms = prometheus_api(
            prometheus, "query", query="count by (service) (rate(process_cpu_seconds_total[1m]))"
        )
        assert {r["metric"].get("service") for r in jvms["result"]} >= {"spark-driver", "kafka", "registry"}
        from streaming.observability.dashboard_check import render

        previews = render(prometheus, tmp_path / "dashboards", minutes=10)
        assert all(path.stat().st_size > 10_000 for path in previews)

        # the platform runs by itself: what Dagster's GraphQL API and the quarantine show
        seen = await_first_hour(client, settings, bad, injected, started + FIRST_HOUR_DEADLINE_S)
        print(f"first hour: observed {time.time() - started:.0f} s after make up")
        for line in seen.figures(started, injected):
            print(f"first hour: {line}")
        failures = seen.waiting_for() + seen.problems(since=started) + streams_up(settings, env)
        assert not failures, (
            "the platform does not run by itself:\n- "
            + "\n- ".join(failures)
            + f"\n\nwhat Dagster showed:\n{seen.evidence(client, settings)}"
        )
        # gold built on the stream run's Spark SQL server (streaming/jobs/sql_server.py), no Spark of its own
        logs = [path.read_text("utf-8", "replace") for path in _compute_logs(settings)]
        on_streams = [text for text in logs if "dbt build on target streams" in text]
        assert on_streams, f"no gold build ran on the streams' Spark SQL server\n{_stream_run_logs(settings)}"
    finally:
        if seen is None:  # failed before the first-hour part: still show what Dagster had done
            try:
                for line in FirstHour(Snapshot.take(client), quarantined(settings), [], injected).figures(
                    started, injected
                ):
                    print(f"first hour (at the failure): {line}")
            except Exception as error:  # noqa: BLE001 - diagnostics only
                print(f"first hour: Dagster not readable at the failure: {error}")
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
        settings.spark_thrift_port,
    ):
        assert not tcp_open("127.0.0.1", port), f"port {port} still open after make down"
