"""The Dagster code location loads, validates, and shows the platform's topics and tables as assets."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest

from f1_assets.definitions import build_definitions, defs
from f1_assets.keys import table_asset_key, topic_asset_key
from streaming.contracts import topics
from streaming.errors import ConfigError
from streaming.jobs.maintenance import platform_tables
from streaming.settings import PROJECT_ROOT, Settings


def test_every_platform_topic_is_a_kafka_asset():
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    for topic in (topics.RAW_PROTOBUF, topics.RAW_JSON, topics.SESSIONS, topics.ENRICHED, topics.DLQ):
        spec = specs[topic_asset_key(topic)]
        assert spec.kinds == {"kafka"}
        assert spec.metadata["topic"] == topic


def test_tables_are_delta_assets_with_lineage_and_freshness():
    graph = defs.resolve_asset_graph()
    for table in platform_tables():
        node = graph.get(table_asset_key(table))
        assert node.kinds == {"spark", "delta"}
        assert node.freshness_policy is not None, table
    bronze = table_asset_key("bronze.telemetry")
    assert graph.get(bronze).parent_keys == {
        topic_asset_key(topics.RAW_PROTOBUF),
        topic_asset_key(topics.RAW_JSON),
    }
    silver = table_asset_key("silver.telemetry_enriched")
    assert graph.get(silver).parent_keys == {bronze, table_asset_key("silver.sessions")}
    assert graph.get(table_asset_key("silver.position")).parent_keys == {silver}  # a view of it
    assert graph.get(table_asset_key("silver.position")).freshness_policy is not None
    assert bronze in graph.get(topic_asset_key(topics.DLQ)).parent_keys
    assert silver in graph.get(topic_asset_key(topics.ENRICHED)).parent_keys


def test_stream_jobs_sensors_and_schedule_are_defined():
    for query in ("lake",):
        job = defs.resolve_job_def(f"{query}_stream")
        assert job.tags["f1/stream"] == query
        sensor = defs.resolve_sensor_def(f"{query}_stream_keeper")
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.job_name == job.name
    assert defs.resolve_sensor_def("asset_alerts").default_status == dg.DefaultSensorStatus.RUNNING
    schedule = defs.resolve_schedule_def("delta_maintenance_schedule")
    assert schedule.cron_schedule == Settings.from_env({}).maintenance_cron
    assert (
        defs.resolve_schedule_def("quality_checks_schedule").cron_schedule
        == Settings.from_env({}).quality_check_cron
    )


@pytest.mark.parametrize("job_name", ["quality_checks", "delta_maintenance"])
def test_a_schedule_tick_is_skipped_while_the_jobs_last_run_is_unfinished(job_name):
    schedule = defs.resolve_schedule_def(f"{job_name}_schedule")
    with dg.instance_for_test() as instance:
        (request,) = schedule.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests
        assert request.job_name in (None, job_name)
        other = dg.DagsterRun(job_name="lake_stream", run_id="other", status=dg.DagsterRunStatus.STARTED)
        instance.add_run(other)
        assert schedule.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests
        instance.add_run(dg.DagsterRun(job_name=job_name, run_id="busy", status=dg.DagsterRunStatus.STARTED))
        tick = schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
        assert not tick.run_requests and "busy" in tick.skip_message
        instance.report_run_failed(instance.get_run_by_id("busy"))
        assert schedule.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests


def test_production_refuses_a_local_spark_master_and_silent_alerts():
    settings = Settings.from_env({"F1_ENV": "production"})
    with pytest.raises(ConfigError) as error:
        build_definitions(settings)
    assert "SPARK_MASTER" in str(error.value) and "ALERT_WEBHOOK_URL" in str(error.value)
    ok = Settings.from_env(
        {
            "F1_ENV": "production",
            "SPARK_MASTER": "spark://spark:7077",
            "ALERT_WEBHOOK_URL": "http://hooks:80/f1",
        }
    )
    assert build_definitions(ok).resolve_job_def("lake_stream") is not None


def test_dagster_definitions_validate():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_streaming_never_imports_dagster():
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "streaming").rglob("*.py")
        if any(
            line.lstrip().startswith(("import dagster", "from dagster"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


def test_quality_checks_cover_every_layer_and_gold_follows_silver():
    graph = defs.resolve_asset_graph()
    checks = {key.to_user_string() for key in graph.asset_check_keys}
    assert {
        "bronze/telemetry:decode_error_rate",
        "silver/tire:valid_events",
        "gold/lap_metrics:lap_metrics",
    } <= checks
    assert "silver/quarantine:quarantine_rate" in checks
    assert graph.get_check_spec(dg.AssetCheckKey(table_asset_key("silver.position"), "valid_events")).blocking
    laps = graph.get(dg.AssetKey(["gold", "lap_metrics"]))
    assert table_asset_key("silver.position") in laps.parent_keys  # lineage silver -> gold
    assert laps.automation_condition is not None and laps.freshness_policy is not None
    # the staging views too: a new platform has none, and a mart built alone cannot read them
    gold = [graph.get(key) for key in dg.AssetSelection.groups("gold").resolve(graph)]
    assert len(gold) > 3 and all(node.automation_condition is not None for node in gold)
    assert defs.resolve_sensor_def("gold_built").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("gold_automation") is not None
    # gold's checks are the dbt project's default selector's tests: not the silver_scan ones, full scans
    # of silver that silver's own checks cover
    assert "gold_staging/stg_sessions:unique_stg_sessions_session_id" in checks
    assert not any(key.startswith("gold_staging/stg_position:") for key in checks)


def test_the_code_location_serialises_for_dagsters_other_processes():
    """What the webserver and daemon load: a condition Dagster cannot serialise fails the code location
    ("Unhandled value type ..."), with every sensor and schedule gone."""
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster_shared.serdes import deserialize_value, serialize_value

    from f1_assets.definitions import defs

    snap = RepositorySnap.from_def(defs.get_repository_def())
    assert isinstance(deserialize_value(serialize_value(snap)), RepositorySnap)
