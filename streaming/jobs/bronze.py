"""Bronze: every record of the raw topics into `bronze.telemetry`, decoded in the JVM, nothing dropped.

Decoding is vectorised Spark SQL plus our JVM function f1_protobuf_to_json (jvm/udf): the Protobuf topic is
turned into the contract's JSON encoding, the JSON topic is taken as it is, and the envelope is read from
that JSON with from_json. A record that cannot be decoded still lands, with `decode_error` set, and a copy
goes to the DLQ topic. Writes are idempotent per micro-batch (`streaming.jobs.appends`), so a restart
from the checkpoint never lands a batch twice.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from streaming import topics
from streaming.jobs import TxnAppId, start_with_trigger
from streaming.jobs.appends import BatchAppends
from streaming.security import spark_kafka_options
from streaming.settings import Settings

TABLE = "bronze.telemetry"
QUERY_NAME = "bronze"
PAYLOADS = ("position", "dynamics", "power_unit", "tire", "aerodynamics", "system")
ENVELOPE_SCHEMA = (
    "event_id STRING, session_id STRING, car_number INT, event_type STRING, event_time_unix_ns BIGINT, "
    "producer_time_unix_ns BIGINT, sequence BIGINT"
)
# The whole record as bronze reads it: the envelope, each payload as JSON text, and the error fields.
RECORD_SCHEMA = (
    ENVELOPE_SCHEMA
    + "".join(f", {p} STRING" for p in PAYLOADS)
    + ", __decode_error STRING, _corrupt_record STRING"
)


def read_raw(
    spark: SparkSession,
    s: Settings,
    subscribe: list[str] | None = None,
    max_offsets_per_trigger: int | None = None,
    starting_offsets: str = "earliest",
) -> DataFrame:
    reader = (
        spark.readStream.format("kafka")
        .options(**spark_kafka_options(s))
        .option("subscribe", ",".join(subscribe or [topics.RAW_PROTOBUF, topics.RAW_JSON]))
        .option("startingOffsets", starting_offsets)
        .option("failOnDataLoss", "false")
    )
    limit = max_offsets_per_trigger or s.stream_max_offsets_per_trigger
    return reader.option("maxOffsetsPerTrigger", str(limit)).load()


def decode(raw: DataFrame) -> DataFrame:
    """Kafka rows -> bronze rows. Pure column expressions: the JVM does all the work.

    The record's JSON text is computed once (one call of the decoder per row); everything else reads it.
    """
    value = F.col("value")
    framed = (F.length(value) >= 5) & (F.substring(value, 1, 1) == F.lit(b"\x00"))
    is_json = F.col("topic").endswith(".json")
    text = (
        F.when(~framed, F.lit(None).cast("string"))
        .when(is_json, F.expr("CAST(substring(value, 6) AS STRING)"))
        .otherwise(F.expr("f1_protobuf_to_json(value)"))
    )
    stage = raw.select(
        "topic",
        "partition",
        "offset",
        "timestamp",
        "key",
        "value",
        is_json.alias("is_json"),
        framed.alias("framed"),
        text.alias("text"),
    )

    # One parse of the text gives everything: the envelope, each payload object as its JSON text (a
    # STRING field of from_json keeps a nested object's text), the decoder's error, and the text itself
    # when it is not JSON at all.
    record = F.from_json(F.col("text"), RECORD_SCHEMA, {"columnNameOfCorruptRecord": "_corrupt_record"})
    stage = stage.withColumn("record", record)
    envelope = F.col("record")
    decode_error = (
        F.when(~F.col("framed"), F.lit("not in the Confluent wire format"))
        .when(envelope["__decode_error"].isNotNull(), envelope["__decode_error"])
        .when(envelope.isNull() | envelope["_corrupt_record"].isNotNull(), F.lit("malformed JSON"))
    )
    payload_type = F.coalesce(*(F.when(envelope[p].isNotNull(), F.lit(p)) for p in PAYLOADS))
    payload_json = F.coalesce(*(envelope[p] for p in PAYLOADS))
    return (
        stage.select(
            F.col("topic").alias("kafka_topic"),
            F.col("partition").alias("kafka_partition"),
            F.col("offset").alias("kafka_offset"),
            F.col("timestamp").alias("kafka_timestamp"),
            F.col("key").cast("string").alias("kafka_key"),
            F.col("value").alias("raw_value"),
            F.when(F.col("is_json"), "json").otherwise("protobuf").alias("encoding"),
            F.when(F.col("framed"), F.conv(F.hex(F.substring("value", 2, 4)), 16, 10).cast("int")).alias(
                "schema_id"
            ),
            decode_error.alias("decode_error"),
            F.col("record").alias("envelope"),
            payload_type.alias("payload_type"),
            payload_json.alias("payload_json"),
            F.current_timestamp().alias("ingested_at"),
        )
        .select(
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_timestamp",
            "kafka_key",
            "raw_value",
            "encoding",
            "schema_id",
            "decode_error",
            *(
                F.when(F.col("decode_error").isNull(), F.col(f"envelope.{name}")).alias(name)
                for name in ("event_id", "session_id", "car_number")
            ),
            F.when(F.col("decode_error").isNotNull(), F.lit("undecodable"))
            .otherwise(F.coalesce("payload_type", F.lit("missing")))
            .alias("event_type"),
            F.timestamp_micros(F.floor(F.col("envelope.event_time_unix_ns") / 1000).cast("long")).alias(
                "event_time"
            ),
            F.col("envelope.event_time_unix_ns").alias("event_time_unix_ns"),
            F.col("envelope.producer_time_unix_ns").alias("producer_time_unix_ns"),
            F.col("envelope.sequence").alias("sequence"),
            "payload_json",
            "ingested_at",
        )
        .withColumn("session_date", F.coalesce(F.to_date("event_time"), F.to_date("kafka_timestamp")))
    )


def write_batch(s: Settings, batch: DataFrame, batch_id: int, appends: BatchAppends) -> None:
    """One micro-batch: append to bronze idempotently, and copy undecodable records to the DLQ topic."""
    batch.persist()
    try:
        appends.append(batch, TABLE, batch_id)
        bad = batch.where(F.col("decode_error").isNotNull())
        if not bad.isEmpty():  # at-least-once: a replayed batch may copy a record to the DLQ again
            (
                bad.select(
                    F.col("kafka_key").alias("key"),
                    F.col("raw_value").alias("value"),
                    F.array(
                        F.struct(
                            F.lit("decode_error").alias("key"),
                            F.encode("decode_error", "UTF-8").alias("value"),
                        ),
                        F.struct(
                            F.lit("source_topic").alias("key"),
                            F.encode("kafka_topic", "UTF-8").alias("value"),
                        ),
                    ).alias("headers"),
                )
                .write.format("kafka")
                .options(**spark_kafka_options(s))
                .option("topic", topics.DLQ)
                .save()
            )
    finally:
        batch.unpersist()


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
):
    """Start the bronze query (available-now: drain what is there and stop).

    `starting_offsets` applies to a new checkpoint only: "earliest" (everything the topics hold) or
    "latest" (only what comes after the start, as the latency benchmark wants).
    """
    checkpoint = checkpoint or f"{s.spark_checkpoint_path}/{app_id}"
    appends = BatchAppends(spark, TxnAppId(spark, app_id, checkpoint))
    writer = (
        decode(read_raw(spark, s, subscribe, starting_offsets=starting_offsets))
        .writeStream.queryName(app_id)
        .option("checkpointLocation", checkpoint)
        .foreachBatch(lambda batch, batch_id: write_batch(s, batch, batch_id, appends))
    )
    return start_with_trigger(
        writer,
        s.stream_trigger_seconds,
        available_now=available_now,
        trigger_seconds=trigger_seconds,
        spark=spark,
        pool=QUERY_NAME,
    )
