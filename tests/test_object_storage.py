"""Delta tables and streaming checkpoints on S3: the platform with DELTA_STORAGE_PATH=s3a://... end to end.

The S3 endpoint is moto's server mode (a real HTTP S3 API on a loopback port, from PyPI), with a throwaway
Kafka, registry and metastore. Everything runs the way a user runs it, each step a process of its own with
the platform's settings in its environment: `f1 init`, `f1 simulate` (2 cars, 2 laps, as fast as possible),
`f1 stream run --available-now` (bronze and silver; the catalog's databases and tables are created on S3,
the checkpoints go there too), plain `dbt run` started the way Dagster starts it (its Spark session from
F1_DBT_SPARK_CONF alone), and a Spark process that reads every layer back and compacts a table of each
(`maintain`). The bucket's listing must show the Delta logs and checkpoints, and the rows what the
simulator sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streaming.clients.probes import tcp_open
from streaming.contracts.event_types import EVENT_TYPES
from streaming.errors import ConfigError
from streaming.runtime.ephemeral import ephemeral_platform, free_port
from streaming.settings import PROJECT_ROOT, Settings

BUCKET = "f1-lake"
KEY_ID, SECRET = "f1-test-key", "f1-test-secret"
BIN = Path(sys.executable).parent  # moto_server and dbt live beside the interpreter (.venv/bin)

# Reads every layer back in one Spark process: counts by table, each table's location, and maintenance
# (OPTIMIZE and VACUUM rewrite and list files under the tables' S3 locations).
VERIFY = """
import json, sys
from pyspark.sql import functions as F
from streaming.jobs import bronze, silver
from streaming.jobs.maintenance import maintain
from streaming.contracts.event_types import EVENT_TYPES
from streaming.settings import Settings
from streaming.clients.spark import get_spark

s = Settings.from_env()
spark = get_spark(s, "f1-s3-verify")
session = sys.argv[1]
tables = [bronze.TABLE, *map(silver.table_name, EVENT_TYPES), silver.QUARANTINE_TABLE, "gold.lap_metrics"]
out = {"counts": {}, "locations": {}}
for table in tables:
    out["counts"][table] = spark.table(table).where(F.col("session_id") == session).count()
# where each table keeps its files (the event types' views have none of their own)
for table in [bronze.TABLE, silver.SILVER_TABLE, silver.QUARANTINE_TABLE, "gold.lap_metrics"]:
    out["locations"][table] = spark.sql(f"DESCRIBE DETAIL {table}").first().location
# gold keeps the laps a race cut short too, flagged; the simulator's truth lists the complete ones
laps = spark.table("gold.lap_metrics").where(F.col("session_id") == session)
out["counts"]["complete laps"] = laps.where("is_complete").count()
# one table of each layer: every table is compacted the same way, and each costs Spark jobs
maintained = maintain(spark, [bronze.TABLE, silver.SILVER_TABLE, "gold.lap_metrics"])
out["maintained"] = [r.table for r in maintained]
out["bronze_after_maintenance"] = spark.table(bronze.TABLE).where(F.col("session_id") == session).count()
print("RESULT " + json.dumps(out))
spark.stop()
"""


def _run(command: list, env: dict[str, str], log: Path, timeout_s: float = 1200) -> str:
    """Run one step as its own process, its output in `log`; its output, or a failure with the log's end."""
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(part) for part in command], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            code = process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.terminate()  # `f1 stream run` stops its queries and Spark on SIGTERM
            code = process.wait(120)
    print(f"{log.stem}: {time.monotonic() - started:.1f} s")
    text = log.read_text()
    assert code == 0, f"{log.stem} failed ({code}); end of {log}:\n{text[-6000:]}"
    return text


@pytest.fixture(scope="module")
def object_store(tmp_path_factory):
    """moto's S3 server on a free loopback port, with an empty bucket; its boto3 client."""
    import boto3

    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not tcp_open("127.0.0.1", port, 0.5):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        yield url, client
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture(scope="module")
def s3_platform(object_store, tmp_path_factory):
    """A throwaway Kafka, registry and metastore whose warehouse and checkpoints are in the bucket."""
    url, _ = object_store
    state = tmp_path_factory.mktemp("s3-state")
    with ephemeral_platform(
        state,
        ["kafka", "registry", "metastore"],
        DELTA_STORAGE_PATH=f"s3a://{BUCKET}/warehouse",
        SPARK_CHECKPOINT_PATH=f"s3a://{BUCKET}/checkpoints",
        S3_ENDPOINT_URL=url,
        S3_PATH_STYLE_ACCESS="true",
        S3_ACCESS_KEY_ID=KEY_ID,
        S3_SECRET_ACCESS_KEY=SECRET,
        STREAM_TRIGGER_SECONDS="1",
    ) as settings:
        yield settings, state


@pytest.fixture(scope="module")
def landed(s3_platform, object_store, tmp_path_factory):
    """A 2-car, 2-lap race through Kafka, bronze, silver and gold, all on S3; what each step left."""
    from streaming.clients.dbt import DBT_PROJECT_DIR, dbt_env

    settings, state = s3_platform
    tmp = tmp_path_factory.mktemp("s3-run")
    env = {**os.environ, **settings.as_env()}
    f1 = [sys.executable, "-m", "streaming.cli"]
    started = time.monotonic()
    # topics and schemas only: the catalog's databases and tables come with the streams (on S3)
    _run([*f1, "init", "--skip-spark"], env, tmp / "init.log")
    truth_path = tmp / "truth.json"
    race = ["--cars", "2", "--laps", "2", "--fast", "--quiet", "--truth", truth_path]
    _run([*f1, "simulate", *race], env, tmp / "simulate.log")
    _run([*f1, "stream", "run", "--available-now"], env, tmp / "streams.log")
    # dbt in a process of its own, as dagster-dbt runs it: its SparkSession comes from F1_DBT_SPARK_CONF only
    dbt_dir = str(DBT_PROJECT_DIR)
    # `run`, not `build`: the models read silver and write gold on S3; their tests are test_gold's business
    dbt = [str(BIN / "dbt"), "run", "--project-dir", dbt_dir, "--profiles-dir", dbt_dir]
    dbt += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    _run(dbt, {**env, **dbt_env(settings)}, tmp / "dbt.log")
    truth = json.loads(truth_path.read_text())
    session_id = truth["session"]["session_id"]
    out = _run([sys.executable, "-c", VERIFY, session_id], env, tmp / "verify.log")
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    print(f"race on S3, end to end: {time.monotonic() - started:.0f} s")
    _, client = object_store
    keys = [
        obj["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for obj in page.get("Contents", [])
    ]
    return {"truth": truth, "result": result, "keys": keys, "state": state}


@pytest.mark.e2e
@pytest.mark.timeout(3600)  # the first test sets up `landed`: the whole race on S3
def test_every_layer_has_its_delta_log_in_the_bucket(landed):
    keys = landed["keys"]
    prefixes = ["warehouse/bronze/telemetry", "warehouse/silver/telemetry_enriched"]
    prefixes += ["warehouse/silver/quarantine", "warehouse/silver/sessions", "warehouse/gold/lap_metrics"]
    for prefix in prefixes:
        assert any(k.startswith(f"{prefix}/_delta_log/") and k.endswith(".json") for k in keys), prefix
        assert any(k.startswith(f"{prefix}/") and k.endswith(".parquet") for k in keys) or prefix.endswith(
            "quarantine"
        ), prefix
    assert all(loc.startswith(f"s3a://{BUCKET}/warehouse/") for loc in landed["result"]["locations"].values())
    # nothing of the warehouse went to local disk instead
    assert not list(landed["state"].rglob("_delta_log"))


@pytest.mark.e2e
def test_checkpoints_are_in_the_bucket(landed):
    keys = landed["keys"]
    assert any(k.startswith("checkpoints/lake") and "/commits/" in k for k in keys)
    # silver's lateness watermarks live beside the lake query's checkpoint
    assert any(k.startswith("checkpoints/lake") and "/session_watermarks/" in k for k in keys)


@pytest.mark.e2e
def test_rows_match_what_the_simulator_sent(landed):
    counts, sent = landed["result"]["counts"], landed["truth"]["event_counts"]
    assert counts["bronze.telemetry"] == sum(sent.values()) > 0
    assert {t: counts[f"silver.{t}"] for t in EVENT_TYPES} == {t: sent.get(t, 0) for t in EVENT_TYPES}
    assert counts["silver.quarantine"] == 0
    # both laps of both cars, built by dbt from silver on S3
    assert counts["complete laps"] == len(landed["truth"]["laps"]) > 0


@pytest.mark.e2e
def test_maintenance_compacts_the_tables_on_s3(landed):
    result = landed["result"]
    assert result["maintained"] == ["bronze.telemetry", "silver.telemetry_enriched", "gold.lap_metrics"]
    assert result["bronze_after_maintenance"] == result["counts"]["bronze.telemetry"]


def test_s3_settings_reach_spark_and_dbt_only_for_s3a_paths():
    from streaming.clients.dbt import SPARK_CONF_VAR, dbt_env
    from streaming.clients.spark import spark_conf

    local = spark_conf(Settings.from_env({"S3_ENDPOINT_URL": "http://127.0.0.1:9000"}))
    assert not [k for k in local if "s3a" in k] and "hadoop-aws" not in local["spark.jars"]
    s3 = Settings.from_env(
        {
            "DELTA_STORAGE_PATH": f"s3a://{BUCKET}/warehouse",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "S3_PATH_STYLE_ACCESS": "true",
            "S3_ACCESS_KEY_ID": KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET,
        }
    )
    conf = json.loads(dbt_env(s3)[SPARK_CONF_VAR])  # what a dbt process builds its session from
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "us-east-1"  # S3-compatible stores' default
    assert (conf["spark.hadoop.fs.s3a.access.key"], conf["spark.hadoop.fs.s3a.secret.key"]) == (
        KEY_ID,
        SECRET,
    )
    assert "/hadoop-aws-" in conf["spark.jars"] and "/s3-2." in conf["spark.jars"]
    assert SECRET not in repr(s3)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"S3_ENDPOINT_URL": "127.0.0.1:9000"}, "S3_ENDPOINT_URL='127.0.0.1:9000' is not valid"),
        ({"S3_PATH_STYLE_ACCESS": "yes"}, "S3_PATH_STYLE_ACCESS='yes' is not valid: expected true or false"),
        ({"S3_REGION": "Europe"}, "S3_REGION='Europe' is not valid"),
        ({"DELTA_STORAGE_PATH": "s3a://My_Bucket/x"}, "DELTA_STORAGE_PATH='s3a://My_Bucket/x' is not valid"),
        ({"SPARK_CHECKPOINT_PATH": "s3a:///x"}, "SPARK_CHECKPOINT_PATH='s3a:///x' is not valid"),
        ({"S3_ACCESS_KEY_ID": KEY_ID}, "S3_SECRET_ACCESS_KEY is not set"),
        ({"S3_SECRET_ACCESS_KEY": SECRET}, "S3_ACCESS_KEY_ID is not set"),
        ({"S3_SECRET_ACCESS_KEY": 'a"b'}, "S3_SECRET_ACCESS_KEY=<hidden> is not valid"),
    ],
)
def test_bad_s3_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert message in str(raised.value)


@pytest.mark.e2e
def test_the_quality_checks_read_the_bucket(landed, s3_platform):
    """The bronze and silver checks read the tables in the bucket with delta-rs, from the S3_* settings."""
    from expectations import bronze, silver
    from expectations.lake import Lake
    from expectations.runner import check_lake_table

    settings, _ = s3_platform
    lake = Lake.of(settings)
    position = check_lake_table(lake, "silver.position", silver.suite_for("position"), window=None)
    assert position.success, position.summary()
    assert position.rows_checked == landed["truth"]["event_counts"]["position"] > 0
    schema = check_lake_table(lake, bronze.TABLE, bronze.schema_suite(), window=None)
    assert schema.success, schema.summary()
