"""The alert sensor (running by default): one alert per transition of an asset check or an asset's freshness.

Each tick reads the latest evaluation of every asset check and the freshness state of every asset with a
freshness policy, and alerts (f1_assets/alerts/transitions.py) on what changed: to the log, and as a JSON
POST to ALERT_WEBHOOK_URL. The states it alerted on are the sensor's cursor, which Dagster stores, so a
daemon restart neither repeats nor forgets an alert; an alert the webhook did not accept is retried.
"""

# No `from __future__ import annotations`: Dagster reads the op and sensor parameter types at runtime.

import json
import urllib.parse

import dagster as dg
import requests

from f1_assets.alerts.transitions import Alert, Observation, evaluate
from f1_assets.resources import PlatformSettings

TICK_SECONDS = 30


def _asset_path(key: dg.AssetKey) -> str:
    return "/".join(key.path)


def _check_observations(instance: dg.DagsterInstance, check_keys) -> list[Observation]:
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    observations = []
    for key, record in latest.items():
        if record.status.value not in ("SUCCEEDED", "FAILED"):
            continue  # planned: not evaluated yet
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        state = "PASSED" if record.status.value == "SUCCEEDED" else "FAILED"
        if state == "FAILED" and evaluation is not None and evaluation.severity == dg.AssetCheckSeverity.WARN:
            state = "WARN"
        detail = (evaluation.description or "") if evaluation is not None else ""
        observations.append(
            Observation(
                subject=f"check:{_asset_path(key.asset_key)}:{key.name}",
                kind="asset_check",
                asset=_asset_path(key.asset_key),
                check=key.name,
                state=state,
                detail=detail,
            )
        )
    return observations


def _freshness_observations(instance: dg.DagsterInstance, asset_keys) -> list[Observation]:
    records = instance.get_freshness_state_records(list(asset_keys))
    return [
        Observation(
            subject=f"freshness:{_asset_path(key)}",
            kind="freshness",
            asset=_asset_path(key),
            check=None,
            state=record.freshness_state.value,
        )
        for key, record in records.items()
    ]


def _link(base_url: str):
    def link_for(obs: Observation) -> str:
        view = "checks" if obs.kind == "asset_check" else "overview"
        return f"{base_url}/assets/{urllib.parse.quote(obs.asset)}?view={view}"

    return link_for


def deliver(alert: Alert, webhook_url: str, log) -> bool:
    """Log the alert and POST it to the webhook (if any); whether it was delivered."""
    (log.error if alert.severity == "ERROR" else log.warning if alert.severity == "WARN" else log.info)(
        f"ALERT [{alert.severity}] {alert.message} — {alert.link}"
    )
    if not webhook_url:
        return True
    try:
        response = requests.post(webhook_url, json=alert.body(), timeout=10)
        response.raise_for_status()
        return True
    except requests.RequestException as error:
        log.warning(f"alert webhook {webhook_url} refused the alert, retrying next tick: {error}")
        return False


@dg.sensor(
    name="asset_alerts",
    description="Alerts once per transition of an asset check or freshness state (log, ALERT_WEBHOOK_URL).",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def asset_alerts(context: dg.SensorEvaluationContext, platform: PlatformSettings):
    settings = platform.get()
    graph = context.repository_def.asset_graph
    fresh_keys = [node.key for node in graph.asset_nodes if node.freshness_policy_or_from_metadata]
    observations = _check_observations(context.instance, graph.asset_check_keys)
    observations += _freshness_observations(context.instance, fresh_keys)
    previous = json.loads(context.cursor) if context.cursor else {}
    alerts, states = evaluate(previous, observations, _link(settings.dagster_url))
    for alert in alerts:
        if not deliver(alert, settings.alert_webhook_url, context.log):
            # not delivered: keep the old state, so that the next tick alerts again
            if alert.subject in previous:
                states[alert.subject] = previous[alert.subject]
            else:
                states.pop(alert.subject, None)
    context.update_cursor(json.dumps(states, sort_keys=True))
    return dg.SkipReason(f"{len(alerts)} alert(s); watching {len(observations)} checks and freshness states")
