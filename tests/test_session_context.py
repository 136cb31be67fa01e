"""The session context joined with a batch's events (streaming.jobs.sessions.context_frame), on real Spark.

Built from one JSON text per batch: every value of every session, entry and watermark must arrive as the
typed columns the validation and the enriched topic read.
"""

from __future__ import annotations

import datetime as dt
import json

from streaming.jobs import sessions
from streaming.simulator.race import Race, RaceConfig
from streaming.simulator.runner import session_info


def test_every_value_of_the_context_arrives_typed(spark):
    race = Race(RaceConfig(cars=50, laps=1, seed=5))
    info = session_info(race.config, race)
    watermarks = {f"{car}|{t}": 10**18 + car for car in range(1, 51) for t in ("position", "tire")}
    frame = sessions.context_frame(spark, {info.session_id: info}, {info.session_id: watermarks}, 2 * 10**9)
    expected = [(f.name, f.dataType) for f in sessions.CONTEXT_SCHEMA.fields]
    assert [(f.name, f.dataType) for f in frame.schema.fields] == expected
    (row,) = frame.collect()
    assert row.session_id == info.session_id and row.ctx_circuit == info.circuit
    assert row.ctx_circuit_length_m == info.circuit_length_m and row.ctx_total_laps == info.total_laps
    assert row.ctx_start_time_unix_ns == info.start_time_unix_ns and row.ctx_future_tolerance_ns == 2 * 10**9
    assert row.ctx_session_date == dt.datetime.fromtimestamp(info.start_time_unix_ns / 1e9, dt.UTC).date()
    assert row.ctx_watermarks == watermarks
    assert set(row.ctx_entries) == {e.car_number for e in info.entries}
    for entry in info.entries:
        got = row.ctx_entries[entry.car_number]
        assert (got.car_number, got.driver_code, got.driver_name, got.team) == (
            entry.car_number,
            entry.driver_code,
            entry.driver_name,
            entry.team,
        )
        assert json.loads(got.enriched_context_json)["driver_code"] == entry.driver_code
