"""Spark jobs of the platform: pure PySpark, no Dagster."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

SCHEDULER_POOL = "spark.scheduler.pool"


def start_with_trigger(
    writer,
    default_seconds: float,
    *,
    available_now: bool,
    trigger_seconds: float | None,
    spark=None,
    pool: str | None = None,
):
    """Start a stream writer: available-now (drain what is there, then stop) or every N seconds.

    With `pool` the query's jobs run in that fair-scheduler pool (spark.scheduler.mode=FAIR): queries of one
    SparkSession then share the cores instead of queueing behind each other's tasks. The stream's thread
    inherits the pool from the thread that starts it, so it is set around `start()` only.
    """
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        seconds = default_seconds if trigger_seconds is None else trigger_seconds
        writer = writer.trigger(processingTime=f"{seconds} seconds")
    if spark is None or pool is None:
        return writer.start()
    with scheduler_pool(spark, pool):
        return writer.start()


@contextlib.contextmanager
def scheduler_pool(spark, pool: str) -> Iterator[None]:
    """Run the block's Spark jobs (and threads it starts) in the fair-scheduler pool `pool`."""
    context = spark.sparkContext
    previous = context.getLocalProperty(SCHEDULER_POOL)
    context.setLocalProperty(SCHEDULER_POOL, pool)
    try:
        yield
    finally:
        context.setLocalProperty(SCHEDULER_POOL, previous)


class TxnAppId:
    """Delta's `txnAppId` for a streaming query's writes: its name and the id of its checkpoint.

    Delta skips a write whose (txnAppId, txnVersion) a table has seen, which is what makes a replayed
    micro-batch land once. The batch id alone restarts at 0 with a new checkpoint, so an app id without
    the checkpoint's id would make a query started over (a deleted or new checkpoint) skip every batch
    the old one had written: silently lost rows. The checkpoint's id (its `metadata` file, written when
    the query first starts and kept across restarts) is read at the first batch, through Spark so that
    any checkpoint file system works.
    """

    def __init__(self, spark, name: str, checkpoint: str):
        self.spark, self.name, self.checkpoint = spark, name, checkpoint
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            import json

            metadata = self.spark.read.text(f"{self.checkpoint.rstrip('/')}/metadata").first().value
            self._value = f"{self.name}:{json.loads(metadata)['id']}"
        return self._value


def local_frame(spark, rows, schema):
    """A DataFrame of `rows` (tuples, dicts for maps, lists for arrays) with `schema`, built in the JVM.

    Not `spark.createDataFrame(rows)`: classic PySpark pickles the rows and parallelizes them, so every
    query of the frame starts a Python worker on an executor (on a cluster, where the streams need no
    Python otherwise). Here the rows are one literal the optimizer folds; `inline` makes them rows.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType

    return spark.range(1).select(
        F.inline(F.array(*(_literal(row, schema) for row in rows)).cast(ArrayType(schema)))
    )


def _literal(value, data_type):
    """A Column holding `value` as `data_type`, nested types field by field."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, MapType, StructType

    if value is None:
        return F.lit(None).cast(data_type)
    if isinstance(data_type, StructType):
        fields = zip(value, data_type.fields, strict=True)
        return F.struct(*(_literal(v, field.dataType).alias(field.name) for v, field in fields))
    if isinstance(data_type, ArrayType):
        return F.array(*(_literal(v, data_type.elementType) for v in value)).cast(data_type)
    if isinstance(data_type, MapType):
        pairs = [(_literal(k, data_type.keyType), _literal(v, data_type.valueType)) for k, v in value.items()]
        return F.create_map(*(column for pair in pairs for column in pair)).cast(data_type)
    return F.lit(value).cast(data_type)


def release(frame) -> None:
    """Free a locally checkpointed frame's blocks now rather than at the driver's next garbage collection."""
    # not a checkpointed frame's plan (another Spark version): the context cleaner frees it later
    with contextlib.suppress(Exception):
        frame._jdf.queryExecution().analyzed().rdd().unpersist(False)
