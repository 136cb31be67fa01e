"""Test helper: a simulated race landed in silver in two parts with gold built after each, then rebuilt.

Shared by the gold tests (tests/test_gold.py) and the notebook's (tests/test_notebook.py) as one session
fixture in conftest.py, so the race goes through Kafka, bronze, silver and dbt once per test session.
`build_incomplete_laps` copies that race into another session with laps that cannot be timed whole.
"""

from __future__ import annotations

import time
from pathlib import Path

from pyspark.sql import functions as F

from streaming.clients.dbt import run_dbt
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import SILVER_TABLE, from_view_select
from streaming.jobs import silver
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
    s = platform_settings
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


EVENT_TABLES = EVENT_TYPES
# What a copy of a session differs in from the original beside its data: not compared.
COPY_COLUMNS = {"session_id", "max_validated_at"}


def _append(spark, table: str, frame) -> None:
    event_type = table.split(".")[1]
    if table == silver.table_name(event_type) and event_type in EVENT_TYPES:  # a view: the table under it
        frame, table = frame.selectExpr(*from_view_select(event_type)), SILVER_TABLE
    frame.select(*spark.table(table).columns).writeTo(table).append()


def build_incomplete_laps(spark, gold: dict) -> dict:
    """The gold race again, as another session, with laps that cannot be timed whole; gold built on it.

    Silver gets a copy of the race's rows under a new session id (new event ids, validated now), with:
    car A, stray position records past the race's last lap (a minute after its cool-down: laps +2 to +4,
    one of them with both line crossings but no sector); car B, retired halfway through lap 3 (no rows
    after); car C, a gap of 3 s in its position samples across the line at the end of lap 2 (that
    crossing is missing). Every row passes silver's rules. Then an incremental `dbt build`: it must succeed.
    """
    config, truth = gold["config"], gold["truth"]
    source, copy = config.session_id, f"{config.session_id}-incomplete"
    car_a, car_b, car_c = sorted({lap["car_number"] for lap in truth["laps"]})
    start = {(lap["car_number"], lap["lap"]): lap["start_ns"] for lap in truth["laps"]}
    retired_ns = start[(car_b, 3)] + 40 * 10**9
    gap = (start[(car_c, 3)] - 15 * 10**8, start[(car_c, 3)] + 15 * 10**8)
    now = F.current_timestamp()

    sessions = spark.table("silver.sessions").where(F.col("session_id") == source)
    _append(spark, "silver.sessions", sessions.withColumns({"session_id": F.lit(copy), "updated_at": now}))
    for name in EVENT_TABLES:
        table = f"silver.{name}"
        rows = spark.table(table).where(F.col("session_id") == source)
        t = F.col("event_time_unix_ns")
        rows = rows.where(~((F.col("car_number") == car_b) & (t > retired_ns)))
        if name == "position":
            rows = rows.where(~((F.col("car_number") == car_c) & t.between(*gap)))
        copied = rows.withColumns(
            {"session_id": F.lit(copy), "event_id": F.expr("uuid()"), "validated_at": now}
        )
        _append(spark, table, copied)

    # car A's strays: two samples on each of laps total+2..total+4, 0.1 s apart, a minute after its last
    last = (
        spark.table("silver.position")
        .where((F.col("session_id") == copy) & (F.col("car_number") == car_a))
        .orderBy(F.col("event_time_unix_ns").desc())
        .limit(1)
    )
    strays = [(k, config.laps + 2 + k // 2, (5700.0, 5750.0, 10.0, 20.0, 5.0, 15.0)[k]) for k in range(6)]
    offsets = spark.createDataFrame(strays, "k int, lap int, distance double")
    stray_ns = F.col("event_time_unix_ns") + 60 * 10**9 + F.col("k") * 10**8
    stray_rows = last.crossJoin(offsets).withColumns(
        {
            "event_id": F.expr("uuid()"),
            "event_time_unix_ns": stray_ns,
            "event_time": F.timestamp_micros(F.floor(stray_ns / 1000).cast("long")),
            "sequence": F.col("sequence") + 1000 + F.col("k"),
            "lap_number": F.col("lap"),
            "lap_distance_m": F.col("distance"),
            "validated_at": now,
        }
    )
    _append(spark, "silver.position", stray_rows)

    build = run_dbt(gold["settings"], ["build", *gold["dbt_dirs"]])  # raises on an error
    return {
        "session_id": copy,
        "cars": (car_a, car_b, car_c),
        "build": build,
        "rows": gold_rows(spark, copy),
    }
