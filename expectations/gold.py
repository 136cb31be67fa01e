"""Quality suites of the gold models (dbt): lap metrics, parameterised by column names.

gold.lap_metrics (dbt/models/marts/lap_metrics.sql) was being built alongside these suites: the defaults
follow its columns (one row per session, car and lap; lap and sector times in seconds, `lap_time_s`,
`sector_1_s`..`sector_3_s`), and every name is an argument, so the gold work can adjust them or add suites
for its other models here. Gold is small (one row per lap) and rebuilt by dbt, so by default a suite
checks the whole table; `time_column="built_at"` would check only the rows the last builds touched.
dbt's own tests on the model check much the same at build time; these report into the Dagster asset checks
with sample rows, and block downstream use of a bad build.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from expectations.suite import Suite

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

    from expectations.lake import Lake

LAP_METRICS_TABLE = "gold.lap_metrics"
# A plausible lap: no circuit is lapped under 55 s (the shortest, Red Bull Ring, takes ~63 s); ten minutes
# covers in- and out-laps, pit stops and safety cars, not a red-flag stoppage.
MIN_LAP_MS = 55_000
MAX_LAP_MS = 600_000
SECTOR_SUM_TOLERANCE_MS = 1.0


@cache
def lap_metrics_suite(
    *,
    keys: tuple[str, ...] = ("session_id", "car_number", "lap_number"),
    lap_time: str = "lap_time_s",
    sectors: tuple[str, ...] = ("sector_1_s", "sector_2_s", "sector_3_s"),
    ms_per_unit: float = 1000.0,  # the unit of the time columns: 1000 for seconds, 1 for milliseconds
    min_lap_ms: float = MIN_LAP_MS,
    max_lap_ms: float = MAX_LAP_MS,
    tolerance_ms: float = SECTOR_SUM_TOLERANCE_MS,
    time_column: str | None = None,
    complete_column: str | None = "is_complete",
) -> Suite:
    """Keys set and unique; lap times plausible; the sectors add up to the lap time within `tolerance_ms`.

    A lap or sector not completed may be null: the value expectations skip nulls, and so does the sum.
    Laps flagged incomplete (`complete_column` false: cut short, a crossing missing, past the finish) keep
    their keys checked, but their lap and sector times are not judged: read from the table, they are set to
    null before the expectations see them. A table without that column has every lap judged.
    """
    sector_sum_error = "sector_sum_error_ms"
    timings = (lap_time, *sectors)

    def rows(lake: Lake, table: str, start: dt.datetime | None, end: dt.datetime) -> pd.DataFrame:
        from expectations.lake import as_pandas

        columns = [*keys, *timings, *([complete_column] if complete_column else [])]
        frame = as_pandas(lake.read(table, columns, time_column, start, end))
        if complete_column is None or complete_column not in frame.columns:
            return frame
        complete = frame[complete_column].fillna(False).astype(bool)
        return frame.assign(**{c: frame[c].where(complete) for c in timings if c in frame.columns})

    def define(E):
        return [
            *(E.ExpectColumnValuesToNotBeNull(column=c) for c in keys),
            E.ExpectCompoundColumnsToBeUnique(column_list=list(keys)),
            E.ExpectColumnValuesToBeBetween(
                column=lap_time, min_value=min_lap_ms / ms_per_unit, max_value=max_lap_ms / ms_per_unit
            ),
            *(E.ExpectColumnValuesToBeBetween(column=s, min_value=0, strict_min=True) for s in sectors),
            E.ExpectColumnValuesToBeBetween(column=sector_sum_error, max_value=tolerance_ms),
        ]

    return Suite(
        name="lap_metrics",
        description=(
            f"laps: keys unique; complete laps' time in [{min_lap_ms}, {max_lap_ms}] ms, sectors sum to it"
        ),
        define=define,
        time_column=time_column,
        rows=rows,
        index_columns=(*keys, lap_time, *sectors),
        # a derived column, so that the samples say how far off the sum is, beside the lap's keys (a sum
        # with a null sector is null, which the expectation skips)
        derived_columns={sector_sum_error: f"abs(({' + '.join(sectors)}) - {lap_time}) * {ms_per_unit}"},
        blocking=True,
    )


def suites() -> dict[str, tuple[Suite, ...]]:
    return {LAP_METRICS_TABLE: (lap_metrics_suite(),)}
