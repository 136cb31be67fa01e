"""Monitoring: the node exporter, the Pushgateway and Prometheus."""

from __future__ import annotations

import shutil
import string

from streaming.clients.probes import http_ok
from streaming.errors import InstallError
from streaming.runtime.service import Service
from streaming.settings import PROJECT_ROOT, Settings

PROMETHEUS_TEMPLATE = PROJECT_ROOT / "monitoring" / "prometheus" / "prometheus.local.yml"


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
