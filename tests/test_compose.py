"""docker-compose.yml agrees with the platform: its settings, the local runtime and the pinned versions.

There is no Docker engine where these tests run, so nothing here starts a container. Two kinds of check:

- Structure (always): the YAML is read as compose would read it (merge keys, `${VAR:-default}`
  interpolation) and compared with streaming/settings/, the local runtime's services, jvm/pom.xml and
  pyproject.toml: every variable an app service sets is a setting that parses, the addresses point at
  the compose services, published ports are the settings' defaults on 127.0.0.1, every service has a
  health check or is a one-shot, dependencies and volumes exist, images are pinned to the right versions.
- Compose itself: `docker compose config` where the plugin is installed, else scripts/compose-check
  (compose-go, the library docker compose is built on: interpolation, the Compose JSON schema,
  consistency). Skipped, with the reason, when neither is available.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path

import pytest
import yaml

from streaming.cli import build_parser
from streaming.clients.jars import pom_versions
from streaming.runtime.kafka import Kafka
from streaming.settings import PROJECT_ROOT, SERVICE_NAMES, VARIABLES, Settings

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "docker" / "app.Dockerfile"
PROMETHEUS_DIR = PROJECT_ROOT / "monitoring" / "prometheus"
COMPOSE_CHECK_DIR = PROJECT_ROOT / "scripts" / "compose-check"
COMPOSE_CHECK_BIN = COMPOSE_CHECK_DIR / "bin" / "compose-check"
APP_IMAGE = "f1-telemetry-app"
SETTINGS = {v.env: v for v in VARIABLES}
DEFAULTS = Settings.from_env({})

# Variables of the app services that are not the platform's settings: whose they are.
THIRD_PARTY_ENV = {
    "DAGSTER_HOME": "Dagster: the instance folder (dagster.yaml, SQLite run storage)",
    "SPARK_LOCAL_HOSTNAME": "Spark: the host name a driver advertises to its executors",
    "JUPYTER_TOKEN": "Jupyter Server: the login token",
}
# Settings whose compose default differs from the local runtime's on purpose, and why.
COMPOSE_DEFAULTS = {"SPARK_DRIVER_MEMORY": "1g"}  # on the cluster the executors run the tasks

# Each service of the local runtime (streaming/runtime/) and the compose services doing its job.
LOCAL_TO_COMPOSE = {
    "kafka": ["kafka"],
    "registry": ["registry"],
    "metastore": ["metastore"],
    "spark-master": ["spark-master"],
    "spark-worker": ["spark-worker"],
    "node-exporter": ["node-exporter"],
    "pushgateway": ["pushgateway"],
    "prometheus": ["prometheus"],
    "dagster": ["dagster-webserver", "dagster-daemon"],
    "simulator": ["simulator"],
    "streams": ["streams"],
}
# What only the Docker stack has: object storage, dashboards, notebooks, and its one-shot steps.
COMPOSE_ONLY = {"minio", "minio-init", "grafana", "jupyter", "init", "prepare"}


# --- Reading the file as compose does -------------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation of the forms the file uses: $$, ${VAR}, ${VAR:-default}, ${VAR-default}."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, default = match.group("op"), match.group("default")
        value = env.get(name)
        if op == ":-" and not value or op == "-" and value is None:
            return default
        assert value is not None, f"${{{name}}} has no default: `docker compose up` would warn and use ''"
        return value

    result = _INTERPOLATION.sub(substitute, value)
    assert "${" not in result, f"an interpolation form this test does not know: {value!r}"
    return result


def _interpolate_tree(node, env):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    return node


@cache
def compose() -> dict:
    """The compose file with merge keys resolved and every variable at its default (an empty environment)."""
    return _interpolate_tree(yaml.safe_load(COMPOSE_FILE.read_text()), {})


def services() -> dict[str, dict]:
    return compose()["services"]


def app_services() -> dict[str, dict]:
    return {n: s for n, s in services().items() if s.get("image", "").split(":")[0] == APP_IMAGE}


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def command_of(service: dict) -> list[str]:
    command = service.get("command") or service.get("entrypoint") or []
    return command.split() if isinstance(command, str) else list(command)


def published(service: dict) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each published port, ranges expanded."""
    result = []
    for port in service.get("ports", []):
        assert isinstance(port, str), f"use the short syntax HOST_IP:HOST_PORT:CONTAINER_PORT: {port!r}"
        host_ip, host, container = port.rsplit(":", 2) if port.count(":") >= 2 else ("", *port.split(":"))
        host_range, container_range = _port_range(host), _port_range(container)
        assert len(host_range) == len(container_range), port
        result += [(host_ip, h, c) for h, c in zip(host_range, container_range, strict=True)]
    return result


def _port_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def host_ports(name: str) -> set[int]:
    return {host for _, host, _ in published(services()[name])}


def container_ports(name: str) -> set[int]:
    return {container for _, _, container in published(services()[name])}


def is_one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def _hostport(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def _url_hostport(url: str) -> tuple[str, int]:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    return parsed.hostname, parsed.port


# --- The services -----------------------------------------------------------------------------------------


def test_every_local_service_has_its_compose_counterpart():
    assert set(LOCAL_TO_COMPOSE) == set(SERVICE_NAMES), "a local service without a compose mapping here"
    expected = {name for names in LOCAL_TO_COMPOSE.values() for name in names} | COMPOSE_ONLY
    assert set(services()) == expected


def test_app_services_set_only_settings_and_documented_variables_that_parse():
    assert set(app_services()) == {
        "prepare", "metastore", "init", "dagster-webserver", "dagster-daemon", "simulator", "streams",
        "jupyter",
    }  # fmt: skip
    for name, service in app_services().items():
        env = env_of(service)
        unknown = set(env) - set(SETTINGS) - set(THIRD_PARTY_ENV)
        assert not unknown, f"{name} sets variables that are neither settings nor documented: {unknown}"
        Settings.from_env(env)  # ConfigError names any value the platform would refuse at start


def test_every_spark_process_sees_the_same_platform_settings():
    platform = {
        name: {k: v for k, v in env_of(s).items() if k in SETTINGS}
        for name, s in app_services().items()
        if "KAFKA_BOOTSTRAP_SERVERS" in env_of(s)
    }
    assert set(platform) == {"init", "dagster-webserver", "dagster-daemon", "simulator", "streams", "jupyter"}
    first = next(iter(platform.values()))
    assert all(env == first for env in platform.values())
    for name in platform:
        if name != "simulator":  # a Kafka producer only
            assert env_of(services()[name])["SPARK_LOCAL_HOSTNAME"] == services()[name]["hostname"] == name


def test_settings_point_at_the_compose_services():
    svc = services()
    env = env_of(svc["dagster-daemon"])
    s = Settings.from_env(env)

    # Kafka: the broker's listener for the containers.
    host, port = _hostport(s.kafka_bootstrap_servers)
    kafka = env_of(svc["kafka"])
    assert host == "kafka"
    assert f"PLAINTEXT://kafka:{port}" in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert f"PLAINTEXT://0.0.0.0:{port}" in kafka["KAFKA_LISTENERS"].split(",")

    # The registry: Apicurio listens on 8080 in its image; the same API path as the local default.
    host, port = _url_hostport(s.schema_registry_url)
    assert (host, port) == ("registry", 8080)
    assert s.schema_registry_url.endswith(DEFAULTS.schema_registry_url.split(":8081", 1)[1])
    assert 8080 in container_ports("registry")

    # The metastore's Derby server.
    command = " ".join(command_of(svc["metastore"]))
    assert f"-p {s.metastore_port}" in command and "-h 0.0.0.0" in command
    if "METASTORE_HOST" in SETTINGS:
        assert env["METASTORE_HOST"] == "metastore"

    # Spark: the standalone master, on the port its container is told.
    master = env_of(svc["spark-master"])
    assert s.spark_master == f"spark://spark-master:{master['SPARK_MASTER_PORT']}"
    assert "spark://spark-master:" + master["SPARK_MASTER_PORT"] in command_of(svc["spark-worker"])

    # Tables and checkpoints in the bucket minio-init creates, through MinIO's S3 API with its credentials.
    bucket = re.search(r"mc mb --ignore-existing f1/([\w.-]+)", " ".join(command_of(svc["minio-init"])))[1]
    assert s.delta_storage_path.startswith(f"s3a://{bucket}/")
    assert s.spark_checkpoint_path.startswith(f"s3a://{bucket}/")
    assert _url_hostport(s.s3_endpoint_url) == ("minio", 9000) and 9000 in container_ports("minio")
    assert s.s3_path_style_access is True
    minio = env_of(svc["minio"])
    assert (s.s3_access_key_id, s.s3_secret_access_key) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )
    assert env_of(svc["minio-init"])["MINIO_ROOT_USER"] == minio["MINIO_ROOT_USER"]

    # Dagster: the webserver's port, and the alerts' links to where a user on the host finds it.
    assert command_of(svc["dagster-webserver"])[-2:] == ["-p", str(s.dagster_port)]
    assert s.dagster_port in container_ports("dagster-webserver")
    assert s.dagster_url == f"http://127.0.0.1:{DEFAULTS.dagster_port}"

    # Monitoring: the pushgateway the checks push to; the streams' exporter binds where Prometheus reaches it.
    assert _url_hostport(s.pushgateway_url) == ("pushgateway", 9091)
    if "METRICS_EXPORTER_HOST" in SETTINGS:
        assert env["METRICS_EXPORTER_HOST"] == "0.0.0.0"
    assert s.spark_ui_port in container_ports("dagster-daemon")


def test_spark_reaches_the_metastore_at_its_host():
    from streaming.clients.probes import metastore_jdbc_url

    assert metastore_jdbc_url(DEFAULTS).startswith(f"jdbc:derby://127.0.0.1:{DEFAULTS.metastore_port}/")
    s = Settings.from_env(env_of(services()["dagster-daemon"]))
    assert metastore_jdbc_url(s).startswith(f"jdbc:derby://metastore:{s.metastore_port}/metastore_db")


def test_third_party_services_match_the_local_runtime():
    kafka = env_of(services()["kafka"])
    # The broker configuration the local runtime writes, as the apache/kafka image's KAFKA_* variables.
    local = Kafka().properties(DEFAULTS)
    same = [
        "process.roles", "controller.listener.names", "inter.broker.listener.name",
        "auto.create.topics.enable",
        "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr", "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr", "group.initial.rebalance.delay.ms", "log.retention.hours",
        "num.partitions",
    ]  # fmt: skip
    for key in same:
        assert kafka["KAFKA_" + key.upper().replace(".", "_")] == local[key], key
    assert kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"1@kafka:{DEFAULTS.kafka_controller_port}"
    assert kafka["KAFKA_HEAP_OPTS"] == DEFAULTS.kafka_heap_opts
    assert DEFAULTS.schema_registry_heap_opts in env_of(services()["registry"])["JAVA_OPTS_APPEND"]
    assert env_of(services()["metastore"])["METASTORE_HEAP_OPTS"] == DEFAULTS.metastore_heap_opts
    worker = env_of(services()["spark-worker"])
    assert worker["SPARK_WORKER_CORES"] == str(DEFAULTS.spark_worker_cores)
    assert worker["SPARK_WORKER_MEMORY"] == DEFAULTS.spark_worker_memory
    assert worker["SPARK_WORKER_WEBUI_PORT"] == str(DEFAULTS.spark_worker_webui_port)
    master = env_of(services()["spark-master"])
    assert master["SPARK_MASTER_PORT"] == str(DEFAULTS.spark_master_port)
    assert master["SPARK_MASTER_WEBUI_PORT"] == str(DEFAULTS.spark_master_webui_port)
    assert master["SPARK_DAEMON_MEMORY"] == worker["SPARK_DAEMON_MEMORY"] == DEFAULTS.spark_daemon_memory


def test_interpolated_defaults_are_the_settings_defaults():
    raw = COMPOSE_FILE.read_text()
    found = re.findall(r"\$\{([A-Z_][A-Z0-9_]*):-([^}]*)\}", raw)
    assert found
    for name, default in found:
        if name in SETTINGS:
            assert default == COMPOSE_DEFAULTS.get(name, SETTINGS[name].default), name
    assert set(COMPOSE_DEFAULTS) <= {name for name, _ in found}


def test_app_commands_exist():
    parser = build_parser()
    bins = PROJECT_ROOT / ".venv" / "bin"
    for name, service in app_services().items():
        command = command_of(service)
        if command[0] == "f1":
            parser.parse_args(command[1:])  # exits (SystemExit) on an unknown subcommand or option
        elif command[0] != "sh":
            assert (bins / command[0]).exists(), f"{name}: {command[0]} is not installed by uv.lock"
        if "-w" in command:
            assert (PROJECT_ROOT / command[command.index("-w") + 1]).is_file()


# --- Ports, health, dependencies, volumes -----------------------------------------------------------------


def test_published_ports_are_the_settings_defaults_on_loopback():
    expected = {
        "kafka": {DEFAULTS.kafka_port},
        "registry": {DEFAULTS.schema_registry_port},
        "metastore": {DEFAULTS.metastore_port},
        "prometheus": {DEFAULTS.prometheus_port},
        "dagster-webserver": {DEFAULTS.dagster_port},
        "pushgateway": {DEFAULTS.pushgateway_port},
        "node-exporter": {DEFAULTS.node_exporter_port},
        "spark-master": {DEFAULTS.spark_master_webui_port},
        "spark-worker": {DEFAULTS.spark_worker_webui_port},
        "dagster-daemon": {DEFAULTS.spark_ui_port, DEFAULTS.spark_ui_port + 1},
        "grafana": {3001},  # 3000 is the Dagster UI's
        "jupyter": {8888},
        "minio": {9000, 9001},
    }
    every = []
    for name, service in services().items():
        ports = published(service)
        assert all(host_ip == "127.0.0.1" for host_ip, _, _ in ports), f"{name} publishes beyond loopback"
        assert {host for _, host, _ in ports} == expected.get(name, set()), name
        every += [host for _, host, _ in ports]
    assert len(every) == len(set(every)), "a host port published twice"
    # Host-side clients with the default settings reach the broker: its host listener advertises 127.0.0.1.
    kafka = env_of(services()["kafka"])
    ((_, host, container),) = published(services()["kafka"])
    assert f"HOST://0.0.0.0:{container}" in kafka["KAFKA_LISTENERS"].split(",")
    assert f"HOST://127.0.0.1:{host}" in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert 3000 in container_ports("grafana") and 8080 in container_ports("registry")


def test_jmx_exporters_listen_on_the_settings_ports_and_prometheus_scrapes_them():
    agents = {
        "kafka": (env_of(services()["kafka"])["KAFKA_OPTS"], DEFAULTS.kafka_metrics_port),
        "registry": (
            env_of(services()["registry"])["JAVA_OPTS_APPEND"],
            DEFAULTS.schema_registry_metrics_port,
        ),
        "metastore": (" ".join(command_of(services()["metastore"])), DEFAULTS.metastore_metrics_port),
    }
    jvm_targets = {
        (target, group["labels"]["service"])
        for job in prometheus_config()["scrape_configs"]
        if job["job_name"] == "jvm"
        for group in job["static_configs"]
        for target in group["targets"]
    }
    for name, (options, port) in agents.items():
        assert re.search(rf"-javaagent:\S+jmx_prometheus_javaagent\.jar={port}:/\S+\.yml", options), name
        config = re.search(rf"={port}:(\S+\.yml)", options)[1]
        assert Path(config).name in {p.name for p in (PROJECT_ROOT / "monitoring" / "jmx").glob("*.yml")}
        assert (f"{name}:{port}", name) in jvm_targets


def test_every_service_has_a_health_check_or_is_a_one_shot():
    depended_on = {}
    for service in services().values():
        for target, spec in (service.get("depends_on") or {}).items():
            depended_on.setdefault(target, set()).add(spec["condition"])
    for name, service in services().items():
        if is_one_shot(service):
            assert "healthcheck" not in service and not service.get("ports"), name
            assert depended_on.get(name) == {"service_completed_successfully"}, f"nothing waits for {name}"
        else:
            check = service.get("healthcheck") or {}
            assert check.get("test") and not check.get("disable"), f"{name} has no health check"
            assert service.get("restart") == "unless-stopped", name


def test_dependencies_exist_and_wait_for_the_right_condition():
    svc = services()
    for name, service in svc.items():
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}: depends_on with conditions, not a list"
        for target, spec in depends_on.items():
            assert target in svc, f"{name} depends on an unknown service {target}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in svc[target], f"{name} waits for {target}'s health, which it has not"
            else:
                assert condition == "service_completed_successfully" and is_one_shot(svc[target]), (
                    name,
                    target,
                )
    # No cycles: compose would refuse to start.
    done, visiting = set(), set()

    def visit(name):
        assert name not in visiting, f"dependency cycle through {name}"
        if name not in done:
            visiting.add(name)
            for target in svc[name].get("depends_on") or {}:
                visit(target)
            visiting.discard(name)
            done.add(name)

    for name in svc:
        visit(name)
    # The platform's processes start once `f1 init` made the topics, schemas and tables.
    for name in ("dagster-webserver", "dagster-daemon", "simulator", "streams", "jupyter"):
        assert svc[name]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert set(svc["init"]["depends_on"]) >= {"kafka", "registry", "metastore", "minio-init", "spark-worker"}


def test_volumes_are_declared_and_mounted_files_exist():
    declared = set(compose()["volumes"])
    used = set()
    for name, service in services().items():
        for volume in service.get("volumes", []):
            assert isinstance(volume, str), f"{name}: use the short syntax SOURCE:TARGET[:MODE]"
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (PROJECT_ROOT / source).exists(), (
                    f"{name} mounts {source}, which is not in the repository"
                )
            elif source.startswith("/"):
                assert (name, source) == ("node-exporter", "/"), f"{name} mounts a host path {source}"
            else:
                assert source in declared, f"{name} mounts the undeclared volume {source}"
                used.add(source)
    assert used == declared, f"declared but unused: {declared - used}"


# --- Images and versions ----------------------------------------------------------------------------------


def _dockerfile_images() -> list[str]:
    text = DOCKERFILE.read_text()
    return re.findall(r"^FROM\s+(\S+)", text, re.M) + re.findall(r"COPY\s+--from=(\S+/\S+)", text)


def test_every_image_is_pinned():
    images = [service["image"] for service in services().values()] + _dockerfile_images()
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag not in ("latest", "latest-release", "main") and re.search(r"\d", tag), (
            f"{image} is not pinned"
        )
    app = {service["image"] for service in app_services().values()}
    assert len(app) == 1 and all(
        s["build"]["dockerfile"] == "docker/app.Dockerfile" for s in app_services().values()
    )


def test_versions_agree_with_the_pom_and_pyproject():
    pom = pom_versions()
    images = {
        service["image"].rsplit(":", 1)[0]: service["image"].rsplit(":", 1)[1]
        for service in services().values()
    }
    assert images["apache/kafka"] == pom["kafka.version"]
    assert images["apicurio/apicurio-registry"] == pom["apicurio.version"]
    spark = images["apache/spark"]
    assert spark.startswith(f"{pom['spark.version']}-scala{pom['scala.binary.version']}-java17"), spark
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert f"pyspark[sql]=={pom['spark.version']}" in pyproject["project"]["dependencies"]
    # The app image: the Python pyproject.toml requires, Java 17 like the services, the uv the scripts pin.
    from_images = dict(image.rsplit(":", 1) for image in _dockerfile_images())
    assert re.fullmatch(r"3\.11\.\d+-slim-bookworm", from_images["python"])
    assert pyproject["project"]["requires-python"] == ">=3.11,<3.12"
    assert (
        "eclipse-temurin-17" in from_images["maven"] and "openjdk-17-jre-headless" in DOCKERFILE.read_text()
    )
    uv_version = re.search(
        r'UV_VERSION="\$\{UV_VERSION:-([\d.]+)\}"',
        (PROJECT_ROOT / "scripts" / "install-system-deps.sh").read_text(),
    )[1]
    assert from_images["ghcr.io/astral-sh/uv"] == uv_version


def test_the_app_image_installs_like_make_install():
    text = DOCKERFILE.read_text()
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    # The jar step: the Makefile's command (without its make variables).
    jar_step = re.search(
        r"\$\(MVN\) (-B -q -s jvm/settings.xml -f jvm/pom.xml) \$\(MVN_ARGS\) (package)", makefile
    )
    assert f"mvn {jar_step[1]} {jar_step[2]}" in text
    assert "uv sync --frozen" in text
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in source.split():
            assert path == "." or (PROJECT_ROOT / path).exists(), f"COPY {path}: not in the repository"
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    for path in (".env", ".f1/", ".venv/", "jvm/lib/"):
        assert path in ignored, f"{path} would be sent to docker build"


# --- Prometheus and Grafana -------------------------------------------------------------------------------


@cache
def prometheus_config() -> dict:
    return yaml.safe_load((PROMETHEUS_DIR / "prometheus.compose.yml").read_text())


def test_prometheus_scrapes_the_local_runtimes_jobs_by_compose_hostnames():
    config = prometheus_config()
    local = yaml.safe_load((PROMETHEUS_DIR / "prometheus.local.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {job["job_name"] for job in local["scrape_configs"]} <= set(jobs)
    assert config["global"]["scrape_interval"] == DEFAULTS.prometheus_scrape_interval
    for rule_file in config["rule_files"]:
        assert (PROMETHEUS_DIR / rule_file).is_file()
        assert (
            f"./monitoring/prometheus/{rule_file}:/etc/prometheus/{rule_file}:ro"
            in services()["prometheus"]["volumes"]
        )
    assert (
        "./monitoring/prometheus/prometheus.compose.yml:/etc/prometheus/prometheus.yml:ro"
        in services()["prometheus"]["volumes"]
    )
    for job in config["scrape_configs"]:
        for group in job.get("static_configs", []):
            for target in group["targets"]:
                host, port = _hostport(target)
                if host != "localhost":
                    assert host in services(), f"{job['job_name']}: {host} is not a compose service"
        for group in job.get("dns_sd_configs", []):
            assert set(group["names"]) <= set(services())
    # The lake query's exporter, METRICS_EXPORTER_PORT, wherever it runs: Dagster's run or `f1 stream run`.
    streaming = {(n, g["port"]) for g in jobs["f1-streaming"]["dns_sd_configs"] for n in g["names"]}
    port = DEFAULTS.metrics_exporter_port
    assert streaming == {("dagster-daemon", port), ("streams", port)}
    assert jobs["schema-registry"]["static_configs"][0]["targets"] == ["registry:8080"]
    assert jobs["pushgateway"]["static_configs"][0]["targets"] == [f"pushgateway:{DEFAULTS.pushgateway_port}"]
    assert jobs["node"]["static_configs"][0]["targets"] == [f"node-exporter:{DEFAULTS.node_exporter_port}"]


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed (Debian's prometheus)"
)
def test_prometheus_compose_config_is_valid():
    result = subprocess.run(
        ["promtool", "check", "config", str(PROMETHEUS_DIR / "prometheus.compose.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_provisioning_is_mounted_where_it_is_read():
    grafana = services()["grafana"]
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    dashboards_mount = next(v for v in grafana["volumes"] if v.startswith("./monitoring/grafana/dashboards:"))
    container_dir = dashboards_mount.split(":")[1]
    provisioning = PROJECT_ROOT / "monitoring" / "grafana" / "provisioning"
    dashboards = datasources = 0
    for path in sorted(provisioning.rglob("*.y*ml")):
        config = yaml.safe_load(path.read_text()) or {}
        for provider in config.get("providers", []):
            # Grafana expands $VAR and ${VAR} in provisioning files from its environment.
            folder = interpolate(provider.get("options", {}).get("path", ""), env_of(grafana))
            assert folder == container_dir, f"{path.name}: dashboards read from {folder}"
            dashboards += 1
        for source in config.get("datasources", []):
            if source.get("type") == "prometheus":
                url = interpolate(source["url"], env_of(grafana))
                assert _url_hostport(url) == ("prometheus", 9090), f"{path.name}: {source['url']}"
                datasources += 1
    assert dashboards and datasources, "no dashboard provider or Prometheus datasource provisioned"


# --- Compose itself: docker compose config, or compose-go ---------------------------------------------------


def _clean_env() -> dict[str, str]:
    """The environment without any of the platform's variables, and no .env: every default applies."""
    names = set(SETTINGS) | set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    env = {k: v for k, v in os.environ.items() if k not in names}
    return env | {"COMPOSE_DISABLE_ENV_FILE": "1"}


@pytest.fixture(scope="session")
def compose_config(tmp_path_factory):
    """A function running the validator on a compose file: (exit code, normalised YAML, messages)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:

        def run(path: Path):
            command = [docker, "compose", "-f", str(path), "--profile", "*", "config"]
            result = subprocess.run(command, capture_output=True, text=True, env=_clean_env())
            return result.returncode, result.stdout, result.stderr

        return run
    binary = COMPOSE_CHECK_BIN
    if not binary.exists():
        if shutil.which("go") is None:
            pytest.skip(
                "neither `docker compose` nor Go is installed: the compose file is checked by the structure "
                "tests only (install the compose plugin, or Go and run `make compose-check`)"
            )
        binary = tmp_path_factory.mktemp("compose-check") / "compose-check"
        build = subprocess.run(
            ["go", "build", "-o", str(binary), "."], cwd=COMPOSE_CHECK_DIR, capture_output=True, text=True
        )
        assert build.returncode == 0, build.stderr

    def run(path: Path):
        result = subprocess.run(
            [str(binary), "-profile", "*", str(path)], capture_output=True, text=True, env=_clean_env()
        )
        return result.returncode, result.stdout, result.stderr

    return run


def test_compose_loads_and_validates(compose_config):
    code, output, messages = compose_config(COMPOSE_FILE)
    assert code == 0, messages
    normalised = yaml.safe_load(output)
    assert set(normalised["services"]) == set(services())
    assert set(normalised["volumes"]) == set(compose()["volumes"])
    # Compose's interpolation gives what this test reads: the checks above are about the real file.
    for name, service in services().items():
        assert env_of(normalised["services"][name]) == env_of(service), name
        assert normalised["services"][name].get("profiles") == service.get("profiles"), name


# Mistakes the validator must catch: (service, key, change) -> the word its error names.
MISTAKES = {
    "unknown-dependency": (
        ("simulator", "depends_on", {"nowhere": {"condition": "service_healthy"}}),
        "nowhere",
    ),
    "misspelt-key": (("kafka", "helthcheck", {"test": ["CMD", "true"]}), "helthcheck"),
    "undeclared-volume": (("minio", "volumes", ["undeclared:/x"]), "undeclared"),
}


@pytest.mark.parametrize("mistake, expected", MISTAKES.values(), ids=MISTAKES.keys())
def test_the_validator_rejects_a_broken_file(compose_config, tmp_path, mistake, expected):
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    service, key, change = mistake
    current = doc["services"][service].get(key)
    if isinstance(current, dict):
        current.update(change)
    elif isinstance(current, list):
        current.extend(change)
    else:
        doc["services"][service][key] = change
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, _, messages = compose_config(broken)
    assert code != 0 and expected in messages, messages
