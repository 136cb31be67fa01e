"""`f1 bench gold-trail`: how far gold trails the race on a running platform (`make up`), from outside.

A reader polls `gold.lap_metrics` (its Delta log and files, no Spark) while the platform runs with its
own schedules and automation: the streams, the quality checks and Dagster's gold automation. For every
complete lap that appears after the start, the trail is the time it was first seen minus the lap's end
(`lap_end_ns`, the event time of the line crossing). The simulator must race in real time
(SIMULATOR_SPEED=1): faster, event times run ahead of the clock and the figure means nothing. Laps
already in gold when the benchmark starts are left out.
"""

from __future__ import annotations

import time
from pathlib import Path

from streaming.clients.delta_read import local_table_path, read_rows
from streaming.errors import ConfigError
from streaming.settings import Settings

LAP_COLUMNS = ["session_id", "car_number", "lap_number", "lap_end_ns", "is_complete"]
NS_PER_S = 1_000_000_000


def _complete_laps(table: Path) -> dict[tuple, int]:
    return {
        (r["session_id"], r["car_number"], r["lap_number"]): r["lap_end_ns"]
        for r in read_rows(table, LAP_COLUMNS)
        if r["is_complete"] and r["lap_end_ns"] is not None
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_gold_trail(s: Settings, minutes: float, poll_s: float = 5.0) -> dict[str, float]:
    if s.simulator_speed != 1:
        raise ConfigError(
            [f"SIMULATOR_SPEED={s.simulator_speed:g}: the gold trail needs a real-time race (1)"]
        )
    table = local_table_path(s, "gold.lap_metrics")
    before = set(_complete_laps(table))
    commits_before = len(list((table / "_delta_log").glob("*.json")))
    first_seen: dict[tuple, float] = {}
    ends: dict[tuple, int] = {}
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        now_ns = time.time_ns()
        for key, end_ns in _complete_laps(table).items():
            if key not in before and key not in first_seen:
                first_seen[key], ends[key] = now_ns, end_ns
        time.sleep(poll_s)
    trails = [(first_seen[k] - ends[k]) / NS_PER_S for k in first_seen]
    figures = {
        "laps completed into gold": float(len(trails)),
        "gold commits while measured": float(
            len(list((table / "_delta_log").glob("*.json"))) - commits_before
        ),
    }
    if trails:
        figures |= {
            "p50 lap-end-to-gold trail": percentile(trails, 0.5),
            "p99 lap-end-to-gold trail": percentile(trails, 0.99),
            "max lap-end-to-gold trail": max(trails),
        }
    return figures


UNITS = {
    "laps completed into gold": "laps",
    "gold commits while measured": "commits",
    "p50 lap-end-to-gold trail": "s",
    "p99 lap-end-to-gold trail": "s",
    "max lap-end-to-gold trail": "s",
}
