"""Turn the race's state into telemetry events at the contract's rates, as columns.

Per car: power_unit every tick (50 Hz), dynamics every 50 ms (20 Hz), position and aerodynamics every 5th
tick (10 Hz), tire every 10th for each of the four corners (5 Hz x 4), system events as they happen.
Dynamics at 20 Hz do not fall on the 20 ms ticks every other time: those samples (at +50 ms within each
100 ms) are interpolated between the ticks at +40 ms and +60 ms and stamped +50 ms. Each
tick yields one `EventBlock` per event type: numpy columns with one row per event, so that encoding can
be vectorised. Every event gets the next per-car sequence number; its event id is derived from the
session, car and sequence, so a run is the same, byte for byte, for the same seed and start time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from streaming.contracts import telemetry_pb2 as pb
from streaming.contracts.event_types import EVENT_TYPE_NAMES
from streaming.simulator.race import TICK_NS, Race, SystemRecord

# The EventType enum's values (telemetry.proto); their names come from the one list of event types.
POSITION, DYNAMICS, POWER_UNIT, TIRE, AERODYNAMICS, SYSTEM = (
    pb.EVENT_TYPE_POSITION,
    pb.EVENT_TYPE_DYNAMICS,
    pb.EVENT_TYPE_POWER_UNIT,
    pb.EVENT_TYPE_TIRE,
    pb.EVENT_TYPE_AERODYNAMICS,
    pb.EVENT_TYPE_SYSTEM,
)
# Emission period in ticks (50 Hz base) of the types that fall on ticks; dynamics: see the docstring.
EVERY_TICKS = {POWER_UNIT: 1, POSITION: 5, AERODYNAMICS: 5, TIRE: 10}
TICK_MS = 1000 // 50
PER_SECOND_PER_CAR = {POSITION: 10, DYNAMICS: 20, POWER_UNIT: 50, TIRE: 20, AERODYNAMICS: 10}
# Transmission latency from the car to the trackside producer, stamped as producer time.
PRODUCER_LATENCY_NS = 3_000_000
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass
class EventBlock:
    """Events of one type from one tick: envelope and payload columns, one row per event."""

    event_type: int
    session_id: str
    car: np.ndarray  # car index into the entry list
    car_number: np.ndarray
    sequence: np.ndarray  # uint64
    event_time_ns: int
    event_ids: np.ndarray  # S36
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    system: list[SystemRecord] = field(default_factory=list)  # SYSTEM blocks only

    def __len__(self) -> int:
        return len(self.car)


class EventSource:
    """Builds the event blocks of each tick of a race."""

    def __init__(self, race: Race):
        self.race = race
        self.session_id = race.config.session_id
        self.numbers = np.array([e.car_number for e in race.entries], dtype=np.int64)
        self.sequence = np.zeros(race.n, dtype=np.uint64)
        digest = hashlib.sha256(f"{self.session_id}/{race.config.seed}".encode()).hexdigest()
        # Event ids look like UUIDs: 48 bits of the session, 12 bits of the car, 64 bits of sequence.
        self.id_prefix = np.array(
            [f"{digest[:8]}-{digest[8:12]}-4{n:03x}-8".encode() for n in self.numbers], dtype="S20"
        )
        self.counts = dict.fromkeys(EVENT_TYPE_NAMES, 0)

    def event_ids(self, cars: np.ndarray, sequence: np.ndarray) -> np.ndarray:
        """Vectorised UUID-shaped ids: '<session 8>-<session 4>-4<car 3>-8<seq 3>-<seq 12>' (S36)."""
        nibbles = (sequence[:, None] >> (np.arange(60, -4, -4, dtype=np.uint64))) & np.uint64(15)
        hexed = _HEX[nibbles.astype(np.int64)]  # 16 hex digits of the sequence
        out = np.empty((len(cars), 36), dtype=np.uint8)
        out[:, :20] = self.id_prefix[cars].view(np.uint8).reshape(-1, 20)
        out[:, 20:23] = hexed[:, 1:4]
        out[:, 23] = ord("-")
        out[:, 24:36] = hexed[:, 4:16]
        return out.view("S36").ravel()

    def _block(self, event_type: int, cars: np.ndarray, time_ns: int, repeat: int = 1) -> EventBlock:
        """Envelope of `repeat` consecutive events per car (tires: four corners), numbering them."""
        cars = np.repeat(cars, repeat)
        offsets = np.tile(np.arange(1, repeat + 1, dtype=np.uint64), len(cars) // repeat) if repeat > 1 else 1
        sequence = self.sequence[cars] + offsets
        self.sequence[cars[repeat - 1 :: repeat]] = sequence[repeat - 1 :: repeat]  # each car's last number
        self.counts[event_type] += len(cars)
        ids = self.event_ids(cars, sequence)
        return EventBlock(event_type, self.session_id, cars, self.numbers[cars], sequence, time_ns, ids)

    def tick_blocks(self, tick: int, time_ns: int, system: list[SystemRecord]) -> list[EventBlock]:
        """The event blocks of the tick that the race has just computed (state as of `time_ns`)."""
        blocks = []
        for record in system:  # one block per record: sequence numbers stay in emission order
            block = self._block(SYSTEM, np.array([record.car]), time_ns)
            block.system = [record]
            blocks.append(block)
        cars = np.nonzero(self.race.moving(time_ns - TICK_MS * 1_000_000))[0]
        if len(cars) == 0:
            return blocks
        phase = tick % 5  # ticks at +0, +20, +40, +60, +80 ms of each 100 ms
        if phase == 2:
            self._dynamics_before = self._dynamics_columns(np.arange(self.race.n))
        if phase in (0, 3):
            # Dynamics first: the +50 ms sample is stamped before this tick's other events.
            blocks.append(self._dynamics(cars, time_ns, interpolate=phase == 3))
        blocks.append(self._power_unit(cars, time_ns))
        if tick % EVERY_TICKS[POSITION] == 0:
            blocks.append(self._position(cars, time_ns))
            blocks.append(self._aerodynamics(cars, time_ns))
        if tick % EVERY_TICKS[TIRE] == 0:
            blocks.append(self._tires(cars, time_ns))
        return blocks

    def _power_unit(self, cars: np.ndarray, time_ns: int) -> EventBlock:
        st = self.race.state
        block = self._block(POWER_UNIT, cars, time_ns)
        throttle = st.throttle[cars]
        block.columns = {
            "ice_rpm": st.rpm[cars],
            "mgu_k_power_kw": st.mgu_k_kw[cars],
            "mgu_h_power_kw": st.mgu_h_kw[cars],
            "ers_store_energy_kj": st.ers[cars],
            "ers_deploy_mode": st.ers_mode[cars],
            "fuel_remaining_kg": st.fuel[cars],
            "oil_temp_c": 105.0 + 0.12 * throttle,
            "water_temp_c": 95.0 + 0.08 * throttle,
        }
        return block

    def _dynamics_columns(self, cars: np.ndarray) -> dict[str, np.ndarray]:
        race, st = self.race, self.race.state
        curvature = race.track.sample(race.lap_distance()[cars], race.track.curvature)
        v = st.v[cars]
        return {
            "speed_kmh": v * 3.6,
            "throttle_pct": st.throttle[cars],
            "brake_pct": st.brake[cars],
            "gear": st.gear[cars],
            "engine_rpm": st.rpm[cars],
            # Wheelbase 3.6 m and a 14:1 steering ratio; positive to the left, and Monza turns right.
            "steering_angle_deg": -np.degrees(np.arctan(3.6 * curvature)) * 14.0,
            "lateral_g": v**2 * curvature / 9.81,
            "longitudinal_g": st.accel[cars] / 9.81,
        }

    def _dynamics(self, cars: np.ndarray, time_ns: int, interpolate: bool) -> EventBlock:
        columns = self._dynamics_columns(cars)
        if interpolate:  # halfway between the previous tick and this one
            before = self._dynamics_before
            for name, values in columns.items():
                if name != "gear":
                    columns[name] = (values + before[name][cars]) * 0.5
            time_ns -= TICK_MS * 1_000_000 // 2
        block = self._block(DYNAMICS, cars, time_ns)
        block.columns = columns
        return block

    def _position(self, cars: np.ndarray, time_ns: int) -> EventBlock:
        race, st = self.race, self.race.state
        track, s = race.track, race.lap_distance()[cars]
        block = self._block(POSITION, cars, time_ns)
        block.columns = {
            "x_m": track.sample(s, track.x),
            "y_m": track.sample(s, track.y),
            "z_m": track.sample(s, track.z),
            "lap_number": st.lap[cars],
            "lap_distance_m": s,
            "track_status": np.full(len(cars), pb.TRACK_STATUS_GREEN),
            "race_position": st.position[cars],
            "in_pit_lane": st.pit_phase[cars] > 0,
        }
        return block

    def _aerodynamics(self, cars: np.ndarray, time_ns: int) -> EventBlock:
        st = self.race.state
        v2, drs_open = st.v[cars] ** 2, st.drs_open[cars]
        enabled = st.drs_enabled[cars].any(axis=1)
        block = self._block(AERODYNAMICS, cars, time_ns)
        block.columns = {
            "drs_state": np.where(
                drs_open,
                pb.DRS_STATE_OPEN,
                np.where(enabled, pb.DRS_STATE_AVAILABLE, pb.DRS_STATE_UNAVAILABLE),
            ),
            "front_wing_angle_deg": np.full(len(cars), 12.0),
            "rear_wing_angle_deg": np.where(drs_open, 2.0, 8.5),
            "downforce_n": 0.5 * 1.225 * 3.4 * v2 * np.where(drs_open, 0.85, 1.0),
            "drag_n": 0.5 * 1.225 * 1.15 * v2 * np.where(drs_open, 0.82, 1.0),
        }
        return block

    def _tires(self, cars: np.ndarray, time_ns: int) -> EventBlock:
        st = self.race.state
        block = self._block(TIRE, cars, time_ns, repeat=4)
        inner = st.inner_temp[cars].ravel()
        block.columns = {
            "corner": np.tile(np.arange(1, 5), len(cars)),
            "compound": np.repeat(st.compound[cars], 4),
            "surface_temp_c": st.surface_temp[cars].ravel(),
            "inner_temp_c": inner,
            "pressure_kpa": 150.0 + 0.35 * (inner - 20.0),
            "wear_pct": st.wear[cars].ravel(),
            "age_laps": np.repeat(st.tyre_age[cars], 4),
        }
        return block


def run_race(race: Race) -> Iterator[tuple[int, int, list[EventBlock]]]:
    """(tick, event time, blocks) for every tick until the race is over."""
    source = EventSource(race)
    while not race.done:
        time_ns = race.time_ns + TICK_NS
        tick = race.tick_index
        system = race.tick()
        yield tick, time_ns, source.tick_blocks(tick, time_ns, system)
