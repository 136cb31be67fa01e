"""The circuit: Monza's layout as straights and arcs, sampled every metre, with a speed profile.

The layout follows the Autodromo Nazionale Monza (5,793 m, clockwise): the main straight, the Rettifilo
chicane, Curva Grande, the Roggia chicane, the two Lesmos, the Serraglio straight, Ascari, the back
straight and the Parabolica. Corner radii and angles are close to the real ones; straights are scaled so
the lap is 5,793 m long. The speed profile is the fastest a reference car can go at each metre: corner
speed from grip with downforce, then forward (power, drag) and backward (braking) passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

G = 9.81
# Reference car: a modern F1 car in Monza's low-downforce trim.
MASS_KG = 800.0
POWER_W = 740_000.0
AIR_DENSITY = 1.225
CDA = 1.15  # drag area, m^2
CLA = 3.4  # downforce area, m^2
MU_CORNER = 1.75
MU_BRAKE = 1.45
MU_TRACTION = 1.3

# (kind, value, angle_deg): "S" straight of `value` metres; "R"/"L" right/left arc of radius `value`.
_MONZA = [
    ("S", 600, 0),  # start/finish line to the first chicane
    ("R", 18, 75),
    ("S", 15, 0),
    ("L", 20, 70),  # Variante del Rettifilo
    ("S", 200, 0),
    ("R", 300, 60),  # Curva Biassono (Curva Grande)
    ("S", 550, 0),
    ("L", 20, 60),
    ("S", 10, 0),
    ("R", 20, 60),  # Variante della Roggia
    ("S", 250, 0),
    ("R", 60, 80),  # Lesmo 1
    ("S", 160, 0),
    ("R", 45, 60),  # Lesmo 2
    ("S", 500, 0),
    ("L", 400, 15),
    ("S", 400, 0),  # Serraglio
    ("L", 40, 50),
    ("S", 10, 0),
    ("R", 60, 80),
    ("S", 10, 0),
    ("L", 80, 40),  # Variante Ascari
    ("S", 1000, 0),  # Rettifilo Centro
    ("R", 90, 60),
    ("R", 200, 120),  # Curva Alboreto (Parabolica)
    ("S", 500, 0),  # to the line
]
LENGTH_M = 5793.0
NAME = "Autodromo Nazionale Monza"
# Sector ends (lap distance): sector 1 after the Roggia chicane area, sector 2 after Ascari.
SECTOR_END_M = (1900.0, 4000.0)
# DRS: (detection point, zone start, zone end) in lap distance; zones wrap over the line.
DRS_ZONES = ((5400.0, 5650.0, 5793.0 + 550.0), (3700.0, 4250.0, 5150.0))
PIT_ENTRY_M = 5450.0  # lap distance where the pit lane leaves the track
PIT_BOX_M = 5793.0 + 120.0  # box position, just after the timing line in the pit lane
PIT_EXIT_M = 5793.0 + 380.0  # where the pit lane rejoins
PIT_SPEED_LIMIT_MS = 80 / 3.6


@dataclass(frozen=True)
class Track:
    name: str
    length_m: float
    x: np.ndarray  # metres, one sample per metre of lap distance
    y: np.ndarray
    z: np.ndarray
    curvature: np.ndarray  # 1/m, positive to the right
    v_max: np.ndarray  # m/s, the reference car's fastest speed at each metre
    sector_end_m: tuple[float, float]

    def sample(self, lap_distance_m: np.ndarray, values: np.ndarray) -> np.ndarray:
        index = np.minimum(np.maximum(lap_distance_m.astype(np.int64), 0), len(values) - 1)
        return values[index]

    def reference_lap_time_s(self) -> float:
        return float(np.sum(1.0 / self.v_max))


def _curvature_per_metre(length_m: float) -> np.ndarray:
    straights = sum(v for kind, v, _ in _MONZA if kind == "S")
    arcs = sum(v * np.radians(a) for kind, v, a in _MONZA if kind != "S")
    scale = (length_m - arcs) / straights
    kappa = []
    for kind, value, angle in _MONZA:
        if kind == "S":
            kappa += [0.0] * round(value * scale)
        else:
            n = round(value * np.radians(angle))
            kappa += [(1.0 if kind == "R" else -1.0) / value] * n
    kappa = np.array(kappa, dtype=float)
    samples = int(length_m)
    if len(kappa) < samples:
        kappa = np.concatenate([kappa, np.zeros(samples - len(kappa))])
    return kappa[:samples]


def _geometry(kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    heading = np.pi / 2 - np.cumsum(kappa)  # start heading north; right turns are clockwise
    x, y = np.cumsum(np.cos(heading)), np.cumsum(np.sin(heading))
    # Close the loop: spread the small end-point mismatch of the idealised layout along the lap.
    ramp = np.arange(len(x)) / len(x)
    x, y = x - ramp * x[-1], y - ramp * y[-1]
    z = 6.0 * np.sin(2 * np.pi * ramp) + 2.0 * np.sin(6 * np.pi * ramp)  # Monza is gently rolling
    return x, y, z


def _speed_profile(kappa: np.ndarray) -> np.ndarray:
    k_aero = AIR_DENSITY * CLA / (2 * MASS_KG)
    k_drag = AIR_DENSITY * CDA / (2 * MASS_KG)
    abs_k = np.abs(kappa)
    with np.errstate(divide="ignore", invalid="ignore"):
        corner = np.where(
            abs_k > MU_CORNER * k_aero + 1e-9, np.sqrt(MU_CORNER * G / (abs_k - MU_CORNER * k_aero)), 1e3
        )
    v = np.minimum(corner, 110.0)
    n = len(v)
    # Forward pass (acceleration), twice round the lap so the line wraps cleanly.
    for _ in range(2):
        for i in range(n):
            prev = v[i - 1]
            accel = min(POWER_W / (MASS_KG * max(prev, 5.0)), MU_TRACTION * (G + k_aero * prev * prev))
            accel -= k_drag * prev * prev
            v[i] = min(v[i], np.sqrt(max(prev * prev + 2 * max(accel, 0.0), 0.0)))
    # Backward pass (braking).
    for _ in range(2):
        for i in range(n - 1, -1, -1):
            nxt = v[(i + 1) % n]
            decel = MU_BRAKE * (G + k_aero * nxt * nxt) + k_drag * nxt * nxt
            v[i] = min(v[i], np.sqrt(nxt * nxt + 2 * decel))
    return v


@cache
def monza() -> Track:
    kappa = _curvature_per_metre(LENGTH_M)
    x, y, z = _geometry(kappa)
    return Track(NAME, LENGTH_M, x, y, z, kappa, _speed_profile(kappa), SECTOR_END_M)
