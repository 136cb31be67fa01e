"""The Grafana dashboards, as code: Stream Health, Data Quality and System Resources.

Each panel is a title, a unit and its PromQL queries; `grafana_json` lays them out as a Grafana
dashboard, written to monitoring/grafana/dashboards/ by `f1 dashboards write` (a test fails when the
committed JSON drifts from this module). Grafana loads them through file provisioning
(monitoring/grafana/provisioning/), reading the Prometheus datasource provisioned beside them, so no
one clicks anything together.

Queries use fixed windows, not Grafana's `$__rate_interval`: the same text then runs against the
Prometheus HTTP API (`f1 dashboards check`, and the end-to-end test that every panel returns data).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from streaming.settings import PROJECT_ROOT

DASHBOARD_DIR = PROJECT_ROOT / "monitoring" / "grafana" / "dashboards"
DATASOURCE_UID = "f1-prometheus"  # monitoring/grafana/provisioning/datasources/prometheus.yml
# The JVMs: the broker, registry and metastore (JMX exporter agents) and the streams' Spark drivers.
JVMS = 'job=~"jvm|f1-streaming"'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str  # a Grafana unit id: short, s, ms, bytes, percentunit, reqps, ...
    queries: tuple[Query, ...]
    description: str = ""
    kind: str = "timeseries"  # timeseries, stat or table
    width: int = 12


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)

    @property
    def file_name(self) -> str:
        return f"{self.uid}.json"


def _q(expr: str, legend: str = "") -> Query:
    return Query(" ".join(expr.split()), legend)


STREAM_HEALTH = Dashboard(
    uid="f1-stream-health",
    title="F1 Telemetry / Stream Health",
    description="Is the lake query (Kafka to bronze, silver and quarantine) keeping up? Throughput, lag, "
    "latency and restarts.",
    panels=(
        Panel(
            "Throughput per query",
            "reqps",
            (_q("sum by (query) (rate(f1_input_rows_total[1m]))", "{{query}}"),),
            "Records read per second from Kafka by each streaming query.",
        ),
        Panel(
            "Records into Kafka per topic",
            "reqps",
            (
                _q(
                    "sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total"
                    '{topic=~"f1\\\\..*"}[1m]))',
                    "{{topic}}",
                ),
            ),
            "What the simulator (raw topics) and silver (enriched topic) write to the broker.",
        ),
        Panel(
            "Streaming lag (event time to commit)",
            "s",
            (
                _q('max by (query) (f1_streaming_lag_seconds{quantile="0.99"})', "{{query}} p99"),
                _q('max by (query) (f1_streaming_lag_seconds{quantile="0.5"})', "{{query}} p50"),
            ),
            "How long after they happened the last batch's events landed in Delta. Alert above 5 s (p99).",
        ),
        Panel(
            "Processing latency (micro-batch duration)",
            "s",
            (
                _q("max by (query) (f1_processing_latency_seconds)", "{{query}} last batch"),
                _q(
                    "histogram_quantile(0.95,"
                    " sum by (le, query) (rate(f1_batch_duration_seconds_bucket[5m])))",
                    "{{query}} p95 (5m)",
                ),
            ),
            "Duration of the micro-batches: a batch slower than its trigger interval lets lag build up.",
        ),
        Panel(
            "Kafka offset lag",
            "short",
            (_q("max by (query) (f1_kafka_offset_lag_records)", "{{query}}"),),
            "Records in Kafka the query has not read yet, summed over partitions.",
        ),
        Panel(
            "Checkpoint age",
            "s",
            (_q("max by (query) (f1_checkpoint_age_seconds)", "{{query}}"),),
            "Seconds since the query last committed a batch (or found nothing new). Alert above 60 s.",
        ),
        Panel(
            "Stream restarts (1h)",
            "short",
            (_q("sum by (query) (increase(f1_stream_starts_total[1h]))", "{{query}}"),),
            "Restarts in the last hour (a process' first start counts 0): a query that failed and was "
            "started again by its supervisor or by Dagster's keeper sensor.",
        ),
        Panel(
            "Queries up",
            "short",
            (
                _q("sum by (query) (f1_stream_up)", "{{query}}"),
                _q('sum(up{job="f1-streaming"})', "exporters scraped"),
            ),
            "1 while the query runs. The exporters line counts the streaming processes Prometheus reaches.",
            kind="stat",
        ),
    ),
)

DATA_QUALITY = Dashboard(
    uid="f1-data-quality",
    title="F1 Telemetry / Data Quality",
    description="What validation rejects and why, duplicates, late events, Great Expectations checks.",
    panels=(
        Panel(
            "Validation failure rate",
            "percentunit",
            (_q("max by (query) (f1_validation_failure_rate)", "{{query}}"),),
            "Share of the last batch's records that went to quarantine. Alert above 1 %.",
        ),
        Panel(
            "Quarantine reasons over time",
            "reqps",
            (_q("sum by (reason) (rate(f1_quarantined_records_total[5m]))", "{{reason}}"),),
            "Quarantined records per second by the first rule they broke (streaming/jobs/validation.py).",
        ),
        Panel(
            "Records by outcome",
            "reqps",
            (_q("sum by (outcome) (rate(f1_records_total[5m]))", "{{outcome}}"),),
            "What silver did with each record: valid (landed), quarantined, or duplicate (dropped).",
        ),
        Panel(
            "Duplicates removed",
            "short",
            (_q('sum by (query) (increase(f1_records_total{outcome="duplicate"}[15m]))', "{{query}}"),),
            "Records dropped as duplicates of an event already in silver, over 15 minutes.",
        ),
        Panel(
            "Late events",
            "short",
            (_q('sum by (query) (increase(f1_quarantined_records_total{reason="late"}[15m]))', "{{query}}"),),
            "Events older than their stream's watermark (beyond the allowed lateness), quarantined as late.",
        ),
        Panel(
            "Asset checks failing",
            "short",
            (
                _q("count(f1_asset_check_passed == 0) or vector(0)", "failing"),
                _q("count(f1_asset_check_passed)", "checks reporting"),
            ),
            "Great Expectations suites run by Dagster's asset checks whose last run failed.",
            kind="stat",
        ),
        Panel(
            "Asset check results",
            "short",
            (_q("max by (table, check, severity) (f1_asset_check_passed)", "{{table}} {{check}}"),),
            "Each check's last result: 1 passed, 0 failed (severity error blocks gold).",
            kind="table",
        ),
        Panel(
            "Failed expectations and unexpected values",
            "short",
            (
                _q(
                    "sum by (table, check) (f1_asset_check_failed_expectations)", "{{table}} {{check}} failed"
                ),
                _q("sum by (table, check) (f1_asset_check_unexpected_values)", "{{table}} {{check}} values"),
            ),
            "In each check's last run: expectations that failed, and the values they rejected.",
        ),
        Panel(
            "Time since each check ran",
            "s",
            (
                _q(
                    "time() - max by (table, check) (f1_asset_check_last_run_timestamp_seconds)",
                    "{{table}} {{check}}",
                ),
            ),
            "Checks run on each QUALITY_CHECK_CRON tick (gold after each build): rising means stopped.",
        ),
    ),
)

SYSTEM_RESOURCES = Dashboard(
    uid="f1-system-resources",
    title="F1 Telemetry / System Resources",
    description="CPU, memory and GC of the Spark drivers, Kafka, the registry and the metastore; disks.",
    panels=(
        Panel(
            "CPU by JVM",
            "percentunit",
            (
                _q(
                    f"sum by (service, instance) (rate(process_cpu_seconds_total{{{JVMS}}}[1m]))",
                    "{{service}} {{instance}}",
                ),
            ),
            "Cores used by each JVM (1 = one core busy).",
        ),
        Panel(
            "Heap used by JVM",
            "bytes",
            (
                _q(
                    f'sum by (service, instance) (jvm_memory_used_bytes{{area="heap",{JVMS}}})',
                    "{{service}} {{instance}}",
                ),
            ),
            "Heap in use; compare with each service's -Xmx (KAFKA_HEAP_OPTS, SPARK_DRIVER_MEMORY, ...).",
        ),
        Panel(
            "Heap used / max",
            "percentunit",
            (
                _q(
                    f'max by (service, instance) (jvm_memory_used_bytes{{area="heap",{JVMS}}}'
                    f' / jvm_memory_max_bytes{{area="heap",{JVMS}}})',
                    "{{service}} {{instance}}",
                ),
            ),
            "Near 1 the JVM spends its time collecting garbage, then fails with OutOfMemoryError.",
        ),
        Panel(
            "GC time",
            "percentunit",
            (
                _q(
                    f"sum by (service, instance) (rate(jvm_gc_collection_seconds_sum{{{JVMS}}}[1m]))",
                    "{{service}} {{instance}}",
                ),
            ),
            "Share of wall-clock time each JVM spent in garbage collection.",
        ),
        Panel(
            "Machine CPU and load",
            "percentunit",
            (
                _q('1 - avg(rate(node_cpu_seconds_total{mode="idle"}[1m]))', "CPU busy"),
                _q("node_load1 / scalar(count(count by (cpu) (node_cpu_seconds_total)))", "load per core"),
            ),
            "All cores busy means every stream and service competes for CPU.",
        ),
        Panel(
            "Machine memory",
            "bytes",
            (
                _q("node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes", "used"),
                _q("node_memory_MemTotal_bytes", "total"),
            ),
        ),
        Panel(
            "Disk used by Delta tables",
            "bytes",
            (_q("max by (table) (f1_delta_table_size_bytes)", "{{table}}"),),
            "Current data files of each table, from its Delta log (files kept for time travel not counted).",
        ),
        Panel(
            "Disk used by Kafka logs",
            "bytes",
            (_q("sum by (topic) (kafka_log_size_bytes)", "{{topic}}"),),
            "Bytes of each topic's partition logs on the broker.",
        ),
        Panel(
            "Free disk space",
            "percentunit",
            (
                _q(
                    'min by (mountpoint) (node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs"}'
                    ' / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|squashfs"})',
                    "{{mountpoint}}",
                ),
            ),
            "Share of each filesystem still free (Kafka logs, Delta tables and checkpoints live on them).",
        ),
    ),
)

DASHBOARDS = (STREAM_HEALTH, DATA_QUALITY, SYSTEM_RESOURCES)

# --- Grafana JSON -------------------------------------------------------------------------------------

_HEIGHT = 8
_GRID_WIDTH = 24


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict:
    datasource = {"type": "prometheus", "uid": DATASOURCE_UID}
    targets = [
        {
            "datasource": datasource,
            "expr": query.expr,
            "legendFormat": query.legend,
            "refId": chr(ord("A") + i),
            **({"instant": True, "format": "table"} if panel.kind == "table" else {"range": True}),
        }
        for i, query in enumerate(panel.queries)
    ]
    result = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": datasource,
        "gridPos": {"h": _HEIGHT, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {},
        "targets": targets,
    }
    if panel.kind == "timeseries":
        result["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
    return result


def grafana_json(dashboard: Dashboard) -> dict:
    """The dashboard as Grafana's JSON model, panels laid out left to right, top to bottom."""
    panels, x, y = [], 0, 0
    for panel_id, panel in enumerate(dashboard.panels, start=1):
        if x + panel.width > _GRID_WIDTH:
            x, y = 0, y + _HEIGHT
        panels.append(_panel_json(panel, panel_id, x, y))
        x += panel.width
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": ["f1-telemetry"],
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "schemaVersion": 39,
        "version": 1,
        "panels": panels,
        "templating": {"list": []},
        "annotations": {"list": []},
    }


def rendered(dashboard: Dashboard) -> str:
    return json.dumps(grafana_json(dashboard), indent=2, ensure_ascii=False) + "\n"


def write_dashboards(folder: Path = DASHBOARD_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for dashboard in DASHBOARDS:
        path = folder / dashboard.file_name
        path.write_text(rendered(dashboard))
        paths.append(path)
    return paths


# --- what the panels read -----------------------------------------------------------------------------

_PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "deriv", "histogram_quantile",
    "time", "vector", "scalar", "or", "and", "unless", "on", "ignoring", "group_left", "group_right", "bool",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers and string literals removed)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", bare)
    names = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", bare)) - _PROMQL_WORDS
    return {n for n in names if not re.fullmatch(r"\d.*", n)}


def all_queries() -> list[tuple[Dashboard, Panel, Query]]:
    return [(d, p, q) for d in DASHBOARDS for p in d.panels for q in p.queries]
