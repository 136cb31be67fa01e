"""Gold (dbt) on real Spark, Delta and the shared metastore, checked against the simulator's ground truth.

A simulated race (three cars, four laps, a pit stop each, duplicated records) goes through Kafka, bronze and
silver in two parts, cut in the middle of a lap: `dbt build` after the first part (models and tests), an
incremental `dbt run` after the second, then `dbt run --full-refresh`. Gold's laps, sectors, pit stops,
stints and classification must match the truth, and the incremental rows the full refresh's. dbt runs in
this process on the tests' SparkSession, as Dagster and the benchmark run it.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter

import pytest

from streaming.clients.dbt import DBT_PROJECT_DIR, DbtFailed, run_dbt
from tests.gold_race import COPY_COLUMNS, MARTS, build_incomplete_laps, gold_rows

pytestmark = pytest.mark.e2e

TOLERANCE_MS = 20.0  # the bound on lap and sector times
COMPOUNDS = {1: "SOFT", 2: "MEDIUM", 3: "HARD"}  # the contract's TireCompound numbers


def same_value(a, b) -> bool:
    """Equal, but floating-point aggregates may differ in the last bits with the order rows are summed in."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def complete(laps: dict) -> dict:
    return {key: row for key, row in laps.items() if row["is_complete"]}


def test_lap_and_sector_times_match_the_truth(gold):
    every_lap = gold["full"]["lap_metrics"]
    laps = complete(every_lap)
    truth = {(lap["car_number"], lap["lap"]): lap for lap in gold["truth"]["laps"]}
    assert {(car, lap) for _, car, lap in laps} == set(truth)  # every completed lap, nothing else
    # the rest: each car's cool-down after the flag, past the race's last lap, without a lap time
    others = [row for key, row in every_lap.items() if key not in laps]
    assert others and all(row["incomplete_reason"] == "after_finish" for row in others)
    assert all(row["lap_number"] == gold["config"].laps + 1 and row["lap_time_s"] is None for row in others)
    worst_lap = worst_sector = 0.0
    for (_, car, lap_number), row in laps.items():
        lap = truth[(car, lap_number)]
        worst_lap = max(worst_lap, abs(row["lap_time_s"] * 1000 - lap["lap_time_ms"]))
        sectors = (row["sector_1_s"], row["sector_2_s"], row["sector_3_s"])
        for got, want in zip(sectors, lap["sector_ms"], strict=True):
            worst_sector = max(worst_sector, abs(got * 1000 - want))
        assert row["lap_start_ns"] == pytest.approx(lap["start_ns"], abs=TOLERANCE_MS * 1e6)
        assert (row["is_in_lap"], row["is_out_lap"]) == (lap["in_lap"], lap["out_lap"]), (car, lap_number)
        assert row["tyre_compound"] == COMPOUNDS[lap["compound"]], (car, lap_number)
        assert row["tyre_age_laps"] == lap["tyre_age_laps"], (car, lap_number)
    print(f"largest deviation from the truth: lap {worst_lap:.3f} ms, sector {worst_sector:.3f} ms")
    assert worst_lap <= TOLERANCE_MS and worst_sector <= TOLERANCE_MS


def test_pit_stops_stints_and_classification_match_the_truth(gold):
    full, truth = gold["full"], gold["truth"]
    stops = truth["pit_stops"]
    assert stops, "the race should have pit stops"
    laps = full["lap_metrics"]
    in_laps = {(car, lap) for (_, car, lap), row in laps.items() if row["is_in_lap"]}
    assert in_laps == {(stop["car_number"], stop["lap"]) for stop in stops}
    for stop in stops:  # the box is past the line: the car stands in it during its out-lap
        out_lap = laps[(gold["config"].session_id, stop["car_number"], stop["lap"] + 1)]
        assert out_lap["pit_stops"] == 1 and out_lap["is_out_lap"]
        assert out_lap["pit_stop_duration_s"] == pytest.approx(stop["stationary_s"], abs=1e-6)
    stints = {(car, n): row for (_, car, n), row in full["stint_metrics"].items()}
    assert set(stints) == {(st["car_number"], st["stint"]) for st in truth["stints"]}
    for st in truth["stints"]:
        row = stints[(st["car_number"], st["stint"])]
        expected = (COMPOUNDS[st["compound"]], st["start_lap"], st["end_lap"], st["laps"])
        assert (row["compound"], row["start_lap"], row["end_lap"], row["laps"]) == expected
    stop_counts = Counter(stop["car_number"] for stop in stops)
    by_car = {lap["car_number"]: [] for lap in truth["laps"]}
    for lap in truth["laps"]:
        by_car[lap["car_number"]].append(lap)
    for entry in truth["classification"]:
        car = entry["car_number"]
        row = full["session_metrics"][(gold["config"].session_id, car)]
        best = min(by_car[car], key=lambda lap: lap["lap_time_ms"])
        assert row["laps_completed"] == entry["laps"]
        assert row["final_position"] == entry["position"]
        assert row["pit_stops"] == stop_counts[car]
        assert row["stints"] == stop_counts[car] + 1
        assert row["best_lap_number"] == best["lap"]
        assert row["best_lap_time_s"] * 1000 == pytest.approx(best["lap_time_ms"], abs=TOLERANCE_MS)
        best_sectors = sum(min(lap["sector_ms"][i] for lap in by_car[car]) for i in range(3))
        assert row["theoretical_best_s"] * 1000 == pytest.approx(best_sectors, abs=3 * TOLERANCE_MS)
        assert [s["compound"] for s in row["stint_summary"]] == [
            COMPOUNDS[st["compound"]]
            for st in sorted(truth["stints"], key=lambda st: st["stint"])
            if st["car_number"] == car
        ]


def test_lap_metrics_are_physically_plausible(gold):
    for key, row in complete(gold["full"]["lap_metrics"]).items():
        assert 300 < row["top_speed_kmh"] < 380, key
        assert row["min_speed_kmh"] < row["avg_speed_kmh"] < row["top_speed_kmh"], key
        assert 0 < row["full_throttle_pct"] < 100 and 0 < row["braking_pct"] < 50, key
        assert row["gear_changes"] > 20 and row["ers_deployed_kj"] > 0 and row["ers_harvested_kj"] > 0, key
        assert 0 < row["fuel_used_kg"] < 5 and 3 < row["peak_lateral_g"] < 8, key
        assert row["position_samples"] > 500 and row["dynamics_samples"] > 1000, key  # 10 Hz and 20 Hz
        assert all(row[f"tyre_{c}_wear_pct"] > 0 for c in ("fl", "fr", "rl", "rr")), key
        assert all(
            row[f"tyre_{c}_peak_temp_c"] >= row[f"tyre_{c}_avg_temp_c"] for c in ("fl", "fr", "rl", "rr")
        )
        if row["is_clean_lap"]:
            assert row["min_speed_kmh"] > 50, key


def test_gold_expectations_pass_on_the_laps_dbt_built(gold):
    """Gold's Great Expectations suite on gold.lap_metrics as dbt's merges left it, read with delta-rs."""
    from expectations.gold import LAP_METRICS_TABLE, lap_metrics_suite
    from expectations.lake import Lake
    from expectations.runner import check_lake_table

    result = check_lake_table(Lake.of(gold["settings"]), LAP_METRICS_TABLE, lap_metrics_suite(), window=None)
    assert result.success, result.summary()
    assert result.rows_checked >= len(gold["full"]["lap_metrics"]) > 0


def test_incremental_runs_give_the_full_refreshs_rows(gold):
    incremental, full = gold["incremental"], gold["full"]
    for table in MARTS:
        assert incremental[table].keys() == full[table].keys(), table
        differing = [k for k in full[table] if not same_value(incremental[table][k], full[table][k])]
        assert not differing, (table, differing[:3])
    # the first build, on the first part, had the laps completed by then; the rest came incrementally
    first_laps = complete(gold["first_rows"]["lap_metrics"])
    assert 0 < len(first_laps) < len(complete(full["lap_metrics"]))
    # the laps running at the cut were there, incomplete, and are complete now
    running = {k for k, row in gold["first_rows"]["lap_metrics"].items() if not row["is_complete"]}
    assert running and all(full["lap_metrics"][k]["is_complete"] for k in running)
    rebuilt = [k for k in first_laps if not same_value(first_laps[k], full["lap_metrics"][k])]
    assert not rebuilt, rebuilt[:3]  # a lap built from complete data never changes


def test_gold_built_on_the_streams_sql_server_equals_gold_built_in_a_session_of_its_own(spark, gold):
    """The streams' driver serves Spark SQL (streaming.jobs.sql_server); gold's dbt build there, over
    Thrift, gives row for row what the session method's full refresh gave from the same silver."""
    from streaming.clients.dbt import STREAMS_TARGET, gold_target, timings
    from streaming.jobs.sql_server import serving_sql

    s = gold["settings"]
    assert gold_target(s) == s.dbt_target  # nothing serves yet: dbt starts (here: shares) a session
    with serving_sql(spark, s) as serving:
        assert serving and gold_target(s) == STREAMS_TARGET
        result = run_dbt(s, ["build", "--full-refresh", *gold["dbt_dirs"]])
    assert gold_target(s) == s.dbt_target  # stopped with the block: back to a Spark of dbt's own
    nodes = timings(result)
    assert {"lap_metrics", "stint_metrics", "session_metrics"} <= {n.name for n in nodes}
    assert all(n.status in ("success", "pass") for n in nodes), [n for n in nodes if n.status != "pass"]
    served = gold_rows(spark, gold["config"].session_id)
    for table in MARTS:
        assert served[table].keys() == gold["full"][table].keys(), table
        differing = [k for k in served[table] if not same_value(served[table][k], gold["full"][table][k])]
        assert not differing, (table, differing[:3])


def test_dbt_build_ran_every_model_and_test(gold):
    from streaming.clients.dbt import timings

    nodes = timings(gold["first_build"])
    models = {n.name for n in nodes if n.resource_type == "model"}
    assert {"lap_metrics", "stint_metrics", "session_metrics", "stg_position", "stg_sessions"} <= models
    tests = [n for n in nodes if n.resource_type == "test"]
    assert len(tests) >= 20 and all(n.status == "pass" for n in tests)


def test_dbt_shares_the_sessions_spark_and_leaves_its_settings(spark, gold):
    from pyspark.sql import SparkSession

    assert SparkSession.getActiveSession() is spark  # dbt's getOrCreate() returned the tests' session
    # dbt-spark sets ANSI mode off on the session it uses; run_dbt puts the session's own value back
    assert spark.conf.get("spark.sql.ansi.enabled") == gold["ansi_before"]
    # the marts landed in the `gold` database (no target prefix), partitioned by session date
    detail = spark.sql("DESCRIBE DETAIL gold.lap_metrics").first()
    assert detail.format == "delta" and detail.partitionColumns == ["session_date"]


def test_parse_writes_the_manifest_dagster_loads(gold, tmp_path):
    run_dbt(gold["settings"], ["parse", "--target-path", str(tmp_path)])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    schemas = {n["name"]: n["schema"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {schemas[m] for m in MARTS} == {"gold"} and schemas["stg_position"] == "gold_staging"
    sources = {(n["schema"], n["name"]) for n in manifest["sources"].values()}
    assert ("silver", "position") in sources and ("silver", "sessions") in sources
    assert (DBT_PROJECT_DIR / "dbt_project.yml").is_file()


def test_the_dbt_assets_materialise_through_dagster(spark, gold, tmp_path):
    """`materialize()` of the dbt assets: dagster-dbt runs `dbt build` in a subprocess, on the Spark SQL
    server a stream run's driver serves (here the tests' session serves it, as the stream run's does)."""
    import dagster as dg

    from f1_assets.gold.assets import dbt_resource, gold_dbt_models
    from f1_assets.resources import PlatformSettings
    from streaming.jobs.sql_server import serving_sql

    settings = gold["settings"]
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance, serving_sql(spark, settings):
        result = dg.materialize(
            [gold_dbt_models],
            resources={"dbt": dbt_resource(), "platform": PlatformSettings(environ=settings.as_env())},
            instance=instance,
        )
        logged = [record.user_message for record in instance.all_logs(result.run_id)]
    assert result.success
    assert any("dbt build on target streams" in message for message in logged)
    # the run worker's environment still holds valid settings for the ops after dbt's (gold's GX suite)
    assert os.environ["DBT_TARGET"] == settings.dbt_target
    materialised = {event.asset_key for event in result.get_asset_materialization_events()}
    assert {dg.AssetKey(["gold", mart]) for mart in MARTS} <= materialised
    checks = result.get_asset_check_evaluations()
    assert len(checks) >= 30 and all(check.passed for check in checks)  # every dbt test, as an asset check
    # the rows are the ones dbt built in-process for this session
    assert (
        gold_rows(spark, gold["config"].session_id)["lap_metrics"].keys()
        == gold["full"]["lap_metrics"].keys()
    )


# ----- laps that cannot be timed whole: flagged, kept, and left out of the aggregates -----


@pytest.fixture(scope="module")
def incomplete(spark, gold):
    return build_incomplete_laps(spark, gold)


def without_copy_columns(row: dict) -> dict:
    return {c: v for c, v in row.items() if c not in COPY_COLUMNS}


def test_laps_cut_short_missing_a_crossing_or_past_the_finish_are_kept_and_flagged(gold, incomplete):
    from streaming.clients.dbt import timings

    nodes = timings(incomplete["build"])
    assert {n.name for n in nodes if n.resource_type == "model"} >= set(MARTS)  # nothing skipped
    assert all(n.status in ("success", "pass") for n in nodes), [(n.name, n.status) for n in nodes]
    car_a, car_b, car_c = incomplete["cars"]
    last = gold["config"].laps
    laps = {(car, lap): row for (_, car, lap), row in incomplete["rows"]["lap_metrics"].items()}
    flagged = {key: row["incomplete_reason"] for key, row in laps.items() if not row["is_complete"]}
    assert flagged == {
        # A: its cool-down, then the stray records: a lap with no timed start (a minute after the last
        # sample), one timed from line to line in 0.1 s without a sector, and the last one
        **{(car_a, lap): "after_finish" for lap in range(last + 1, last + 5)},
        (car_b, 3): "no_end_crossing",  # retired halfway round
        (car_c, 2): "no_end_crossing",  # the samples across its line are missing
        (car_c, 3): "no_start_crossing",
        (car_c, last + 1): "after_finish",
    }
    stray = laps[(car_a, last + 3)]
    assert stray["lap_start_ns"] is not None and stray["lap_end_ns"] is not None
    assert stray["sector_1_s"] is None and not stray["is_clean_lap"] and stray["position_samples"] == 2
    cut = laps[(car_b, 3)]
    assert cut["lap_start_ns"] is not None and cut["lap_end_ns"] is None and cut["lap_time_s"] is None
    # what was measured is kept (its out-lap: still in the pit lane before sector 1 ended)
    assert cut["position_samples"] > 100 and cut["dynamics_samples"] > 200 and cut["is_out_lap"]
    assert laps[(car_c, 3)]["lap_start_ns"] is None and laps[(car_c, 3)]["sector_2_s"] is not None
    # every complete lap is the very lap of the original session
    original = {(car, lap): row for (_, car, lap), row in gold["full"]["lap_metrics"].items()}
    for key, row in laps.items():
        if row["is_complete"]:
            assert same_value(without_copy_columns(row), without_copy_columns(original[key])), key


def test_session_and_stint_metrics_leave_incomplete_laps_out(gold, incomplete):
    car_a, car_b, car_c = incomplete["cars"]
    truth = {(lap["car_number"], lap["lap"]): lap for lap in gold["truth"]["laps"]}
    counted = {car_a: [1, 2, 3, 4], car_b: [1, 2], car_c: [1, 4]}
    sessions = {car: row for (_, car), row in incomplete["rows"]["session_metrics"].items()}
    original = {car: row for (_, car), row in gold["full"]["session_metrics"].items()}
    for car, laps in counted.items():
        row = sessions[car]
        assert row["laps_completed"] == len(laps), car
        best = min(laps, key=lambda lap: truth[(car, lap)]["lap_time_ms"])
        assert row["best_lap_number"] == best, car
        best_ms = truth[(car, best)]["lap_time_ms"]
        assert row["best_lap_time_s"] * 1000 == pytest.approx(best_ms, abs=TOLERANCE_MS), car
        sectors = sum(min(truth[(car, lap)]["sector_ms"][i] for lap in laps) for i in range(3))
        assert row["theoretical_best_s"] * 1000 == pytest.approx(sectors, abs=3 * TOLERANCE_MS), car
        assert row["top_speed_kmh"] < 380 and row["best_speed_trap_kmh"] < 380, car  # no stray's jump
    assert (
        sessions[car_a]["incomplete_laps"] == 4
        and sessions[car_a]["final_position"] == (original[car_a]["final_position"])
    )
    assert sessions[car_b]["incomplete_laps"] == 1 and sessions[car_c]["incomplete_laps"] == 3
    stints = {(car, n): row for (_, car, n), row in incomplete["rows"]["stint_metrics"].items()}
    assert (stints[(car_a, 1)]["start_lap"], stints[(car_a, 2)]["end_lap"]) == (1, 4)  # strays left out
    assert (car_b, 2) not in stints  # its only lap on the new set was cut short
    assert (stints[(car_c, 1)]["laps"], stints[(car_c, 2)]["laps"]) == (1, 1)


def test_a_broken_key_still_fails_the_build(spark, gold, incomplete):
    from pyspark.sql import functions as F

    from streaming.clients.dbt import timings

    session_id = incomplete["session_id"]
    sentinel = "timestamp'2000-01-01 00:00:00'"
    # a second row with the key of an existing lap (what a merge on a wrong key would leave)
    row = spark.table("gold.lap_metrics").where(f"session_id = '{session_id}' AND lap_number = 1").limit(1)
    row.withColumn("built_at", F.expr(sentinel)).writeTo("gold.lap_metrics").append()
    try:
        with pytest.raises(DbtFailed) as failed:
            run_dbt(gold["settings"], ["build", *gold["dbt_dirs"]])
        assert "unique_combination_of_columns_lap_metrics" in str(failed.value)
        args = ["build", "--select", "lap_metrics+", *gold["dbt_dirs"]]
        result = run_dbt(gold["settings"], args, check=False)
        status = {n.name: n.status for n in timings(result)}
        assert not result.success
        assert status["stint_metrics"] == status["session_metrics"] == "skipped"  # nothing built on it
    finally:
        spark.sql(f"DELETE FROM gold.lap_metrics WHERE built_at = {sentinel}")
