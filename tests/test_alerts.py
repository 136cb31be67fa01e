"""The alert sensor posts once per transition (failed, then recovered) to a real local HTTP receiver.

Asset-check evaluations and freshness state changes are recorded in a real temporary Dagster instance,
the way asset checks and the freshness daemon record them; the sensor's cursor carries its state across
evaluations, as Dagster stores it across daemon restarts.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from f1_assets.alerts.sensor import asset_alerts
from f1_assets.alerts.transitions import Observation, evaluate
from f1_assets.resources import PlatformSettings
from streaming.runtime.ephemeral import ephemeral_env

SILVER = dg.AssetKey(["silver", "position"])


@dg.asset_check(asset=SILVER, name="silver_position_expectations")
def stand_in_check():  # never executed: the test records its evaluations directly
    return dg.AssetCheckResult(passed=True)


DEFS = dg.Definitions(
    assets=[
        dg.AssetSpec(
            SILVER, freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=2))
        )
    ],
    asset_checks=[stand_in_check],
    sensors=[asset_alerts],
)


class Receiver:
    """A webhook endpoint on a free loopback port that records every JSON body; can be told to refuse."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.refuse = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.refuse:
                    self.send_response(503)
                else:
                    receiver.bodies.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def check_evaluated(instance, passed: bool, severity=dg.AssetCheckSeverity.ERROR) -> None:
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=SILVER,
            check_name="silver_position_expectations",
            passed=passed,
            severity=severity,
            description=None if passed else "2 of 14 expectations failed",
        )
    )


def freshness(instance, new: FreshnessState, previous: FreshnessState) -> None:
    instance.report_runless_asset_event(
        FreshnessStateChange(
            key=SILVER, new_state=new, previous_state=previous, state_change_timestamp=time.time()
        )
    )


def tick(instance, env, cursor):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=DEFS,
        resources={"platform": PlatformSettings(environ=env)},
    )
    asset_alerts(context)
    return context.cursor


def test_one_alert_per_transition_to_the_webhook(instance, receiver, tmp_path):
    env = ephemeral_env(
        tmp_path / "state", ALERT_WEBHOOK_URL=receiver.url, DAGSTER_UI_URL="http://dagster.example"
    )
    check_evaluated(instance, passed=True)
    cursor = tick(instance, env, None)
    assert receiver.bodies == []  # healthy from the start: nothing to say

    check_evaluated(instance, passed=False)
    cursor = tick(instance, env, cursor)
    cursor = tick(instance, env, cursor)  # still failing: no second alert
    check_evaluated(instance, passed=False)  # failing again in a new evaluation: still no new alert
    cursor = tick(instance, env, cursor)
    assert len(receiver.bodies) == 1
    failed = receiver.bodies[0]
    assert failed["event"] == "failed" and failed["severity"] == "ERROR"
    assert failed["asset"] == "silver/position" and failed["check"] == "silver_position_expectations"
    assert failed["link"] == "http://dagster.example/assets/silver/position?view=checks"
    assert "2 of 14 expectations failed" in failed["message"]

    check_evaluated(instance, passed=True)
    cursor = tick(instance, env, cursor)
    cursor = tick(instance, env, cursor)
    assert [b["event"] for b in receiver.bodies] == ["failed", "recovered"]

    # freshness: stale, then fresh again
    freshness(instance, FreshnessState.FAIL, FreshnessState.PASS)
    cursor = tick(instance, env, cursor)
    freshness(instance, FreshnessState.PASS, FreshnessState.FAIL)
    cursor = tick(instance, env, cursor)
    stale, fresh = receiver.bodies[2:]
    assert stale["kind"] == "freshness" and stale["event"] == "failed" and stale["check"] is None
    assert fresh["kind"] == "freshness" and fresh["event"] == "recovered"
    assert len(receiver.bodies) == 4


def test_an_alert_the_webhook_refuses_is_sent_again(instance, receiver, tmp_path):
    env = ephemeral_env(tmp_path / "state", ALERT_WEBHOOK_URL=receiver.url)
    check_evaluated(instance, passed=False, severity=dg.AssetCheckSeverity.WARN)
    receiver.refuse = True
    cursor = tick(instance, env, None)
    assert receiver.bodies == []
    receiver.refuse = False
    cursor = tick(instance, env, cursor)
    tick(instance, env, cursor)
    assert [(b["event"], b["severity"]) for b in receiver.bodies] == [("warn", "WARN")]


def test_transitions_without_a_previous_state():
    bad = Observation("freshness:a", "freshness", "a", None, "FAIL")
    alerts, states = evaluate({}, [bad], lambda obs: "link")
    assert [a.event for a in alerts] == ["failed"] and states == {"freshness:a": "FAIL"}
    good = Observation("freshness:a", "freshness", "a", None, "PASS")
    assert evaluate({}, [good], lambda obs: "link")[0] == []
    unknown = Observation("freshness:a", "freshness", "a", None, "UNKNOWN")
    assert evaluate({"freshness:a": "FAIL"}, [unknown], lambda obs: "link")[0] == []
