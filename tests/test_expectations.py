"""The GX quality suites on real Delta tables: good data passes, each kind of bad data fails and says why.

The tables are the `quality_db` session fixture's (tests/quality_tables.py): recent rows are valid,
rows of three hours ago each carry one kind of fault.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from expectations import bronze, gold, silver, table_suites
from expectations.lake import Lake
from expectations.runner import CheckResult, check_frame, check_lake_table
from tests.quality_tables import AT_OLD, NOW


@pytest.fixture
def db(quality_db):
    return quality_db


@pytest.fixture
def lake(quality_lake) -> Lake:
    return quality_lake


def failing(result: CheckResult) -> dict[tuple[str, str | None], object]:
    return {(f.expectation_type, f.column): f for f in result.failures}


def metadata_of(result: CheckResult) -> dict:
    """The asset-check metadata, after a round trip through JSON (it must survive one)."""
    return json.loads(json.dumps(result.to_metadata()))


def test_good_data_passes_every_suite_without_network(lake, db, monkeypatch):
    import requests

    def no_network(*args, **kwargs):
        raise AssertionError(f"a quality check made an HTTP request: {args[1:3]}")

    monkeypatch.setattr(requests.Session, "request", no_network)  # GX's only HTTP client
    results = [
        check_lake_table(lake, f"{db}.{table.split('.')[1]}", suite, now=NOW)
        for table, suites in table_suites().items()
        for suite in suites
    ]
    for result in results:
        print(f"{result.summary():100} {result.seconds:5.2f}s")
    for result in results:
        assert result.success, result.summary()
        assert result.failed == 0 and result.evaluated > 0 and not result.failures
        metadata = metadata_of(result)
        assert "failures" not in metadata and metadata["window_end"] == NOW.isoformat()
    rows = {(r.table.split(".")[1], r.suite): r.rows_checked for r in results}
    assert rows["telemetry", "decode_error_rate"] == 200  # the old rows are outside the window
    assert rows["quarantine", "quarantine_rate"] == 302
    assert rows["dynamics", "valid_events"] == 50
    assert rows["dynamics", "schema"] is None  # the schema only: no rows read
    rates = {(r.table.split(".")[1], r.suite): r.to_metadata() for r in results}
    assert rates["telemetry", "decode_error_rate"]["unexpected_percent:decode_error"] == 0.5
    assert rates["quarantine", "quarantine_rate"]["unexpected_percent:reason"] == round(200 / 302, 4)


def test_the_window_bounds_the_rows_checked(lake, db):
    suite = silver.suite_for("dynamics")
    old = check_lake_table(lake, f"{db}.dynamics", suite, now=AT_OLD)
    assert not old.success and old.rows_checked == 20
    assert old.window_start == AT_OLD - dt.timedelta(minutes=15)
    everything = check_lake_table(lake, f"{db}.dynamics", suite, window=None)
    assert not everything.success and everything.rows_checked == 70 and everything.window_start is None
    assert failing(everything)["expect_column_values_to_be_between", "speed_kmh"].unexpected_count == 2
    wall_clock = check_lake_table(lake, f"{db}.dynamics", suite)
    assert wall_clock.success and wall_clock.rows_checked == 50


def test_null_keys_fail_with_the_rows_that_have_them(lake, db):
    result = check_lake_table(lake, f"{db}.position_null_keys", silver.suite_for("position"), now=NOW)
    assert not result.success
    failures = failing(result)
    assert set(failures) == {
        ("expect_column_values_to_not_be_null", "event_id"),
        ("expect_column_values_to_not_be_null", "session_id"),
    }
    event_id = failures["expect_column_values_to_not_be_null", "event_id"]
    assert event_id.unexpected_count == 2 and event_id.element_count == 21
    # the Kafka coordinates name the records, since the values themselves are nulls
    assert sorted(r["kafka_offset"] for r in event_id.sample_rows) == [0, 1]
    metadata = metadata_of(result)
    assert metadata["expectations_failed"] == 2 and metadata["rows_checked"] == 21
    assert "expect_column_values_to_not_be_null(event_id)" in metadata["failing_expectations"]
    [null_ids] = [f for f in metadata["failures"] if f["column"] == "event_id"]
    assert "sample_values" not in null_ids and len(null_ids["sample_rows"]) == 2


def test_out_of_range_values_fail_with_sample_values(lake, db):
    result = check_lake_table(lake, f"{db}.dynamics", silver.suite_for("dynamics"), now=AT_OLD)
    failures = failing(result)
    assert set(failures) == {
        ("expect_column_values_to_be_between", "speed_kmh"),
        ("expect_column_values_to_be_between", "gear"),
    }
    speed = failures["expect_column_values_to_be_between", "speed_kmh"]
    assert speed.sample_values == (1500.0, 1500.0) and speed.unexpected_percent == pytest.approx(10.0)
    assert speed.kwargs["min_value"] == 0 and speed.kwargs["max_value"] == 420  # validation.RANGES
    assert failures["expect_column_values_to_be_between", "gear"].sample_values == (12,)
    [gear] = [f for f in metadata_of(result)["failures"] if f["column"] == "gear"]
    assert gear["sample_rows"] == [
        {"kafka_topic": "x", "kafka_partition": 1, "kafka_offset": 1005, "gear": 12}
    ]


def test_duplicate_event_ids_fail(lake, db):
    result = check_lake_table(lake, f"{db}.tire", silver.suite_for("tire"), now=AT_OLD)
    [failure] = result.failures
    assert failure.expectation_type == "expect_column_values_to_be_unique" and failure.column == "event_id"
    assert failure.unexpected_count == 3 and failure.sample_values == ("dup-1",) * 3


def test_high_quarantine_rate_fails_with_the_reasons(lake, db):
    result = check_lake_table(lake, f"{db}.quarantine", silver.quarantine_rate_suite(), now=AT_OLD)
    assert result.rows_checked == 50  # 10 quarantined, 20 + 20 valid in dynamics and tire
    [failure] = result.failures
    assert failure.expectation_type == "expect_column_values_to_be_null" and failure.column == "reason"
    assert failure.unexpected_percent == pytest.approx(20.0) and failure.kwargs["mostly"] == 0.99
    assert set(failure.sample_values) == {"late"}
    assert failure.sample_rows[0]["reason_detail"] == "behind the watermark"
    assert result.rates == {"reason": pytest.approx(20.0)}


def test_high_decode_error_rate_fails_with_the_errors(lake, db):
    result = check_lake_table(lake, f"{db}.telemetry", bronze.decode_error_suite(), now=AT_OLD)
    [failure] = result.failures
    assert failure.column == "decode_error" and failure.unexpected_percent == pytest.approx(10.0)
    assert set(failure.sample_values) == {"malformed JSON"}
    assert {r["kafka_offset"] for r in failure.sample_rows} <= set(range(1090, 1100))
    # a looser threshold lets the same rows pass
    looser = bronze.decode_error_suite(max_rate=0.2)
    assert check_lake_table(lake, f"{db}.telemetry", looser, now=AT_OLD).success


def test_schema_drift_fails_with_what_changed(lake, db):
    result = check_lake_table(lake, f"{db}.telemetry_drift", bronze.schema_suite(), now=NOW)
    failures = failing(result)
    assert set(failures) == {
        ("expect_table_columns_to_match_ordered_list", None),
        ("expect_column_values_to_be_of_type", "kafka_partition"),
        ("expect_column_values_to_be_of_type", "schema_id"),  # missing: GX's error is a failure
    }
    partition = failures["expect_column_values_to_be_of_type", "kafka_partition"]
    assert partition.observed_value == "LongType" and partition.kwargs["type_"] == "IntegerType"
    assert failures["expect_column_values_to_be_of_type", "schema_id"].error
    metadata_of(result)


def test_gold_lap_metrics_suite():
    columns = ["session_id", "car_number", "lap_number", "lap_time_s"] + [f"sector_{i}_s" for i in (1, 2, 3)]
    laps = [("s", 16, lap, 81.25, 27.0, 28.125, 26.125) for lap in range(1, 6)]
    laps.append(("s", 16, 6, None, 27.0, None, None))  # not completed
    suite = gold.lap_metrics_suite()
    assert check_frame(pd.DataFrame(laps, columns=columns), suite).success
    too_fast = ("s", 16, 7, 30.0, 10.0, 10.0, 10.0)
    off_by_5_ms = ("s", 16, 8, 81.0, 27.0, 28.0, 25.995)
    frame = pd.DataFrame([*laps, too_fast, off_by_5_ms, laps[0]], columns=columns)
    result = check_frame(frame, suite, table="gold.lap_metrics")
    failures = failing(result)
    assert set(failures) == {
        ("expect_compound_columns_to_be_unique", None),
        ("expect_column_values_to_be_between", "lap_time_s"),
        ("expect_column_values_to_be_between", "sector_sum_error_ms"),
    }
    assert failures["expect_column_values_to_be_between", "lap_time_s"].sample_values == (30.0,)
    sums = failures["expect_column_values_to_be_between", "sector_sum_error_ms"]
    assert sums.sample_values == (pytest.approx(5.0),) and sums.sample_rows[0]["lap_number"] == 8
    assert len(failures["expect_compound_columns_to_be_unique", None].sample_rows) == 2
    metadata_of(result)
