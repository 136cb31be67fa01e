"""Run a quality suite on a table's recent rows with Great Expectations 1.x, and return a plain result.

Pure: no Dagster here. The asset checks (f1_assets) call `check_table` and turn the `CheckResult` into an
AssetCheckResult with `to_metadata()`:

    result = check_table(spark, "silver.position", silver.suite_for("position"))
    AssetCheckResult(passed=result.success, metadata=result.to_metadata())

Which rows: tables grow forever, so a check reads a bounded window, the rows whose lineage time column
(bronze `ingested_at`, silver `validated_at`, quarantine `quarantined_at`) lies in the last `window` before
`now` (default: the last 15 minutes of wall-clock time). Change data feed is off on these tables, so a
time filter is the cheapest bound. Uniqueness is judged within the window: the streams deduplicate across
a horizon, and this check catches what slips through in the rows it sees; a repeat whose two copies fall
in different windows needs `window=None` (the whole table, expensive: for a maintenance run).

How: one ephemeral GX context per process (no files, no network), one Spark data source bound to the
caller's SparkSession, one dataframe asset with a whole-dataframe batch definition. Schema expectations
run on the frame's schema alone; the others on the window's rows pruned to the columns they read, cached
for the duration of the check (GX computes several Spark jobs per expectation). GX is not thread-safe:
checks in one process run one at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from expectations.suite import SCHEMA_ONLY, Suite, great_expectations

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_WINDOW = dt.timedelta(minutes=15)
SAMPLE_SIZE = 5  # unexpected values and rows kept per failing expectation


@dataclass(frozen=True)
class FailedExpectation:
    """One expectation that did not hold, with what GX saw."""

    expectation_type: str  # e.g. expect_column_values_to_be_between
    column: str | None
    kwargs: Mapping[str, Any]  # the expectation's arguments (min_value, mostly, column_list, ...)
    observed_value: Any  # for aggregate and schema expectations
    element_count: int | None  # rows in the domain (map expectations)
    unexpected_count: int | None
    unexpected_percent: float | None
    sample_values: tuple[Any, ...]  # a few unexpected values
    sample_rows: tuple[Mapping[str, Any], ...]  # their rows' index columns (Kafka coordinates, keys)
    error: str | None = None  # set when GX could not evaluate the expectation (a missing column)

    def label(self) -> str:
        return f"{self.expectation_type}({self.column})" if self.column else self.expectation_type

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, without the fields that are empty."""
        out = {
            "expectation": self.expectation_type,
            "column": self.column,
            "kwargs": dict(self.kwargs),
            "observed_value": self.observed_value,
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            # samples of a null check are all None: the rows say more
            "sample_values": [] if all(v is None for v in self.sample_values) else list(self.sample_values),
            "sample_rows": [dict(r) for r in self.sample_rows],
            "error": self.error,
        }
        return {k: v for k, v in out.items() if v not in (None, [], {})}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one suite on one table's window."""

    table: str
    suite: str
    success: bool
    evaluated: int  # expectations evaluated
    failed: int  # expectations that failed
    rows_checked: int | None  # None: the suite looks at the schema only
    window_start: dt.datetime | None  # None: from the table's first row
    window_end: dt.datetime | None
    seconds: float  # wall-clock time of the check, reading included
    failures: tuple[FailedExpectation, ...]
    # the observed share of unexpected rows, in %, of each expectation with a threshold (`mostly`), by
    # column, pass or fail: the decode error rate, the quarantine rate
    rates: Mapping[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        head = f"{self.table} {self.suite}" + (
            f" on {self.rows_checked} rows" if self.rows_checked is not None else " (schema)"
        )
        if self.success:
            return f"{head}: {self.evaluated} expectations passed"
        failing = ", ".join(f.label() for f in self.failures)
        return f"{head}: {self.failed} of {self.evaluated} failed: {failing}"

    def to_metadata(self) -> dict[str, Any]:
        """JSON-able metadata for a Dagster asset check: counts, window, failing expectations and samples.

        Scalars stay scalars (Dagster shows them as numbers and text); `failures` is a list of dicts
        (shown as JSON). No None values, which Dagster's metadata does not take everywhere.
        """
        metadata: dict[str, Any] = {
            "table": self.table,
            "suite": self.suite,
            "expectations_evaluated": self.evaluated,
            "expectations_failed": self.failed,
            "check_seconds": round(self.seconds, 3),
        }
        if self.rows_checked is not None:
            metadata["rows_checked"] = self.rows_checked
        if self.window_start is not None:
            metadata["window_start"] = self.window_start.isoformat()
        if self.window_end is not None:
            metadata["window_end"] = self.window_end.isoformat()
        for column, percent in self.rates.items():
            metadata[f"unexpected_percent:{column}"] = round(percent, 4)
        if self.failures:
            metadata["failing_expectations"] = ", ".join(f.label() for f in self.failures)
            metadata["failures"] = [f.to_dict() for f in self.failures]
        return metadata


# --- which rows ---------------------------------------------------------------------------------------------


def window_bounds(
    window: dt.timedelta | None, now: dt.datetime | None = None
) -> tuple[dt.datetime | None, dt.datetime]:
    """(start, end) of the window ending at `now` (default: the current time, UTC); start None: no bound."""
    end = now or dt.datetime.now(dt.UTC)
    if end.tzinfo is None:  # naive times are UTC, as the Spark session's time zone is
        end = end.replace(tzinfo=dt.UTC)
    return (end - window if window is not None else None), end


def in_window(frame: DataFrame, column: str | None, start: dt.datetime | None, end: dt.datetime) -> DataFrame:
    """The rows of `frame` whose `column` lies in [start, end]; all rows when column or start is None."""
    from pyspark.sql import functions as F

    if column is None or start is None:
        return frame
    return frame.where((F.col(column) >= F.lit(start)) & (F.col(column) <= F.lit(end)))


def table_rows(
    spark: SparkSession, table: str, suite: Suite, window: dt.timedelta | None, now: dt.datetime | None = None
) -> tuple[DataFrame, dt.datetime | None, dt.datetime]:
    """(rows the suite checks, window start, window end)."""
    start, end = window_bounds(window, now)
    if suite.rows is not None:
        return suite.rows(spark, table, start, end), start, end
    if suite.time_column is None:
        start = None
    return in_window(spark.table(table), suite.time_column, start, end), start, end


# --- running GX ---------------------------------------------------------------------------------------------

_LOCK = threading.RLock()
_gx_state: dict[str, Any] = {}


def _context():
    """The process's ephemeral GX context: in memory, no usage statistics, no progress bars."""
    if "context" not in _gx_state:
        gx = great_expectations()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            # tqdm bars would flood the logs of Dagster runs
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        _gx_state["context"] = gx.get_context(mode="ephemeral", project_config=config)
    return _gx_state["context"]


def _batch_definition(spark: SparkSession):
    """The whole-dataframe batch definition of a Spark data source bound to `spark`.

    GX's Spark data source would otherwise find a session itself: it tries a Spark Connect session first
    (with pyspark 4 and grpcio-status installed that means connecting to sc://localhost) and may restart
    the session to apply its config. Giving it ours avoids both; a new session gets a new data source.
    """
    if _gx_state.get("spark") is not spark:
        context = _context()
        if "datasource" in _gx_state:
            context.data_sources.delete(_gx_state["datasource"].name)
        # persist=False: GX would cache every batch and never release it; the runner caches and unpersists
        datasource = context.data_sources.add_spark("f1_spark", persist=False)
        datasource._spark = spark  # private, but the only way to hand GX an existing session
        asset = datasource.add_dataframe_asset("rows")
        _gx_state.update(
            spark=spark,
            datasource=datasource,
            batch_definition=asset.add_batch_definition_whole_dataframe("whole_dataframe"),
        )
    return _gx_state["batch_definition"]


def _gx_suite(name: str, expectations: Iterable[Any]):
    gx = great_expectations()
    # copies: an expectation object belongs to the suite it was added to
    return gx.ExpectationSuite(name=name, expectations=[e.copy() for e in expectations])


def _columns_read(expectation: Any) -> set[str]:
    kwargs = expectation.configuration.kwargs
    names = {kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)}
    return names | set(kwargs.get("column_list") or ())


def _validate(frame: DataFrame, gx_suite: Any, result_format: dict) -> list[Any]:
    batch = _batch_definition(frame.sparkSession).get_batch(batch_parameters={"dataframe": frame})
    return list(batch.validate(gx_suite, result_format=result_format).results)


def _key(config: Any) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return config.type + json.dumps(kwargs, sort_keys=True, default=str)


def _validate_rows(rows: DataFrame, suite: Suite, expectations: list[Any], index: list[str], samples: int):
    """Two passes: counts only for every expectation, then samples for the ones that failed.

    Sample values and rows cost GX three Spark jobs or more per expectation even when nothing is
    unexpected (51 jobs against 7 for the eleven expectations of silver.position): the first pass asks
    for no samples, which GX then skips, and still reports counts and percentages.
    """
    first = _validate(
        rows,
        _gx_suite(f"{suite.name}.rows", expectations),
        {"result_format": "SUMMARY", "partial_unexpected_count": 0},
    )
    # GX returns results grouped by column, not in suite order: match them by type and arguments
    failed_keys = {_key(r.expectation_config) for r in first if not r.success}
    failed = [e for e in expectations if _key(e.configuration) in failed_keys]
    if not failed or samples == 0:
        return first
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": samples}
    if index:
        result_format["unexpected_index_column_names"] = index
    second = _validate(rows, _gx_suite(f"{suite.name}.failed", failed), result_format)
    return [r for r in first if r.success] + second


def check_frame(
    frame: DataFrame,
    suite: Suite,
    *,
    table: str = "<dataframe>",
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> CheckResult:
    """Validate `suite` on the rows of `frame` (already bounded to the window)."""
    started = time.perf_counter()
    schema_part = [e for e in suite.expectations if e.expectation_type in SCHEMA_ONLY]
    row_part = [e for e in suite.expectations if e.expectation_type not in SCHEMA_ONLY]
    spark = frame.sparkSession
    with _LOCK:
        spark.sparkContext.setJobDescription(f"quality: {suite.name} on {table}")
        results: list[Any] = []
        rows_checked = None
        try:
            if schema_part:
                # the schema, not the rows: an empty frame with the same columns reads no data
                schema_suite = _gx_suite(f"{suite.name}.schema", schema_part)
                results += _validate(frame.limit(0), schema_suite, {"result_format": "SUMMARY"})
            if row_part:
                rows = frame.withColumns({name: _expr(sql) for name, sql in suite.derived_columns.items()})
                present = set(rows.columns)
                index = [c for c in suite.index_columns if c in present]
                wanted = set().union(*(_columns_read(e) for e in row_part)) | set(index)
                # A column the table lacks is left out: its expectations then fail with GX's error.
                rows = rows.select(*[c for c in rows.columns if c in wanted]).persist()
                try:
                    rows_checked = rows.count()  # fills the cache that every metric then reads
                    results += _validate_rows(rows, suite, row_part, index, sample_size)
                finally:
                    rows.unpersist()
        finally:
            spark.sparkContext.setJobDescription(None)
    failures = tuple(_failure(r, sample_size) for r in results if not r.success)
    rates = {
        r.expectation_config.kwargs["column"]: float(r.result["unexpected_percent"])
        for r in results
        if "mostly" in r.expectation_config.kwargs
        and r.expectation_config.kwargs.get("column")
        and (r.result or {}).get("unexpected_percent") is not None
    }
    return CheckResult(
        table=table,
        suite=suite.name,
        success=not failures,
        evaluated=len(results),
        failed=len(failures),
        rows_checked=rows_checked,
        window_start=window_start,
        window_end=window_end,
        seconds=time.perf_counter() - started,
        failures=failures,
        rates=rates,
    )


def check_table(
    spark: SparkSession,
    table: str,
    suite: Suite,
    *,
    window: dt.timedelta | None = DEFAULT_WINDOW,
    now: dt.datetime | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> CheckResult:
    """Validate `suite` on the rows of `table` in the last `window` before `now` (None: every row)."""
    started = time.perf_counter()
    frame, start, end = table_rows(spark, table, suite, window, now)
    result = check_frame(
        frame, suite, table=table, window_start=start, window_end=end, sample_size=sample_size
    )
    # the time to plan the read belongs to the check too
    return replace(result, seconds=time.perf_counter() - started)


def _expr(sql: str):
    from pyspark.sql import functions as F

    return F.expr(sql)


# --- GX results -> plain values -----------------------------------------------------------------------------


def _failure(result: Any, sample_size: int) -> FailedExpectation:
    def samples(details: Mapping[str, Any], key: str) -> list[Any]:
        return list(details.get(key) or ())[:sample_size]

    config = result.expectation_config
    kwargs = {k: jsonable(v) for k, v in config.kwargs.items() if k != "batch_id"}
    details = result.result or {}
    error = None
    info = result.exception_info or {}
    if info.get("raised_exception"):
        error = str(info.get("exception_message"))
    else:  # a suite-level exception_info is keyed by metric
        messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
        error = "; ".join(str(m) for m in messages if m) or None
    return FailedExpectation(
        expectation_type=config.type,
        column=config.kwargs.get("column"),
        kwargs=kwargs,
        observed_value=jsonable(details.get("observed_value")),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=jsonable(details.get("unexpected_percent")),
        sample_values=tuple(jsonable(v) for v in samples(details, "partial_unexpected_list")),
        sample_rows=tuple(jsonable(dict(r)) for r in samples(details, "partial_unexpected_index_list")),
        error=error,
    )


def jsonable(value: Any) -> Any:
    """A JSON-serialisable copy of a value GX or Spark returned (timestamps, decimals, bytes, rows)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return raw[:32].hex() + ("..." if len(raw) > 32 else "")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "asDict"):  # a Spark Row
        return jsonable(value.asDict())
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # a numpy scalar
        return jsonable(value.item())
    return str(value)
