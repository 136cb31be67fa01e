"""The schema registry: Apicurio Registry with its Confluent-compatible API."""

from __future__ import annotations

from pathlib import Path

from streaming.clients.probes import http_ok
from streaming.clients.security import SERVER_KEYSTORE, registry_http
from streaming.errors import InstallError
from streaming.runtime.service import Service, java_command, jmx_agent_option
from streaming.settings import Settings


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
            java_command(s),
            *s.schema_registry_heap_opts.split(),
            "-XX:+UseSerialGC",
            jmx_agent_option(s, s.schema_registry_metrics_port, "jvm-only.yml"),
            *(f"-D{k}={v}" for k, v in props.items()),
            "-jar",
            str(self.app_jar(s)),
        ]

    def probe(self, s: Settings) -> str | None:
        return http_ok(f"{s.schema_registry_url}/subjects", **registry_http(s))
