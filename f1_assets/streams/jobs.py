"""The stream jobs: one long-running run per streaming query (the lake query), kept alive by the sensors.

A run executes streaming/jobs/runner.py's loop in its own process (its own Spark driver), for as long as
it is wanted: it stops cleanly when the run is terminated, and reports its tables' progress as
materialisations every STREAM_REPORT_SECONDS. The run's tag `f1/stream` says which stream it is.
"""

# No `from __future__ import annotations`: Dagster reads the op and sensor parameter types at runtime.

import signal
import threading
import time

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from f1_assets.keys import table_asset_key
from f1_assets.resources import PlatformSettings
from f1_assets.streams.keeper import owner_tag
from streaming.clients.spark import register_functions, require_metastore
from streaming.jobs import runner
from streaming.jobs.progress import ProgressTracker
from streaming.settings import STREAM_QUERY_NAMES

STREAM_TAG = "f1/stream"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _report(context: dg.OpExecutionContext, tracker: ProgressTracker, spark, queries) -> None:
    running = {q.name: q.query for q in queries}
    for report in tracker.take(spark, running):
        metadata = {
            "rows_since_last_report": dg.MetadataValue.int(report.rows),
            "batch_id": dg.MetadataValue.int(report.batch_id if report.batch_id is not None else -1),
            "stream_run": dg.MetadataValue.text(context.run_id),
            **report.details,
        }
        if report.delta_version is not None:
            metadata["delta_version"] = dg.MetadataValue.int(report.delta_version)
        context.log_event(
            dg.AssetMaterialization(
                table_asset_key(report.table),
                description=f"{report.query} stream: {report.rows} rows since the last report",
                metadata=metadata,
            )
        )


def stream_job(query: str) -> dg.JobDefinition:
    @dg.op(
        name=f"run_{query}_stream",
        description=f"Runs the {query} streaming query until the run is terminated.",
        tags={"kind": "spark"},
    )
    def run_stream(context: dg.OpExecutionContext, platform: PlatformSettings, spark: LazyPySparkResource):
        settings = platform.get()
        require_metastore(settings)
        session = spark.spark_session
        register_functions(session)
        tracker = ProgressTracker((query,))
        last_report = 0.0

        def on_tick(queries) -> None:
            nonlocal last_report
            if time.monotonic() - last_report >= settings.stream_report_seconds:
                last_report = time.monotonic()
                _report(context, tracker, session, queries)

        context.log.info(f"{query} stream starting (checkpoint under {settings.spark_checkpoint_path})")
        # Dagster terminates a run with SIGINT (SIGTERM when the platform shuts down). Raised as an
        # exception in the middle of a py4j call it would break the Spark connection (and PySpark's own
        # handler, installed with the SparkContext, makes a py4j call from inside the signal handler):
        # here they only set `stop`, so the loop stops the query between batches.
        stop = threading.Event()
        previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in STOP_SIGNALS}
        try:
            code = runner.run(
                settings,
                (query,),
                spark=session,
                stop=stop,
                on_tick=on_tick,
                on_outcome=tracker.on_outcome,
                owner=owner_tag(context.run_id),
            )
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if stop.is_set():
            context.log.info(f"{query} stream stopped cleanly: the run was terminated")
            raise dg.DagsterExecutionInterruptedError()
        if code != 0:
            raise dg.Failure(f"the {query} stream failed repeatedly; see the run's logs")

    @dg.job(
        name=f"{query}_stream",
        description=f"The {query} stream, long-running; sensor {query}_stream_keeper keeps one run alive.",
        tags={STREAM_TAG: query},
        executor_def=dg.in_process_executor,
    )
    def job():
        run_stream()

    return job


STREAM_JOBS = {query: stream_job(query) for query in STREAM_QUERY_NAMES}
