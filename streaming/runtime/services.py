"""The local services: how to prepare, start and probe each one.

Every service binds to 127.0.0.1 on the ports the settings name, keeps its data under
`<F1_STATE_DIR>/data/<service>` and its log in `<F1_STATE_DIR>/logs/<service>.log`.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import string
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from streaming.errors import InstallError
from streaming.jars import jar_set
from streaming.settings import PROJECT_ROOT, SERVICE_NAMES, Settings

CONF_DIR = Path(__file__).parent / "conf"
PROMETHEUS_TEMPLATE = PROJECT_ROOT / "monitoring" / "prometheus" / "prometheus.local.yml"


def tcp_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout_s: float = 2.0) -> str | None:
    """None when `url` answers 2xx, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        return str(getattr(error, "reason", error))


class Service:
    """One local service. Subclasses say how to prepare, run and probe it."""

    name: str
    title: str
    variable: str  # the setting that says where clients find it

    def endpoint(self, s: Settings) -> str:
        raise NotImplementedError

    def prepare(self, s: Settings) -> None:
        """Write configuration and initialise storage on first start (idempotent)."""

    def command(self, s: Settings) -> list[str]:
        raise NotImplementedError

    def env(self, s: Settings) -> dict[str, str]:
        return {**os.environ, **s.as_env()}

    def probe(self, s: Settings) -> str | None:
        """None when the service answers like a healthy one, else a short reason."""
        raise NotImplementedError

    def data_dir(self, s: Settings) -> Path:
        return s.data_dir / self.name


def _java(s: Settings) -> str:
    java = s.java
    if shutil.which(java) is None:
        raise InstallError(f"Java not found ({java}). Install a JDK 17+ or set JAVA_HOME.")
    return java


def _cluster_id() -> str:
    """A KRaft cluster id (base64url of a UUID). Never one starting with '-': the storage tool would
    take it for an option ("argument --cluster-id: expected one argument")."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class Kafka(Service):
    """One combined KRaft broker+controller node, storage formatted on first start."""

    name, title, variable = "kafka", "Kafka broker (KRaft)", "KAFKA_BOOTSTRAP_SERVERS"

    def endpoint(self, s: Settings) -> str:
        return f"127.0.0.1:{s.kafka_port}"

    def properties(self, s: Settings) -> dict[str, str]:
        port, controller = s.kafka_port, s.kafka_controller_port
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{controller}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir(s) / "logs"),
            "num.partitions": str(s.kafka_topic_partitions),
            # The platform creates its topics with explicit partitions and retention (`f1 init`).
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": str(s.kafka_retention_hours),
            "log.segment.bytes": str(256 * 1024 * 1024),
            "num.network.threads": "2",
            "num.io.threads": "4",
        }

    def prepare(self, s: Settings) -> None:
        data = self.data_dir(s)
        data.mkdir(parents=True, exist_ok=True)
        config = data / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in self.properties(s).items()))
        if (data / "logs" / "meta.properties").exists():
            return
        cluster_id_file = data / "cluster.id"
        if not cluster_id_file.exists():
            cluster_id_file.write_text(_cluster_id())
        fmt = [
            _java(s),
            "-cp",
            jar_set(s.f1_jvm_lib_dir, "kafka").classpath(),
            f"-Dlog4j2.configurationFile={CONF_DIR / 'kafka-log4j2.properties'}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id_file.read_text().strip(),
            "-c",
            str(config),
        ]
        result = subprocess.run(fmt, capture_output=True, text=True)
        if result.returncode != 0:
            raise InstallError(f"Formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")

    def command(self, s: Settings) -> list[str]:
        return [
            _java(s),
            *s.kafka_heap_opts.split(),
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={CONF_DIR / 'kafka-log4j2.properties'}",
            "-cp",
            jar_set(s.f1_jvm_lib_dir, "kafka").classpath(),
            "kafka.Kafka",
            str(self.data_dir(s) / "server.properties"),
        ]

    def probe(self, s: Settings) -> str | None:
        if not tcp_open("127.0.0.1", s.kafka_port):
            return "port closed"
        from confluent_kafka.admin import AdminClient

        try:
            AdminClient({"bootstrap.servers": self.endpoint(s), "log_level": 0}).list_topics(timeout=3)
        except Exception as error:  # KafkaException while the broker is still electing itself
            return f"metadata request failed: {error}"
        return None


class SchemaRegistry(Service):
    """Apicurio Registry 3 (a Quarkus app) serving the Confluent-compatible API under /apis/ccompat/v7."""

    name, title, variable = "registry", "Schema registry (Apicurio)", "SCHEMA_REGISTRY_URL"

    def endpoint(self, s: Settings) -> str:
        return s.schema_registry_url

    def app_jar(self, s: Settings) -> Path:
        # 3.0.x ships a runner jar beside lib/; later releases a Quarkus fast-jar (quarkus-run.jar).
        folder = s.f1_jvm_lib_dir / "registry"
        jars = sorted(folder.glob("*-runner.jar")) + sorted(folder.glob("quarkus-run.jar"))
        if not jars:
            raise InstallError(f"Apicurio Registry is missing from {folder}. Run `make install`.")
        return jars[0]

    def prepare(self, s: Settings) -> None:
        self.data_dir(s).mkdir(parents=True, exist_ok=True)

    def command(self, s: Settings) -> list[str]:
        h2_url = f"jdbc:h2:file:{self.data_dir(s) / 'registry'};DB_CLOSE_ON_EXIT=FALSE"
        props = {
            "quarkus.http.host": "127.0.0.1",
            "quarkus.http.port": str(s.schema_registry_port),
            "apicurio.storage.kind": "sql",
            "apicurio.storage.sql.kind": "h2",
            "apicurio.datasource.url": h2_url,
            "apicurio.datasource.username": "sa",
            "apicurio.datasource.password": "sa",
            # The default pool opens 20 connections up front: far more than one local registry needs.
            "apicurio.datasource.jdbc.initial-size": "2",
            "apicurio.datasource.jdbc.min-size": "2",
            "apicurio.datasource.jdbc.max-size": "10",
            "quarkus.log.console.json": "false",
            "quarkus.banner.enabled": "false",
        }
        return [
            _java(s),
            *s.schema_registry_heap_opts.split(),
            "-XX:+UseSerialGC",
            *(f"-D{k}={v}" for k, v in props.items()),
            "-jar",
            str(self.app_jar(s)),
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(f"{s.schema_registry_url}/subjects")


class Metastore(Service):
    """Derby's network server: the Hive metastore database that every Spark process shares."""

    name, title, variable = "metastore", "Table catalog (Hive metastore on Derby)", "METASTORE_PORT"

    def endpoint(self, s: Settings) -> str:
        return metastore_jdbc_url(s)

    def prepare(self, s: Settings) -> None:
        self.data_dir(s).mkdir(parents=True, exist_ok=True)

    def command(self, s: Settings) -> list[str]:
        return [
            _java(s),
            *s.metastore_heap_opts.split(),
            "-XX:+UseSerialGC",
            f"-Dderby.system.home={self.data_dir(s)}",
            "-Dderby.stream.error.file=" + str(self.data_dir(s) / "derby.log"),
            "-cp",
            jar_set(s.f1_jvm_lib_dir, "metastore").classpath(),
            "org.apache.derby.drda.NetworkServerControl",
            "start",
            "-h",
            "127.0.0.1",
            "-p",
            str(s.metastore_port),
            "-noSecurityManager",
        ]

    def probe(self, s: Settings) -> str | None:
        return None if tcp_open("127.0.0.1", s.metastore_port) else "port closed"


def metastore_jdbc_url(s: Settings) -> str:
    return f"jdbc:derby://127.0.0.1:{s.metastore_port}/metastore_db;create=true"


class Prometheus(Service):
    """Prometheus from Debian's `prometheus` package, scraping the platform's exporters."""

    name, title, variable = "prometheus", "Prometheus", "PROMETHEUS_PORT"
    # The streaming alerts, loaded from the project tree (an absolute path: the config lives elsewhere).
    alert_rules = PROMETHEUS_TEMPLATE.parent / "alerts.yml"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.prometheus_port}"

    def prepare(self, s: Settings) -> None:
        data = self.data_dir(s)
        data.mkdir(parents=True, exist_ok=True)
        template = string.Template(PROMETHEUS_TEMPLATE.read_text())
        ports = {"KAFKA_PORT": s.kafka_port, "SCHEMA_REGISTRY_PORT": s.schema_registry_port}
        # The template single-quotes the path (YAML), where a quote is written twice.
        files = {"ALERT_RULES": str(self.alert_rules.resolve()).replace("'", "''")}
        (data / "prometheus.yml").write_text(template.substitute({**s.as_env(), **ports, **files}))

    def command(self, s: Settings) -> list[str]:
        binary = shutil.which("prometheus")
        if binary is None:
            raise InstallError(
                "prometheus not found. Install Debian's package: `apt-get install prometheus`."
            )
        data = self.data_dir(s)
        return [
            binary,
            f"--config.file={data / 'prometheus.yml'}",
            f"--storage.tsdb.path={data / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{s.prometheus_port}",
            "--storage.tsdb.retention.time=7d",
            "--web.enable-lifecycle",
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(f"{self.endpoint(s)}/-/ready")


class Dagster(Service):
    """`dagster dev` on the code location in workspace.yaml: webserver and daemon."""

    name, title, variable = "dagster", "Dagster (dagster dev)", "DAGSTER_PORT"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.dagster_port}"

    def prepare(self, s: Settings) -> None:
        s.dagster_home.mkdir(parents=True, exist_ok=True)
        config = s.dagster_home / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")

    def env(self, s: Settings) -> dict[str, str]:
        return {**super().env(s), "DAGSTER_HOME": str(s.dagster_home)}

    def command(self, s: Settings) -> list[str]:
        return [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(s.dagster_port),
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(f"{self.endpoint(s)}/server_info")


def _topics_and_contracts(s: Settings) -> None:
    """Create the platform's topics and register its contracts (idempotent), as `f1 init` does."""
    from streaming.contracts.registration import register_contracts
    from streaming.topics import create_topics

    create_topics(s)
    register_contracts(s)


class Simulator(Service):
    """`f1 simulate --loop`: race after race into Kafka at SIMULATOR_SPEED, with the SIMULATOR_* settings."""

    name, title, variable = "simulator", "Race simulator", "SIMULATOR_SPEED"

    def endpoint(self, s: Settings) -> str:
        return f"{s.simulator_cars} cars -> {s.kafka_bootstrap_servers}"

    def prepare(self, s: Settings) -> None:
        # Its topics and schemas must exist before the first record (the same as `f1 init` does).
        _topics_and_contracts(s)

    def command(self, s: Settings) -> list[str]:
        return [sys.executable, "-m", "streaming.cli", "simulate", "--loop", "--quiet"]

    def probe(self, s: Settings) -> str | None:
        from streaming.runtime.process import ManagedProcess

        alive = ManagedProcess(self.name, s.run_dir, s.logs_dir).child_pid() is not None
        return None if alive else "not running"


class Streams(Service):
    """`f1 stream run`: the bronze and silver queries (STREAM_QUERIES) in one Spark application."""

    name, title, variable = "streams", "Streaming jobs (Spark)", "METRICS_EXPORTER_PORT"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.metrics_exporter_port}/metrics ({', '.join(s.stream_queries)})"

    def prepare(self, s: Settings) -> None:
        # Topics, contracts and tables must exist before the queries start (the same as `f1 init`).
        from streaming.catalog import create_databases

        _topics_and_contracts(s)
        create_databases(s)

    def command(self, s: Settings) -> list[str]:
        return [sys.executable, "-m", "streaming.cli", "stream", "run"]

    def probe(self, s: Settings) -> str | None:
        # The exporter answers once the SparkSession is up and the queries have started.
        return http_ok(f"http://127.0.0.1:{s.metrics_exporter_port}/metrics")


SERVICES: dict[str, Service] = {
    service.name: service
    for service in (Kafka(), SchemaRegistry(), Metastore(), Prometheus(), Dagster(), Simulator(), Streams())
}
assert tuple(SERVICES) == SERVICE_NAMES, "SERVICES and settings.SERVICE_NAMES disagree"
