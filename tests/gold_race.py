"""Test helper: a simulated race landed in silver in two parts with gold built after each, then rebuilt.

Shared by the gold tests (tests/test_gold.py) and the notebook's (tests/test_notebook.py) as one session
fixture in conftest.py, so the race goes through Kafka, bronze, silver and dbt once per test session.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from pyspark.sql import functions as F

from streaming.gold import run_dbt
from streaming.simulator.faults import FaultRates
from streaming.simulator.race import RaceConfig
from tests.helpers import RaceLanding

MARTS = {
    "lap_metrics": ("session_id", "car_number", "lap_number"),
    "stint_metrics": ("session_id", "car_number", "stint_number"),
    "session_metrics": ("session_id", "car_number"),
}
AUDIT_COLUMNS = {"built_at", "laps_built_at"}  # when a row was written: the only columns runs may differ in


def gold_rows(spark, session_id: str) -> dict[str, dict[tuple, dict]]:
    """This session's rows of each mart, by key, without the audit columns."""
    out = {}
    for table, keys in MARTS.items():
        frame = spark.table(f"gold.{table}").where(F.col("session_id") == session_id)
        rows = [r.asDict(recursive=True) for r in frame.collect()]
        out[table] = {
            tuple(r[k] for k in keys): {c: v for c, v in r.items() if c not in AUDIT_COLUMNS} for r in rows
        }
    return out


def build_gold_race(platform_settings, spark, tmp: Path) -> dict:
    """A race landed in silver in two parts, gold built after each (incrementally), then fully rebuilt."""
    s = replace(platform_settings, silver_dedup_horizon_minutes=240)  # the events are two hours old
    landing = RaceLanding(spark, s, tmp)
    # Four laps: every car stops at the end of lap 2 (RaceConfig's strategy for short races), so lap 2 is
    # an in-lap, lap 3 an out-lap on a new set; duplicates only (silver drops them).
    config = RaceConfig(cars=3, laps=4, seed=731, start_time_ns=time.time_ns() - 2 * 3600 * 10**9)
    started = time.monotonic()
    truth, records = landing.simulate(config, faults=FaultRates(duplicate=0.01))
    # cut the race in the middle of the leader's third lap: that lap lands in two parts
    cut_ns = sorted(lap["start_ns"] for lap in truth["laps"] if lap["lap"] == 3)[0] + 40 * 10**9
    cut_offset = cut_ns - config.start_time_ns
    dbt_dirs = ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    timings = {"simulate": time.monotonic() - started}
    ansi = spark.conf.get("spark.sql.ansi.enabled")
    started = time.monotonic()
    landing.land([r for r in records if r.offset_ns < cut_offset])
    timings["land part 1"] = time.monotonic() - started
    started = time.monotonic()
    first = run_dbt(s, ["build", *dbt_dirs])  # raises on a failing model or test
    timings["build"] = time.monotonic() - started
    first_rows = gold_rows(spark, config.session_id)
    started = time.monotonic()
    landing.land([r for r in records if r.offset_ns >= cut_offset])
    timings["land part 2"] = time.monotonic() - started
    started = time.monotonic()
    run_dbt(s, ["run", *dbt_dirs])
    timings["incremental run"] = time.monotonic() - started
    incremental = gold_rows(spark, config.session_id)
    started = time.monotonic()
    run_dbt(s, ["run", "--full-refresh", *dbt_dirs])
    timings["full refresh"] = time.monotonic() - started
    print("seconds:", {k: round(v, 1) for k, v in timings.items()})
    return {
        "settings": s,
        "config": config,
        "truth": truth,
        "first_build": first,
        "first_rows": first_rows,
        "incremental": incremental,
        "full": gold_rows(spark, config.session_id),
        "dbt_dirs": dbt_dirs,
        "ansi_before": ansi,
    }
