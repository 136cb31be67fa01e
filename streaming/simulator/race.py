"""The race: every car's physical state, advanced in 20 ms ticks (50 Hz), vectorised over cars with numpy.

Each car follows the circuit's speed profile scaled by its pace, which depends on the car, the tyre
compound and age, the fuel load and a per-lap variation; it accelerates and brakes within limits, is held
up behind a slower car unless DRS lets it pass, stops in the pits as its strategy says, wears its tyres
and burns fuel. The simulation knows the truth: each lap's and sector's exact time (the line crossing
interpolated within the tick), pit stops, stints, overtakes and the final classification.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from streaming.simulator.entries import Entry, entry_list
from streaming.simulator.track import (
    DRS_ZONES,
    PIT_BOX_M,
    PIT_ENTRY_M,
    PIT_EXIT_M,
    PIT_SPEED_LIMIT_MS,
    Track,
    monza,
)

TICK_HZ = 50
TICK_NS = 1_000_000_000 // TICK_HZ
DT = 1.0 / TICK_HZ

# Compounds as in the contract's TireCompound enum.
SOFT, MEDIUM, HARD = 1, 2, 3
# Per-compound properties, indexed by the compound's enum value (index 0 unused).
COMPOUND_PACE = np.array([0.0, -0.008, 0.0, 0.005])  # relative lap-time offset
COMPOUND_DEG = np.array([0.0, 0.0013, 0.0008, 0.0005])  # relative lap-time loss per lap of tyre age
COMPOUND_WEAR = np.array([0.0, 3.2, 2.2, 1.6])  # wear % per lap, on average over the corners
COMPOUND_TEMP = np.array([0.0, 98.0, 92.0, 86.0])  # working surface temperature, °C
FUEL_START_KG = 100.0
FUEL_PACE_PER_KG = 0.00025
ERS_MAX_KJ = 4000.0
MGU_K_MAX_KW = 120.0
GRID_SPACING_M = 8.0
FOLLOW_GAP_M = 12.0
MAX_BRAKING_MS2 = 50.0  # about 5 g: the most an F1 car sheds under braking
DRS_GAP_S = 1.0
DRS_FROM_LAP = 3
_SHIFT_KMH = np.array([80, 120, 155, 190, 225, 262, 300])
_GEAR_TOP_KMH = np.array([0, 95, 135, 172, 208, 245, 283, 322, 370])
SLOW_EVERY_TICKS = 5
COOLDOWN_NS = 10_000_000_000  # after the flag, cars send telemetry for 10 more seconds
COOLDOWN_PACE = 0.6
ENGINE_MODE_SAVE, ENGINE_MODE_RACE, ENGINE_MODE_PUSH = 3, 5, 7
FAULT_PER_LAP = 0.03  # chance per car and lap of a warning on the dash
FAULTS = (
    ("MGUK_TEMP_HIGH", "MGU-K temperature high"),
    ("BRAKE_WEAR_WARNING", "rear brake wear above 80 %"),
    ("GEARBOX_OIL_TEMP_HIGH", "gearbox oil temperature high"),
    ("DRS_ACTUATOR_SLOW", "DRS actuator response slow"),
)


@dataclass(frozen=True)
class RaceConfig:
    cars: int = 50
    laps: int = 53
    seed: int = 1
    start_time_ns: int = 1_788_000_000_000_000_000  # 2026-08-29T10:40:00Z unless set
    session_type: str = "RACE"

    @property
    def session_date(self) -> str:
        return self._start().strftime("%Y-%m-%d")

    @property
    def session_id(self) -> str:
        """Unique per start time and seed, e.g. monza-race-20260906T130000-s1."""
        return f"monza-{self.session_type.lower()}-{self._start().strftime('%Y%m%dT%H%M%S')}-s{self.seed}"

    def _start(self):
        import datetime as dt

        return dt.datetime.fromtimestamp(self.start_time_ns / 1e9, dt.UTC)


@dataclass
class SystemRecord:
    """A system event: car index, kind (SystemEventKind value) and the optional fields it sets."""

    car: int
    kind: int
    fields: dict = field(default_factory=dict)


@dataclass
class GroundTruth:
    laps: list[dict] = field(default_factory=list)
    pit_stops: list[dict] = field(default_factory=list)
    stints: list[dict] = field(default_factory=list)
    classification: list[dict] = field(default_factory=list)
    overtakes: int = 0


class CarState:
    """Arrays of the cars' state, one element per car."""

    def __init__(self, n: int):
        self.dist = np.zeros(n)  # metres from the start line, across laps (negative on the grid)
        self.v = np.zeros(n)  # m/s
        self.accel = np.zeros(n)  # m/s^2 over the last tick
        self.lap = np.ones(n, dtype=np.int64)  # current lap, 1-based
        self.throttle = np.zeros(n)
        self.brake = np.zeros(n)
        self.gear = np.zeros(n, dtype=np.int64)
        self.rpm = np.full(n, 4000.0)
        self.compound = np.full(n, MEDIUM, dtype=np.int64)
        self.tyre_age = np.zeros(n, dtype=np.int64)
        self.wear = np.zeros((n, 4))
        self.surface_temp = np.full((n, 4), 80.0)
        self.inner_temp = np.full((n, 4), 85.0)
        self.fuel = np.full(n, FUEL_START_KG)
        self.ers = np.full(n, ERS_MAX_KJ)
        self.mgu_k_kw = np.zeros(n)
        self.mgu_h_kw = np.zeros(n)
        self.ers_mode = np.full(n, 2, dtype=np.int64)  # BALANCED
        self.drs_open = np.zeros(n, dtype=bool)
        self.drs_enabled = np.zeros((n, len(DRS_ZONES)), dtype=bool)
        self.pit_phase = np.zeros(n, dtype=np.int64)  # 0 on track, 1 to box, 2 stationary, 3 to exit
        self.stop_until_ns = np.zeros(n, dtype=np.int64)
        self.finished = np.zeros(n, dtype=bool)
        self.position = np.arange(1, n + 1)
        self.engine_mode = np.full(n, 5, dtype=np.int64)


class Race:
    """A deterministic race for a config; call `tick()` until `done`."""

    def __init__(self, config: RaceConfig, track: Track | None = None):
        self.config = config
        self.track = track or monza()
        self.entries: list[Entry] = entry_list(config.cars, config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.n = config.cars
        n, L = self.n, self.track.length_m
        self.state = CarState(n)
        self.truth = GroundTruth()
        self.tick_index = 0
        self.done = False
        self.leader_finished = False

        r = random.Random(config.seed)
        # Car pace: up to 2.5 % off the reference; the grid follows pace with a little qualifying luck.
        # The grid lies just after the timing line (pole furthest up), so lap 1 runs from the start
        # signal to the first crossing of the line.
        self.base_pace = np.array([r.uniform(0.0, 0.025) for _ in range(n)])
        grid_order = np.argsort(self.base_pace + self.rng.normal(0, 0.002, n))
        self.state.dist[grid_order] = GRID_SPACING_M * (n - 1 - np.arange(n)) + 2.0
        self.state.position[grid_order] = np.arange(1, n + 1)
        self.plans = [self._strategy(r) for _ in range(n)]
        self.state.compound[:] = [plan[0][0] for plan in self.plans]
        self.stint_index = np.zeros(n, dtype=np.int64)
        self.lap_noise = self.rng.normal(0, 0.002, n)
        self.lap_start_ns = np.full(n, config.start_time_ns, dtype=np.int64)
        self.sector_cross_ns = np.zeros((n, 2), dtype=np.int64)
        self.in_lap = np.zeros(n, dtype=bool)
        self.out_lap = np.zeros(n, dtype=bool)
        self.pit_records: list[dict | None] = [None] * n
        self.stint_start_lap = np.ones(n, dtype=np.int64)
        self.deployed_kj = np.zeros(n)
        self.pending_system: list[SystemRecord] = [SystemRecord(i, 9) for i in range(n)]  # SESSION_START
        self.lap_length = L
        self.max_lap_completed = 0
        sectors = self.track.sector_end_m
        self.boundaries = [(sectors[0], 1), (sectors[1], 2), (0.0, 0)]
        self.boundaries += [(det, 10 + z) for z, (det, _, _) in enumerate(DRS_ZONES)]
        self.boundary_m = np.array([b for b, _ in self.boundaries])
        self.pace_factor = np.ones(n)
        self.finish_rank = np.zeros(n)
        self.cooldown_until_ns = np.zeros(n, dtype=np.int64)

    # -- strategy ---------------------------------------------------------------------------------
    def _strategy(self, r: random.Random) -> list[tuple[int, int]]:
        """[(compound, last lap of the stint)]: one or two stops, the last stint to the flag."""
        laps = self.config.laps
        if laps < 3:
            return [(r.choice((SOFT, MEDIUM)), laps)]
        if laps >= 12 and r.random() < 0.35:
            first, second = sorted(r.sample(range(max(2, laps // 5), laps - 1), 2))
            return [(SOFT, first), (MEDIUM, second), (r.choice((SOFT, MEDIUM)), laps)]
        stop = r.randint(max(2, int(laps * 0.3)), max(2, min(laps - 1, int(laps * 0.6))))
        return [(r.choice((SOFT, MEDIUM)), stop), (HARD, laps)]

    # -- one tick ---------------------------------------------------------------------------------
    @property
    def time_ns(self) -> int:
        return self.config.start_time_ns + self.tick_index * TICK_NS

    def lap_distance(self) -> np.ndarray:
        return np.mod(self.state.dist, self.lap_length)

    def tick(self) -> list[SystemRecord]:
        """Advance every car by one tick; returns the system events that happened in it."""
        st, track = self.state, self.track
        t0_ns = self.time_ns
        system, self.pending_system = self.pending_system, []
        active = self.moving(t0_ns)
        s = self.lap_distance()
        slow_step = self.tick_index % SLOW_EVERY_TICKS == 0
        if slow_step:  # what changes slowly is updated at 10 Hz
            self._slow_update(s)

        # Target speed: the profile slowed by the car's current pace; DRS opens the straights up.
        v_target = track.sample(s, track.v_max) * self.pace_factor
        in_pit = st.pit_phase > 0
        v_target = np.where(in_pit, np.minimum(v_target, PIT_SPEED_LIMIT_MS), v_target)
        v_target = np.where(st.pit_phase == 2, 0.0, v_target)
        v_target = np.where(st.finished, v_target * COOLDOWN_PACE, v_target)

        # Acceleration and braking limits (braking at most 5 g, also into the pit box and behind a car).
        accel_max = np.minimum(740_000.0 / (800.0 * np.maximum(st.v, 5.0)), 12.0)
        v_slowest = np.maximum(st.v - MAX_BRAKING_MS2 * DT, 0.0)
        v_new = np.minimum(v_target, st.v + accel_max * DT)
        v_new = np.maximum(v_new, v_slowest)

        # Held up behind the car ahead unless DRS is open (the pit lane is a lane of its own).
        order = np.argsort(-st.dist)
        on_track = ~in_pit[order] & active[order]
        gaps = -np.diff(st.dist[order])
        follower, ahead = order[1:], order[:-1]
        blocked = (gaps < FOLLOW_GAP_M) & on_track[1:] & on_track[:-1] & ~st.drs_open[follower]
        blocked &= v_new[follower] > v_new[ahead]
        v_new[follower[blocked]] = np.maximum(v_new[ahead[blocked]], v_slowest[follower[blocked]])
        v_new = np.where(active, np.maximum(v_new, 0.0), 0.0)

        dist_old = st.dist.copy()
        st.dist = st.dist + (st.v + v_new) * 0.5 * DT
        st.accel = (v_new - st.v) / DT
        st.v = v_new

        self._pit_lane(dist_old, t0_ns, system)
        self._crossings(dist_old, t0_ns, system)
        self._controls()
        self._ers()
        if slow_step:
            self._positions()
        self.tick_index += 1
        if st.finished.all() and not active.any():
            self.done = True
        return system

    def moving(self, time_ns: int) -> np.ndarray:
        """Cars still on the move (and sending telemetry): racing, or on their cool-down after the flag."""
        return ~self.state.finished | (time_ns < self.cooldown_until_ns)

    def _slow_update(self, s: np.ndarray) -> None:
        """Pace, DRS, tyres and fuel: they change slowly, so 10 Hz is plenty."""
        st = self.state
        self._tyres_fuel(s, DT * SLOW_EVERY_TICKS)
        delta = (
            self.base_pace
            + COMPOUND_PACE[st.compound]
            + COMPOUND_DEG[st.compound] * st.tyre_age
            + FUEL_PACE_PER_KG * st.fuel
            + self.lap_noise
        )
        st.drs_open = self._drs(s) & (st.pit_phase == 0)
        self.pace_factor = np.where(st.drs_open, 1.025, 1.0) / (1.0 + delta)

    def _drs(self, s: np.ndarray) -> np.ndarray:
        """DRS open: inside a zone whose detection found the car within a second of the one ahead."""
        st = self.state
        open_ = np.zeros(self.n, dtype=bool)
        for z, (_, start, end) in enumerate(DRS_ZONES):
            if end > self.lap_length:
                inside = (s >= start) | (s < end - self.lap_length)
            else:
                inside = (s >= start) & (s < end)
            open_ |= inside & st.drs_enabled[:, z]
        return open_

    def _detect_drs(self, car: int, zone: int, t_ns: int, system: list[SystemRecord]) -> None:
        st = self.state
        ahead = st.dist > st.dist[car]
        enabled = False
        if st.lap[car] >= DRS_FROM_LAP and ahead.any() and st.pit_phase[car] == 0:
            gap_m = np.min(st.dist[ahead] - st.dist[car])
            enabled = gap_m / max(st.v[car], 1.0) < DRS_GAP_S
        if enabled != st.drs_enabled[car, zone]:
            st.drs_enabled[car, zone] = enabled
            system.append(SystemRecord(car, 4 if enabled else 5, {"lap_number": int(st.lap[car])}))

    def _crossings(self, dist_old: np.ndarray, t0_ns: int, system: list[SystemRecord]) -> None:
        """Exact line and sector crossings within the tick, DRS detection points, and the flag."""
        st, L = self.state, self.lap_length
        travelled = st.dist - dist_old
        # Distance from each car to each boundary ahead of it: a crossing when the car went further.
        ahead_m = np.mod(self.boundary_m[None, :] - dist_old[:, None], L)
        hits = (ahead_m < travelled[:, None]) & (ahead_m >= 0) & ~st.finished[:, None]
        if not hits.any():
            return
        for car, j in zip(*np.nonzero(hits), strict=True):
            kind = self.boundaries[j][1]
            # Linear interpolation within the tick: the exact crossing time, not the tick's.
            t_ns = t0_ns + int(round(ahead_m[car, j] / travelled[car] * TICK_NS))
            if kind in (1, 2):
                self.sector_cross_ns[car, kind - 1] = t_ns
            elif kind == 0:
                self._lap_completed(car, t_ns, system)
            else:
                self._detect_drs(car, kind - 10, t_ns, system)

    def _lap_completed(self, car: int, t_ns: int, system: list[SystemRecord]) -> None:
        st = self.state
        lap = int(st.lap[car])
        start = int(self.lap_start_ns[car])
        s1, s2 = (int(x) for x in self.sector_cross_ns[car])
        self.truth.laps.append(
            {
                "car_number": self.entries[car].car_number,
                "lap": lap,
                "start_ns": start,
                "end_ns": t_ns,
                "lap_time_ms": (t_ns - start) / 1e6,
                "sector_ms": [(s1 - start) / 1e6, (s2 - s1) / 1e6, (t_ns - s2) / 1e6],
                "in_lap": bool(st.pit_phase[car] > 0),
                "out_lap": bool(self.out_lap[car]),
                "compound": int(st.compound[car]),
                "tyre_age_laps": int(st.tyre_age[car]),
            }
        )
        self.out_lap[car] = bool(st.pit_phase[car] > 0)  # the next lap starts in the pit lane
        self.lap_start_ns[car] = t_ns
        st.tyre_age[car] += 1
        self.lap_noise[car] = self.rng.normal(0, 0.002)
        self.deployed_kj[car] = 0.0
        self._lap_system_events(car, lap, system)
        self.max_lap_completed = max(self.max_lap_completed, lap)
        if self.leader_finished or self.max_lap_completed >= self.config.laps:
            self.leader_finished = True
            st.finished[car] = True
            self.finish_rank[car] = len(self.truth.classification) + 1
            self.truth.classification.append(
                {
                    "position": len(self.truth.classification) + 1,
                    "car_number": self.entries[car].car_number,
                    "laps": lap,
                    "finish_ns": t_ns,
                }
            )
            system.append(SystemRecord(car, 6, {"flag": 6, "lap_number": lap}))  # FLAG chequered
            system.append(SystemRecord(car, 10, {"lap_number": lap}))  # SESSION_END
            self._close_stint(car, lap)
            # The car carries on for a short cool-down, on a new lap number, so that the final line
            # crossing shows in its position events as every other one does.
            self.cooldown_until_ns[car] = t_ns + COOLDOWN_NS
            st.lap[car] = lap + 1
            return
        st.lap[car] = lap + 1

    def _lap_system_events(self, car: int, lap: int, system: list[SystemRecord]) -> None:
        """Engine-mode changes and the odd fault warning, as a race engineer sees them at the line."""
        st, next_lap = self.state, lap + 1
        if next_lap <= self.config.laps:
            # Push on the final lap, save fuel when it runs low, race mode otherwise.
            mode = (
                ENGINE_MODE_PUSH
                if next_lap == self.config.laps
                else (ENGINE_MODE_SAVE if st.fuel[car] < 5 else ENGINE_MODE_RACE)
            )
            if mode != st.engine_mode[car]:
                st.engine_mode[car] = mode
                system.append(SystemRecord(car, 8, {"engine_mode": mode, "lap_number": next_lap}))
        if self.rng.random() < FAULT_PER_LAP:
            code, text = FAULTS[int(self.rng.integers(len(FAULTS)))]
            system.append(SystemRecord(car, 7, {"fault_code": code, "message": text, "lap_number": lap}))

    def _close_stint(self, car: int, last_lap: int) -> None:
        self.truth.stints.append(
            {
                "car_number": self.entries[car].car_number,
                "stint": int(self.stint_index[car]) + 1,
                "compound": int(self.state.compound[car]),
                "start_lap": int(self.stint_start_lap[car]),
                "end_lap": last_lap,
                "laps": last_lap - int(self.stint_start_lap[car]) + 1,
            }
        )

    def _pit_lane(self, dist_old: np.ndarray, t0_ns: int, system: list[SystemRecord]) -> None:
        st, L = self.state, self.lap_length
        entering = (
            (st.pit_phase == 0) & (np.mod(dist_old, L) < PIT_ENTRY_M) & (np.mod(st.dist, L) >= PIT_ENTRY_M)
        )
        for car in np.nonzero(((st.pit_phase > 0) | entering) & ~st.finished)[0]:
            lap_start = (st.lap[car] - 1) * L
            phase = st.pit_phase[car]
            plan = self.plans[car]
            stint = self.stint_index[car]
            if phase == 0 and stint + 1 < len(plan) and st.lap[car] == plan[stint][1]:
                entry = lap_start + PIT_ENTRY_M
                if dist_old[car] < entry <= st.dist[car]:
                    st.pit_phase[car] = 1
                    self.pit_records[car] = {
                        "car_number": self.entries[car].car_number,
                        "lap": int(st.lap[car]),
                        "entry_ns": t0_ns,
                    }
                    system.append(SystemRecord(car, 1, {"lap_number": int(st.lap[car])}))
            elif phase == 1:
                box = (self.pit_records[car]["lap"] - 1) * L + PIT_BOX_M
                if st.dist[car] >= box:
                    st.dist[car] = box
                    st.v[car] = 0.0
                    duration_ns = int(self.rng.uniform(2.1, 3.6) * 1e9)
                    st.pit_phase[car] = 2
                    st.stop_until_ns[car] = t0_ns + duration_ns
                    self.pit_records[car] |= {"stop_start_ns": t0_ns, "stationary_s": duration_ns / 1e9}
            elif phase == 2 and t0_ns >= st.stop_until_ns[car]:
                record = self.pit_records[car]
                old, new = int(st.compound[car]), plan[stint + 1][0]
                self._close_stint(car, record["lap"])
                self.stint_index[car] += 1
                self.stint_start_lap[car] = record["lap"] + 1
                st.compound[car], st.tyre_age[car] = new, 0
                st.wear[car], st.surface_temp[car], st.inner_temp[car] = 0.0, 60.0, 70.0
                record |= {"stop_end_ns": t0_ns, "compound_from": old, "compound_to": new}
                st.pit_phase[car] = 3
                system.append(
                    SystemRecord(
                        car,
                        3,
                        {
                            "pit_stop_duration_s": record["stationary_s"],
                            "new_compound": new,
                            "lap_number": record["lap"],
                        },
                    )
                )
            elif phase == 3:
                exit_ = (self.pit_records[car]["lap"] - 1) * L + PIT_EXIT_M
                if st.dist[car] >= exit_:
                    st.pit_phase[car] = 0
                    record = self.pit_records[car]
                    record["exit_ns"] = t0_ns
                    self.truth.pit_stops.append(record)
                    self.pit_records[car] = None
                    system.append(SystemRecord(car, 2, {"lap_number": int(st.lap[car])}))

    def _controls(self) -> None:
        """Driver inputs and drivetrain from the motion: throttle, brake, gear, rpm."""
        st = self.state
        a = st.accel
        partial = np.minimum(np.maximum(40.0 + 20.0 * a, 0.0), 100.0)
        st.throttle = np.where(
            (a > 0.3) | ((st.v > 80) & (a >= -0.5)), 100.0, np.where(a < -2.0, 0.0, partial)
        )
        st.brake = np.where(a < -2.0, np.minimum(-a * (100.0 / 45.0), 100.0), 0.0)
        kmh = st.v * 3.6
        # Eight gears: shift points so that rpm stays between ~10,500 and 12,000 at racing speeds.
        gear = np.searchsorted(_SHIFT_KMH, kmh) + 1
        st.rpm = np.minimum(np.maximum(12_000.0 * kmh / _GEAR_TOP_KMH[gear], 4_000.0), 12_200.0)
        st.gear = np.where(st.v < 0.5, 0, gear)

    def _tyres_fuel(self, s: np.ndarray, dt: float) -> None:
        st, track = self.state, self.track
        curvature = track.sample(s, track.curvature)
        lat_g = st.v**2 * curvature / 9.81
        load = np.abs(lat_g)[:, None] * np.array([1.0, 0.7, 0.9, 0.6]) + 0.2  # right-handers load the left
        load = np.where(curvature[:, None] < 0, load[:, [1, 0, 3, 2]], load)
        wear_rate = COMPOUND_WEAR[st.compound][:, None]
        moving = (st.v > 0)[:, None]
        st.wear = np.minimum(
            st.wear + moving * wear_rate * load * st.v[:, None] * dt / self.lap_length / 1.1, 100.0
        )
        target = COMPOUND_TEMP[st.compound][:, None] + 6.0 * load - 3.0 + st.brake[:, None] * 0.05
        st.surface_temp += (target - st.surface_temp) * (0.05 * dt / DT) ** 0.5 * 0.5
        st.surface_temp += self.rng.normal(0, 0.3, st.surface_temp.shape)
        st.inner_temp += (st.surface_temp + 8.0 - st.inner_temp) * 0.004 * dt / DT
        st.fuel = np.maximum(st.fuel - (0.0045 + 0.026 * st.throttle / 100.0) * dt * st.v / 80.0, 0.0)

    def _ers(self) -> None:
        st = self.state
        deploy = (st.throttle >= 99) & (st.v * 3.6 > 150) & (st.ers > 200) & (self.deployed_kj < 4000)
        harvest = st.brake > 5
        st.mgu_k_kw = np.where(deploy, MGU_K_MAX_KW, np.where(harvest, -MGU_K_MAX_KW, 0.0))
        st.mgu_h_kw = np.where(deploy, -20.0, np.where(st.throttle > 90, 15.0, 0.0))
        st.ers = np.minimum(np.maximum(st.ers - (st.mgu_k_kw + st.mgu_h_kw) * DT, 0.0), ERS_MAX_KJ)
        self.deployed_kj += np.where(deploy, MGU_K_MAX_KW * DT, 0.0)
        st.ers_mode = np.where(st.ers < 600, 5, np.where(st.drs_open, 4, 2))

    def _positions(self) -> None:
        st = self.state
        # Finished cars keep their classification; the others are ordered by distance covered.
        order = np.argsort(np.where(st.finished, self.finish_rank - 1e12, -st.dist), kind="stable")
        new_position = np.empty(self.n, dtype=np.int64)
        new_position[order] = np.arange(1, self.n + 1)
        if self.tick_index > 0:
            on_track = (st.pit_phase == 0) & ~st.finished
            gained = (new_position < st.position) & on_track
            self.truth.overtakes += int(gained.sum())
        st.position = new_position
