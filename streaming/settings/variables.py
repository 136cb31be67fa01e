"""The variables table: every setting once, with its default, its parser and what it is for.

`.env.example` is generated from this table (`f1 env-example`), and the Settings object has one field per
row (streaming/settings/__init__.py checks that the two agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streaming.settings.parsers import (
    access_key_id,
    aws_region,
    bootstrap,
    cron,
    event_id_prefix,
    fault_rates,
    flag,
    host,
    http_url,
    jvm_opts,
    keystore_password,
    laps,
    local_dir,
    memory,
    non_negative_float,
    one_of,
    optional_http_url,
    optional_local_file,
    port,
    positive_float,
    positive_int,
    prometheus_duration,
    query_list,
    s3_endpoint,
    secret,
    service_list,
    spark_master,
    storage_path,
    user_name,
)


@dataclass(frozen=True)
class Variable:
    """One environment variable: its field name on Settings, default, parser and meaning."""

    env: str
    default: str
    parse: Callable[[str], Any]
    doc: str
    section: str

    @property
    def field(self) -> str:
        return self.env.lower()

    @property
    def secret(self) -> bool:
        """A password: never shown in errors, `repr` or logs (child processes get it in their environment)."""
        return self.parse in (secret, keystore_password)


def _vars(section: str, *rows: tuple[str, str, Callable[[str], Any], str]) -> list[Variable]:
    return [Variable(env, default, parse, doc, section) for env, default, parse, doc in rows]


# Defaults are sized for the reference machine, 2 cores and 24 GB: all services idle in well under 6 GB,
# leaving most memory to the Spark driver, which runs the streams in local mode.
VARIABLES: list[Variable] = [
    *_vars(
        "Platform",
        (
            "F1_ENV",
            "local",
            one_of("local", "ci", "production"),
            "Which environment's resources Dagster wires in: local, ci or production.",
        ),
        (
            "F1_STATE_DIR",
            ".f1",
            local_dir,
            "Folder for pid files, logs and service data (Kafka log dirs, metastore, registry, Prometheus).",
        ),
        (
            "F1_JVM_LIB_DIR",
            "jvm/lib",
            local_dir,
            "Where `make install` copies the jars resolved by jvm/pom.xml.",
        ),
        (
            "F1_SERVICES",
            "kafka,registry,metastore,node-exporter,pushgateway,prometheus,dagster,simulator",
            service_list,
            "Which local services `make up` starts, in order. Dagster's sensors run the streams; add "
            "`streams` to run them without Dagster (`f1 stream run`), never both.",
        ),
        ("JAVA_HOME", "", str, "Java 17+ home for the JVM services; empty means the `java` on PATH."),
    ),
    *_vars(
        "Kafka",
        (
            "KAFKA_BOOTSTRAP_SERVERS",
            "127.0.0.1:9092",
            bootstrap,
            "Brokers to use; the local broker listens on the port of the first one.",
        ),
        ("KAFKA_CONTROLLER_PORT", "9093", port, "KRaft controller port of the local broker."),
        (
            "KAFKA_TOPIC_PARTITIONS",
            "6",
            positive_int,
            "Partitions of each telemetry topic (events are keyed by car number).",
        ),
        ("KAFKA_REPLICATION_FACTOR", "1", positive_int, "Replication factor of the platform's topics."),
        ("KAFKA_RETENTION_HOURS", "168", positive_int, "Retention of the raw and enriched topics."),
        (
            "KAFKA_DLQ_RETENTION_HOURS",
            "720",
            positive_int,
            "Retention of the dead-letter topic: long, so that undecodable records can be replayed.",
        ),
        ("KAFKA_HEAP_OPTS", "-Xms256m -Xmx1g", jvm_opts, "Heap of the local Kafka broker."),
    ),
    *_vars(
        "Schema registry (Apicurio, Confluent-compatible API)",
        (
            "SCHEMA_REGISTRY_URL",
            "http://127.0.0.1:8081/apis/ccompat/v7",
            http_url,
            "Confluent-compatible registry API; the local registry listens on its port.",
        ),
        ("SCHEMA_REGISTRY_HEAP_OPTS", "-Xms128m -Xmx512m", jvm_opts, "Heap of the local registry."),
    ),
    *_vars(
        "Security profile (README: Security profile)",
        (
            "F1_SECURITY_PROFILE",
            "plaintext",
            one_of("plaintext", "secure"),
            "plaintext: Kafka and the registry without TLS or authentication (loopback only). secure: Kafka "
            "over SASL_SSL with SCRAM-SHA-512 and the registry over HTTPS with basic authentication, for "
            "every client and local service; the local runtime makes its CA and certificate on first start.",
        ),
        (
            "KAFKA_SASL_USERNAME",
            "f1",
            user_name,
            "Secure profile: the SCRAM-SHA-512 user of every Kafka client (the local broker creates it).",
        ),
        ("KAFKA_SASL_PASSWORD", "", secret, "Secure profile (required): that user's password."),
        (
            "SCHEMA_REGISTRY_USERNAME",
            "f1",
            user_name,
            "Secure profile: the registry's user (HTTP basic authentication; the local registry's only one).",
        ),
        ("SCHEMA_REGISTRY_PASSWORD", "", secret, "Secure profile (required): the registry user's password."),
        (
            "F1_TLS_CA_FILE",
            "",
            optional_local_file,
            "Secure profile: PEM file of the CA that clients trust for Kafka and the registry; empty: the "
            "local runtime's own CA, F1_STATE_DIR/tls/ca.pem.",
        ),
        (
            "F1_TLS_KEYSTORE_PASSWORD",
            "",
            keystore_password,
            "Secure profile, local services (required there): password of the PKCS12 key stores the local "
            "runtime makes under F1_STATE_DIR/tls (its CA, the broker's and registry's certificate).",
        ),
    ),
    *_vars(
        "Shared table catalog (Hive metastore on Derby's network server)",
        (
            "METASTORE_HOST",
            "127.0.0.1",
            host,
            "Host of the metastore's Derby server that Spark connects to (the local one listens on "
            "127.0.0.1; docker-compose.yml: metastore).",
        ),
        ("METASTORE_PORT", "1527", port, "Port of the Derby network server holding the metastore."),
        ("METASTORE_HEAP_OPTS", "-Xms64m -Xmx256m", jvm_opts, "Heap of the metastore database server."),
    ),
    *_vars(
        "Spark and Delta Lake",
        (
            "SPARK_MASTER",
            "local[2]",
            spark_master,
            "Where Spark runs: local[N] or spark://host:port (spark://127.0.0.1:SPARK_MASTER_PORT is the "
            "local cluster of the spark-master and spark-worker services).",
        ),
        (
            "SPARK_DRIVER_MEMORY",
            "4g",
            memory,
            "Spark driver heap (in local mode it runs the tasks too; on a cluster 1g is plenty).",
        ),
        (
            "SPARK_EXECUTOR_MEMORY",
            "2g",
            memory,
            "On a cluster (SPARK_MASTER spark://, yarn, k8s): heap of each executor. Unused in local mode.",
        ),
        (
            "SPARK_EXECUTOR_CORES",
            "2",
            positive_int,
            "On a cluster: task slots of each executor. Unused in local mode.",
        ),
        (
            "SPARK_CORES_MAX",
            "2",
            positive_int,
            "On a standalone cluster: most cores one application takes (spark.cores.max); without a cap "
            "the first application takes them all and the next (Dagster runs each stream as its own) waits.",
        ),
        (
            "SPARK_SHUFFLE_PARTITIONS",
            "4",
            positive_int,
            "spark.sql.shuffle.partitions: a small multiple of the cores, not Spark's default 200.",
        ),
        ("SPARK_UI_PORT", "4040", port, "Spark UI port (Spark tries the next ports if it is taken)."),
        (
            "SPARK_THRIFT_PORT",
            "10000",
            port,
            "Loopback port of the Spark SQL (Thrift) server the streaming application serves: gold's dbt "
            "builds run on the streams' warm Spark there, in a scheduler pool of their own, instead of "
            "starting a Spark driver each.",
        ),
        (
            "SPARK_CHECKPOINT_PATH",
            ".f1/checkpoints",
            storage_path,
            "Root of the streaming queries' checkpoints, one folder per query.",
        ),
        (
            "DELTA_STORAGE_PATH",
            ".f1/delta",
            storage_path,
            "Root of the Delta tables (the warehouse): a local folder or s3a://bucket/prefix.",
        ),
    ),
    *_vars(
        "Object storage (used when DELTA_STORAGE_PATH or SPARK_CHECKPOINT_PATH is s3a://)",
        (
            "S3_ENDPOINT_URL",
            "",
            s3_endpoint,
            "S3 API endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000 (MinIO); empty: AWS S3.",
        ),
        (
            "S3_REGION",
            "",
            aws_region,
            "Region of the bucket; empty: us-east-1 with S3_ENDPOINT_URL, else S3A finds the bucket's.",
        ),
        (
            "S3_PATH_STYLE_ACCESS",
            "false",
            flag,
            "true: address buckets as ENDPOINT/bucket, not bucket.ENDPOINT (MinIO, moto, IP endpoints).",
        ),
        (
            "S3_ACCESS_KEY_ID",
            "",
            access_key_id,
            "Access key; empty: AWS's default chain (AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY, instance role).",
        ),
        ("S3_SECRET_ACCESS_KEY", "", secret, "Secret key of S3_ACCESS_KEY_ID; set both or neither."),
    ),
    *_vars(
        "Local Spark standalone cluster (the optional `spark-master` and `spark-worker` services; point "
        "SPARK_MASTER at spark://127.0.0.1:SPARK_MASTER_PORT to use it)",
        ("SPARK_MASTER_PORT", "7077", port, "Port of the local standalone master."),
        (
            "SPARK_MASTER_WEBUI_PORT",
            "8080",
            port,
            "The master's web UI; its /json/ (workers, applications) is the services' health check.",
        ),
        (
            "SPARK_WORKER_WEBUI_PORT",
            "8082",
            port,
            "The local worker's web UI (not Spark's default 8081, the schema registry's port).",
        ),
        (
            "SPARK_WORKER_CORES",
            "6",
            positive_int,
            "Cores the worker offers: more than the machine's 2, so that three applications of "
            "SPARK_CORES_MAX=2 (two stream runs and a batch job) run at once; their tasks often wait on I/O.",
        ),
        (
            "SPARK_WORKER_MEMORY",
            "6g",
            memory,
            "Memory the worker offers to executors: three of SPARK_EXECUTOR_MEMORY=2g.",
        ),
        (
            "SPARK_DAEMON_MEMORY",
            "512m",
            memory,
            "Heap of the master and of the worker process (each executor has SPARK_EXECUTOR_MEMORY).",
        ),
    ),
    *_vars(
        "Streaming jobs (the lake query: Kafka -> bronze, silver, quarantine; `f1 stream start`)",
        (
            "STREAM_QUERIES",
            "lake",
            query_list,
            "Which queries `f1 stream start` runs in one Spark application.",
        ),
        (
            "STREAM_TRIGGER_SECONDS",
            "2",
            positive_float,
            "Processing-time trigger interval of the continuous queries.",
        ),
        (
            "STREAM_MAX_OFFSETS_PER_TRIGGER",
            "500000",
            positive_int,
            "Most Kafka records one micro-batch of the lake query takes (maxOffsetsPerTrigger).",
        ),
        (
            "SILVER_ALLOWED_LATENESS_SECONDS",
            "120",
            positive_int,
            "An event older than its session's newest accepted event time minus this is quarantined as late.",
        ),
        (
            "SILVER_FUTURE_TOLERANCE_SECONDS",
            "60",
            positive_int,
            "Clock tolerance: event times after the Kafka timestamp or before the session start by more "
            "than this are quarantined.",
        ),
        (
            "SILVER_PARALLEL_WRITES",
            "4",
            positive_int,
            "Silver tables a micro-batch appends to at once (their Delta commits overlap).",
        ),
        (
            "STREAM_BATCH_TRIES",
            "3",
            positive_int,
            "Tries of a failing micro-batch before its records are set aside in quarantine as batch_failed.",
        ),
        (
            "STREAM_FAULT_FAIL_BATCH_EVENT_ID_PREFIX",
            "",
            event_id_prefix,
            "Fault injection for tests, off (empty) by default: a silver batch holding an event whose id "
            "starts with this text fails inside its Spark job, so the batch_failed path can be exercised.",
        ),
    ),
    *_vars(
        "dbt, Dagster and monitoring",
        (
            "DBT_TARGET",
            "local",
            one_of("local", "ci", "remote", "streams"),
            "dbt profile target. local and ci start Spark in dbt's process, and give way to the streams' "
            "Spark SQL server whenever it answers on SPARK_THRIFT_PORT; streams always goes there, remote "
            "to DBT_SPARK_HOST/DBT_SPARK_PORT.",
        ),
        ("DAGSTER_PORT", "3000", port, "Port of the Dagster UI started by `make up`."),
        (
            "DAGSTER_UI_URL",
            "",
            optional_http_url,
            "Address of the Dagster UI that alerts link to; empty means http://127.0.0.1:DAGSTER_PORT.",
        ),
        (
            "STREAM_REPORT_SECONDS",
            "30",
            positive_int,
            "How often a stream run reports its progress to Dagster as materialisations of its tables.",
        ),
        (
            "STREAM_HEARTBEAT_TIMEOUT_SECONDS",
            "90",
            positive_int,
            "A stream run whose heartbeat is older than this is dead: the sensor fails it and relaunches.",
        ),
        (
            "STREAM_MAX_RELAUNCHES",
            "5",
            positive_int,
            "The sensor stops relaunching a stream after this many failed runs in 30 minutes (and alerts).",
        ),
        (
            "ALERT_WEBHOOK_URL",
            "",
            optional_http_url,
            "Alerts (failed checks, stale assets, their recovery) are POSTed here as JSON; empty: log only.",
        ),
        (
            "QUALITY_CHECK_CRON",
            "*/5 * * * *",
            cron,
            "When Dagster runs the Great Expectations checks on bronze and silver (UTC).",
        ),
        (
            "GOLD_BUILD_CRON",
            "*/5 * * * *",
            cron,
            "After each tick (UTC), Dagster rebuilds gold once silver has changed and passed its checks.",
        ),
        (
            "MAINTENANCE_CRON",
            "0 3 * * *",
            cron,
            "When Dagster's maintenance schedule compacts and vacuums the Delta tables (UTC).",
        ),
        ("PROMETHEUS_PORT", "9090", port, "Port of the local Prometheus."),
        (
            "PROMETHEUS_SCRAPE_INTERVAL",
            "15s",
            prometheus_duration,
            "How often the local Prometheus scrapes every exporter.",
        ),
        ("METRICS_EXPORTER_PORT", "9108", port, "Port of the streaming jobs' Prometheus exporter."),
        (
            "METRICS_EXPORTER_HOST",
            "127.0.0.1",
            host,
            "Address that exporter listens on: loopback for the local Prometheus; 0.0.0.0 where Prometheus "
            "scrapes it from another host or container (docker-compose.yml).",
        ),
        (
            "KAFKA_METRICS_PORT",
            "9404",
            port,
            "Port of the local broker's JMX exporter agent (JVM and broker metrics for Prometheus).",
        ),
        ("SCHEMA_REGISTRY_METRICS_PORT", "9405", port, "Port of the local registry's JMX exporter agent."),
        ("METASTORE_METRICS_PORT", "9406", port, "Port of the local metastore's JMX exporter agent."),
        ("NODE_EXPORTER_PORT", "9100", port, "Port of the local node exporter (CPU, memory, disks)."),
        (
            "PUSHGATEWAY_URL",
            "http://127.0.0.1:9091",
            optional_http_url,
            "Prometheus Pushgateway that Dagster's asset checks push their results to; empty: no push. "
            "The local pushgateway listens on its port.",
        ),
    ),
    *_vars(
        "Simulator (the `simulator` service of `make up`, and the defaults of `f1 simulate`)",
        ("SIMULATOR_CARS", "50", positive_int, "Cars on the grid."),
        ("SIMULATOR_LAPS", "53", laps, "Race distance in laps; the service starts a new race after each."),
        ("SIMULATOR_SPEED", "1", non_negative_float, "1 real time, N times faster, 0 as fast as possible."),
        ("SIMULATOR_ENCODING", "protobuf", one_of("protobuf", "json"), "Encoding of the raw events."),
        ("SIMULATOR_FAULTS", "", fault_rates, "Fault rates per event, e.g. duplicate=0.001,late=0.0005."),
        ("SIMULATOR_SEED", "1", positive_int, "Seed of the first race; the service adds 1 per race."),
    ),
]
