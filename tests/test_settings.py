"""Settings: defaults, each bad value's named error, and .env.example kept in sync."""

from __future__ import annotations

import pytest

from streaming.errors import ConfigError
from streaming.settings import PROJECT_ROOT, VARIABLES, Settings, read_dotenv, render_env_example


def test_defaults_parse_and_derive_ports():
    s = Settings.from_env({})
    assert s.kafka_port == 9092
    assert s.schema_registry_port == 8081
    assert s.spark_shuffle_partitions == 4
    assert s.f1_state_dir == PROJECT_ROOT / ".f1"
    assert s.delta_storage_path == str(PROJECT_ROOT / ".f1" / "delta")
    assert s.f1_services == (
        "kafka",
        "registry",
        "metastore",
        "node-exporter",
        "pushgateway",
        "prometheus",
        "dagster",
        "simulator",
    )  # Dagster's sensors run the streams; the `streams` service is for running without Dagster
    assert s.stream_queries == ("lake",)
    assert s.dagster_url == "http://127.0.0.1:3000"
    assert s.alert_webhook_url == "" and s.maintenance_cron == "0 3 * * *"
    assert s.pushgateway_port == 9091 and Settings.from_env({"PUSHGATEWAY_URL": ""}).pushgateway_port == 9091
    assert Settings.from_env({"PUSHGATEWAY_URL": "http://127.0.0.1:19091"}).pushgateway_port == 19091


@pytest.mark.parametrize(
    ("variable", "bad", "accepts"),
    [
        ("KAFKA_BOOTSTRAP_SERVERS", "localhost", "host:port"),
        ("STREAM_QUERIES", "bronze,gold", "lake"),
        ("STREAM_TRIGGER_SECONDS", "0", "greater than 0"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:99999", "host:port"),
        ("KAFKA_CONTROLLER_PORT", "0", "TCP port"),
        ("KAFKA_METRICS_PORT", "70000", "TCP port"),
        ("PROMETHEUS_SCRAPE_INTERVAL", "15", "Prometheus duration"),
        ("PUSHGATEWAY_URL", "pushgateway:9091", "http(s) URL"),
        ("KAFKA_TOPIC_PARTITIONS", "-3", "greater than 0"),
        ("KAFKA_HEAP_OPTS", "1g", "JVM options"),
        ("ALERT_WEBHOOK_URL", "hooks.example/f1", "http"),
        ("MAINTENANCE_CRON", "daily", "cron"),
        ("STREAM_HEARTBEAT_TIMEOUT_SECONDS", "soon", "greater than 0"),
        ("SCHEMA_REGISTRY_URL", "127.0.0.1:8081", "http(s) URL"),
        ("SCHEMA_REGISTRY_URL", "http://127.0.0.1:notaport", "http(s) URL"),
        ("SPARK_MASTER", "local[two]", "spark://host:port"),
        ("SPARK_DRIVER_MEMORY", "lots", "memory size"),
        ("SPARK_SHUFFLE_PARTITIONS", "200.5", "greater than 0"),
        ("SPARK_CHECKPOINT_PATH", "ftp://x/y", "URI with one of the schemes"),
        ("DELTA_STORAGE_PATH", "", "non-empty path"),
        ("DBT_TARGET", "staging", "local, ci, remote, streams"),
        ("F1_ENV", "prod", "local, ci, production"),
        ("F1_SERVICES", "kafka,zookeeper", "comma-separated list of: kafka"),
        ("F1_STATE_DIR", "s3a://bucket/state", "local folder"),
        ("DAGSTER_PORT", "http", "TCP port"),
        ("SPARK_EXECUTOR_MEMORY", "2 GB", "memory size"),
        ("SPARK_EXECUTOR_CORES", "0", "greater than 0"),
        ("SPARK_CORES_MAX", "all", "greater than 0"),
        ("SPARK_MASTER_PORT", "70770", "TCP port"),
        ("SPARK_MASTER_WEBUI_PORT", "ui", "TCP port"),
        ("SPARK_WORKER_WEBUI_PORT", "-1", "TCP port"),
        ("SPARK_WORKER_CORES", "1.5", "greater than 0"),
        ("SPARK_WORKER_MEMORY", "six", "memory size"),
        ("SPARK_DAEMON_MEMORY", "", "memory size"),
    ],
)
def test_bad_value_names_the_variable_and_what_it_accepts(variable, bad, accepts):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({variable: bad})
    message = str(raised.value)
    assert f"{variable}={bad!r}" in message
    assert accepts in message
    assert ".env.example" in message


def test_the_local_spark_cluster_is_optional_and_fits_its_executors():
    s = Settings.from_env({})
    assert "spark-master" not in s.f1_services and "spark-worker" not in s.f1_services
    assert s.local_spark_master_url == "spark://127.0.0.1:7077"
    assert s.spark_worker_webui_port != s.schema_registry_port  # Spark's default worker UI port is 8081
    cluster = {"F1_SERVICES": "kafka,metastore,spark-master,spark-worker"}
    assert Settings.from_env(cluster).f1_services[-2:] == ("spark-master", "spark-worker")
    # an executor larger than the local worker would never start: its application would wait forever
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**cluster, "SPARK_EXECUTOR_MEMORY": "7g", "SPARK_EXECUTOR_CORES": "8"})
    message = str(raised.value)
    assert "SPARK_EXECUTOR_MEMORY='7g'" in message and "SPARK_WORKER_MEMORY (6g)" in message
    assert "SPARK_EXECUTOR_CORES='8'" in message and "SPARK_WORKER_CORES (6)" in message
    # ... while a remote cluster's workers are its own business
    assert Settings.from_env({"SPARK_EXECUTOR_MEMORY": "16g"}).spark_executor_memory == "16g"


def test_every_bad_variable_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"SPARK_MASTER": "nowhere", "PROMETHEUS_PORT": "70000"})
    assert len(raised.value.problems) == 2


def test_accepted_forms():
    s = Settings.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "a:9092, b:9093",
            "SPARK_MASTER": "spark://127.0.0.1:7077",
            "DELTA_STORAGE_PATH": "s3a://bucket/f1/",
            "SCHEMA_REGISTRY_URL": "https://registry.example:8443/apis/ccompat/v7/",
        }
    )
    assert s.kafka_bootstrap_servers == "a:9092,b:9093"
    assert s.kafka_port == 9092
    assert s.delta_storage_path == "s3a://bucket/f1"
    assert s.schema_registry_url.endswith("/v7")
    assert s.schema_registry_port == 8443


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nSPARK_SHUFFLE_PARTITIONS=8\nexport DBT_TARGET='ci'\nPROMETHEUS_PORT=9999\n")
    assert read_dotenv(dotenv)["DBT_TARGET"] == "ci"
    for name in ("SPARK_SHUFFLE_PARTITIONS", "DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMETHEUS_PORT", "9191")
    s = Settings.from_env(dotenv=dotenv)
    assert (s.spark_shuffle_partitions, s.dbt_target, s.prometheus_port) == (8, "ci", 9191)


def test_as_env_round_trips():
    s = Settings.from_env({"F1_SERVICES": "kafka,metastore", "SPARK_MASTER": "local[*]"})
    assert Settings.from_env(s.as_env()) == s


def test_env_example_is_generated_from_the_settings():
    committed = (PROJECT_ROOT / ".env.example").read_text()
    assert committed == render_env_example(), "run `make env-example` and commit .env.example"
    for var in VARIABLES:
        assert f"\n{var.env}={var.default}\n" in committed


@pytest.mark.parametrize(
    ("variable", "bad", "accepts"),
    [
        ("SIMULATOR_LAPS", "0", "laps from 1 to 120"),
        ("SIMULATOR_SPEED", "-2", "0 or more"),
        ("SIMULATOR_FAULTS", "dupes=0.1", "fault rates"),
        ("SIMULATOR_ENCODING", "avro", "protobuf, json"),
    ],
)
def test_bad_simulator_settings_are_named(variable, bad, accepts):
    with pytest.raises(ConfigError, match=rf"{variable}=.*{accepts}"):
        Settings.from_env({variable: bad})
