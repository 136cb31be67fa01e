"""Bronze: every record of the raw topics into `bronze.telemetry`, decoded in the JVM, nothing dropped.

Decoding goes straight to typed columns, with no text in between: the Protobuf topic through our JVM
function f1_protobuf_decode (jvm/udf, protobuf-java's DynamicMessage over the contract's descriptor), the
JSON topic through Spark's from_json into the same struct, after a check against the registered JSON Schema
(f1_telemetry_json_violation). Bronze keeps the raw bytes and the typed payload, one struct column per
event type. A record that cannot be decoded, or that breaks its contract (the JSON Schema, an envelope
event_type that disagrees with its payload, a value the columns cannot hold), still lands, with
`decode_reason` and `decode_error` saying why, and a copy goes to the DLQ topic with headers that trace it
back. The lake query (`streaming.jobs.lake`) reads the raw topics, decodes them here once, and lands the
rows in bronze with silver's appends of the same batch; a batch that keeps failing is landed raw instead
(`set_aside`, `streaming.jobs.failures`).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from streaming.clients.security import spark_kafka_options
from streaming.contracts import topics
from streaming.contracts.event_types import EVENT_TYPES
from streaming.contracts.tables import BRONZE_TABLE, decoded_record_schema, decoded_struct_type
from streaming.jobs import failures
from streaming.settings import Settings

TABLE = BRONZE_TABLE
# The payload oneof's cases: one typed struct column each.
PAYLOADS = EVENT_TYPES


# The decoded record (streaming.contracts.tables.decoded_record_schema): what f1_protobuf_decode returns and
# from_json reads the JSON topic into.
RECORD_SCHEMA = decoded_record_schema()
INT_MAX, LONG_MAX = 2**31 - 1, 2**63 - 1
# bronze.event_time is set for event times in [1970, 2200): a timestamp far outside (an int64 limit) is
# kept in event_time_unix_ns only, so that no reader or partition value has to hold year 292277.
EVENT_TIME_MAX_NS = 7_258_118_400 * 10**9
DLQ_HEADERS = ("reason", "detail", "source_topic", "source_partition", "source_offset", "source_timestamp")


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


def _kafka_columns() -> tuple[Column, ...]:
    """What bronze keeps of the Kafka record itself: its coordinates, key, bytes and encoding (by topic)."""
    return (
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.col("key").cast("string").alias("kafka_key"),
        F.col("value").alias("raw_value"),
        F.when(F.col("topic").endswith(".json"), "json").otherwise("protobuf").alias("encoding"),
    )


def framing_error() -> Column:
    """Why a Kafka value is not a Confluent wire-format record (null when it is one), saying what it is."""
    value = F.col("value")
    size = F.length(value)
    return (
        F.when(value.isNull(), F.lit("tombstone: the record has no value (null)"))
        .when(
            size < 5,
            F.concat(
                F.lit("truncated: "),
                size.cast("string"),
                F.lit(" bytes, shorter than the 5-byte wire-format header (magic byte 0, 4-byte schema id)"),
            ),
        )
        .when(
            F.substring(value, 1, 1) != F.lit(b"\x00"),
            F.concat(
                F.lit("not in the Confluent wire format: the first byte is 0x"),
                F.hex(F.substring(value, 1, 1)),
                F.lit(", not the magic byte 0"),
            ),
        )
        .when(size == 5, F.lit("truncated: nothing after the 5-byte wire-format header"))
    )


def schema_id() -> Column:
    """The header's schema id: a signed 32-bit big-endian integer, as the registry's clients write it."""
    unsigned = F.conv(F.hex(F.substring("value", 2, 4)), 16, 10).cast("long")
    signed = F.when(unsigned > INT_MAX, unsigned - 2**32).otherwise(unsigned)
    return F.when(F.length("value") >= 5, signed.cast("int"))


def _contract_error(envelope: Column, payload_type: Column, violation: Column) -> tuple[Column, Column]:
    """(reason code, detail) of a record that decoded but breaks its contract; nulls when it keeps it.

    Checked in this order: the JSON Schema (JSON topic), the envelope's event_type against its payload, and
    the values the table's columns cannot hold.
    """
    declared = envelope["event_type"]
    # the enum's name for each payload, spelled out: Spark 4's upper() maps case through ICU, per row
    expected = None
    for p in PAYLOADS:
        name = F.lit(f"EVENT_TYPE_{p.upper()}")
        expected = (
            F.when(payload_type == p, name) if expected is None else expected.when(payload_type == p, name)
        )
    car, sequence = envelope["car_number"], envelope["sequence"]
    checks = [
        (violation.isNotNull(), "schema_violation", violation),
        (
            payload_type.isNotNull() & (declared.isNull() | (declared != expected)),
            "event_type_mismatch",
            F.concat(
                F.lit("envelope event_type "),
                F.coalesce(declared, F.lit("(absent)")),
                F.lit(" disagrees with the payload "),
                F.coalesce(payload_type, F.lit("")),
            ),
        ),
        (
            car > INT_MAX,
            "out_of_range",
            F.concat(F.lit("car_number="), car.cast("string"), F.lit(f" outside [0, {INT_MAX}]")),
        ),
        (
            sequence > LONG_MAX,
            "out_of_range",
            F.concat(F.lit("sequence="), sequence.cast("string"), F.lit(f" outside [0, {LONG_MAX}]")),
        ),
    ]
    reason = detail = None
    for holds, code, text in checks:
        reason = F.when(holds, F.lit(code)) if reason is None else reason.when(holds, F.lit(code))
        detail = F.when(holds, text) if detail is None else detail.when(holds, text)
    return reason, detail


def decode(raw: DataFrame) -> DataFrame:
    """Kafka rows -> bronze rows. Pure column expressions: the JVM does all the work.

    Total over any bytes: no value, however extreme, makes an expression fail. A Protobuf record is
    decoded once, straight into the typed record (f1_protobuf_decode); a JSON record is checked against the
    registered JSON Schema and parsed once into the same record (from_json).
    """
    is_json = F.col("topic").endswith(".json")
    stage = raw.select(
        "topic",
        "partition",
        "offset",
        "timestamp",
        "key",
        "value",
        is_json.alias("is_json"),
        framing_error().alias("framing_error"),
    )
    # The JSON topic's text (after the 5-byte header); the Protobuf topic has none.
    text = F.when(
        F.col("is_json") & F.col("framing_error").isNull(), F.expr("CAST(substring(value, 6) AS STRING)")
    )
    stage = stage.withColumn("text", text)
    # The JSON Schema check in the JVM (f1_telemetry_json_violation: unknown fields, wrong types, two
    # payloads, ...); from_json alone would take an unknown field or a number in quotes without a word.
    json_record = F.from_json(F.col("text"), RECORD_SCHEMA, {"columnNameOfCorruptRecord": "_corrupt_record"})
    decoded = F.when(F.col("is_json"), json_record).otherwise(F.expr("f1_protobuf_decode(value)"))
    record = F.when(F.col("framing_error").isNull(), decoded)
    violation = F.when(F.col("text").isNotNull(), F.expr("f1_telemetry_json_violation(text)"))
    stage = stage.withColumns({"record": record, "violation": violation})
    envelope = F.col("record")
    payload_type = F.coalesce(*(F.when(envelope[p].isNotNull(), F.lit(p)) for p in PAYLOADS))
    unreadable = (
        F.when(F.col("framing_error").isNotNull(), F.col("framing_error"))
        .when(envelope["__decode_error"].isNotNull(), envelope["__decode_error"])
        .when(F.col("violation").startswith(NOT_JSON), F.concat(F.lit(f"{MALFORMED}: "), F.col("violation")))
        .when(
            F.col("violation").isNull() & (envelope.isNull() | envelope["_corrupt_record"].isNotNull()),
            F.lit(MALFORMED),
        )
    )
    contract_reason, contract_detail = _contract_error(envelope, payload_type, F.col("violation"))
    stage = stage.withColumns(
        {
            "decode_reason": F.when(unreadable.isNotNull(), F.lit("undecodable")).otherwise(contract_reason),
            "decode_error": F.coalesce(unreadable, contract_detail),
            "payload_type": payload_type,
        }
    )
    readable = F.col("decode_reason").isNull() | (F.col("decode_reason") != "undecodable")
    event_ns = F.col("envelope.event_time_unix_ns")
    car, sequence = F.col("envelope.car_number"), F.col("envelope.sequence")
    # integer division: exact over the whole range (a double in between rounds the int64 limits up)
    event_time = F.when(
        event_ns.between(0, EVENT_TIME_MAX_NS - 1),
        F.timestamp_micros(F.expr("envelope.event_time_unix_ns div 1000")),
    )
    return (
        stage.withColumnRenamed("record", "envelope")
        .select(
            *_kafka_columns(),
            schema_id().alias("schema_id"),
            "decode_error",
            F.when(readable, F.col("envelope.event_id")).alias("event_id"),
            F.when(readable, F.col("envelope.session_id")).alias("session_id"),
            F.when(readable & car.between(-INT_MAX - 1, INT_MAX), car.cast("int")).alias("car_number"),
            F.when(~readable, F.lit("undecodable"))
            .otherwise(F.coalesce("payload_type", F.lit("missing")))
            .alias("event_type"),
            F.when(readable, event_time).alias("event_time"),
            F.when(readable, event_ns).alias("event_time_unix_ns"),
            F.when(readable, F.col("envelope.producer_time_unix_ns")).alias("producer_time_unix_ns"),
            F.when(readable & (sequence <= LONG_MAX), sequence.cast("long")).alias("sequence"),
            *(F.when(readable, F.col(f"envelope.{p}")).alias(p) for p in PAYLOADS),
            F.current_timestamp().alias("ingested_at"),
            "decode_reason",
        )
        .withColumn("session_date", F.coalesce(F.to_date("event_time"), F.to_date("kafka_timestamp")))
    )


MALFORMED = "malformed JSON"
NOT_JSON = "not valid JSON"  # how f1_telemetry_json_violation starts when the text is no JSON at all


def set_aside(raw: DataFrame, detail: str) -> DataFrame:
    """A batch that kept failing, as bronze rows that keep each record's bytes and coordinates only.

    Nothing here reads the record's contents, so nothing here can fail on them; silver quarantines them
    with reason `batch_failed` and this detail, and they go to the DLQ.
    """

    def unread(name: str, type_: str) -> Column:
        return F.lit(None).cast(type_).alias(name)

    return raw.select(
        *_kafka_columns(),
        unread("schema_id", "int"),
        F.lit(f"batch failed: {detail}").alias("decode_error"),
        unread("event_id", "string"),
        unread("session_id", "string"),
        unread("car_number", "int"),
        F.lit("undecodable").alias("event_type"),
        unread("event_time", "timestamp"),
        unread("event_time_unix_ns", "bigint"),
        unread("producer_time_unix_ns", "bigint"),
        unread("sequence", "bigint"),
        *(unread(p, decoded_struct_type(p)) for p in PAYLOADS),
        F.current_timestamp().alias("ingested_at"),
        F.lit(failures.REASON).alias("decode_reason"),
        F.to_date("timestamp").alias("session_date"),
    )


def dlq_records(rows: DataFrame) -> DataFrame:
    """Bronze rows that break their contract, as DLQ records: the original key and bytes, with headers
    that say why and where each came from (so it can be traced back to the raw record)."""
    header = {
        "reason": F.col("decode_reason"),
        "detail": F.col("decode_error"),
        "source_topic": F.col("kafka_topic"),
        "source_partition": F.col("kafka_partition").cast("string"),
        "source_offset": F.col("kafka_offset").cast("string"),
        # Unix milliseconds, as Kafka's own timestamps
        "source_timestamp": F.floor(F.unix_micros("kafka_timestamp") / 1000).cast("string"),
    }
    return rows.where(F.col("decode_reason").isNotNull()).select(
        F.col("kafka_key").alias("key"),
        F.col("raw_value").alias("value"),
        F.array(
            *(
                F.struct(F.lit(name).alias("key"), F.encode(header[name], "UTF-8").alias("value"))
                for name in DLQ_HEADERS
            )
        ).alias("headers"),
    )


def publish_dlq(s: Settings, rows: DataFrame) -> None:
    """Copy the rows that break their contract (or were set aside) to the DLQ topic.

    At least once: a replayed batch may copy a record to the DLQ again (the headers identify it).
    """
    bad = dlq_records(rows)
    if not bad.isEmpty():
        bad.write.format("kafka").options(**spark_kafka_options(s)).option("topic", topics.DLQ).save()
