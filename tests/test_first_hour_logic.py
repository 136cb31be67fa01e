"""What the first-hour test waits for, on made-up Dagster snapshots (pure logic: tests/first_hour.py).

The first-hour test takes ~25 minutes; these say in a second that it waits for the right things: two
automated gold builds, one of them started after the bad records, every check layer evaluated, and each
bad record quarantined once with a reason its change allows.
"""

from __future__ import annotations

import time

from streaming.clients.dagster_graphql import SENSOR_NAME_TAG, Snapshot
from streaming.contracts import telemetry_pb2 as pb
from streaming.contracts import topics
from tests.bad_records import BadRecord, bad_records
from tests.first_hour import GOLD_AUTOMATION, LAP_METRICS, FirstHour

IDS = {
    "f1.telemetry.raw-value": 1,
    "f1.telemetry.raw.json-value": 2,
    "f1.sessions-value": 3,
    "f1.telemetry.enriched-value": 4,
}


def _template() -> pb.TelemetryEvent:
    event = pb.TelemetryEvent(event_id="e1", car_number=7, event_type=1, event_time_unix_ns=time.time_ns())
    event.position.x_m = 1.0
    return event


def _snapshot(build_starts: list[float]) -> Snapshot:
    runs = [
        {
            "runId": f"r{i}",
            "jobName": "gold",
            "status": "SUCCESS",
            "creationTime": start - 1,
            "startTime": start,
            "tags": {SENSOR_NAME_TAG: GOLD_AUTOMATION},
        }
        for i, start in enumerate(build_starts)
    ]
    assets = [
        {
            "assetKey": {"path": LAP_METRICS},
            "assetMaterializations": [
                {"runId": f"r{i}", "timestamp": str(int((start + 60) * 1000))}
                for i, start in enumerate(build_starts)
            ],
        }
    ]
    evaluated = {"status": "SUCCEEDED"}
    checks = {
        (("bronze", "telemetry"), "c"): [evaluated],
        (("silver", "position"), "c"): [evaluated],
        (("gold", "lap_metrics"), "lap_metrics_expectations"): [evaluated],
    }
    return Snapshot([], runs, assets, checks)


BAD = [BadRecord(topics.RAW_PROTOBUF, b"7", b"\x00bad", frozenset({"undecodable"}), "3 bytes")]
QUARANTINED = [{"reason": "undecodable", "raw_value": b"\x00bad", "kafka_topic": topics.RAW_PROTOBUF}]


def test_waits_for_a_build_that_started_after_the_bad_records():
    waiting = FirstHour(_snapshot([100.0, 400.0]), QUARANTINED, BAD, injected_at=500.0).waiting_for()
    assert any("started after the bad records" in w for w in waiting)
    seen = FirstHour(_snapshot([100.0, 600.0]), QUARANTINED, BAD, injected_at=500.0)
    assert not any("started after" in w for w in seen.waiting_for())
    assert [b["runId"] for b in seen.builds_started_after_the_bad_records()] == ["r1"]


def test_waits_for_two_builds():
    waiting = FirstHour(_snapshot([600.0]), QUARANTINED, BAD, injected_at=500.0).waiting_for()
    assert any("1 time(s), wanted 2" in w for w in waiting)


def test_a_bad_record_must_be_quarantined_once_with_an_allowed_reason():
    twice = FirstHour(_snapshot([100.0, 600.0]), QUARANTINED * 2, BAD, 500.0).waiting_for()
    assert any("quarantined with ['undecodable', 'undecodable']" in w for w in twice)
    other = [{**QUARANTINED[0], "reason": "out_of_range"}]
    assert any(
        "wanted one row of ['undecodable']" in w
        for w in FirstHour(_snapshot([600.0]), other, BAD, 500.0).waiting_for()
    )
    assert not [
        w
        for w in FirstHour(_snapshot([100.0, 600.0]), QUARANTINED, BAD, 500.0).waiting_for()
        if "bad record" in w
    ]


def test_bad_records_come_from_the_generator_and_replay_from_their_seed():
    first, again = bad_records(_template(), IDS, 99), bad_records(_template(), IDS, 99)
    assert [r.change for r in first] == [r.change for r in again]
    assert len({(r.topic, r.value) for r in first}) == len(first), "each value once"
    assert all(r.reasons and r.value for r in first)
    changes = {r.change for r in first}
    assert {"position.x_m=nan", "3 bytes", "json cut short"} <= changes, "the pinned edges"
    assert any(c.startswith(("framing:", "json:", "event_type=")) for c in changes), "drawn records"


def test_the_figures_say_where_the_time_went():
    lines = FirstHour(_snapshot([100.0, 600.0]), QUARANTINED, BAD, 500.0).figures(50.0, 500.0)
    assert "gold builds by gold_automation: 2 (1 started after the bad ones)" in lines
    assert any(line.startswith("gold runs (start after make up + duration): 50+") for line in lines), lines


def _event_id(record: BadRecord) -> str | None:
    """The event id a bad record claims, where its bytes still say one."""
    import json

    from streaming.contracts import unframe

    try:
        if record.topic == topics.RAW_PROTOBUF:
            return pb.TelemetryEvent.FromString(unframe(record.value)[1]).event_id or None
        return json.loads(unframe(record.value, protobuf=False)[1]).get("event_id")
    except Exception:  # noqa: BLE001 - broken on purpose: no id to read
        return None


def test_every_bad_record_is_an_event_of_its_own():
    """Records that share an event id are one event to silver, which keeps one of them: the test's bad
    records each claim their own id, whatever Hypothesis draws (a draw of three framing changes of one
    event once made two of them duplicates, not quarantined records)."""
    for draw_seed in range(12):
        ids = [i for i in map(_event_id, bad_records(_template(), IDS, draw_seed)) if i]
        assert len(ids) == len(set(ids)), (draw_seed, sorted(ids))
