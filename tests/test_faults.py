"""Fault injection: every kind is produced at its rate, and each faulty record is broken the way it says."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from google.protobuf.message import DecodeError

from streaming.contracts import telemetry_pb2 as pb
from streaming.contracts import topics, unframe
from streaming.simulator.faults import LATE_DELAY_S, UNREGISTERED_SCHEMA_ID, FaultRates
from streaming.simulator.race import RaceConfig
from streaming.simulator.recording import read_recording
from streaming.simulator.runner import simulate

IDS = {"f1.telemetry.raw-value": 11, "f1.telemetry.raw.json-value": 12, "f1.sessions-value": 13}
RATE = 0.004
START_NS = 1_788_000_000_000_000_000


def _run(tmp_path, encoding: str, kinds: list[str]):
    rates = FaultRates(**dict.fromkeys(kinds, RATE))
    config = RaceConfig(cars=10, laps=2, seed=8, start_time_ns=START_NS)
    recording, truth = tmp_path / f"{encoding}.f1rec", tmp_path / f"{encoding}.json"
    result = simulate(
        config, IDS, None, encoding=encoding, faults=rates, speed=0, recording=recording, truth_path=truth
    )
    header, records = read_recording(recording)
    return result, json.loads(truth.read_text()), [r for r in records if r.topic != topics.SESSIONS]


def _within_rate(count: int, n: int, rate: float) -> bool:
    expected = n * rate
    return abs(count - expected) <= 5 * math.sqrt(expected) + 1


def test_protobuf_faults_at_their_rates_and_really_broken(tmp_path):
    kinds = [
        "duplicate",
        "out_of_order",
        "late",
        "truncated",
        "wrong_schema_id",
        "out_of_range",
        "missing_field",
        "clock_skew",
    ]
    result, truth, records = _run(tmp_path, "protobuf", kinds)
    counts, ids = truth["faults"]["counts"], truth["faults"]["event_ids"]
    n = result.events
    for kind in kinds:
        assert counts[kind] > 0 and _within_rate(counts[kind], n, RATE), (kind, counts[kind], n * RATE)
    assert counts["bad_json"] == 0  # JSON only
    # What came out: every event once, duplicates twice, nothing more.
    assert len(records) == n + counts["duplicate"]

    decoded, broken = [], Counter()
    for record in records:
        schema_id, payload = unframe(record.value) if record.value[:1] == b"\x00" else (None, b"")
        if schema_id == UNREGISTERED_SCHEMA_ID:
            broken["wrong_schema_id"] += 1
            continue
        try:
            msg = pb.TelemetryEvent.FromString(payload)
        except DecodeError:
            broken["truncated"] += 1
            continue
        decoded.append((record, msg))
    # Truncation cuts the bytes in half: some halves still parse, as garbage, so at least most fail.
    assert broken["wrong_schema_id"] == counts["wrong_schema_id"]
    assert broken["truncated"] >= counts["truncated"] * 0.5

    by_id = {}
    for record, msg in decoded:
        by_id.setdefault(msg.event_id, []).append((record, msg))
    for event_id in ids["duplicate"]:
        assert len(by_id[event_id]) == 2 and by_id[event_id][0][0].value == by_id[event_id][1][0].value
    for event_id in ids["late"]:
        record, msg = by_id[event_id][0]
        assert (record.offset_ns + START_NS) - msg.event_time_unix_ns >= LATE_DELAY_S * 1e9 * 0.99
    for event_id in ids["out_of_order"]:
        record, msg = by_id[event_id][0]
        assert 0.15e9 < (record.offset_ns + START_NS) - msg.event_time_unix_ns < 3.1e9
    for event_id in ids["clock_skew"]:
        _, msg = by_id[event_id][0]
        # The envelope's sent time says when it was produced; the event time is hours off.
        assert abs(msg.event_time_unix_ns - (msg.producer_time_unix_ns - 3_000_000)) >= 3600e9 * 0.99
    out_of_range = 0
    for _record, msg in (d for d in decoded if d[1].event_id not in set(ids["truncated"])):
        payload = msg.WhichOneof("payload")
        if payload and (getattr(msg, payload).ListFields() and _impossible(msg)):
            out_of_range += 1
    assert out_of_range == counts["out_of_range"]
    truncated = set(ids["truncated"])  # half a record may still parse, with fields missing
    missing = sum(
        1
        for _, msg in decoded
        if msg.event_id not in truncated
        and (not msg.event_id or not msg.session_id or not msg.WhichOneof("payload"))
    )
    assert missing == counts["missing_field"]


def _impossible(msg: pb.TelemetryEvent) -> bool:
    kind = msg.WhichOneof("payload")
    p = getattr(msg, kind)
    return (
        (kind == "dynamics" and p.speed_kmh > 400)
        or (kind == "position" and p.lap_distance_m < 0)
        or (kind == "power_unit" and p.fuel_remaining_kg < 0)
        or (kind == "tire" and p.wear_pct > 100)
        or (kind == "aerodynamics" and p.downforce_n < 0)
        or (kind == "system" and p.pit_stop_duration_s < 0)
    )


def test_json_faults_include_bad_json(tmp_path):
    result, truth, records = _run(tmp_path, "json", ["bad_json", "missing_field", "truncated"])
    counts = truth["faults"]["counts"]
    assert all(r.topic == topics.RAW_JSON for r in records)
    unparsable, missing_keys = 0, 0
    for record in records:
        try:
            data = json.loads(unframe(record.value, protobuf=False)[1])
        except (ValueError, UnicodeDecodeError):
            unparsable += 1
            continue
        missing_keys += any(k not in data for k in ("event_id", "session_id")) or not (
            set(data) & {"position", "dynamics", "power_unit", "tire", "aerodynamics", "system"}
        )
    assert unparsable == counts["bad_json"] + counts["truncated"]
    assert missing_keys == counts["missing_field"]
    for kind in ("bad_json", "missing_field", "truncated"):
        assert _within_rate(counts[kind], result.events, RATE), kind


def test_fault_rates_are_validated():
    assert FaultRates.parse("duplicate=0.01, late=0.001").late == 0.001
    assert FaultRates.parse("") == FaultRates()
    for bad in ("dupes=0.1", "late=2", "late=x", "duplicate=0.6,late=0.6"):
        with pytest.raises(ValueError):
            FaultRates.parse(bad)
