"""Queries of one SparkSession run their jobs in fair-scheduler pools of their own (real Spark)."""

from __future__ import annotations

import queue

from streaming.jobs import SCHEDULER_POOL, scheduler_pool, start_with_trigger


def test_the_spark_conf_schedules_fairly(platform_settings):
    from streaming.clients.spark import spark_conf

    assert spark_conf(platform_settings)["spark.scheduler.mode"] == "FAIR"


def test_a_query_started_in_a_pool_runs_its_batches_there_and_the_caller_keeps_its_own(spark, tmp_path):
    context = spark.sparkContext
    context.setLocalProperty(SCHEDULER_POOL, "caller")
    seen: queue.Queue = queue.Queue()

    def batch(frame, batch_id):
        seen.put(context.getLocalProperty(SCHEDULER_POOL))

    writer = (
        spark.readStream.format("rate")
        .option("rowsPerSecond", 10)
        .load()
        .writeStream.option("checkpointLocation", str(tmp_path / "checkpoint"))
        .foreachBatch(batch)
    )
    query = start_with_trigger(
        writer, 0.5, available_now=False, trigger_seconds=None, spark=spark, pool="bronze"
    )
    try:
        assert seen.get(timeout=120) == "bronze"
    finally:
        query.stop()
    assert context.getLocalProperty(SCHEDULER_POOL) == "caller"
    with scheduler_pool(spark, "silver"):
        assert context.getLocalProperty(SCHEDULER_POOL) == "silver"
    assert context.getLocalProperty(SCHEDULER_POOL) == "caller"
    context.setLocalProperty(SCHEDULER_POOL, None)
