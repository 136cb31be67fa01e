"""The secure profile on real services: Kafka over SASL_SSL (SCRAM-SHA-512), the registry over HTTPS with
basic authentication, and a simulated session streamed through both by the `f1` CLI into Delta.

The platform is a throwaway one on free loopback ports, started in F1_SECURITY_PROFILE=secure, with
credentials that contain the characters a careless quoting would break on.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from streaming.clients.security import (
    kafka_config,
    kafka_java_config,
    registry_config,
    registry_http,
    scram_credential_argument,
    spark_kafka_options,
)
from streaming.contracts import topics
from streaming.contracts.event_types import EVENT_TYPES
from streaming.errors import ConfigError
from streaming.runtime import manager
from streaming.runtime.ephemeral import ephemeral_platform
from streaming.runtime.process import _group_members
from streaming.settings import PROJECT_ROOT, Settings

SERVICES = ["kafka", "registry", "metastore"]
SECRETS = {
    "KAFKA_SASL_PASSWORD": "kafka pw,with=odd]chars",
    "SCHEMA_REGISTRY_PASSWORD": "registry:pw with spaces",
    "F1_TLS_KEYSTORE_PASSWORD": "keystore-pw-0815",
}
SILVER_TABLES = EVENT_TYPES


# Settings and client configurations (no services) ------------------------------------------------------


def _secure_env(**more: str) -> dict[str, str]:
    return {
        "F1_SECURITY_PROFILE": "secure",
        "SCHEMA_REGISTRY_URL": "https://127.0.0.1:8081/apis/ccompat/v7",
        **SECRETS,
        **more,
    }


def test_the_plaintext_profile_is_the_default_and_adds_nothing():
    s = Settings.from_env({})
    assert not s.secure
    assert kafka_config(s) == {"bootstrap.servers": "127.0.0.1:9092"} == kafka_java_config(s)
    assert spark_kafka_options(s) == {"kafka.bootstrap.servers": "127.0.0.1:9092"}
    assert registry_config(s) == {"url": s.schema_registry_url}
    assert registry_http(s) == {"headers": {}, "context": None}


def test_the_secure_profile_needs_its_credentials_and_https():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"F1_SECURITY_PROFILE": "secure"})
    message = str(raised.value)
    for variable in ("KAFKA_SASL_PASSWORD", "SCHEMA_REGISTRY_PASSWORD", "SCHEMA_REGISTRY_URL"):
        assert variable in message
    assert "https://" in message and ".env.example" in message
    with pytest.raises(ConfigError, match="F1_SECURITY_PROFILE='strict'.*plaintext, secure"):
        Settings.from_env({"F1_SECURITY_PROFILE": "strict"})


@pytest.mark.parametrize(
    ("variable", "bad", "accepts"),
    [
        ("KAFKA_SASL_PASSWORD", 'say "cheese"', "without double quotes or backslashes"),
        ("SCHEMA_REGISTRY_PASSWORD", "back\\slash", "without double quotes or backslashes"),
        ("F1_TLS_KEYSTORE_PASSWORD", "short", "at least 6 characters"),
    ],
)
def test_a_bad_secret_is_named_but_never_shown(variable, bad, accepts):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(_secure_env(**{variable: bad}))
    message = str(raised.value)
    assert f"{variable}=<hidden> is not valid" in message and accepts in message
    assert bad not in message


def test_secrets_stay_out_of_repr_but_reach_child_processes():
    s = Settings.from_env(_secure_env())
    for secret in SECRETS.values():
        assert secret not in repr(s)
    assert {k: s.as_env()[k] for k in SECRETS} == SECRETS


def test_every_kind_of_client_gets_the_secure_profile():
    s = Settings.from_env(_secure_env(KAFKA_SASL_USERNAME="svc"))
    assert kafka_config(s) == {
        "bootstrap.servers": "127.0.0.1:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "svc",
        "sasl.password": SECRETS["KAFKA_SASL_PASSWORD"],
        "ssl.ca.location": str(s.f1_state_dir / "tls" / "ca.pem"),
    }
    java = kafka_java_config(s)
    assert java["security.protocol"] == "SASL_SSL" and java["sasl.mechanism"] == "SCRAM-SHA-512"
    assert f'username="svc" password="{SECRETS["KAFKA_SASL_PASSWORD"]}";' in java["sasl.jaas.config"]
    assert java["ssl.truststore.type"] == "PEM" and java["ssl.truststore.location"] == str(s.tls_ca_file)
    assert spark_kafka_options(s) == {f"kafka.{k}": v for k, v in java.items()}
    assert registry_config(s)["basic.auth.user.info"] == f"f1:{SECRETS['SCHEMA_REGISTRY_PASSWORD']}"
    assert registry_http(s)["headers"]["Authorization"].startswith("Basic ")


def test_the_scram_credential_is_salted_before_it_reaches_the_storage_tool():
    argument = scram_credential_argument("f1", SECRETS["KAFKA_SASL_PASSWORD"])
    assert argument.startswith("SCRAM-SHA-512=[name=f1,iterations=8192,salt=")
    assert SECRETS["KAFKA_SASL_PASSWORD"] not in argument
    assert argument != scram_credential_argument("f1", SECRETS["KAFKA_SASL_PASSWORD"])  # a new salt each time


# The secure profile on real services -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    """Kafka, registry and metastore in the secure profile; small heaps (two shared cores)."""
    overrides = {
        "F1_SECURITY_PROFILE": "secure",
        "KAFKA_SASL_USERNAME": "f1-client",
        "SCHEMA_REGISTRY_USERNAME": "f1.registry",  # a dot: the registry's user key must be quoted
        **SECRETS,
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
        "SCHEMA_REGISTRY_HEAP_OPTS": "-Xms64m -Xmx384m",
        "SPARK_DRIVER_MEMORY": "1g",
    }
    with ephemeral_platform(tmp_path_factory.mktemp("secure-state"), SERVICES, **overrides) as settings:
        yield settings


def _client_errors(config: dict) -> tuple[Exception | None, list]:
    """Ask for metadata with `config`: what list_topics raised (None: it worked) and the client's errors."""
    from confluent_kafka.admin import AdminClient

    errors, admin = [], None
    try:
        admin = AdminClient({**config, "log_level": 0, "error_cb": errors.append})
        admin.list_topics(timeout=10)
        return None, errors
    except Exception as error:  # noqa: BLE001 - KafkaException: what the refusal looks like
        if admin is not None:
            admin.poll(1)  # error callbacks run from poll
        return error, errors


@pytest.mark.e2e
def test_kafka_takes_only_sasl_ssl_clients_with_the_right_password(secure):
    from confluent_kafka import KafkaError

    good = kafka_config(secure)
    assert good["security.protocol"] == "SASL_SSL" and good["sasl.mechanisms"] == "SCRAM-SHA-512"
    assert _client_errors(good)[0] is None

    plaintext = {"bootstrap.servers": secure.kafka_bootstrap_servers}
    assert _client_errors(plaintext)[0] is not None

    refused, errors = _client_errors({**good, "sasl.password": "not-the-password"})
    assert refused is not None
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors

    no_ca = {k: v for k, v in good.items() if k != "ssl.ca.location"}  # a server it has no reason to trust
    assert _client_errors({**no_ca, "ssl.ca.location": "probe"})[0] is not None

    # The controller listener wants a certificate of the local CA (only the broker has one).
    controller = f"127.0.0.1:{secure.kafka_controller_port}"
    for config in (
        {"bootstrap.servers": controller},
        {**good, "bootstrap.servers": controller},
        {
            "bootstrap.servers": controller,
            "security.protocol": "SSL",
            "ssl.ca.location": str(secure.tls_ca_file),
        },
    ):
        assert _client_errors(config)[0] is not None, config


def _get(url: str, **http) -> int:
    request = urllib.request.Request(url, headers=http.get("headers") or {})
    try:
        with urllib.request.urlopen(request, timeout=20, context=http.get("context")) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.e2e
def test_the_registry_wants_https_and_its_user(secure):
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from streaming.clients.bootstrap import bootstrap

    url, http = secure.schema_registry_url, registry_http(secure)
    assert url.startswith("https://")
    anonymous = {"context": http["context"]}
    assert _get(f"{url}/subjects", **anonymous) == 401
    assert _get(f"{secure.schema_registry_url.split('/apis')[0]}/apis/registry/v3/groups", **anonymous) == 401
    wrong = SchemaRegistryClient({**registry_config(secure), "basic.auth.user.info": "f1.registry:wrong"})
    with pytest.raises(Exception, match="401"):
        wrong.get_subjects()
    with pytest.raises((urllib.error.URLError, ConnectionError)):  # plain HTTP: it speaks TLS only
        urllib.request.urlopen(url.replace("https://", "http://") + "/subjects", timeout=20)
    assert _get(f"{url}/subjects", **http) == 200

    done = bootstrap(secure, tables=False)  # topics over SASL_SSL, contracts over HTTPS
    assert set(done.topics) == {t.name for t in topics.platform_topics(secure)}
    subjects = SchemaRegistryClient(registry_config(secure)).get_subjects()
    assert set(done.schemas) <= set(subjects) and len(done.schemas) == 4


def _f1(settings, *args: str, timeout_s: float = 1200) -> subprocess.CompletedProcess:
    env = {**os.environ, **settings.as_env()}
    return subprocess.run(
        ["uv", "run", "--frozen", "f1", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def _delta_column(table: Path, column: str) -> list:
    """A column of a Delta table's live files, read from its log with pyarrow (no second JVM)."""
    import pyarrow.parquet as pq

    live: set[str] = set()
    for commit in sorted((table / "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                live.add(action["add"]["path"])
            elif "remove" in action:
                live.discard(action["remove"]["path"])
    # sorted: the files in one order, so that two columns read by two calls line up row by row
    files = sorted(live)
    return [v for f in files for v in pq.read_table(table / unquote(f), columns=[column])[column].to_pylist()]


@pytest.mark.e2e
def test_a_session_streams_through_kafka_and_spark_over_sasl_ssl(secure, tmp_path):
    from streaming.clients.bootstrap import bootstrap

    bootstrap(secure, tables=False)  # topics and contracts (the registry test does it too; idempotent)
    truth_path = tmp_path / "truth.json"
    simulated = _f1(
        secure, "simulate", "--cars", "2", "--laps", "1", "--fast", "--quiet", "--truth", str(truth_path)
    )
    assert simulated.returncode == 0, simulated.stdout[-3000:] + simulated.stderr[-3000:]
    truth = json.loads(truth_path.read_text())
    expected = truth["event_counts"]
    assert sum(expected.values()) > 10_000

    # the lake query, available-now, in a Spark driver of its own: the `f1` CLI with the profile's env
    outputs = [simulated.stdout + simulated.stderr]
    env = {**os.environ, **secure.as_env()}
    stream = subprocess.Popen(
        ["uv", "run", "--frozen", "f1", "stream", "run", "lake", "--available-now"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    exposed = set()
    deadline = time.monotonic() + 1500
    try:
        while stream.poll() is None and time.monotonic() < deadline:
            exposed |= {a for pid in _descendants(stream.pid) for a in _listening(pid) if not _loopback(a)}
            time.sleep(2)
    finally:
        if stream.poll() is None:
            stream.kill()
        output = stream.communicate()[0]
    outputs.append(output)
    assert stream.returncode == 0, output[-5000:]
    assert not exposed, f"the Spark driver listens beyond loopback: {exposed}"

    delta = Path(secure.delta_storage_path)
    bronze_ids = _delta_column(delta / "bronze" / "telemetry", "event_id")
    assert len(bronze_ids) == len(set(bronze_ids)) == sum(expected.values())
    # the silver table, read from its log as a reader without Spark would: its rows, by event type
    types = _delta_column(delta / "silver" / "telemetry_enriched", "event_type")
    ids = _delta_column(delta / "silver" / "telemetry_enriched", "event_id")  # the same files, same order
    silver = {t: Counter(i for i, type_ in zip(ids, types, strict=True) if type_ == t) for t in SILVER_TABLES}
    assert {t: sum(c.values()) for t, c in silver.items()} == expected
    assert set().union(*silver.values()) == set(bronze_ids)
    assert _delta_column(delta / "silver" / "quarantine", "event_id") == []

    # silver re-streamed every event to the enriched topic over SASL_SSL as well
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**kafka_config(secure), "group.id": "security-test", "log_level": 0})
    try:
        partitions = consumer.list_topics(topics.ENRICHED, timeout=20).topics[topics.ENRICHED].partitions
        ends = [
            consumer.get_watermark_offsets(TopicPartition(topics.ENRICHED, p), timeout=20)[1]
            for p in partitions
        ]
    finally:
        consumer.close()
    assert sum(ends) == sum(expected.values())

    # no secret in any log or output
    logs = [p.read_text(errors="replace") for p in secure.logs_dir.glob("*.log")]
    for text in outputs + logs:
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} leaked"


@pytest.mark.e2e
def test_services_listen_on_loopback_only(secure):
    for name in SERVICES:
        supervisor = manager.process_of(secure, manager.SERVICES[name]).pid()
        addresses = {a for pid in _group_members(supervisor) for a in _listening(pid)}
        assert addresses, f"{name} listens nowhere?"
        assert all(_loopback(a) for a in addresses), f"{name} listens on {addresses}"


# Listening sockets from /proc ---------------------------------------------------------------------------


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _listening(pid: int) -> set[str]:
    """host:port of every TCP socket `pid` listens on."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
        tables = [Path(f"/proc/{pid}/net/{t}").read_text() for t in ("tcp", "tcp6")]
    except OSError:  # the process ended
        return set()
    found = set()
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(_address(fields[1]))
    return found


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    # /proc writes each 32-bit word of the address in the machine's (little-endian) byte order
    ip = ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return f"{ip}:{int(port, 16)}"


def _loopback(address: str) -> bool:
    return ipaddress.ip_address(address.rsplit(":", 1)[0]).is_loopback
