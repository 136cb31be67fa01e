"""A standalone Spark cluster (master and worker), for F1_SERVICES that ask for one."""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from pathlib import Path

from streaming.errors import InstallError
from streaming.runtime.service import Service, java_command
from streaming.settings import Settings


def spark_home() -> Path:
    """pyspark's pip package is a Spark distribution: bin/spark-class and jars/.

    Its sbin/ has no start-master.sh or start-worker.sh, so the services run spark-class themselves.
    """
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise InstallError("pyspark is not installed. Run `make install`.")
    return Path(spec.submodule_search_locations[0])


def spark_master_state(s: Settings) -> dict | None:
    """The local master's /json/ (status, workers, applications), or None when it does not answer."""
    try:
        url = f"http://127.0.0.1:{s.spark_master_webui_port}/json/"
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


class _SparkDaemon(Service):
    """A daemon of the local Spark standalone cluster, run by pyspark's spark-class (which execs the JVM,
    so the JVM is the supervisor's child). Optional: add it to F1_SERVICES."""

    main_class: str

    def prepare(self, s: Settings) -> None:
        self.data_dir(s).mkdir(parents=True, exist_ok=True)

    def env(self, s: Settings) -> dict[str, str]:
        return {
            **super().env(s),  # SPARK_DAEMON_MEMORY among the settings: the daemon's heap
            "SPARK_HOME": str(spark_home()),
            # An empty conf folder: no spark-env.sh or spark-defaults.conf from elsewhere changes the daemon.
            "SPARK_CONF_DIR": str(self.data_dir(s)),
            # Bind to loopback only, like every service; the executors the worker starts inherit it.
            "SPARK_LOCAL_IP": "127.0.0.1",
        }

    def spark_class(self, s: Settings) -> list[str]:
        java_command(s)  # spark-class would fail with a less helpful message
        return [str(spark_home() / "bin" / "spark-class"), self.main_class]


class SparkMaster(_SparkDaemon):
    """The standalone master: applications with SPARK_MASTER=spark://127.0.0.1:SPARK_MASTER_PORT run here."""

    name, title, variable = "spark-master", "Spark standalone master", "SPARK_MASTER_PORT"
    main_class = "org.apache.spark.deploy.master.Master"

    def endpoint(self, s: Settings) -> str:
        return f"{s.local_spark_master_url} (UI http://127.0.0.1:{s.spark_master_webui_port})"

    def command(self, s: Settings) -> list[str]:
        return [
            *self.spark_class(s),
            "--host",
            "127.0.0.1",
            "--port",
            str(s.spark_master_port),
            "--webui-port",
            str(s.spark_master_webui_port),
        ]

    def probe(self, s: Settings) -> str | None:
        state = spark_master_state(s)
        if state is None:
            return "web UI not answering"
        return None if state.get("status") == "ALIVE" else f"master is {state.get('status')}"


class SparkWorker(_SparkDaemon):
    """The standalone worker: runs the executors of the applications on the local master."""

    name, title, variable = "spark-worker", "Spark standalone worker", "SPARK_WORKER_WEBUI_PORT"
    main_class = "org.apache.spark.deploy.worker.Worker"

    def endpoint(self, s: Settings) -> str:
        return (
            f"{s.spark_worker_cores} cores, {s.spark_worker_memory} -> {s.local_spark_master_url} "
            f"(UI http://127.0.0.1:{s.spark_worker_webui_port})"
        )

    def work_dir(self, s: Settings) -> Path:
        """One folder per application and executor: the jars fetched from the driver, stdout and stderr."""
        return self.data_dir(s) / "work"

    def env(self, s: Settings) -> dict[str, str]:
        # Spark keeps every finished application's folder (a copy of the jars each) forever by default.
        cleanup = "-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.appDataTtl=604800"
        return {**super().env(s), "SPARK_WORKER_OPTS": cleanup}

    def command(self, s: Settings) -> list[str]:
        return [
            *self.spark_class(s),
            s.local_spark_master_url,
            "--host",
            "127.0.0.1",
            "--cores",
            str(s.spark_worker_cores),
            "--memory",
            s.spark_worker_memory,
            "--webui-port",
            str(s.spark_worker_webui_port),
            "--work-dir",
            str(self.work_dir(s)),
        ]

    def probe(self, s: Settings) -> str | None:
        state = spark_master_state(s)
        if state is None:
            return "the master's web UI is not answering"
        ui = f"http://127.0.0.1:{s.spark_worker_webui_port}"
        workers = state.get("workers", [])
        alive = [w for w in workers if w.get("webuiaddress") == ui and w.get("state") == "ALIVE"]
        return None if alive else "not registered with the master"
