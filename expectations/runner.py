"""Run a quality suite on a table's recent rows with Great Expectations 1.x, and return a plain result.

Pure: no Dagster, and no Spark. The asset checks (f1_assets) call `check_lake_table` and turn the
`CheckResult` into an AssetCheckResult with `to_metadata()`:

    result = check_lake_table(Lake.of(settings), "silver.position", silver.suite_for("position"))
    AssetCheckResult(passed=result.success, metadata=result.to_metadata())

Which rows: tables grow forever, so a check reads a bounded window, the rows whose lineage time column
(bronze `ingested_at`, silver `validated_at`, quarantine `quarantined_at`) lies in the last `window` before
`now` (default: the last 15 minutes of wall-clock time). Change data feed is off on these tables, so a
time filter is the cheapest bound (delta-rs skips the files whose statistics lie outside it). Uniqueness is
judged within the window: the streams deduplicate across a horizon, and this check catches what slips
through in the rows it sees; a repeat whose two copies fall in different windows needs `window=None` (the
whole table, expensive: for a maintenance run).

How: the rows are read with delta-rs (expectations/lake.py: no Spark driver per check run, which cost
minutes of both cores beside the streams) into one ephemeral GX context per process (no files, no
network) with a pandas data source and a whole-dataframe batch definition. Schema expectations look at the
Delta log's schema (Spark's types, judged here as GX judges them on a Spark frame); the others run on the
window's rows pruned to the columns they read. GX is not thread-safe: checks in one process run one at a
time.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from expectations.suite import SCHEMA_ONLY, Suite, great_expectations

if TYPE_CHECKING:
    import pandas as pd

    from expectations.lake import Lake

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


def _gx_suite(name: str, expectations: Iterable[Any]):
    gx = great_expectations()
    # copies: an expectation object belongs to the suite it was added to
    return gx.ExpectationSuite(name=name, expectations=[e.copy() for e in expectations])


def _columns_read(expectation: Any) -> set[str]:
    kwargs = expectation.configuration.kwargs
    names = {kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)}
    return names | set(kwargs.get("column_list") or ())


def _pandas_batch_definition():
    """The whole-dataframe batch definition of the context's pandas data source (the lake's rows)."""
    if "pandas_batch_definition" not in _gx_state:
        asset = _context().data_sources.add_pandas("f1_pandas").add_dataframe_asset("rows")
        _gx_state["pandas_batch_definition"] = asset.add_batch_definition_whole_dataframe("whole_dataframe")
    return _gx_state["pandas_batch_definition"]


def _validate(frame: pd.DataFrame, gx_suite: Any, result_format: dict) -> list[Any]:
    batch = _pandas_batch_definition().get_batch(batch_parameters={"dataframe": frame})
    return list(batch.validate(gx_suite, result_format=result_format).results)


def _key(config: Any) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return config.type + json.dumps(kwargs, sort_keys=True, default=str)


def _validate_rows(rows: pd.DataFrame, suite: Suite, expectations: list[Any], index: list[str], samples: int):
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


def _split(suite: Suite) -> tuple[list[Any], list[Any]]:
    """(schema expectations, row expectations) of the suite."""
    schema_part = [e for e in suite.expectations if e.expectation_type in SCHEMA_ONLY]
    return schema_part, [e for e in suite.expectations if e.expectation_type not in SCHEMA_ONLY]


def _columns_wanted(suite: Suite, row_part: list[Any]) -> set[str]:
    """The columns the row expectations read, and the index columns that name a failing row."""
    return set().union(*(_columns_read(e) for e in row_part)) | set(suite.index_columns)


def _result(
    table: str,
    suite: Suite,
    results: list[Any],
    *,
    rows_checked: int | None,
    window_start: dt.datetime | None,
    window_end: dt.datetime | None,
    started: float,
    sample_size: int,
    schema_failures: tuple[FailedExpectation, ...] = (),
    schema_evaluated: int = 0,
) -> CheckResult:
    failures = schema_failures + tuple(_failure(r, sample_size) for r in results if not r.success)
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
        evaluated=schema_evaluated + len(results),
        failed=len(failures),
        rows_checked=rows_checked,
        window_start=window_start,
        window_end=window_end,
        seconds=time.perf_counter() - started,
        failures=failures,
        rates=rates,
    )


def _row_results(frame: pd.DataFrame, suite: Suite, row_part: list[Any], sample_size: int) -> list[Any]:
    """GX's results of the row expectations on `frame`, with the suite's derived columns added."""
    rows = frame.assign(**{name: frame.eval(expr) for name, expr in suite.derived_columns.items()})
    # A column the frame lacks is left out: its expectations then fail with GX's error.
    wanted = _columns_wanted(suite, row_part)
    rows = rows[[c for c in rows.columns if c in wanted]]
    index = [c for c in suite.index_columns if c in rows.columns]
    with _LOCK:
        return _validate_rows(rows, suite, row_part, index, sample_size)


def check_frame(
    frame: pd.DataFrame,
    suite: Suite,
    *,
    table: str = "<dataframe>",
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> CheckResult:
    """Validate the row expectations of `suite` on `frame` (already bounded to the window)."""
    started = time.perf_counter()
    _, row_part = _split(suite)
    return _result(
        table,
        suite,
        _row_results(frame, suite, row_part, sample_size) if row_part else [],
        rows_checked=len(frame),
        window_start=window_start,
        window_end=window_end,
        started=started,
        sample_size=sample_size,
    )


def check_lake_table(
    lake: Lake,
    table: str,
    suite: Suite,
    *,
    window: dt.timedelta | None = DEFAULT_WINDOW,
    now: dt.datetime | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> CheckResult:
    """Validate `suite` on the rows of `table` in the last `window` before `now` (None: every row), read
    from the lake with delta-rs into GX's pandas engine."""
    started = time.perf_counter()
    start, end = window_bounds(window, now)
    if suite.time_column is None and suite.rows is None:
        start = None
    schema_part, row_part = _split(suite)
    schema_failures: tuple[FailedExpectation, ...] = ()
    rows_checked, results = None, []
    if schema_part:
        columns = lake.schema(table)
        found = (_schema_failure(e.configuration, columns) for e in schema_part)
        schema_failures = tuple(f for f in found if f is not None)
    if row_part:
        from expectations.lake import as_pandas

        if suite.rows is not None:
            rows = suite.rows(lake, table, start, end)
        else:
            # a column the table lacks is left out by the read: its expectations fail with GX's error
            columns = sorted(_columns_wanted(suite, row_part))
            rows = as_pandas(lake.read(table, columns, suite.time_column, start, end))
        rows_checked, results = len(rows), _row_results(rows, suite, row_part, sample_size)
    return _result(
        table,
        suite,
        results,
        rows_checked=rows_checked,
        window_start=start,
        window_end=end,
        started=started,
        sample_size=sample_size,
        schema_failures=schema_failures,
        schema_evaluated=len(schema_part),
    )


def listed_columns(columns: list[tuple[str, Any]]) -> list[str]:
    """The column list GX's Spark engine reports for a schema: each struct's fields after it, as
    `column.field` (what `schema_expectations` expects)."""
    from pyspark.sql.types import StructType

    listed = []
    for name, type_ in columns:
        listed.append(name)
        if isinstance(type_, StructType):
            listed += [f"{name}.{f.name}" for f in type_.fields]
    return listed


def _schema_failure(config: Any, columns: list[tuple[str, Any]]) -> FailedExpectation | None:
    """A schema expectation judged on a table's schema ((column, pyspark DataType) in order) as GX judges
    it on a Spark frame; None when it holds."""
    from pyspark.sql import types as T

    kwargs = {k: jsonable(v) for k, v in config.kwargs.items() if k != "batch_id"}
    failed = {
        "expectation_type": config.type,
        "column": config.kwargs.get("column"),
        "kwargs": kwargs,
        "element_count": None,
        "unexpected_count": None,
        "unexpected_percent": None,
        "sample_values": (),
        "sample_rows": (),
    }
    if config.type == "expect_table_columns_to_match_ordered_list":
        listed = listed_columns(columns)
        if listed == list(config.kwargs["column_list"]):
            return None
        return FailedExpectation(observed_value=listed, **failed)
    if config.type == "expect_column_values_to_be_of_type":
        types = dict(columns)
        column = config.kwargs["column"]
        if column not in types:
            return FailedExpectation(
                observed_value=None, error=f"the column {column} is not in the table", **failed
            )
        expected = getattr(T, config.kwargs["type_"], None)
        if isinstance(expected, type) and isinstance(types[column], expected):
            return None
        return FailedExpectation(observed_value=type(types[column]).__name__, **failed)
    raise ValueError(
        f"{config.type}: a schema expectation the lake's checks do not judge; judge it in "
        "expectations.runner._schema_failure or move it to a row expectation"
    )


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
    if type(value).__name__ == "NAType":  # pandas' missing value, of its nullable dtypes
        return None
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
