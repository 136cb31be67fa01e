"""Kafka: one combined KRaft broker and controller, its storage formatted on first start."""

from __future__ import annotations

import base64
import subprocess
import uuid

from streaming.clients.jars import jar_set
from streaming.clients.probes import tcp_open
from streaming.clients.security import (
    SASL_MECHANISM,
    SERVER_KEYSTORE,
    TRUSTSTORE,
    kafka_config,
    scram_jaas_config,
)
from streaming.errors import ConfigError, InstallError
from streaming.runtime.service import CONF_DIR, Service, argument_file, java_command, jmx_agent_option
from streaming.settings import Settings


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
            java_command(s),
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
        with argument_file(fmt[1:]) as argfile:  # the SCRAM credential stays out of `ps`
            result = subprocess.run([fmt[0], f"@{argfile}"], capture_output=True, text=True, env=self.env(s))
        if result.returncode != 0:
            raise InstallError(f"Formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")
        if s.secure:
            scram_user.write_text(s.kafka_sasl_username)

    def command(self, s: Settings) -> list[str]:
        return [
            java_command(s),
            *s.kafka_heap_opts.split(),
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            jmx_agent_option(s, s.kafka_metrics_port, "kafka.yml"),
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

        config = {**kafka_config(s), "bootstrap.servers": self.endpoint(s), "log_level": 0}
        try:
            AdminClient(config).list_topics(timeout=3)
        except Exception as error:  # KafkaException while the broker is still electing itself
            return f"metadata request failed: {error}"
        return None
