"""Check results as Prometheus metrics, pushed to the Pushgateway for the Data Quality dashboard.

Checks are batch work (a Dagster run every few minutes), so nothing would be there to scrape: each
result is pushed under a group of its own (the table and the suite), so that a run checking a few
tables replaces only those tables' series and the others keep their last result. Monitoring must never
fail a check: a push that fails is logged and dropped.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from expectations.runner import CheckResult

log = logging.getLogger(__name__)

PUSH_JOB = "f1-asset-checks"


def check_registry(result: CheckResult, *, blocking: bool, now: float | None = None) -> CollectorRegistry:
    """A registry holding `result` as the f1_asset_check_* gauges."""
    registry = CollectorRegistry()
    labels = {"table": result.table, "check": result.suite, "severity": "error" if blocking else "warn"}

    def gauge(name: str, doc: str, value: float) -> None:
        Gauge(name, doc, list(labels), registry=registry).labels(**labels).set(value)

    gauge("f1_asset_check_passed", "1 when the check's last run passed, else 0.", float(result.success))
    gauge("f1_asset_check_failed_expectations", "Expectations that failed in the last run.", result.failed)
    gauge(
        "f1_asset_check_evaluated_expectations", "Expectations evaluated in the last run.", result.evaluated
    )
    unexpected = sum(f.unexpected_count or 0 for f in result.failures)
    gauge(
        "f1_asset_check_unexpected_values",
        "Values the failed expectations rejected in the last run.",
        unexpected,
    )
    if result.rows_checked is not None:
        gauge("f1_asset_check_rows_checked", "Rows of the window the last run checked.", result.rows_checked)
    gauge(
        "f1_asset_check_duration_seconds",
        "Wall-clock time of the last run, reading included.",
        result.seconds,
    )
    gauge(
        "f1_asset_check_last_run_timestamp_seconds",
        "When the check last ran (Unix time).",
        now if now is not None else time.time(),
    )
    return registry


def push_check_result(gateway_url: str, result: CheckResult, *, blocking: bool) -> bool:
    """Push `result` to the Pushgateway at `gateway_url` (PUSHGATEWAY_URL); False when it could not."""
    if not gateway_url:
        return False
    try:
        push_to_gateway(
            gateway_url,
            job=PUSH_JOB,
            grouping_key={"table": result.table, "check": result.suite},
            registry=check_registry(result, blocking=blocking),
            timeout=5,
        )
    except OSError as error:
        log.warning(
            "could not push %s %s to the Pushgateway at %s: %s",
            result.table,
            result.suite,
            gateway_url,
            error,
        )
        return False
    return True
