"""SparkSession configuration shared by every Spark process: streams, dbt, notebooks and tests.

Jars come from F1_JVM_LIB_DIR/spark by local path (no Ivy download at start), Delta is the catalog's
table format, and the table catalog is the shared Hive metastore on the Derby network server, so that
several Spark processes can use the same tables at once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from streaming.clients.jars import jar_set
from streaming.clients.probes import metastore_jdbc_url, metastore_probe, tcp_open
from streaming.contracts.tables import decoded_record_schema
from streaming.errors import ServiceUnavailable
from streaming.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


LOG_CONFIG = Path(__file__).parent / "spark-log4j2.properties"
FAIR_POOLS = Path(__file__).parent / "spark-fair-pools.xml"
# Where a driver serves Spark SQL over Thrift (streaming.jobs.sql_server): loopback only.
THRIFT_HOST = "127.0.0.1"
GOLD_SQL_POOL = "gold"  # its statements' fair-scheduler pool (spark-fair-pools.xml)


def spark_log_file(s: Settings, app_name: str) -> Path:
    """Where a Spark driver of `app_name` writes Spark's, Hive's and Hadoop's log lines."""
    return s.logs_dir / f"spark-{app_name}.log"


def spark_conf(s: Settings, app_name: str = "f1-telemetry") -> dict[str, str]:
    spark_jars = jar_set(s.f1_jvm_lib_dir, "spark")
    jars = [*spark_jars.paths(), *object_storage_jars(s)]
    conf = {
        "spark.app.name": app_name,
        "spark.master": s.spark_master,
        "spark.jars": ",".join(map(str, jars)),
        # The driver loads the jars from its own class path too: DataNucleus loads the metastore's JDBC
        # driver through the system class loader, and the statements of a Thrift session (gold's dbt,
        # streaming.jobs.sql_server) run under Hive's class loader; neither sees spark.jars (Delta's
        # closures failed there: Spark's closure cleaner found no bytes of their classes).
        "spark.driver.extraClassPath": ":".join(map(str, jars)),
        "spark.driver.memory": s.spark_driver_memory,
        # Spark's, Hive's and Hadoop's lines to a file under the logs folder; errors still reach stderr
        "spark.driver.extraJavaOptions": (
            f"-Dlog4j2.configurationFile=file:{LOG_CONFIG} -Df1.spark.log={spark_log_file(s, app_name)}"
        ),
        # HotSpot never JIT-compiles a method of over 8,000 bytes of bytecode, and whole-stage code of
        # silver's validation rules is larger: it ran interpreted. At this limit Spark generates such a
        # stage per operator instead, in methods the JIT compiles.
        "spark.sql.codegen.hugeMethodLimit": "8000",
        # Compiled code is cached by its text, 100 classes by default: a lake batch compiles ~130 (the
        # validation rules are ~0.5 MB of Java), so each batch evicted the last one's and compiled it all
        # again, about a second a batch (measured: 224 of 384 compiles in 40 s were of code compiled before).
        "spark.sql.codegen.cache.maxEntries": "2000",
        # A micro-batch is cached for the few seconds its writes read it: encoding the cache's columns
        # (dictionaries, run lengths, after a pass that gathers their statistics) costs more than it saves.
        "spark.sql.inMemoryColumnarStorage.compressed": "false",
        # no progress bars in a terminal or a captured log: the stream's metrics and status say it better
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(s.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.port": str(s.spark_ui_port),
        # Delta rebuilds a table's snapshot with 50 tasks by default: far too many for a few cores.
        "spark.databricks.delta.snapshotPartitions": str(s.spark_shuffle_partitions),
        # Delta's VACUUM lists a table's files in a Spark job of this many tasks (10,000 by default): on a
        # few cores that job alone took 30-45 s for a table of 100 files, 6 s at this setting.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(s.spark_shuffle_partitions),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        # No checksum file (.crc) beside each commit: computing it was a quarter of a small append's time
        # (0.38 s -> 0.28 s, measured); a reader rebuilds a snapshot from the log and its checkpoints without.
        "spark.databricks.delta.writeChecksumFile.enabled": "false",
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
        # Queries of one application (the lake query and a test's or benchmark's own) each run in a pool
        # of their own (streaming.jobs.start_with_trigger) and share the cores, rather than one query's
        # tasks waiting behind every task the other has queued.
        "spark.scheduler.mode": "FAIR",
        # ... weighted: the lake query's pool gets four task slots for each the gold SQL pool gets.
        "spark.scheduler.allocation.file": str(FAIR_POOLS),
        # The Spark SQL server the streaming application serves for gold (streaming.jobs.sql_server):
        # on loopback only, each statement in the gold pool. Static: Hive reads them when the driver starts.
        "spark.hadoop.hive.server2.thrift.port": str(s.spark_thrift_port),
        "spark.hadoop.hive.server2.thrift.bind.host": THRIFT_HOST,
        "spark.sql.thriftserver.scheduler.pool": GOLD_SQL_POOL,
    }
    return conf | cluster_conf(s) | object_storage_conf(s)


def uses_object_storage(s: Settings) -> bool:
    """Whether the Delta tables or the checkpoints live on S3 (or an S3-compatible store)."""
    return any(path.startswith("s3a://") for path in (s.delta_storage_path, s.spark_checkpoint_path))


def object_storage_jars(s: Settings) -> list:
    """hadoop-aws and the AWS SDK modules it uses (jvm/s3), only for s3a:// paths: 10 MB nobody else needs."""
    return jar_set(s.f1_jvm_lib_dir, "s3").paths() if uses_object_storage(s) else []


def object_storage_conf(s: Settings) -> dict[str, str]:
    """Hadoop's S3A settings from the S3_* settings, when a path is s3a://; nothing otherwise.

    They are Hadoop settings (spark.hadoop.*), so they reach every reader and writer of the paths: Delta,
    the streaming checkpoints, the metastore client that creates the databases' folders, and, being part
    of the conf dbt gets (F1_DBT_SPARK_CONF), dbt's own session. Spark redacts the keys in its UI and logs.
    """
    if not uses_object_storage(s):
        return {}
    conf = {"spark.hadoop.fs.s3a.path.style.access": str(s.s3_path_style_access).lower()}
    if s.s3_endpoint_url:
        conf["spark.hadoop.fs.s3a.endpoint"] = s.s3_endpoint_url
        tls = s.s3_endpoint_url.startswith("https:")
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(tls).lower()
        # S3A uploads a local file (RocksDB's state files, into the checkpoint) with the SDK's Netty client,
        # which takes the "100 Continue" some stores send (moto, Ceph) for the final answer and fails the
        # upload (aws-sdk-java-v2 issue 1969). The plain path streams it through the Apache HTTP client.
        conf["spark.hadoop.fs.s3a.optimized.copy.from.local.enabled"] = "false"
    # S3-compatible stores sign for us-east-1 unless told otherwise (MinIO refuses another region); on AWS
    # itself S3A finds a bucket's region when none is set.
    region = s.s3_region or ("us-east-1" if s.s3_endpoint_url else "")
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    if s.s3_access_key_id:
        conf["spark.hadoop.fs.s3a.access.key"] = s.s3_access_key_id
        conf["spark.hadoop.fs.s3a.secret.key"] = s.s3_secret_access_key
        # These keys only: off AWS, the default chain's instance-metadata probe ends in slow time-outs.
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        )
    return conf


def cluster_conf(s: Settings) -> dict[str, str]:
    """What running on a cluster adds to `spark_conf`; nothing in local mode, where the driver runs the tasks.

    The rest of `spark_conf` already works there: the driver serves spark.jars (local paths) to the
    executors, which fetch them into their work folder and load them, so the Kafka connector, Delta and
    our functions (jvm/udf) reach their class path; SQL, Delta and Hadoop settings travel with each task;
    only the driver talks to the metastore. The checkpoint and Delta paths must mean the same to every
    executor: a local folder does while they all run on this machine, a real cluster needs shared
    storage (s3a://...).
    """
    if s.spark_master.startswith("local"):
        return {}
    # The streams need no Python on executors (column expressions and JVM functions only). Should a
    # code path ever start a Python worker there, it runs the interpreter the driver names in
    # PYSPARK_PYTHON (pyspark's default: whatever `python3` is on the worker's PATH): the project's.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    conf = {
        "spark.executor.memory": s.spark_executor_memory,
        "spark.executor.cores": str(s.spark_executor_cores),
    }
    if s.spark_master.startswith("spark://"):
        conf["spark.cores.max"] = str(s.spark_cores_max)
        if _master_hosts(s) <= {"127.0.0.1", "localhost"}:
            # Executors of a master on loopback run on this machine: they reach the driver there,
            # and the driver need not listen on any other interface.
            conf["spark.driver.host"] = conf["spark.driver.bindAddress"] = "127.0.0.1"
    return conf


def _master_hosts(s: Settings) -> set[str]:
    return {hp.rsplit(":", 1)[0] for hp in s.spark_master.removeprefix("spark://").split(",")}


def loopback_env(s: Settings) -> dict[str, str]:
    """Environment that keeps a driver of this machine's Spark on loopback, like every local service.

    Without SPARK_LOCAL_IP the driver's RPC server and block manager bind to the host name's address and
    its UI to every interface (no Spark setting moves the UI). Nothing for a remote cluster, whose
    executors must reach the driver.
    """
    local = s.spark_master.startswith("local")
    if local or (s.spark_master.startswith("spark://") and _master_hosts(s) <= {"127.0.0.1", "localhost"}):
        return {"SPARK_LOCAL_IP": "127.0.0.1"}
    return {}


def require_metastore(s: Settings) -> None:
    """Fail with how to start it when the metastore is down: Spark would fail deep inside Hive."""
    if metastore_probe(s) is not None:
        raise ServiceUnavailable("metastore", metastore_jdbc_url(s), "METASTORE_PORT")


def require_spark_master(s: Settings) -> None:
    """Fail with how to start it when a standalone master does not answer: Spark would retry for minutes."""
    if not s.spark_master.startswith("spark://"):
        return
    masters = s.spark_master.removeprefix("spark://").split(",")
    if not any(tcp_open(host, int(port)) for host, port in (m.rsplit(":", 1) for m in masters)):
        raise ServiceUnavailable("spark-master", s.spark_master, "SPARK_MASTER")


def get_spark(s: Settings, app_name: str = "f1-telemetry") -> SparkSession:
    """The SparkSession of this process, created with `spark_conf` if there is none yet.

    The metastore must be running (`make up`), and so must the master SPARK_MASTER names, if any.
    """
    from pyspark.sql import SparkSession

    require_metastore(s)
    require_spark_master(s)
    for key, value in loopback_env(s).items():  # read when the JVM starts, i.e. by the first session
        os.environ.setdefault(key, value)
    builder = SparkSession.builder
    for key, value in spark_conf(s, app_name).items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    register_functions(spark)
    return spark


# Our own Spark functions (jvm/udf): (SQL name, Java class, return type).
FUNCTIONS = (
    # (value BINARY): the Confluent-framed TelemetryEvent as the typed record bronze reads (its fields:
    # streaming.contracts.tables.decoded_record_schema), with __decode_error set when it is no such record.
    ("f1_protobuf_decode", "io.f1telemetry.spark.ProtobufDecode", f"struct<{decoded_record_schema()}>"),
    # (raw_value BINARY, encoding STRING, context_json STRING, validated_time_unix_ns BIGINT, schema_id INT):
    # the Confluent-framed EnrichedTelemetryEvent silver re-streams, or NULL if the input is not valid.
    ("f1_enriched_protobuf", "io.f1telemetry.spark.EnrichToProtobuf", "binary"),
    # (text STRING): NULL when the text keeps the registered TelemetryEvent JSON Schema (one payload of the
    # oneof included), else the first violation with its JSON path; "not valid JSON ..." for no JSON at all.
    ("f1_telemetry_json_violation", "io.f1telemetry.spark.TelemetryJsonViolation", "string"),
)


def register_functions(spark: SparkSession) -> None:
    """Make the platform's JVM functions callable from SQL and DataFrames (they run in the JVM)."""
    from pyspark.sql.types import _parse_datatype_string

    for name, java_class, return_type in FUNCTIONS:
        spark.udf.registerJavaFunction(name, java_class, _parse_datatype_string(return_type))
