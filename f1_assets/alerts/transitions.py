"""Alerting as state transitions: pure logic, no Dagster calls.

Open-source Dagster has no alert policies, so the alert sensor keeps the last state it alerted on for each
subject (an asset check, or an asset's freshness) and raises one alert when that state changes: failed
(or warn), then recovered. A state seen for the first time alerts only when it is bad.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Severity of an alert for each state; a state mapped to None never alerts by itself.
_SEVERITY = {"FAILED": "ERROR", "FAIL": "ERROR", "WARN": "WARN", "PASSED": None, "PASS": None}
_HEALTHY = {"PASSED", "PASS"}


@dataclass(frozen=True)
class Observation:
    """The current state of one subject."""

    subject: str  # "check:silver/position:silver_position_expectations" or "freshness:silver/position"
    kind: str  # "asset_check" or "freshness"
    asset: str  # "silver/position"
    check: str | None
    state: str  # PASSED/FAILED for checks (FAILED with a WARN severity becomes WARN); PASS/WARN/FAIL
    detail: str = ""


@dataclass(frozen=True)
class Alert:
    subject: str
    kind: str
    event: str  # "failed", "warn" or "recovered"
    asset: str
    check: str | None
    severity: str
    state: str
    previous_state: str | None
    message: str
    link: str

    def body(self) -> dict:
        return asdict(self)


def evaluate(
    previous: dict[str, str], observations: list[Observation], link_for
) -> tuple[list[Alert], dict[str, str]]:
    """Alerts for the subjects whose state changed since `previous`, and the new {subject: state}."""
    alerts, states = [], dict(previous)
    for obs in observations:
        before = previous.get(obs.subject)
        states[obs.subject] = obs.state
        if obs.state == before or obs.state not in _SEVERITY:
            continue
        if obs.state in _HEALTHY:
            if before is None or before in _HEALTHY:
                continue
            event, severity = "recovered", "INFO"
        else:
            event, severity = ("warn" if obs.state == "WARN" else "failed"), _SEVERITY[obs.state]
        what = (
            f"check {obs.check} on {obs.asset}" if obs.kind == "asset_check" else f"freshness of {obs.asset}"
        )
        message = f"{what}: {before or 'new'} -> {obs.state}" + (f" ({obs.detail})" if obs.detail else "")
        alerts.append(
            Alert(
                obs.subject,
                obs.kind,
                event,
                obs.asset,
                obs.check,
                severity,
                obs.state,
                before,
                message,
                link_for(obs),
            )
        )
    return alerts, states
