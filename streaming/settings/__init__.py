"""The platform's one settings object, read from the environment (and an optional `.env` file).

Every variable is declared once in `VARIABLES` with its default, what it accepts and what it is for;
`.env.example` is generated from that table (`f1 env-example`) and a test keeps the two in sync.
A bad value fails at start with a `ConfigError` that names the variable and what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

from streaming.errors import ConfigError
from streaming.settings.parsers import (
    PROJECT_ROOT,
    SERVICE_NAMES,
    STREAM_QUERY_NAMES,
    Invalid,
    local_cluster_problems,
    object_storage_problems,
    security_problems,
)
from streaming.settings.variables import VARIABLES, Variable

__all__ = [
    "PROJECT_ROOT",
    "SERVICE_NAMES",
    "STREAM_QUERY_NAMES",
    "VARIABLES",
    "Settings",
    "Variable",
    "read_dotenv",
    "render_env_example",
]


@dataclass(frozen=True)
class Settings:
    """Typed, validated configuration. Build it with `Settings.from_env()`."""

    f1_env: str
    f1_state_dir: Path
    f1_jvm_lib_dir: Path
    f1_services: tuple[str, ...]
    java_home: str
    kafka_bootstrap_servers: str
    kafka_controller_port: int
    kafka_topic_partitions: int
    kafka_replication_factor: int
    kafka_retention_hours: int
    kafka_dlq_retention_hours: int
    kafka_heap_opts: str
    schema_registry_url: str
    schema_registry_heap_opts: str
    f1_security_profile: str
    kafka_sasl_username: str
    kafka_sasl_password: str = field(repr=False)
    schema_registry_username: str
    schema_registry_password: str = field(repr=False)
    f1_tls_ca_file: str
    f1_tls_keystore_password: str = field(repr=False)
    metastore_host: str
    metastore_port: int
    metastore_heap_opts: str
    spark_master: str
    spark_driver_memory: str
    spark_executor_memory: str
    spark_executor_cores: int
    spark_cores_max: int
    spark_shuffle_partitions: int
    spark_ui_port: int
    spark_thrift_port: int
    spark_checkpoint_path: str
    delta_storage_path: str
    s3_endpoint_url: str
    s3_region: str
    s3_path_style_access: bool
    s3_access_key_id: str
    s3_secret_access_key: str = field(repr=False)
    spark_master_port: int
    spark_master_webui_port: int
    spark_worker_webui_port: int
    spark_worker_cores: int
    spark_worker_memory: str
    spark_daemon_memory: str
    stream_queries: tuple[str, ...]
    stream_trigger_seconds: float
    stream_max_offsets_per_trigger: int
    silver_allowed_lateness_seconds: int
    silver_future_tolerance_seconds: int
    silver_parallel_writes: int
    stream_batch_tries: int
    stream_fault_fail_batch_event_id_prefix: str
    dbt_target: str
    dagster_port: int
    dagster_ui_url: str
    stream_report_seconds: int
    stream_heartbeat_timeout_seconds: int
    stream_max_relaunches: int
    alert_webhook_url: str
    quality_check_cron: str
    gold_build_cron: str
    maintenance_cron: str
    prometheus_port: int
    prometheus_scrape_interval: str
    metrics_exporter_port: int
    metrics_exporter_host: str
    kafka_metrics_port: int
    schema_registry_metrics_port: int
    metastore_metrics_port: int
    node_exporter_port: int
    pushgateway_url: str
    simulator_cars: int
    simulator_laps: int
    simulator_speed: float
    simulator_encoding: str
    simulator_faults: str
    simulator_seed: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Read every variable from `environ` (default: `.env` under the project root, then os.environ)."""
        if environ is None:
            environ = {**read_dotenv(dotenv or PROJECT_ROOT / ".env"), **os.environ}
        values, problems = {}, []
        for var in VARIABLES:
            raw = environ.get(var.env)
            raw = var.default if raw is None else raw.strip()
            try:
                values[var.field] = var.parse(raw)
            except Invalid as bad:
                shown = "<hidden>" if var.secret else repr(raw)
                problems.append(f"{var.env}={shown} is not valid: expected {bad.accepts}.")
        problems = problems or (
            local_cluster_problems(values) + security_problems(values) + object_storage_problems(values)
        )
        if problems:
            raise ConfigError(problems)
        return cls(**values)

    # Derived values: computed here once so that no caller re-parses a variable.
    @property
    def kafka_port(self) -> int:
        return int(self.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)[1])

    @property
    def schema_registry_port(self) -> int:
        parsed = urlparse(self.schema_registry_url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    @property
    def pushgateway_port(self) -> int:
        """Port of the local pushgateway: PUSHGATEWAY_URL's (9091 when pushing is off)."""
        return (urlparse(self.pushgateway_url).port if self.pushgateway_url else None) or 9091

    @property
    def logs_dir(self) -> Path:
        return self.f1_state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.f1_state_dir / "run"

    @property
    def data_dir(self) -> Path:
        return self.f1_state_dir / "data"

    @property
    def dagster_home(self) -> Path:
        return self.f1_state_dir / "dagster"

    @property
    def dagster_url(self) -> str:
        return self.dagster_ui_url or f"http://127.0.0.1:{self.dagster_port}"

    @property
    def local_spark_master_url(self) -> str:
        """The master URL of the local standalone cluster (the spark-master service)."""
        return f"spark://127.0.0.1:{self.spark_master_port}"

    @property
    def secure(self) -> bool:
        """The secure profile: SASL_SSL to Kafka, HTTPS with basic authentication to the registry."""
        return self.f1_security_profile == "secure"

    @property
    def tls_dir(self) -> Path:
        """Where the local runtime keeps its CA and certificate (secure profile)."""
        return self.f1_state_dir / "tls"

    @property
    def tls_ca_file(self) -> Path:
        """The PEM file of the CA that clients trust (secure profile)."""
        return Path(self.f1_tls_ca_file) if self.f1_tls_ca_file else self.tls_dir / "ca.pem"

    @property
    def java(self) -> str:
        return str(Path(self.java_home) / "bin" / "java") if self.java_home else "java"

    def as_env(self) -> dict[str, str]:
        """These settings as environment variables, for child processes (dagster dev, Spark jobs)."""
        env = {}
        for var in VARIABLES:
            value = getattr(self, var.field)
            env[var.env] = ",".join(value) if isinstance(value, tuple) else str(value)
        return env


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines of a `.env` file; blank lines and # comments are skipped."""
    if not path.is_file():
        return {}
    result = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        result[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return result


def render_env_example() -> str:
    """The text of `.env.example`: every variable with its default, grouped by section."""
    lines = [
        "# f1-telemetry configuration. Copy to .env (or export the variables) to change a default.",
        "# Generated from streaming/settings/variables.py (`f1 env-example`); a test fails when they drift.",
        "# Relative paths are taken from the project root.",
    ]
    section = None
    for var in VARIABLES:
        if var.section != section:
            section = var.section
            lines += ["", f"## {section}"]
        lines += [f"# {var.doc}", f"{var.env}={var.default}"]
    return "\n".join(lines) + "\n"


assert {f.name for f in fields(Settings)} == {v.field for v in VARIABLES}, "Settings and VARIABLES disagree"
