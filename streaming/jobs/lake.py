"""The lake query: one read of the raw topics lands bronze, silver and the quarantine from the same batch.

Per micro-batch: the Kafka records are decoded once (`bronze.decode`) and cached; silver's stage
(`silver.SilverBatch`) deduplicates, validates and enriches those rows, and its round of idempotent
appends (`streaming.jobs.appends`, one app id for every table) carries bronze's append too, so a batch
replayed after a crash lands nowhere twice. The records that break their contract are copied to the DLQ
after the commits (at least once). No Delta hop between bronze and silver: an event is in silver as soon
as the batch that read it from Kafka commits.

A batch that keeps failing is set aside (`streaming.jobs.failures`): its records land in bronze raw, with
the error, in the quarantine as `batch_failed`, and in the DLQ; the stream goes on.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession

from streaming.contracts import topics
from streaming.jobs import bronze, failures, start_with_trigger
from streaming.jobs.silver import BatchOutcome, SilverBatch
from streaming.settings import Settings

QUERY_NAME = "lake"


class LakeBatch:
    """The foreachBatch function of the lake query: land the batch in every layer, or set it aside."""

    def __init__(
        self, spark: SparkSession, s: Settings, *, on_failed: Callable[[str], None] | None = None, **silver
    ):
        """`silver`: SilverBatch's options (app_id, checkpoint, topics, on_outcome)."""
        self.s, self.on_failed = s, on_failed
        self.silver = SilverBatch(spark, s, query=QUERY_NAME, **silver)

    def __call__(self, raw: DataFrame, batch_id: int) -> None:
        # The raw batch is not cached: Spark counts a batch's input rows on the plan foreachBatch runs,
        # and a cache of the raw batch hides the Kafka scan from it (numInputRows 0). The decoded rows are
        # cached; a retry, rare, reads the batch's offsets from Kafka again.
        failures.run_batch(
            lambda: self._land(raw, batch_id),
            lambda detail: self._set_aside(raw, batch_id, detail),
            self.s.stream_batch_tries,
            name=f"{QUERY_NAME} batch {batch_id}",
            before_retry=lambda: self.silver.retrying(batch_id),
            on_failed=self.on_failed,
        )

    def _land(self, raw: DataFrame, batch_id: int) -> None:
        rows = bronze.decode(raw).persist()
        try:
            outcome = self.silver.process(rows, batch_id, also=[(bronze.TABLE, rows)])
            if outcome is not None and outcome.broken:  # no Spark job for a batch without broken records
                bronze.publish_dlq(self.s, rows)
        finally:
            rows.unpersist()

    def _set_aside(self, raw: DataFrame, batch_id: int, detail: str) -> None:
        rows = bronze.set_aside(raw, detail).persist()
        try:
            SilverBatch.append(rows, bronze.TABLE, batch_id, self.silver.appends)  # unless a try landed it
            self.silver.set_aside(rows, batch_id, detail)
            bronze.publish_dlq(self.s, rows)
        finally:
            rows.unpersist()


def start(
    spark: SparkSession,
    s: Settings,
    *,
    available_now: bool = False,
    trigger_seconds: float | None = None,
    subscribe: list[str] | None = None,
    checkpoint: str | None = None,
    app_id: str = QUERY_NAME,
    starting_offsets: str = "earliest",
    sessions_topic: str = topics.SESSIONS,
    enriched_topic: str | None = topics.ENRICHED,
    on_outcome: Callable[[BatchOutcome], None] | None = None,
    on_failed: Callable[[str], None] | None = None,
):
    """Start the lake query (available-now: drain what the topics hold and stop).

    `starting_offsets` applies to a new checkpoint only: "earliest" (everything the topics hold) or
    "latest" (only what comes after the start, as the latency benchmark wants).
    """
    checkpoint = checkpoint or f"{s.spark_checkpoint_path}/{app_id}"
    handler = LakeBatch(
        spark,
        s,
        on_failed=on_failed,
        app_id=app_id,
        checkpoint=checkpoint,
        sessions_topic=sessions_topic,
        enriched_topic=enriched_topic,
        on_outcome=on_outcome,
    )
    writer = (
        bronze.read_raw(spark, s, subscribe, starting_offsets=starting_offsets)
        .writeStream.queryName(app_id)
        .option("checkpointLocation", checkpoint)
        .foreachBatch(handler)
    )
    return start_with_trigger(
        writer,
        s.stream_trigger_seconds,
        available_now=available_now,
        trigger_seconds=trigger_seconds,
        spark=spark,
        pool=QUERY_NAME,
    )
