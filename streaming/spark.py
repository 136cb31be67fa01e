"""SparkSession configuration shared by every Spark process: streams, dbt, notebooks and tests.

Jars come from F1_JVM_LIB_DIR/spark by local path (no Ivy download at start), Delta is the catalog's
table format, and the table catalog is the shared Hive metastore on the Derby network server, so that
several Spark processes can use the same tables at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streaming.jars import jar_set
from streaming.runtime.services import metastore_jdbc_url
from streaming.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


_ROCKSDB_STATE_STORE = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"


def spark_conf(s: Settings, app_name: str = "f1-telemetry") -> dict[str, str]:
    spark_jars = jar_set(s.f1_jvm_lib_dir, "spark")
    return {
        "spark.app.name": app_name,
        "spark.master": s.spark_master,
        "spark.jars": ",".join(str(p) for p in spark_jars.paths()),
        # DataNucleus loads the metastore's JDBC driver through the system class loader, which does not
        # see spark.jars: the Derby client must be on the driver's class path itself.
        "spark.driver.extraClassPath": str(spark_jars.find("derbyclient")),
        "spark.driver.memory": s.spark_driver_memory,
        "spark.sql.shuffle.partitions": str(s.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.port": str(s.spark_ui_port),
        # Delta rebuilds a table's snapshot with 50 tasks by default: far too many for a few cores.
        "spark.databricks.delta.snapshotPartitions": str(s.spark_shuffle_partitions),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        # VACUUM records what it deleted in the table history (`f1 maintain` reports it).
        "spark.databricks.delta.vacuum.logging.enabled": "true",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": s.delta_storage_path,
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore_jdbc_url(s),
        "spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.apache.derby.jdbc.ClientDriver",
        "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.hadoop.hive.metastore.warehouse.dir": s.delta_storage_path,
        "spark.sql.streaming.checkpointLocation": s.spark_checkpoint_path,
        # RocksDB keeps streaming state (deduplication keys) off the JVM heap.
        "spark.sql.streaming.stateStore.providerClass": _ROCKSDB_STATE_STORE,
    }


def get_spark(s: Settings, app_name: str = "f1-telemetry") -> SparkSession:
    """The SparkSession of this process, created with `spark_conf` if there is none yet.

    The metastore must be running (`make up`); without it Spark would fail deep inside Hive.
    """
    from pyspark.sql import SparkSession

    from streaming.runtime.services import SERVICES

    if SERVICES["metastore"].probe(s) is not None:
        from streaming.errors import ServiceUnavailable

        raise ServiceUnavailable("metastore", metastore_jdbc_url(s), "METASTORE_PORT")
    builder = SparkSession.builder
    for key, value in spark_conf(s, app_name).items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    register_functions(spark)
    return spark


# Our own Spark functions (jvm/udf): (SQL name, Java class, return type).
FUNCTIONS = (
    ("f1_protobuf_to_json", "io.f1telemetry.spark.ProtobufToJson", "string"),
    # (raw_value BINARY, encoding STRING, context_json STRING, validated_time_unix_ns BIGINT, schema_id INT):
    # the Confluent-framed EnrichedTelemetryEvent silver re-streams, or NULL if the input is not valid.
    ("f1_enriched_protobuf", "io.f1telemetry.spark.EnrichToProtobuf", "binary"),
)


def register_functions(spark: SparkSession) -> None:
    """Make the platform's JVM functions callable from SQL and DataFrames (they run in the JVM)."""
    from pyspark.sql.types import _parse_datatype_string

    for name, java_class, return_type in FUNCTIONS:
        spark.udf.registerJavaFunction(name, java_class, _parse_datatype_string(return_type))
