"""The platform's one settings object, read from the environment (and an optional `.env` file).

Every variable is declared once in `VARIABLES` with its default, what it accepts and what it is for;
`.env.example` is generated from that table (`f1 env-example`) and a test keeps the two in sync.
A bad value fails at start with a `ConfigError` that names the variable and what it accepts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from streaming.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]

_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-]+:(\d{1,5})$|^\[[0-9a-fA-F:]+\]:(\d{1,5})$")
_SPARK_MASTER = re.compile(
    r"^(local(\[(\d+|\*)(,\d+)?\])?|spark://[^/\s]+:\d+(,[^/\s]+:\d+)*|yarn|k8s://\S+)$"
)
_MEMORY = re.compile(r"^\d+[kmgtKMGT]?$")
_STORAGE_SCHEMES = ("file", "s3a", "abfss", "gs", "hdfs")
# S3's bucket naming rules (3-63 characters; lowercase letters, digits, dots and hyphens).
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
# The local services, in start order; streaming/runtime/services.py defines one of each.
SERVICE_NAMES = (
    "kafka",
    "registry",
    "metastore",
    "spark-master",
    "spark-worker",
    "node-exporter",
    "pushgateway",
    "prometheus",
    "dagster",
    "simulator",
    "streams",
)
# The streaming queries `f1 stream start` can run (streaming/jobs/).
STREAM_QUERY_NAMES = ("bronze", "silver")


class _Invalid(ValueError):
    """Raised by a parser; `accepts` says what the variable takes."""

    def __init__(self, accepts: str):
        super().__init__(accepts)
        self.accepts = accepts


def _port(raw: str) -> int:
    if raw.isdigit() and 1 <= int(raw) <= 65535:
        return int(raw)
    raise _Invalid("a TCP port number from 1 to 65535")


def _host(raw: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.\-]+", raw):
        return raw
    raise _Invalid("a host name or IPv4 address, for example 127.0.0.1")


def _positive_int(raw: str) -> int:
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    raise _Invalid("a whole number greater than 0")


def _bootstrap(raw: str) -> str:
    servers = [s.strip() for s in raw.split(",") if s.strip()]
    for server in servers:
        match = _HOST_PORT.match(server)
        if not match or not 1 <= int(match.group(1) or match.group(2)) <= 65535:
            break
    else:
        if servers:
            return ",".join(servers)
    raise _Invalid("a comma-separated list of host:port, for example 127.0.0.1:9092")


def _http_url(raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme in ("http", "https") and parsed.hostname and _has_valid_port(parsed):
        return raw.rstrip("/")
    raise _Invalid("an http(s) URL, for example http://127.0.0.1:8081/apis/ccompat/v7")


def _has_valid_port(parsed) -> bool:
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return True


def _spark_master(raw: str) -> str:
    if _SPARK_MASTER.match(raw):
        return raw
    raise _Invalid("local, local[N], local[*], spark://host:port, yarn or k8s://...")


def _memory(raw: str) -> str:
    if _MEMORY.match(raw):
        return raw
    raise _Invalid("a JVM memory size such as 512m or 4g")


def _storage_path(raw: str) -> str:
    """A local folder (relative paths are taken from the project root) or a URI Spark can write to."""
    if "://" in raw:
        scheme = raw.split("://", 1)[0]
        if scheme == "s3a" and not _S3_BUCKET.match(urlparse(raw).netloc):
            raise _Invalid("s3a://bucket/prefix, with a bucket name S3 accepts (3-63 of a-z 0-9 . -)")
        if scheme in _STORAGE_SCHEMES:
            return raw.rstrip("/")
        raise _Invalid(f"a local path or a URI with one of the schemes {', '.join(_STORAGE_SCHEMES)}")
    if not raw:
        raise _Invalid("a non-empty path")
    return str(_resolve_local(raw))


def _local_dir(raw: str) -> Path:
    if not raw or "://" in raw:
        raise _Invalid("a local folder path (relative paths are taken from the project root)")
    return _resolve_local(raw)


def _resolve_local(raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw in choices:
            return raw
        raise _Invalid("one of: " + ", ".join(choices))

    return parse


def _service_list(raw: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    unknown = [n for n in names if n not in SERVICE_NAMES]
    if names and not unknown:
        return names
    raise _Invalid("a comma-separated list of: " + ", ".join(SERVICE_NAMES))


def _non_negative_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value >= 0:
        return value
    raise _Invalid("a number, 0 or more")


def _byte_size(raw: str) -> str:
    if re.fullmatch(r"\d+[kmg]?", raw.lower()) and int(re.sub(r"\D", "", raw)) > 0:
        return raw.lower()
    raise _Invalid("a size in bytes such as 65536, 512k, 64m or 1g")


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value > 0:
        return value
    raise _Invalid("a number greater than 0")


def _query_list(raw: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    if names and all(n in STREAM_QUERY_NAMES for n in names):
        return names
    raise _Invalid("a comma-separated list of: " + ", ".join(STREAM_QUERY_NAMES))


def _laps(raw: str) -> int:
    if raw.isdigit() and 1 <= int(raw) <= 120:
        return int(raw)
    raise _Invalid("a whole number of laps from 1 to 120")


def _fault_rates(raw: str) -> str:
    from streaming.simulator.faults import FaultRates

    try:
        FaultRates.parse(raw)
    except ValueError as error:
        raise _Invalid(f"fault rates such as duplicate=0.01,late=0.001 ({error})") from None
    return raw


def _optional_http_url(raw: str) -> str:
    return _http_url(raw) if raw else ""


def _prometheus_duration(raw: str) -> str:
    if re.fullmatch(r"[1-9]\d*(ms|s|m)", raw):
        return raw
    raise _Invalid("a Prometheus duration such as 15s, 500ms or 1m")


def _cron(raw: str) -> str:
    fields_ = raw.split()
    if len(fields_) == 5 and all(re.fullmatch(r"[\d*/,\-]+", f) for f in fields_):
        return raw
    raise _Invalid("a five-field cron expression, for example 0 3 * * *")


def _jvm_opts(raw: str) -> str:
    if all(token.startswith("-") for token in raw.split()):
        return raw
    raise _Invalid("JVM options, each starting with '-', for example -Xms256m -Xmx1g")


def _user_name(raw: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.@\-]+", raw):
        return raw
    raise _Invalid("a user name of letters, digits and _ . @ -")


def _event_id_prefix(raw: str) -> str:
    if raw == "" or re.fullmatch(r"[A-Za-z0-9_.:\-]{4,}", raw):
        return raw
    raise _Invalid("empty (off), or 4 or more letters, digits and _ . : -")


def _secret(raw: str) -> str:
    # Kafka's JAAS configuration quotes the password, and the broker substitutes it there unescaped.
    if '"' not in raw and "\\" not in raw:
        return raw
    raise _Invalid("text without double quotes or backslashes")


def _keystore_password(raw: str) -> str:
    if not raw or len(_secret(raw)) >= 6:
        return raw
    raise _Invalid("at least 6 characters (PKCS12 key stores need them)")


def _optional_local_file(raw: str) -> str:
    if "://" in raw:
        raise _Invalid("a local file path (relative paths are taken from the project root), or empty")
    return str(_resolve_local(raw)) if raw else ""


def _s3_endpoint(raw: str) -> str:
    try:
        return _optional_http_url(raw)
    except _Invalid:
        raise _Invalid("an http(s) URL such as http://127.0.0.1:9000, or empty") from None


def _aws_region(raw: str) -> str:
    if not raw or re.fullmatch(r"[a-z]{2}(-[a-z0-9]+)+-\d+", raw):
        return raw
    raise _Invalid("an AWS region name such as us-east-1 or eu-west-3, or empty")


def _flag(raw: str) -> bool:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise _Invalid("true or false")


def _access_key_id(raw: str) -> str:
    if re.fullmatch(r"[\x21-\x7e]*", raw):
        return raw
    raise _Invalid("an access key id of printable characters without spaces, or empty")


def _object_storage_problems(values: dict[str, Any]) -> list[str]:
    """S3 credentials come in pairs: one without the other would silently fall back to other credentials."""
    key, secret = values["s3_access_key_id"], values["s3_secret_access_key"]
    if bool(key) == bool(secret):
        return []
    missing = "S3_SECRET_ACCESS_KEY" if key else "S3_ACCESS_KEY_ID"
    other = "S3_ACCESS_KEY_ID" if key else "S3_SECRET_ACCESS_KEY"
    return [f"{missing} is not set: {other} is, and S3 needs both (or neither: AWS's default credentials)."]


def _security_problems(values: dict[str, Any]) -> list[str]:
    """The secure profile needs every client's credentials, and TLS to the registry too."""
    if values["f1_security_profile"] != "secure":
        return []
    problems = [
        f"{name} is not set: F1_SECURITY_PROFILE=secure needs it."
        for name in ("KAFKA_SASL_PASSWORD", "SCHEMA_REGISTRY_PASSWORD")
        if not values[name.lower()]
    ]
    if not values["schema_registry_url"].startswith("https://"):
        problems.append(
            f"SCHEMA_REGISTRY_URL={values['schema_registry_url']!r} is not valid: expected an https:// URL "
            "with F1_SECURITY_PROFILE=secure (the registry's password must not travel in clear)."
        )
    return problems


def _mib(memory: str) -> float:
    """A JVM memory size (validated by `_memory`) in MiB."""
    unit = memory[-1].lower() if memory[-1].isalpha() else ""
    scale = {"": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024, "t": 2**20}[unit]
    return int(memory.rstrip("kmgtKMGT")) * scale


def _local_cluster_problems(values: dict[str, Any]) -> list[str]:
    """An executor larger than the local worker never starts: its application would wait forever."""
    if "spark-worker" not in values["f1_services"]:
        return []
    problems = []
    if _mib(values["spark_executor_memory"]) > _mib(values["spark_worker_memory"]):
        problems.append(
            f"SPARK_EXECUTOR_MEMORY={values['spark_executor_memory']!r} is not valid: expected at most "
            f"SPARK_WORKER_MEMORY ({values['spark_worker_memory']}), what the local spark-worker offers."
        )
    if values["spark_executor_cores"] > values["spark_worker_cores"]:
        problems.append(
            f"SPARK_EXECUTOR_CORES='{values['spark_executor_cores']}' is not valid: expected at most "
            f"SPARK_WORKER_CORES ({values['spark_worker_cores']}), what the local spark-worker offers."
        )
    return problems


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
        return self.parse in (_secret, _keystore_password)


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
            _one_of("local", "ci", "production"),
            "Which environment's resources Dagster wires in: local, ci or production.",
        ),
        (
            "F1_STATE_DIR",
            ".f1",
            _local_dir,
            "Folder for pid files, logs and service data (Kafka log dirs, metastore, registry, Prometheus).",
        ),
        (
            "F1_JVM_LIB_DIR",
            "jvm/lib",
            _local_dir,
            "Where `make install` copies the jars resolved by jvm/pom.xml.",
        ),
        (
            "F1_SERVICES",
            "kafka,registry,metastore,node-exporter,pushgateway,prometheus,dagster,simulator",
            _service_list,
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
            _bootstrap,
            "Brokers to use; the local broker listens on the port of the first one.",
        ),
        ("KAFKA_CONTROLLER_PORT", "9093", _port, "KRaft controller port of the local broker."),
        (
            "KAFKA_TOPIC_PARTITIONS",
            "6",
            _positive_int,
            "Partitions of each telemetry topic (events are keyed by car number).",
        ),
        ("KAFKA_REPLICATION_FACTOR", "1", _positive_int, "Replication factor of the platform's topics."),
        ("KAFKA_RETENTION_HOURS", "168", _positive_int, "Retention of the raw and enriched topics."),
        (
            "KAFKA_DLQ_RETENTION_HOURS",
            "720",
            _positive_int,
            "Retention of the dead-letter topic: long, so that undecodable records can be replayed.",
        ),
        ("KAFKA_HEAP_OPTS", "-Xms256m -Xmx1g", _jvm_opts, "Heap of the local Kafka broker."),
    ),
    *_vars(
        "Schema registry (Apicurio, Confluent-compatible API)",
        (
            "SCHEMA_REGISTRY_URL",
            "http://127.0.0.1:8081/apis/ccompat/v7",
            _http_url,
            "Confluent-compatible registry API; the local registry listens on its port.",
        ),
        ("SCHEMA_REGISTRY_HEAP_OPTS", "-Xms128m -Xmx512m", _jvm_opts, "Heap of the local registry."),
    ),
    *_vars(
        "Security profile (README: Security profile)",
        (
            "F1_SECURITY_PROFILE",
            "plaintext",
            _one_of("plaintext", "secure"),
            "plaintext: Kafka and the registry without TLS or authentication (loopback only). secure: Kafka "
            "over SASL_SSL with SCRAM-SHA-512 and the registry over HTTPS with basic authentication, for "
            "every client and local service; the local runtime makes its CA and certificate on first start.",
        ),
        (
            "KAFKA_SASL_USERNAME",
            "f1",
            _user_name,
            "Secure profile: the SCRAM-SHA-512 user of every Kafka client (the local broker creates it).",
        ),
        ("KAFKA_SASL_PASSWORD", "", _secret, "Secure profile (required): that user's password."),
        (
            "SCHEMA_REGISTRY_USERNAME",
            "f1",
            _user_name,
            "Secure profile: the registry's user (HTTP basic authentication; the local registry's only one).",
        ),
        ("SCHEMA_REGISTRY_PASSWORD", "", _secret, "Secure profile (required): the registry user's password."),
        (
            "F1_TLS_CA_FILE",
            "",
            _optional_local_file,
            "Secure profile: PEM file of the CA that clients trust for Kafka and the registry; empty: the "
            "local runtime's own CA, F1_STATE_DIR/tls/ca.pem.",
        ),
        (
            "F1_TLS_KEYSTORE_PASSWORD",
            "",
            _keystore_password,
            "Secure profile, local services (required there): password of the PKCS12 key stores the local "
            "runtime makes under F1_STATE_DIR/tls (its CA, the broker's and registry's certificate).",
        ),
    ),
    *_vars(
        "Shared table catalog (Hive metastore on Derby's network server)",
        (
            "METASTORE_HOST",
            "127.0.0.1",
            _host,
            "Host of the metastore's Derby server that Spark connects to (the local one listens on "
            "127.0.0.1; docker-compose.yml: metastore).",
        ),
        ("METASTORE_PORT", "1527", _port, "Port of the Derby network server holding the metastore."),
        ("METASTORE_HEAP_OPTS", "-Xms64m -Xmx256m", _jvm_opts, "Heap of the metastore database server."),
    ),
    *_vars(
        "Spark and Delta Lake",
        (
            "SPARK_MASTER",
            "local[2]",
            _spark_master,
            "Where Spark runs: local[N] or spark://host:port (spark://127.0.0.1:SPARK_MASTER_PORT is the "
            "local cluster of the spark-master and spark-worker services).",
        ),
        (
            "SPARK_DRIVER_MEMORY",
            "4g",
            _memory,
            "Spark driver heap (in local mode it runs the tasks too; on a cluster 1g is plenty).",
        ),
        (
            "SPARK_EXECUTOR_MEMORY",
            "2g",
            _memory,
            "On a cluster (SPARK_MASTER spark://, yarn, k8s): heap of each executor. Unused in local mode.",
        ),
        (
            "SPARK_EXECUTOR_CORES",
            "2",
            _positive_int,
            "On a cluster: task slots of each executor. Unused in local mode.",
        ),
        (
            "SPARK_CORES_MAX",
            "2",
            _positive_int,
            "On a standalone cluster: most cores one application takes (spark.cores.max); without a cap "
            "the first application takes them all and the next (Dagster runs each stream as its own) waits.",
        ),
        (
            "SPARK_SHUFFLE_PARTITIONS",
            "4",
            _positive_int,
            "spark.sql.shuffle.partitions: a small multiple of the cores, not Spark's default 200.",
        ),
        ("SPARK_UI_PORT", "4040", _port, "Spark UI port (Spark tries the next ports if it is taken)."),
        (
            "SPARK_CHECKPOINT_PATH",
            ".f1/checkpoints",
            _storage_path,
            "Root of the streaming queries' checkpoints, one folder per query.",
        ),
        (
            "DELTA_STORAGE_PATH",
            ".f1/delta",
            _storage_path,
            "Root of the Delta tables (the warehouse): a local folder or s3a://bucket/prefix.",
        ),
    ),
    *_vars(
        "Object storage (used when DELTA_STORAGE_PATH or SPARK_CHECKPOINT_PATH is s3a://)",
        (
            "S3_ENDPOINT_URL",
            "",
            _s3_endpoint,
            "S3 API endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000 (MinIO); empty: AWS S3.",
        ),
        (
            "S3_REGION",
            "",
            _aws_region,
            "Region of the bucket; empty: us-east-1 with S3_ENDPOINT_URL, else S3A finds the bucket's.",
        ),
        (
            "S3_PATH_STYLE_ACCESS",
            "false",
            _flag,
            "true: address buckets as ENDPOINT/bucket, not bucket.ENDPOINT (MinIO, moto, IP endpoints).",
        ),
        (
            "S3_ACCESS_KEY_ID",
            "",
            _access_key_id,
            "Access key; empty: AWS's default chain (AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY, instance role).",
        ),
        ("S3_SECRET_ACCESS_KEY", "", _secret, "Secret key of S3_ACCESS_KEY_ID; set both or neither."),
    ),
    *_vars(
        "Local Spark standalone cluster (the optional `spark-master` and `spark-worker` services; point "
        "SPARK_MASTER at spark://127.0.0.1:SPARK_MASTER_PORT to use it)",
        ("SPARK_MASTER_PORT", "7077", _port, "Port of the local standalone master."),
        (
            "SPARK_MASTER_WEBUI_PORT",
            "8080",
            _port,
            "The master's web UI; its /json/ (workers, applications) is the services' health check.",
        ),
        (
            "SPARK_WORKER_WEBUI_PORT",
            "8082",
            _port,
            "The local worker's web UI (not Spark's default 8081, the schema registry's port).",
        ),
        (
            "SPARK_WORKER_CORES",
            "6",
            _positive_int,
            "Cores the worker offers: more than the machine's 2, so that three applications of "
            "SPARK_CORES_MAX=2 (two stream runs and a batch job) run at once; their tasks often wait on I/O.",
        ),
        (
            "SPARK_WORKER_MEMORY",
            "6g",
            _memory,
            "Memory the worker offers to executors: three of SPARK_EXECUTOR_MEMORY=2g.",
        ),
        (
            "SPARK_DAEMON_MEMORY",
            "512m",
            _memory,
            "Heap of the master and of the worker process (each executor has SPARK_EXECUTOR_MEMORY).",
        ),
    ),
    *_vars(
        "Streaming jobs (bronze and silver; `f1 stream start`)",
        (
            "STREAM_QUERIES",
            "bronze,silver",
            _query_list,
            "Which queries `f1 stream start` runs in one Spark application (both by default: on 2 cores one "
            "JVM running two queries beats two JVMs).",
        ),
        (
            "STREAM_TRIGGER_SECONDS",
            "2",
            _positive_float,
            "Processing-time trigger interval of the continuous queries.",
        ),
        (
            "STREAM_MAX_OFFSETS_PER_TRIGGER",
            "500000",
            _positive_int,
            "Bronze: most Kafka records one micro-batch takes (maxOffsetsPerTrigger).",
        ),
        (
            "SILVER_MAX_FILES_PER_TRIGGER",
            "400",
            _positive_int,
            "Silver: most bronze files one micro-batch takes (the Delta source's maxFilesPerTrigger).",
        ),
        (
            "SILVER_MAX_BYTES_PER_TRIGGER",
            "64m",
            _byte_size,
            "Silver: about how many bytes of bronze files one micro-batch takes (maxBytesPerTrigger).",
        ),
        (
            "SILVER_DEDUP_HORIZON_MINUTES",
            "30",
            _positive_int,
            "How long the state store remembers an event_id; older repeats are checked against the tables.",
        ),
        (
            "SILVER_ALLOWED_LATENESS_SECONDS",
            "120",
            _positive_int,
            "An event older than its session's newest accepted event time minus this is quarantined as late.",
        ),
        (
            "SILVER_FUTURE_TOLERANCE_SECONDS",
            "60",
            _positive_int,
            "Clock tolerance: event times after the Kafka timestamp or before the session start by more "
            "than this are quarantined.",
        ),
        (
            "SILVER_PARALLEL_WRITES",
            "4",
            _positive_int,
            "Silver tables a micro-batch appends to at once (their Delta commits overlap).",
        ),
        (
            "STREAM_BATCH_TRIES",
            "3",
            _positive_int,
            "Tries of a failing micro-batch before its records are set aside in quarantine as batch_failed.",
        ),
        (
            "STREAM_FAULT_FAIL_BATCH_EVENT_ID_PREFIX",
            "",
            _event_id_prefix,
            "Fault injection for tests, off (empty) by default: a silver batch holding an event whose id "
            "starts with this text fails inside its Spark job, so the batch_failed path can be exercised.",
        ),
    ),
    *_vars(
        "dbt, Dagster and monitoring",
        ("DBT_TARGET", "local", _one_of("local", "ci", "remote"), "dbt profile target."),
        ("DAGSTER_PORT", "3000", _port, "Port of the Dagster UI started by `make up`."),
        (
            "DAGSTER_UI_URL",
            "",
            _optional_http_url,
            "Address of the Dagster UI that alerts link to; empty means http://127.0.0.1:DAGSTER_PORT.",
        ),
        (
            "STREAM_REPORT_SECONDS",
            "30",
            _positive_int,
            "How often a stream run reports its progress to Dagster as materialisations of its tables.",
        ),
        (
            "STREAM_HEARTBEAT_TIMEOUT_SECONDS",
            "90",
            _positive_int,
            "A stream run whose heartbeat is older than this is dead: the sensor fails it and relaunches.",
        ),
        (
            "STREAM_MAX_RELAUNCHES",
            "5",
            _positive_int,
            "The sensor stops relaunching a stream after this many failed runs in 30 minutes (and alerts).",
        ),
        (
            "ALERT_WEBHOOK_URL",
            "",
            _optional_http_url,
            "Alerts (failed checks, stale assets, their recovery) are POSTed here as JSON; empty: log only.",
        ),
        (
            "QUALITY_CHECK_CRON",
            "*/5 * * * *",
            _cron,
            "When Dagster runs the Great Expectations checks on bronze and silver (UTC).",
        ),
        (
            "GOLD_BUILD_CRON",
            "*/5 * * * *",
            _cron,
            "After each tick (UTC), Dagster rebuilds gold once silver has changed and passed its checks.",
        ),
        (
            "MAINTENANCE_CRON",
            "0 3 * * *",
            _cron,
            "When Dagster's maintenance schedule compacts and vacuums the Delta tables (UTC).",
        ),
        ("PROMETHEUS_PORT", "9090", _port, "Port of the local Prometheus."),
        (
            "PROMETHEUS_SCRAPE_INTERVAL",
            "15s",
            _prometheus_duration,
            "How often the local Prometheus scrapes every exporter.",
        ),
        ("METRICS_EXPORTER_PORT", "9108", _port, "Port of the streaming jobs' Prometheus exporter."),
        (
            "METRICS_EXPORTER_HOST",
            "127.0.0.1",
            _host,
            "Address that exporter listens on: loopback for the local Prometheus; 0.0.0.0 where Prometheus "
            "scrapes it from another host or container (docker-compose.yml).",
        ),
        (
            "KAFKA_METRICS_PORT",
            "9404",
            _port,
            "Port of the local broker's JMX exporter agent (JVM and broker metrics for Prometheus).",
        ),
        ("SCHEMA_REGISTRY_METRICS_PORT", "9405", _port, "Port of the local registry's JMX exporter agent."),
        ("METASTORE_METRICS_PORT", "9406", _port, "Port of the local metastore's JMX exporter agent."),
        ("NODE_EXPORTER_PORT", "9100", _port, "Port of the local node exporter (CPU, memory, disks)."),
        (
            "PUSHGATEWAY_URL",
            "http://127.0.0.1:9091",
            _optional_http_url,
            "Prometheus Pushgateway that Dagster's asset checks push their results to; empty: no push. "
            "The local pushgateway listens on its port.",
        ),
    ),
    *_vars(
        "Simulator (the `simulator` service of `make up`, and the defaults of `f1 simulate`)",
        ("SIMULATOR_CARS", "50", _positive_int, "Cars on the grid."),
        ("SIMULATOR_LAPS", "53", _laps, "Race distance in laps; the service starts a new race after each."),
        ("SIMULATOR_SPEED", "1", _non_negative_float, "1 real time, N times faster, 0 as fast as possible."),
        ("SIMULATOR_ENCODING", "protobuf", _one_of("protobuf", "json"), "Encoding of the raw events."),
        ("SIMULATOR_FAULTS", "", _fault_rates, "Fault rates per event, e.g. duplicate=0.001,late=0.0005."),
        ("SIMULATOR_SEED", "1", _positive_int, "Seed of the first race; the service adds 1 per race."),
    ),
]


@dataclass(frozen=True)
class Settings:
    """Typed, validated configuration. Build it with `Settings.from_env()`."""

    f1_env: str
    f1_state_dir: Path
    f1_jvm_lib_dir: Path
    f1_services: tuple[str, ...]
    java_home: str
    kafka_bootstrap_servers: str
    kafka_controller_port: int
    kafka_topic_partitions: int
    kafka_replication_factor: int
    kafka_retention_hours: int
    kafka_dlq_retention_hours: int
    kafka_heap_opts: str
    schema_registry_url: str
    schema_registry_heap_opts: str
    f1_security_profile: str
    kafka_sasl_username: str
    kafka_sasl_password: str = field(repr=False)
    schema_registry_username: str
    schema_registry_password: str = field(repr=False)
    f1_tls_ca_file: str
    f1_tls_keystore_password: str = field(repr=False)
    metastore_host: str
    metastore_port: int
    metastore_heap_opts: str
    spark_master: str
    spark_driver_memory: str
    spark_executor_memory: str
    spark_executor_cores: int
    spark_cores_max: int
    spark_shuffle_partitions: int
    spark_ui_port: int
    spark_checkpoint_path: str
    delta_storage_path: str
    s3_endpoint_url: str
    s3_region: str
    s3_path_style_access: bool
    s3_access_key_id: str
    s3_secret_access_key: str = field(repr=False)
    spark_master_port: int
    spark_master_webui_port: int
    spark_worker_webui_port: int
    spark_worker_cores: int
    spark_worker_memory: str
    spark_daemon_memory: str
    stream_queries: tuple[str, ...]
    stream_trigger_seconds: float
    stream_max_offsets_per_trigger: int
    silver_max_files_per_trigger: int
    silver_max_bytes_per_trigger: str
    silver_dedup_horizon_minutes: int
    silver_allowed_lateness_seconds: int
    silver_future_tolerance_seconds: int
    silver_parallel_writes: int
    stream_batch_tries: int
    stream_fault_fail_batch_event_id_prefix: str
    dbt_target: str
    dagster_port: int
    dagster_ui_url: str
    stream_report_seconds: int
    stream_heartbeat_timeout_seconds: int
    stream_max_relaunches: int
    alert_webhook_url: str
    quality_check_cron: str
    gold_build_cron: str
    maintenance_cron: str
    prometheus_port: int
    prometheus_scrape_interval: str
    metrics_exporter_port: int
    metrics_exporter_host: str
    kafka_metrics_port: int
    schema_registry_metrics_port: int
    metastore_metrics_port: int
    node_exporter_port: int
    pushgateway_url: str
    simulator_cars: int
    simulator_laps: int
    simulator_speed: float
    simulator_encoding: str
    simulator_faults: str
    simulator_seed: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Read every variable from `environ` (default: `.env` under the project root, then os.environ)."""
        if environ is None:
            environ = {**read_dotenv(dotenv or PROJECT_ROOT / ".env"), **os.environ}
        values, problems = {}, []
        for var in VARIABLES:
            raw = environ.get(var.env)
            raw = var.default if raw is None else raw.strip()
            try:
                values[var.field] = var.parse(raw)
            except _Invalid as bad:
                shown = "<hidden>" if var.secret else repr(raw)
                problems.append(f"{var.env}={shown} is not valid: expected {bad.accepts}.")
        problems = problems or (
            _local_cluster_problems(values) + _security_problems(values) + _object_storage_problems(values)
        )
        if problems:
            raise ConfigError(problems)
        return cls(**values)

    # Derived values: computed here once so that no caller re-parses a variable.
    @property
    def kafka_port(self) -> int:
        return int(self.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)[1])

    @property
    def schema_registry_port(self) -> int:
        parsed = urlparse(self.schema_registry_url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    @property
    def pushgateway_port(self) -> int:
        """Port of the local pushgateway: PUSHGATEWAY_URL's (9091 when pushing is off)."""
        return (urlparse(self.pushgateway_url).port if self.pushgateway_url else None) or 9091

    @property
    def logs_dir(self) -> Path:
        return self.f1_state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.f1_state_dir / "run"

    @property
    def data_dir(self) -> Path:
        return self.f1_state_dir / "data"

    @property
    def dagster_home(self) -> Path:
        return self.f1_state_dir / "dagster"

    @property
    def dagster_url(self) -> str:
        return self.dagster_ui_url or f"http://127.0.0.1:{self.dagster_port}"

    @property
    def local_spark_master_url(self) -> str:
        """The master URL of the local standalone cluster (the spark-master service)."""
        return f"spark://127.0.0.1:{self.spark_master_port}"

    @property
    def secure(self) -> bool:
        """The secure profile: SASL_SSL to Kafka, HTTPS with basic authentication to the registry."""
        return self.f1_security_profile == "secure"

    @property
    def tls_dir(self) -> Path:
        """Where the local runtime keeps its CA and certificate (secure profile)."""
        return self.f1_state_dir / "tls"

    @property
    def tls_ca_file(self) -> Path:
        """The PEM file of the CA that clients trust (secure profile)."""
        return Path(self.f1_tls_ca_file) if self.f1_tls_ca_file else self.tls_dir / "ca.pem"

    @property
    def java(self) -> str:
        return str(Path(self.java_home) / "bin" / "java") if self.java_home else "java"

    def as_env(self) -> dict[str, str]:
        """These settings as environment variables, for child processes (dagster dev, Spark jobs)."""
        env = {}
        for var in VARIABLES:
            value = getattr(self, var.field)
            env[var.env] = ",".join(value) if isinstance(value, tuple) else str(value)
        return env


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines of a `.env` file; blank lines and # comments are skipped."""
    if not path.is_file():
        return {}
    result = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        result[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return result


def render_env_example() -> str:
    """The text of `.env.example`: every variable with its default, grouped by section."""
    lines = [
        "# f1-telemetry configuration. Copy to .env (or export the variables) to change a default.",
        "# Generated from streaming/settings.py by `f1 env-example`; a test fails when the two drift.",
        "# Relative paths are taken from the project root.",
    ]
    section = None
    for var in VARIABLES:
        if var.section != section:
            section = var.section
            lines += ["", f"## {section}"]
        lines += [f"# {var.doc}", f"{var.env}={var.default}"]
    return "\n".join(lines) + "\n"


assert {f.name for f in fields(Settings)} == {v.field for v in VARIABLES}, "Settings and VARIABLES disagree"
