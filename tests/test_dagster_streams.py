"""Dagster keeps the streams alive, end to end: a real `dagster dev` (webserver, daemon), sensors on.

The keeper sensor launches the lake run on a platform of their own; a simulated race streams;
the lake run's process is killed with SIGKILL; the sensor marks the dead run failed and launches a new one,
which resumes from the checkpoint; every event the simulator sent is in silver exactly once. The runs report
their tables as materialisations. Stopping the sensor and terminating the run stops the stream cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from pyspark.sql import functions as F

from streaming.clients.registration import register_contracts
from streaming.jobs import runner
from streaming.runtime.ephemeral import ephemeral_platform
from streaming.simulator.faults import FaultRates
from streaming.simulator.race import RaceConfig
from streaming.simulator.runner import KafkaSink, simulate
from tests.kafka_events import sent_event_ids

pytestmark = pytest.mark.e2e
LOCATION = "f1_assets.definitions"
ONCE_A_YEAR = "0 0 1 1 *"


def wait_for(condition, timeout_s: float, what: str, interval_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def running_status(settings, query: str, not_owner: str | None = None) -> dict | None:
    status = runner.read_query_status(settings, query)
    if (
        status
        and status["state"] == "running"
        and status["owner"] != not_owner
        and status["batch_id"] is not None
    ):
        return status
    return None


def graphql(settings, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.dagster_port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def stop_sensor(settings, name: str) -> None:
    selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "sensorName": name}
    sensor = graphql(
        settings,
        "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { id } } }",
        {"s": selector},
    )["sensorOrError"]
    stopped = graphql(
        settings,
        "mutation($id: String!) { stopSensor(id: $id) { __typename } }",
        {"id": sensor["id"]},
    )
    assert stopped["stopSensor"]["__typename"] == "StopSensorMutationResult", stopped


def terminate_run(settings, run_id: str) -> None:
    result = graphql(
        settings,
        "mutation($id: String!) { terminateRun(runId: $id) { __typename } }",
        {"id": run_id},
    )
    assert result["terminateRun"]["__typename"] == "TerminateRunSuccess", result


def silver_event_ids(spark, settings, session_id: str) -> list[str]:
    """The session's event ids in the silver table, read by path (the table lives on this platform; a
    reader of the path sees the table, not the views)."""
    table = spark.read.format("delta").load(f"{settings.delta_storage_path}/silver/telemetry_enriched")
    return [r.event_id for r in table.where(F.col("session_id") == session_id).select("event_id").collect()]


def test_sensor_heals_a_killed_stream_run_without_losing_or_duplicating(spark, tmp_path):
    overrides = {
        "STREAM_TRIGGER_SECONDS": "1",
        "STREAM_REPORT_SECONDS": "5",
        "SPARK_DRIVER_MEMORY": "1g",
        # no quality checks or gold builds on the clock: this test is about the streams (and 2 cores)
        "QUALITY_CHECK_CRON": ONCE_A_YEAR,
        "GOLD_BUILD_CRON": ONCE_A_YEAR,
    }
    with ephemeral_platform(
        tmp_path / "state", ["kafka", "registry", "metastore", "dagster"], **overrides
    ) as s:
        # the keeper sensor is on by default: the stream starts by itself
        first = wait_for(lambda: running_status(s, "lake"), 420, "the lake run")
        assert first["owner"].startswith("dagster:")

        config = RaceConfig(cars=2, laps=2, seed=1207, start_time_ns=time.time_ns() - 3600 * 10**9)
        race = threading.Thread(
            target=simulate,
            args=(config, register_contracts(s), KafkaSink(s.kafka_bootstrap_servers)),
            kwargs={"speed": 3, "faults": FaultRates(duplicate=0.01), "truth_path": tmp_path / "truth.json"},
        )
        race.start()
        try:
            wait_for(lambda: silver_event_ids(spark, s, config.session_id), 300, "the race in silver", 3)
            killed = runner.read_query_status(s, "lake")
            os.kill(killed["pid"], signal.SIGKILL)
            killed_at = time.monotonic()
            restarted = wait_for(
                lambda: (
                    (q := runner.read_query_status(s, "lake"))
                    and q["owner"] != killed["owner"]
                    and q["state"] == "running"
                    and q
                ),
                300,
                "a new lake run",
                0.5,
            )
            restarted_s = time.monotonic() - killed_at
            back = wait_for(
                lambda: running_status(s, "lake", not_owner=killed["owner"]), 300, "its first batch", 0.5
            )
            print(
                f"killed lake stream: query running again {restarted_s:.1f} s after the kill, first batch "
                f"committed after {time.monotonic() - killed_at:.1f} s (new {restarted['owner']})"
            )
        finally:
            race.join()

        sent = sent_event_ids(s, config.session_id)
        wait_for(
            lambda: len(set(silver_event_ids(spark, s, config.session_id))) >= len(set(sent)),
            420,
            "every event in silver",
            5,
        )
        landed = silver_event_ids(spark, s, config.session_id)
        print(
            f"dagster kill test: {len(sent)} records sent, {len(set(sent))} events, {len(landed)} in silver"
        )
        assert set(landed) == set(sent)
        assert len(landed) == len(set(landed)), "an event is in silver twice"

        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(s.dagster_home)))
        killed_run = instance.get_run_by_id(killed["owner"].removeprefix("dagster:"))
        assert killed_run.status == dg.DagsterRunStatus.FAILURE
        assert killed_run.tags["f1/stream"] == "lake"
        materialization = instance.get_latest_materialization_event(dg.AssetKey(["silver", "position"]))
        assert materialization is not None
        metadata = materialization.asset_materialization.metadata
        assert metadata["delta_version"].value >= 1 and "rows_since_last_report" in metadata

        # stopping the sensor and terminating the run stops the stream cleanly, for good
        new_run_id = back["owner"].removeprefix("dagster:")
        stop_sensor(s, "lake_stream_keeper")
        terminate_run(s, new_run_id)
        wait_for(
            lambda: runner.read_query_status(s, "lake")["state"] == "stopped",
            120,
            "the lake stream to stop",
        )
        wait_for(
            lambda: instance.get_run_by_id(new_run_id).status == dg.DagsterRunStatus.CANCELED,
            120,
            "the run to be canceled",
        )
        time.sleep(20)  # more than a sensor tick
        active = instance.get_runs(
            filters=dg.RunsFilter(
                job_name="lake_stream",
                statuses=[
                    dg.DagsterRunStatus.QUEUED,
                    dg.DagsterRunStatus.STARTING,
                    dg.DagsterRunStatus.STARTED,
                ],
            )
        )
        assert active == []
