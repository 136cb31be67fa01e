"""What each setting accepts: one parser per kind of value, and the checks across variables.

A parser takes the raw text and returns the typed value, or raises `Invalid` saying what the variable
accepts; `Settings.from_env` turns that into a ConfigError naming the variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# The checkout's root: relative paths in settings are taken from it (and the rest of the code imports it
# from streaming.settings).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-]+:(\d{1,5})$|^\[[0-9a-fA-F:]+\]:(\d{1,5})$")
_SPARK_MASTER = re.compile(
    r"^(local(\[(\d+|\*)(,\d+)?\])?|spark://[^/\s]+:\d+(,[^/\s]+:\d+)*|yarn|k8s://\S+)$"
)
_MEMORY = re.compile(r"^\d+[kmgtKMGT]?$")
_STORAGE_SCHEMES = ("file", "s3a", "abfss", "gs", "hdfs")
# S3's bucket naming rules (3-63 characters; lowercase letters, digits, dots and hyphens).
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
# The local services, in start order; streaming/runtime/ has a module for each.
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
STREAM_QUERY_NAMES = ("lake",)


class Invalid(ValueError):
    """Raised by a parser; `accepts` says what the variable takes."""

    def __init__(self, accepts: str):
        super().__init__(accepts)
        self.accepts = accepts


def port(raw: str) -> int:
    if raw.isdigit() and 1 <= int(raw) <= 65535:
        return int(raw)
    raise Invalid("a TCP port number from 1 to 65535")


def host(raw: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.\-]+", raw):
        return raw
    raise Invalid("a host name or IPv4 address, for example 127.0.0.1")


def positive_int(raw: str) -> int:
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    raise Invalid("a whole number greater than 0")


def bootstrap(raw: str) -> str:
    servers = [s.strip() for s in raw.split(",") if s.strip()]
    for server in servers:
        match = _HOST_PORT.match(server)
        if not match or not 1 <= int(match.group(1) or match.group(2)) <= 65535:
            break
    else:
        if servers:
            return ",".join(servers)
    raise Invalid("a comma-separated list of host:port, for example 127.0.0.1:9092")


def http_url(raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme in ("http", "https") and parsed.hostname and has_valid_port(parsed):
        return raw.rstrip("/")
    raise Invalid("an http(s) URL, for example http://127.0.0.1:8081/apis/ccompat/v7")


def has_valid_port(parsed) -> bool:
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return True


def spark_master(raw: str) -> str:
    if _SPARK_MASTER.match(raw):
        return raw
    raise Invalid("local, local[N], local[*], spark://host:port, yarn or k8s://...")


def memory(raw: str) -> str:
    if _MEMORY.match(raw):
        return raw
    raise Invalid("a JVM memory size such as 512m or 4g")


def storage_path(raw: str) -> str:
    """A local folder (relative paths are taken from the project root) or a URI Spark can write to."""
    if "://" in raw:
        scheme = raw.split("://", 1)[0]
        if scheme == "s3a" and not _S3_BUCKET.match(urlparse(raw).netloc):
            raise Invalid("s3a://bucket/prefix, with a bucket name S3 accepts (3-63 of a-z 0-9 . -)")
        if scheme in _STORAGE_SCHEMES:
            return raw.rstrip("/")
        raise Invalid(f"a local path or a URI with one of the schemes {', '.join(_STORAGE_SCHEMES)}")
    if not raw:
        raise Invalid("a non-empty path")
    return str(resolve_local(raw))


def local_dir(raw: str) -> Path:
    if not raw or "://" in raw:
        raise Invalid("a local folder path (relative paths are taken from the project root)")
    return resolve_local(raw)


def resolve_local(raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw in choices:
            return raw
        raise Invalid("one of: " + ", ".join(choices))

    return parse


def service_list(raw: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    unknown = [n for n in names if n not in SERVICE_NAMES]
    if names and not unknown:
        return names
    raise Invalid("a comma-separated list of: " + ", ".join(SERVICE_NAMES))


def non_negative_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value >= 0:
        return value
    raise Invalid("a number, 0 or more")


def positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value > 0:
        return value
    raise Invalid("a number greater than 0")


def query_list(raw: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    if names and all(n in STREAM_QUERY_NAMES for n in names):
        return names
    raise Invalid("a comma-separated list of: " + ", ".join(STREAM_QUERY_NAMES))


def laps(raw: str) -> int:
    if raw.isdigit() and 1 <= int(raw) <= 120:
        return int(raw)
    raise Invalid("a whole number of laps from 1 to 120")


def fault_rates(raw: str) -> str:
    try:
        FaultRates.parse(raw)
    except ValueError as error:
        raise Invalid(f"fault rates such as duplicate=0.01,late=0.001 ({error})") from None
    return raw


def optional_http_url(raw: str) -> str:
    return http_url(raw) if raw else ""


def prometheus_duration(raw: str) -> str:
    if re.fullmatch(r"[1-9]\d*(ms|s|m)", raw):
        return raw
    raise Invalid("a Prometheus duration such as 15s, 500ms or 1m")


def cron(raw: str) -> str:
    fields_ = raw.split()
    if len(fields_) == 5 and all(re.fullmatch(r"[\d*/,\-]+", f) for f in fields_):
        return raw
    raise Invalid("a five-field cron expression, for example 0 3 * * *")


def jvm_opts(raw: str) -> str:
    if all(token.startswith("-") for token in raw.split()):
        return raw
    raise Invalid("JVM options, each starting with '-', for example -Xms256m -Xmx1g")


def user_name(raw: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.@\-]+", raw):
        return raw
    raise Invalid("a user name of letters, digits and _ . @ -")


def event_id_prefix(raw: str) -> str:
    if raw == "" or re.fullmatch(r"[A-Za-z0-9_.:\-]{4,}", raw):
        return raw
    raise Invalid("empty (off), or 4 or more letters, digits and _ . : -")


def secret(raw: str) -> str:
    # Kafka's JAAS configuration quotes the password, and the broker substitutes it there unescaped.
    if '"' not in raw and "\\" not in raw:
        return raw
    raise Invalid("text without double quotes or backslashes")


def keystore_password(raw: str) -> str:
    if not raw or len(secret(raw)) >= 6:
        return raw
    raise Invalid("at least 6 characters (PKCS12 key stores need them)")


def optional_local_file(raw: str) -> str:
    if "://" in raw:
        raise Invalid("a local file path (relative paths are taken from the project root), or empty")
    return str(resolve_local(raw)) if raw else ""


def s3_endpoint(raw: str) -> str:
    try:
        return optional_http_url(raw)
    except Invalid:
        raise Invalid("an http(s) URL such as http://127.0.0.1:9000, or empty") from None


def aws_region(raw: str) -> str:
    if not raw or re.fullmatch(r"[a-z]{2}(-[a-z0-9]+)+-\d+", raw):
        return raw
    raise Invalid("an AWS region name such as us-east-1 or eu-west-3, or empty")


def flag(raw: str) -> bool:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise Invalid("true or false")


def access_key_id(raw: str) -> str:
    if re.fullmatch(r"[\x21-\x7e]*", raw):
        return raw
    raise Invalid("an access key id of printable characters without spaces, or empty")


def object_storage_problems(values: dict[str, Any]) -> list[str]:
    """S3 credentials come in pairs: one without the other would silently fall back to other credentials."""
    key, secret = values["s3_access_key_id"], values["s3_secret_access_key"]
    if bool(key) == bool(secret):
        return []
    missing = "S3_SECRET_ACCESS_KEY" if key else "S3_ACCESS_KEY_ID"
    other = "S3_ACCESS_KEY_ID" if key else "S3_SECRET_ACCESS_KEY"
    return [f"{missing} is not set: {other} is, and S3 needs both (or neither: AWS's default credentials)."]


def security_problems(values: dict[str, Any]) -> list[str]:
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


def mib(memory: str) -> float:
    """A JVM memory size (validated by `memory`) in MiB."""
    unit = memory[-1].lower() if memory[-1].isalpha() else ""
    scale = {"": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024, "t": 2**20}[unit]
    return int(memory.rstrip("kmgtKMGT")) * scale


def local_cluster_problems(values: dict[str, Any]) -> list[str]:
    """An executor larger than the local worker never starts: its application would wait forever."""
    if "spark-worker" not in values["f1_services"]:
        return []
    problems = []
    if mib(values["spark_executor_memory"]) > mib(values["spark_worker_memory"]):
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


# The simulator's fault injection (streaming/simulator/faults.py) at these rates; parsed here, so that a
# bad SIMULATOR_FAULTS fails at start like any other setting.
@dataclass(frozen=True)
class FaultRates:
    duplicate: float = 0.0
    out_of_order: float = 0.0
    late: float = 0.0
    truncated: float = 0.0
    wrong_schema_id: float = 0.0
    out_of_range: float = 0.0
    missing_field: float = 0.0
    bad_json: float = 0.0
    clock_skew: float = 0.0

    @classmethod
    def parse(cls, text: str) -> FaultRates:
        """'duplicate=0.01,late=0.001' (rates per event, 0-1); 'none' or '' for no faults."""
        known = {f.name for f in fields(cls)}
        values = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            if part == "none":
                continue
            name, _, rate = part.partition("=")
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            try:
                values[name] = float(rate)
            except ValueError:
                raise ValueError(f"fault rate of {name} must be a number, got {rate!r}") from None
            if not 0.0 <= values[name] <= 1.0:
                raise ValueError(f"fault rate of {name} must be between 0 and 1, got {rate}")
        rates = cls(**values)
        if rates.total() > 1.0:
            raise ValueError("fault rates add up to more than 1")
        return rates

    def total(self) -> float:
        return sum(asdict(self).values())
