"""The Grafana dashboards: committed JSON in step with their code, provisioned datasource, valid PromQL,
and every platform metric a panel reads really exported by the platform's code.

That each panel returns data from a running platform is the end-to-end test's job
(tests/test_make_roundtrip.py), which runs `f1 dashboards check` against the platform's Prometheus.
"""

from __future__ import annotations

import datetime as dt
import json

import yaml

from expectations.metrics import check_registry
from expectations.runner import CheckResult
from streaming.observability.dashboard_check import QueryResult, run_query
from streaming.observability.dashboards import (
    DASHBOARD_DIR,
    DASHBOARDS,
    DATASOURCE_UID,
    all_queries,
    metric_names,
    rendered,
)
from streaming.observability.driver_metrics import DeltaTableSizeCollector
from streaming.observability.metrics import StreamMetrics
from streaming.settings import PROJECT_ROOT

PROVISIONING = PROJECT_ROOT / "monitoring" / "grafana" / "provisioning"
# Metrics of third-party exporters: node exporter, the JMX exporter agents, Prometheus itself.
EXTERNAL_PREFIXES = ("node_", "jvm_", "process_", "kafka_", "up")


def test_committed_dashboards_are_generated_from_their_code():
    committed = {p.name for p in DASHBOARD_DIR.glob("*.json")}
    assert committed == {d.file_name for d in DASHBOARDS}, "run `uv run f1 dashboards write`"
    for dashboard in DASHBOARDS:
        assert (DASHBOARD_DIR / dashboard.file_name).read_text() == rendered(dashboard), (
            f"{dashboard.file_name} drifted from streaming/observability/dashboards.py: "
            "run `uv run f1 dashboards write`"
        )


def test_every_panel_reads_the_provisioned_prometheus():
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert [d["uid"] for d in datasources if d["type"] == "prometheus"] == [DATASOURCE_UID]
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "f1-telemetry.yml").read_text())["providers"]
    assert providers[0]["type"] == "file"
    for dashboard in DASHBOARDS:
        model = json.loads((DASHBOARD_DIR / dashboard.file_name).read_text())
        assert len({p["id"] for p in model["panels"]}) == len(model["panels"])
        for panel in model["panels"]:
            assert panel["datasource"]["uid"] == DATASOURCE_UID
            assert panel["targets"] and all(
                t["datasource"]["uid"] == DATASOURCE_UID for t in panel["targets"]
            )
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24


def test_the_dashboards_cover_stream_health_quality_and_resources():
    titles = {d.uid: {p.title for p in d.panels} for d in DASHBOARDS}
    assert {"Throughput per query", "Kafka offset lag", "Checkpoint age", "Stream restarts (1h)"} <= titles[
        "f1-stream-health"
    ]
    assert {"Quarantine reasons over time", "Duplicates removed", "Late events", "Asset check results"} <= (
        titles["f1-data-quality"]
    )
    assert {"CPU by JVM", "GC time", "Disk used by Delta tables", "Disk used by Kafka logs"} <= titles[
        "f1-system-resources"
    ]


def test_metric_names_are_read_from_promql():
    assert metric_names('sum by (query) (rate(f1_records_total{outcome="duplicate"}[5m]))') == {
        "f1_records_total"
    }
    assert metric_names(
        'histogram_quantile(0.95, sum by (le) (rate(a_bucket{x=~"f1\\\\..*"}[5m]))) / b or vector(0)'
    ) == {"a_bucket", "b"}
    assert metric_names("time() - max by (table, check) (last_run)") == {"last_run"}


def _exported_names() -> set[str]:
    """Sample names the platform's own exporters produce, from the real collectors."""
    metrics = StreamMetrics()
    metrics.query_started("silver", 0.0)
    metrics.batch_completed(
        "silver",
        batch_id=1,
        completed_at=1.0,
        duration_seconds=1.0,
        input_rows=10,
        input_rows_per_second=10.0,
        processed_rows_per_second=10.0,
        offsets_behind=0,
    )
    metrics.record_batch_outcome(
        "silver",
        input_rows=10,
        valid=9,
        quarantined=1,
        duplicates=0,
        reasons={"late": 1},
        lag_seconds={"1": 1},
    )
    sizes = DeltaTableSizeCollector(spark=None, tables=["silver.tire"])
    sizes._sizes["silver.tire"] = (100, 1)
    result = CheckResult(
        "silver.tire", "valid_events", False, 3, 1, 10, None, dt.datetime.now(dt.UTC), 0.5, ()
    )
    names = set()
    for registry_or_collector in (metrics.registry, sizes, check_registry(result, blocking=True)):
        for family in registry_or_collector.collect():
            names |= {sample.name for sample in family.samples}
    return names


def test_every_platform_metric_a_panel_reads_is_exported():
    exported = _exported_names()
    wanted = {name for _, _, query in all_queries() for name in metric_names(query.expr)}
    ours = {name for name in wanted if not name.startswith(EXTERNAL_PREFIXES)}
    assert ours and ours <= exported, f"panels read metrics nothing exports: {sorted(ours - exported)}"


def test_every_panel_query_is_valid_promql(platform_settings):
    prometheus = f"http://127.0.0.1:{platform_settings.prometheus_port}"
    results = [run_query(prometheus, d, p, q) for d, p, q in all_queries()]
    errors: list[QueryResult] = [r for r in results if r.error]
    assert not errors, "\n".join(f"{r.panel}: {r.error} [{r.expr}]" for r in errors)


def test_the_driver_collector_reads_the_spark_drivers_jvm(spark):
    from streaming.observability.driver_metrics import DriverJvmCollector

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in DriverJvmCollector(spark).collect()
        for sample in family.samples
    }
    assert samples[("jvm_memory_used_bytes", (("area", "heap"),))] > 0
    assert (
        samples[("jvm_memory_max_bytes", (("area", "heap"),))]
        >= samples[("jvm_memory_used_bytes", (("area", "heap"),))]
    )
    assert samples[("process_cpu_seconds_total", ())] > 0  # the JVM's, from /proc: not this process'
    assert samples[("jvm_threads_current", ())] > 10
    assert any(name == "jvm_gc_collection_seconds_count" for name, _ in samples)
