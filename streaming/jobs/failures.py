"""A micro-batch that keeps failing: tried a few times, then its records are set aside; the stream goes on.

Every computation on a record's fields is meant to be total (checked first, or `try_*` arithmetic), so a
batch should never fail on its data. If one still does, for a reason nobody foresaw, replaying it forever
would stop the stream for good: the same batch fails on every restart. So a batch is tried
STREAM_BATCH_TRIES times; then its records are written where nothing can fail on them (bronze: raw, with
the error; silver: the quarantine, reason `batch_failed`) and the stream moves on. Nothing is lost: the
quarantined records keep their original bytes and Kafka coordinates, and the metrics and an alert say so.

A failure that is not about the batch's data (the query being stopped, a cancelled job, a stopped Spark
context) is never taken for one: it is raised at once, and the batch is replayed from the checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# Text of errors that mean the query or Spark is stopping, not that the batch's data is bad.
STOPPING = (
    "InterruptedException",
    "ClosedByInterruptException",
    "cancelled",
    "SparkContext was shut down",
    "SparkContext has been shutdown",
    "stopped SparkContext",
    "Py4JNetworkError",
    "Answer from Java side is empty",
)
REASON = "batch_failed"
DETAIL_CHARS = 1_000
# How Spark tells a query stopped through Python from a failed one: this text, then (anywhere after it)
# an interruption's class name (StreamExecution.PROXY_ERROR in Spark 4.1). Its regex recurses once per
# character in between, so a whole Py4J error (a JVM stack trace) overflowed the stream thread's stack at
# every stop: a StackOverflowError of 1,000 lines instead of a clean stop.
SPARK_STOP_TEXT = "py4j.protocol.Py4JJavaError: An error occurred while calling"


class QueryStopping(Exception):
    """A batch ended because its query or Spark is stopping: short, so that Spark reads it as a stop."""

    @classmethod
    def of(cls, error: BaseException, name: str) -> QueryStopping:
        return cls(f"{SPARK_STOP_TEXT} {name}: java.lang.InterruptedException ({describe(error)[:200]})")


def is_stopping(error: BaseException) -> bool:
    text = f"{type(error).__name__}: {error}"
    return isinstance(error, KeyboardInterrupt | SystemExit) or any(marker in text for marker in STOPPING)


def describe(error: BaseException) -> str:
    """The error's own lines, without the JVM's stack frames: what the quarantine's detail says."""
    lines = [line.strip() for line in str(error).splitlines()]
    kept = [line for line in lines if line and not line.startswith(("at ", "...", "JVM stacktrace"))]
    text = " | ".join(dict.fromkeys(kept[:4])) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:DETAIL_CHARS]


def run_batch(
    attempt: Callable[[], None],
    set_aside: Callable[[str], None],
    tries: int,
    *,
    name: str,
    before_retry: Callable[[], None] | None = None,
    on_failed: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Run `attempt` up to `tries` times; then `set_aside(detail)`. Returns the detail when it set aside.

    Between tries it waits 1, 2, 4 ... s (at most 10): a failure that clears up by itself gets its chance.
    `before_retry()` runs before every try after the first, and before `set_aside` (a failed try may have
    landed some of its appends: they must be looked up, not made twice). `on_failed(detail)` is told
    after the batch was set aside (the metrics count it).
    """
    error: BaseException | None = None
    for number in range(1, tries + 1):
        try:
            if number > 1 and before_retry is not None:
                before_retry()
            attempt()
            return None
        except Exception as caught:
            if is_stopping(caught):
                raise QueryStopping.of(caught, name) from None  # no chained trace: see SPARK_STOP_TEXT
            error = caught
            print(f"{name}: try {number} of {tries} of a batch failed: {describe(caught)}", flush=True)
            if number < tries:
                sleep(min(2.0 ** (number - 1), 10.0))
    detail = describe(error)
    if before_retry is not None:
        before_retry()
    set_aside(detail)
    print(f"{name}: batch set aside as {REASON} after {tries} tries: {detail}", flush=True)
    if on_failed is not None:
        on_failed(detail)
    return detail


def with_injected_fault(batch: DataFrame, event_id_prefix: str) -> DataFrame:
    """`batch`, failing inside the Spark job that reads it if it holds an event whose id starts with
    `event_id_prefix` (STREAM_FAULT_FAIL_BATCH_EVENT_ID_PREFIX; empty: `batch` as it is).

    A JVM-side `raise_error` in a filter every action evaluates: the failure a batch meets when an
    expression throws on a record nobody foresaw, for the tests of the batch_failed path.
    """
    if not event_id_prefix:
        return batch
    from pyspark.sql import functions as F

    marked = F.coalesce(F.col("event_id").startswith(event_id_prefix), F.lit(False))
    message = F.concat(F.lit("injected fault (STREAM_FAULT_FAIL_BATCH_EVENT_ID_PREFIX): "), F.col("event_id"))
    return batch.where(F.when(marked, F.raise_error(message)).otherwise(F.lit(True)))
