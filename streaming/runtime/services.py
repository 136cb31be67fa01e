"""The local services: how to prepare, start and probe each one.

Every service binds to 127.0.0.1 on the ports the settings name, keeps its data under
`<F1_STATE_DIR>/data/<service>` and its log in `<F1_STATE_DIR>/logs/<service>.log`.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import shutil
import string
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from streaming.clients.jars import jar_set
from streaming.clients.probes import http_ok, metastore_jdbc_url, metastore_probe, tcp_open
from streaming.errors import ConfigError, InstallError
from streaming.settings import PROJECT_ROOT, SERVICE_NAMES, Settings

CONF_DIR = Path(__file__).parent / "conf"
PROMETHEUS_TEMPLATE = PROJECT_ROOT / "monitoring" / "prometheus" / "prometheus.local.yml"


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
        from streaming.clients.spark import (
            loopback_env,  # the Spark drivers a service starts stay on loopback
        )

        return {**loopback_env(s), **os.environ, **s.as_env()}

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


JMX_CONF_DIR = PROJECT_ROOT / "monitoring" / "jmx"


def _jmx_agent(s: Settings, port: int, config: str) -> str:
    """The JVM option that loads the Prometheus JMX exporter on 127.0.0.1:`port` (monitoring/jmx/`config`).

    An agent in the service's own JVM rather than a separate exporter process: one process less per
    service, and the JVM's own metrics (heap, GC, CPU, threads) come with it.
    """
    agent = jar_set(s.f1_jvm_lib_dir, "monitoring").find("jmx_prometheus_javaagent")
    return f"-javaagent:{agent}=127.0.0.1:{port}:{JMX_CONF_DIR / config}"


@contextlib.contextmanager
def _argument_file(args: list[str]) -> Iterator[Path]:
    """A `java @file` argument file holding `args`, readable by the owner only, deleted afterwards."""
    quoted = ('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"' for a in args)
    fd, name = tempfile.mkstemp(prefix="f1-java-args-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as file:
            file.write("\n".join(quoted) + "\n")
        yield Path(name)
    finally:
        os.unlink(name)


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
        } | (self.secure_properties(s) if s.secure else {})

    def secure_properties(self, s: Settings) -> dict[str, str]:
        """The secure profile: one SASL_SSL (SCRAM-SHA-512) listener for clients and the broker itself.

        The controller listener is TLS too and takes only clients with a certificate of the local CA (in
        practice this broker: KRaft cannot check SCRAM there, its credentials live in the metadata the
        controller serves). The secrets are not in the file: Kafka's EnvVarConfigProvider reads them from
        the environment the runtime starts the broker with.
        """
        from streaming.clients.security import SASL_MECHANISM, SERVER_KEYSTORE, TRUSTSTORE, scram_jaas_config

        port, controller, tls = s.kafka_port, s.kafka_controller_port, s.tls_dir
        keystore_password = "${env:F1_TLS_KEYSTORE_PASSWORD}"
        return {
            "listeners": f"SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"SASL_SSL://127.0.0.1:{port}",
            "inter.broker.listener.name": "SASL_SSL",
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SSL",
            "sasl.enabled.mechanisms": SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
            f"listener.name.sasl_ssl.{SASL_MECHANISM.lower()}.sasl.jaas.config": scram_jaas_config(
                s.kafka_sasl_username, "${env:KAFKA_SASL_PASSWORD}"
            ),
            "listener.name.controller.ssl.client.auth": "required",
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(tls / SERVER_KEYSTORE),
            "ssl.keystore.password": keystore_password,
            "ssl.truststore.type": "PKCS12",
            "ssl.truststore.location": str(tls / TRUSTSTORE),
            "ssl.truststore.password": keystore_password,
            "config.providers": "env",
            "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
        }

    def prepare(self, s: Settings) -> None:
        data = self.data_dir(s)
        data.mkdir(parents=True, exist_ok=True)
        if s.secure:
            from streaming.clients.security import ensure_local_tls

            ensure_local_tls(s)
        config = data / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in self.properties(s).items()))
        scram_user = data / "scram-user"  # who --add-scram created when the storage was formatted
        if (data / "logs" / "meta.properties").exists():
            if s.secure and not (scram_user.exists() and scram_user.read_text() == s.kafka_sasl_username):
                raise ConfigError(
                    [
                        f"KAFKA_SASL_USERNAME={s.kafka_sasl_username!r} is not valid for the Kafka storage "
                        f"in {data}: it was formatted without that SCRAM user (KRaft creates users when it "
                        "formats). Use the user it has, or start from empty storage (`make reset`)."
                    ]
                )
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
        if s.secure:
            from streaming.clients.security import scram_credential_argument

            fmt += ["--add-scram", scram_credential_argument(s.kafka_sasl_username, s.kafka_sasl_password)]
        with _argument_file(fmt[1:]) as argfile:  # the SCRAM credential stays out of `ps`
            result = subprocess.run([fmt[0], f"@{argfile}"], capture_output=True, text=True, env=self.env(s))
        if result.returncode != 0:
            raise InstallError(f"Formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")
        if s.secure:
            scram_user.write_text(s.kafka_sasl_username)

    def command(self, s: Settings) -> list[str]:
        return [
            _java(s),
            *s.kafka_heap_opts.split(),
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            _jmx_agent(s, s.kafka_metrics_port, "kafka.yml"),
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

        from streaming.clients.security import kafka_config

        config = {**kafka_config(s), "bootstrap.servers": self.endpoint(s), "log_level": 0}
        try:
            AdminClient(config).list_topics(timeout=3)
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
        if s.secure:
            from streaming.clients.security import ensure_local_tls

            ensure_local_tls(s)

    def secure_properties(self, s: Settings) -> dict[str, str]:
        """The secure profile: HTTPS only, and HTTP basic authentication for every API and the UI.

        Apicurio's own authentication needs an OIDC server (Keycloak); Quarkus's basic authentication with
        its embedded user realm (both in the registry's build) needs none. Health and metrics stay open
        to probes and Prometheus: they tell nothing about the schemas. The `${...}` values are expanded
        by Quarkus from the environment, so no secret is on the command line or in the log.
        """
        from streaming.clients.security import SERVER_KEYSTORE

        user = f'"{s.schema_registry_username}"'  # quoted: a user name may contain dots
        return {
            "quarkus.http.ssl-port": str(s.schema_registry_port),
            "quarkus.http.insecure-requests": "disabled",
            "quarkus.http.ssl.certificate.key-store-file": str(s.tls_dir / SERVER_KEYSTORE),
            "quarkus.http.ssl.certificate.key-store-password": "${F1_TLS_KEYSTORE_PASSWORD}",
            "quarkus.http.auth.basic": "true",
            "quarkus.security.users.embedded.enabled": "true",
            "quarkus.security.users.embedded.plain-text": "true",
            f"quarkus.security.users.embedded.users.{user}": "${SCHEMA_REGISTRY_PASSWORD}",
            f"quarkus.security.users.embedded.roles.{user}": "sr-admin",
            "quarkus.http.auth.permission.probes.paths": "/health,/health/*,/metrics",
            "quarkus.http.auth.permission.probes.policy": "permit",
            "quarkus.http.auth.permission.clients.paths": "/*",
            "quarkus.http.auth.permission.clients.policy": "authenticated",
        }

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
        } | (self.secure_properties(s) if s.secure else {})
        return [
            _java(s),
            *s.schema_registry_heap_opts.split(),
            "-XX:+UseSerialGC",
            _jmx_agent(s, s.schema_registry_metrics_port, "jvm-only.yml"),
            *(f"-D{k}={v}" for k, v in props.items()),
            "-jar",
            str(self.app_jar(s)),
        ]

    def probe(self, s: Settings) -> str | None:
        from streaming.clients.security import registry_http

        return http_ok(f"{s.schema_registry_url}/subjects", **registry_http(s))


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
            _jmx_agent(s, s.metastore_metrics_port, "jvm-only.yml"),
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
        return metastore_probe(s)


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
        _java(s)  # spark-class would fail with a less helpful message
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


def _debian_binary(name: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        raise InstallError(f"{name} not found. Install Debian's package: `apt-get install {name}`.")
    return binary


class NodeExporter(Service):
    """Debian's prometheus-node-exporter: the machine's CPU, memory, disks and network."""

    name, title, variable = "node-exporter", "Node exporter (system metrics)", "NODE_EXPORTER_PORT"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.node_exporter_port}/metrics"

    def command(self, s: Settings) -> list[str]:
        return [
            _debian_binary("prometheus-node-exporter"),
            f"--web.listen-address=127.0.0.1:{s.node_exporter_port}",
            # The collectors the System Resources dashboard reads; the rest only cost scrape time.
            "--collector.disable-defaults",
            *(
                f"--collector.{c}"
                for c in ("cpu", "meminfo", "loadavg", "filesystem", "diskstats", "netdev", "pressure")
            ),
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(self.endpoint(s))


class Pushgateway(Service):
    """Debian's prometheus-pushgateway: where batch work (Dagster's asset checks) leaves its metrics."""

    name, title, variable = "pushgateway", "Prometheus Pushgateway", "PUSHGATEWAY_URL"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.pushgateway_port}"

    def command(self, s: Settings) -> list[str]:
        data = self.data_dir(s)
        data.mkdir(parents=True, exist_ok=True)
        return [
            _debian_binary("prometheus-pushgateway"),
            f"--web.listen-address=127.0.0.1:{s.pushgateway_port}",
            # Pushed results survive a restart: a check's last result stays on the dashboards.
            f"--persistence.file={data / 'metrics.store'}",
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(f"{self.endpoint(s)}/-/ready")


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
        ports = {
            "PUSHGATEWAY_PORT": s.pushgateway_port,
            "KAFKA_PORT": s.kafka_port,
            "SCHEMA_REGISTRY_PORT": s.schema_registry_port,
            "METRICS_EXPORTER_PORT_NEXT": s.metrics_exporter_port + 1,
        }
        # The registry serves HTTPS in the secure profile (its /metrics needs no password).
        ports["SCHEMA_REGISTRY_SCHEME"] = "https" if s.secure else "http"
        # The template single-quotes the paths (YAML), where a quote is written twice.
        files = {
            "ALERT_RULES": str(self.alert_rules.resolve()).replace("'", "''"),
            "TLS_CA_FILE": str(s.tls_ca_file).replace("'", "''") if s.secure else "",
        }
        (data / "prometheus.yml").write_text(template.substitute({**s.as_env(), **ports, **files}))

    def command(self, s: Settings) -> list[str]:
        data = self.data_dir(s)
        return [
            _debian_binary("prometheus"),
            f"--config.file={data / 'prometheus.yml'}",
            f"--storage.tsdb.path={data / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{s.prometheus_port}",
            "--storage.tsdb.retention.time=7d",
            "--web.enable-lifecycle",
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(f"{self.endpoint(s)}/-/ready")


DAGSTER_INSTANCE_CONFIG = Path(__file__).parent / "conf" / "dagster.yaml"


class Dagster(Service):
    """`dagster dev` on the code location in workspace.yaml: webserver and daemon."""

    name, title, variable = "dagster", "Dagster (dagster dev)", "DAGSTER_PORT"

    def endpoint(self, s: Settings) -> str:
        return f"http://127.0.0.1:{s.dagster_port}"

    def prepare(self, s: Settings) -> None:
        s.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DAGSTER_INSTANCE_CONFIG, s.dagster_home / "dagster.yaml")
        # Its schedules and sensors start at once: the quality checks' first tick found no bronze table
        # (TABLE_OR_VIEW_NOT_FOUND) when `f1 init` ran after it. Topics, schemas and tables come first,
        # the same as `f1 init` makes them (idempotent; the metastore starts before Dagster).
        from streaming.clients.bootstrap import bootstrap

        for line in bootstrap(s, tables=True).report():
            print(line, flush=True)

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


class Simulator(Service):
    """`f1 simulate --loop`: race after race into Kafka at SIMULATOR_SPEED, with the SIMULATOR_* settings."""

    name, title, variable = "simulator", "Race simulator", "SIMULATOR_SPEED"

    def endpoint(self, s: Settings) -> str:
        return f"{s.simulator_cars} cars -> {s.kafka_bootstrap_servers}"

    def prepare(self, s: Settings) -> None:
        # Its topics and schemas must exist before the first record (the same as `f1 init` does).
        from streaming.clients.bootstrap import bootstrap

        bootstrap(s, tables=False)

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

    def command(self, s: Settings) -> list[str]:
        return [sys.executable, "-m", "streaming.cli", "stream", "run"]

    def probe(self, s: Settings) -> str | None:
        # The exporter answers once the SparkSession is up and the queries have started.
        return http_ok(f"http://127.0.0.1:{s.metrics_exporter_port}/metrics")


SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        Kafka(),
        SchemaRegistry(),
        Metastore(),
        SparkMaster(),
        SparkWorker(),
        NodeExporter(),
        Pushgateway(),
        Prometheus(),
        Dagster(),
        Simulator(),
        Streams(),
    )
}
assert tuple(SERVICES) == SERVICE_NAMES, "SERVICES and settings.SERVICE_NAMES disagree"
