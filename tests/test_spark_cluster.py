"""The streams on a Spark standalone cluster: a real master and worker, run by the runtime's `spark-master`
and `spark-worker` services (pyspark's own spark-class) on free loopback ports.

`f1 stream run --available-now` is the driver, in a process of its own with SPARK_MASTER=spark://...: the
session `spark` fixture is a local[2] JVM and a process has one SparkContext. The work must have run on the
cluster (the master lists the finished application with its cores, the worker's work folder holds its
executor's log and the jars the driver shipped, our JVM functions among them), and silver must hold every
event sent, once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from pyspark.sql import functions as F

from streaming.clients.kafka_admin import create_topics
from streaming.clients.registration import register_contracts
from streaming.clients.spark import spark_conf
from streaming.contracts.event_types import EVENT_TYPES
from streaming.jobs import silver
from streaming.runtime import manager
from streaming.runtime.ephemeral import free_port, free_port_pair
from streaming.runtime.services import SERVICES
from streaming.runtime.spark_cluster import spark_master_state
from streaming.settings import PROJECT_ROOT, Settings
from streaming.simulator.race import RaceConfig
from streaming.simulator.runner import KafkaSink, simulate
from tests.kafka_events import sent_event_ids

CLUSTER = ["spark-master", "spark-worker"]
APP_NAME = "f1-streams"  # what `f1 stream run` calls its Spark application


@pytest.fixture(scope="module")
def cluster(platform_settings, tmp_path_factory):
    """Settings whose SPARK_MASTER is a running local standalone cluster: one worker, 2 cores, 1 GB."""
    master_port = free_port()
    env = {
        **platform_settings.as_env(),
        "F1_STATE_DIR": str(tmp_path_factory.mktemp("cluster-state")),
        "SPARK_MASTER": f"spark://127.0.0.1:{master_port}",
        "SPARK_MASTER_PORT": str(master_port),
        "SPARK_MASTER_WEBUI_PORT": str(free_port()),
        "SPARK_WORKER_WEBUI_PORT": str(free_port()),
        "SPARK_WORKER_CORES": "2",
        "SPARK_WORKER_MEMORY": "1g",
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_EXECUTOR_MEMORY": "1g",
        "SPARK_EXECUTOR_CORES": "2",
        "SPARK_CORES_MAX": "2",
        "SPARK_DRIVER_MEMORY": "1g",  # the executor runs the tasks; the driver plans and commits
        "SPARK_UI_PORT": str(free_port()),
        "METRICS_EXPORTER_PORT": str(free_port_pair()),
    }
    settings = Settings.from_env(env)
    try:
        manager.up(settings, CLUSTER, timeout_s=120)
        yield settings
    finally:
        manager.down(settings, CLUSTER)


def _worker_state(s: Settings) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{s.spark_worker_webui_port}/json/", timeout=5) as r:
        return json.load(r)


def _finished_executors(s: Settings, app_id: str) -> list[dict]:
    """The worker's executors of the application, once it lists them as finished (a moment after the
    master does: the worker first waits for the executor's process to exit)."""
    deadline = time.monotonic() + 30
    while True:
        executors = [e for e in _worker_state(s)["finishedexecutors"] if e["appid"] == app_id]
        if executors or time.monotonic() > deadline:
            return executors
        time.sleep(0.5)


def _finished_app(s: Settings) -> dict | None:
    """The streams' application once the master lists it as finished (it does so a moment after exit)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        apps = [a for a in (spark_master_state(s) or {}).get("completedapps", []) if a["name"] == APP_NAME]
        if apps:
            return apps[-1]
        time.sleep(0.5)
    return None


def _silver_event_ids(spark, session_id: str) -> list[str]:
    landed = None
    for event_type in EVENT_TYPES:
        part = spark.table(silver.table_name(event_type)).where(F.col("session_id") == session_id)
        landed = part.select("event_id") if landed is None else landed.unionByName(part.select("event_id"))
    return [row.event_id for row in landed.collect()]


def test_cluster_conf_adds_what_executors_need(monkeypatch):
    assert "spark.executor.memory" not in spark_conf(Settings.from_env({}))  # local: the driver runs tasks
    monkeypatch.setenv("PYSPARK_PYTHON", "python3")
    monkeypatch.delenv("PYSPARK_PYTHON")
    loopback = Settings.from_env(
        {
            "SPARK_MASTER": "spark://127.0.0.1:7077",
            "SPARK_EXECUTOR_MEMORY": "3g",
            "SPARK_EXECUTOR_CORES": "1",
            "SPARK_CORES_MAX": "4",
        }
    )
    conf = spark_conf(loopback)
    executors = {"spark.executor.memory": "3g", "spark.executor.cores": "1", "spark.cores.max": "4"}
    assert {key: conf[key] for key in executors} == executors
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert "f1-spark-functions" in conf["spark.jars"]  # shipped to executors by the driver
    assert os.environ["PYSPARK_PYTHON"] == sys.executable  # a Python worker would run the project's
    monkeypatch.setenv("PYSPARK_PYTHON", "/opt/python/bin/python3")
    remote = spark_conf(Settings.from_env({"SPARK_MASTER": "spark://spark-master:7077"}))
    assert "spark.driver.host" not in remote and os.environ["PYSPARK_PYTHON"] == "/opt/python/bin/python3"
    yarn = spark_conf(Settings.from_env({"SPARK_MASTER": "yarn"}))
    assert "spark.cores.max" not in yarn and yarn["spark.executor.memory"] == "2g"


@pytest.mark.e2e
def test_the_lake_query_runs_on_a_standalone_cluster(cluster, spark, tmp_path):
    s = cluster
    rows = {row.name: row for row in manager.status(s, CLUSTER)}
    assert all(row.running and row.healthy for row in rows.values()), rows
    state = spark_master_state(s)
    assert state["aliveworkers"] == 1 and state["cores"] == 2 and state["memory"] == 1024, state

    # a short 2-car race, a few minutes old
    create_topics(s)
    ids = register_contracts(s)
    config = RaceConfig(cars=2, laps=1, seed=4242, start_time_ns=time.time_ns() - 600 * 10**9)
    simulate(config, ids, KafkaSink(s.kafka_bootstrap_servers), speed=0, truth_path=tmp_path / "truth.json")
    sent = sent_event_ids(s, config.session_id)

    log = tmp_path / "streams.log"
    env = {**os.environ, **s.as_env(), "SPARK_CHECKPOINT_PATH": str(tmp_path / "checkpoints")}
    started = time.monotonic()
    with log.open("w") as out:
        driver = subprocess.Popen(
            [sys.executable, "-m", "streaming.cli", "stream", "run", "--available-now"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the JVM goes with it if it must be killed
        )
        try:
            code = driver.wait(900)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(30)
            pytest.fail(f"the streams did not drain in 15 minutes:\n{log.read_text()[-4000:]}")
    seconds = time.monotonic() - started
    assert code == 0, log.read_text()[-4000:]

    # the work ran on the cluster: the master lists the finished application with the worker's cores ...
    app = _finished_app(s)
    assert app is not None, spark_master_state(s)
    assert app["state"] == "FINISHED" and app["cores"] == 2 and app["memoryperexecutor"] == 1024, app
    # ... the worker ran its executor ...
    executors = _finished_executors(s, app["id"])
    assert executors, _worker_state(s)
    # ... whose folder holds the jars the driver shipped (spark.jars by local path) and a log of tasks
    # that ran our JVM functions and Delta's writers, and no Python worker
    folders = sorted((SERVICES["spark-worker"].work_dir(s) / app["id"]).iterdir())
    assert folders
    shipped = {p.name for folder in folders for p in folder.glob("*.jar")}
    assert {"f1-spark-functions-0.1.0.jar", "delta-spark_4.1_2.13-4.4.0.jar"} <= shipped, shipped
    assert any(name.startswith("spark-sql-kafka-0-10") for name in shipped), shipped
    stderr = "".join((folder / "stderr").read_text(errors="replace") for folder in folders)
    tasks = stderr.count("Finished task")
    assert tasks > 0, stderr[-4000:]
    assert "PythonRunner" not in stderr, "an executor started a Python worker"
    assert "f1-spark-functions-0.1.0.jar to class loader" in stderr, stderr[-4000:]
    # (no state store to look for: the lake query deduplicates against the tables, read by the executor)

    # silver holds every event sent, once
    landed = _silver_event_ids(spark, config.session_id)
    quarantined = spark.table(silver.QUARANTINE_TABLE).where(F.col("session_id") == config.session_id).count()
    print(
        f"cluster: app {app['id']} {app['cores']} cores, {len(executors)} executor(s) of "
        f"{app['memoryperexecutor']} MiB, {tasks} tasks; {len(sent)} events sent, {len(landed)} in silver, "
        f"{quarantined} quarantined; streams drained in {seconds:.0f} s"
    )
    assert len(sent) > 1000 and len(set(sent)) == len(sent)
    assert len(landed) == len(set(landed)), "duplicates in silver"
    assert set(landed) == set(sent)
    assert quarantined == 0
