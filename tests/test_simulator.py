"""The race simulator as pure logic: rates, determinism, ground truth, plausibility and the encoders."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import numpy as np
import pytest

from streaming.contracts import telemetry_pb2 as pb
from streaming.contracts import unframe
from streaming.contracts.event_types import EVENT_TYPE_NAMES
from streaming.simulator.encoding import ProtobufBlockEncoder, messages
from streaming.simulator.events import PER_SECOND_PER_CAR, SYSTEM, EventSource
from streaming.simulator.race import TICK_HZ, Race, RaceConfig

START_NS = 1_788_000_000_000_000_000


def run(config: RaceConfig, max_ticks: int | None = None):
    """Yield (tick, blocks, values) for a race, values encoded by the fast encoder."""
    race = Race(config)
    source = EventSource(race)
    encoder = ProtobufBlockEncoder(1, config.session_id)
    while not race.done and (max_ticks is None or race.tick_index < max_ticks):
        tick = race.tick_index
        time_ns = race.time_ns + 1_000_000_000 // TICK_HZ
        blocks = source.tick_blocks(tick, time_ns, race.tick())
        yield tick, blocks, [encoder.encode(b) for b in blocks]
    run.race = race


@pytest.fixture(scope="module")
def short_race():
    """A complete 6-lap race of 12 cars, decoded: (race, events by car, all values)."""
    config = RaceConfig(cars=12, laps=6, seed=11, start_time_ns=START_NS)
    events, values = defaultdict(list), []
    for _, _, encoded in run(config):
        for vals in encoded:
            for value in vals:
                msg = pb.TelemetryEvent.FromString(unframe(value)[1])
                events[msg.car_number].append(msg)
                values.append(value)
    return run.race, events, values


def test_rates_per_type_over_a_simulated_minute():
    cars, ticks = 50, 60 * TICK_HZ
    counts = Counter()
    for _, blocks, _ in run(RaceConfig(cars=cars, laps=3, seed=5, start_time_ns=START_NS), max_ticks=ticks):
        for block in blocks:
            counts[EVENT_TYPE_NAMES[block.event_type]] += len(block)
    for event_type, per_second in PER_SECOND_PER_CAR.items():
        assert counts[EVENT_TYPE_NAMES[event_type]] == cars * per_second * 60, event_type
    assert counts["system"] == cars  # session start, nothing else happens in the first minute
    assert sum(counts.values()) - counts["system"] == 5500 * 60


def _digest(config: RaceConfig, ticks: int) -> str:
    h = hashlib.sha256()
    for _, _, encoded in run(config, max_ticks=ticks):
        for values in encoded:
            for value in values:
                h.update(value)
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes():
    a = _digest(RaceConfig(cars=10, laps=2, seed=3, start_time_ns=START_NS), 1500)
    b = _digest(RaceConfig(cars=10, laps=2, seed=3, start_time_ns=START_NS), 1500)
    c = _digest(RaceConfig(cars=10, laps=2, seed=4, start_time_ns=START_NS), 1500)
    assert a == b != c


def test_fast_encoder_matches_the_protobuf_library():
    config = RaceConfig(cars=8, laps=2, seed=2, start_time_ns=START_NS)
    seen = set()
    for tick, blocks, encoded in run(config, max_ticks=400):
        for block, values in zip(blocks, encoded, strict=True):
            for value, expected in zip(values, messages(block), strict=True):
                assert pb.TelemetryEvent.FromString(unframe(value)[1]) == expected
            seen.add(block.event_type)
        if tick > 20 and len(seen) == 6:
            break
    assert seen == set(EVENT_TYPE_NAMES)


def test_event_ids_are_unique_and_sequences_contiguous(short_race):
    _, events, _ = short_race
    ids = [m.event_id for msgs in events.values() for m in msgs]
    assert len(ids) == len(set(ids))
    for msgs in events.values():
        assert [m.sequence for m in msgs] == list(range(1, len(msgs) + 1))


def test_lap_crossings_in_position_events_match_the_true_lap_times(short_race):
    race, events, _ = short_race
    truth = {(lap["car_number"], lap["lap"]): lap for lap in race.truth.laps}
    checked = 0
    for car, msgs in events.items():
        positions = [m for m in msgs if m.HasField("position")]
        for prev, cur in zip(positions, positions[1:], strict=False):
            if cur.position.lap_number == prev.position.lap_number + 1:
                # Interpolate the line crossing between the two samples, as gold does.
                before = race.track.length_m - prev.position.lap_distance_m
                frac = before / (before + cur.position.lap_distance_m)
                t = prev.event_time_unix_ns + frac * (cur.event_time_unix_ns - prev.event_time_unix_ns)
                lap = truth[(car, prev.position.lap_number)]
                assert abs(t - lap["end_ns"]) < 20e6, (car, lap["lap"])  # within 20 ms
                checked += 1
    assert checked == len(race.truth.laps)


def test_ground_truth_is_consistent(short_race):
    race, events, _ = short_race
    laps = race.truth.laps
    assert len(race.truth.classification) == 12
    assert {c["laps"] for c in race.truth.classification} <= {5, 6}
    assert race.truth.classification[0]["laps"] == 6
    for lap in laps:
        assert sum(lap["sector_ms"]) == pytest.approx(lap["lap_time_ms"], abs=1e-6)
        assert all(s > 0 for s in lap["sector_ms"])
    # Laps of a car follow each other without gaps.
    by_car = defaultdict(list)
    for lap in laps:
        by_car[lap["car_number"]].append(lap)
    for car_laps in by_car.values():
        for a, b in zip(car_laps, car_laps[1:], strict=False):
            assert b["lap"] == a["lap"] + 1 and b["start_ns"] == a["end_ns"]
    # Every pit stop: an in-lap, then an out-lap, and a stint boundary; stints cover every lap.
    assert race.truth.pit_stops
    flags = {(lap["car_number"], lap["lap"]): lap for lap in laps}
    for stop in race.truth.pit_stops:
        assert flags[(stop["car_number"], stop["lap"])]["in_lap"]
        assert flags[(stop["car_number"], stop["lap"] + 1)]["out_lap"]
        assert 2.0 < stop["stationary_s"] < 4.0
    for car, car_laps in by_car.items():
        stints = sorted((s for s in race.truth.stints if s["car_number"] == car), key=lambda s: s["stint"])
        assert stints[0]["start_lap"] == 1 and stints[-1]["end_lap"] == car_laps[-1]["lap"]
        assert sum(s["laps"] for s in stints) == len(car_laps)
        stops = [s for s in race.truth.pit_stops if s["car_number"] == car]
        assert len(stints) == len(stops) + 1
    # System events tell the same story.
    kinds = Counter(m.system.kind for msgs in events.values() for m in msgs if m.HasField("system"))
    assert kinds[pb.SYSTEM_EVENT_KIND_PIT_STOP] == len(race.truth.pit_stops)
    assert kinds[pb.SYSTEM_EVENT_KIND_PIT_LANE_ENTRY] == kinds[pb.SYSTEM_EVENT_KIND_PIT_LANE_EXIT]
    assert kinds[pb.SYSTEM_EVENT_KIND_SESSION_END] == 12
    assert kinds[pb.SYSTEM_EVENT_KIND_ENGINE_MODE] >= 12  # everyone pushes on the last lap
    assert kinds[pb.SYSTEM_EVENT_KIND_DRS_AVAILABLE] > 0
    assert kinds[pb.SYSTEM_EVENT_KIND_FLAG] == 12  # the chequered flag


def test_values_are_plausible_for_a_modern_f1_car_at_monza(short_race):
    race, events, _ = short_race
    clean = [
        lap["lap_time_ms"] / 1000
        for lap in race.truth.laps
        if lap["lap"] > 1 and not lap["in_lap"] and not lap["out_lap"]
    ]
    assert min(clean) > 80 and max(clean) < 125
    dynamics = [m.dynamics for msgs in events.values() for m in msgs if m.HasField("dynamics")]
    speeds = np.array([d.speed_kmh for d in dynamics])
    assert 320 < speeds.max() < 375
    assert {d.gear for d in dynamics} <= set(range(0, 9)) and max(d.gear for d in dynamics) == 8
    assert max(d.engine_rpm for d in dynamics) <= 12_200
    lateral = np.array([abs(d.lateral_g) for d in dynamics])
    assert 3.0 < lateral.max() < 6.5
    tires = [m.tire for msgs in events.values() for m in msgs if m.HasField("tire")]
    assert all(0 <= t.wear_pct <= 100 for t in tires) and max(t.wear_pct for t in tires) > 5
    assert 60 < np.mean([t.surface_temp_c for t in tires]) < 120
    power = [m.power_unit for msgs in events.values() for m in msgs if m.HasField("power_unit")]
    assert min(p.fuel_remaining_kg for p in power) > 80  # six laps burn ~10 kg
    assert all(0 <= p.ers_store_energy_kj <= 4000 for p in power)
    assert race.truth.overtakes > 0


def test_system_events_carry_their_fields(short_race):
    _, events, _ = short_race
    stops = [
        m.system
        for msgs in events.values()
        for m in msgs
        if m.HasField("system") and m.system.kind == pb.SYSTEM_EVENT_KIND_PIT_STOP
    ]
    assert stops and all(s.HasField("new_compound") and s.pit_stop_duration_s > 2 for s in stops)
    assert all(m.event_type == SYSTEM for msgs in events.values() for m in msgs if m.HasField("system"))
