# syntax=docker/dockerfile:1
# The f1-telemetry app image: the platform's own services in docker-compose.yml (metastore, init, Dagster
# webserver and daemon, simulator, streams, Jupyter) run from this one image. It holds what `make install`
# puts on a machine: the Python environment from uv.lock and the JVM jars resolved by jvm/pom.xml.
# Build context: the repository root (`docker compose build`, or `docker build -f docker/app.Dockerfile .`).

# --- JVM jars: the same command as the Makefile's jar step (`make install`), in a JDK + Maven image ----------
FROM maven:3.9.11-eclipse-temurin-17 AS jars
WORKDIR /src
COPY jvm/ jvm/
RUN --mount=type=cache,target=/root/.m2 \
    rm -rf jvm/lib && mvn -B -q -s jvm/settings.xml -f jvm/pom.xml package && touch jvm/lib/.installed

# --- Runtime: Python 3.11 (pyproject.toml) + a Java 17 runtime for Spark, the metastore and the tools ---------
FROM python:3.11.13-slim-bookworm
# Java from Debian's package, as scripts/install-system-deps.sh installs it (the man folder: its postinst
# links a man page there, which slim images strip). procps: Spark's scripts call `ps`.
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
    && rm -rf /var/lib/apt/lists/*
# The uv that scripts/install-system-deps.sh pins.
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1
WORKDIR /app

# Dependencies first (a layer that changes only with uv.lock), then the project itself. No dev group
# (tests, linters); the notebook group for the jupyter service.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project --no-default-groups --group notebook
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --group notebook
COPY --from=jars /src/jvm/lib jvm/lib
# The JMX exporter agent under a name without its version, for the JVM services' command lines (the compose
# `prepare` service also copies it into a volume for the Kafka and registry images).
RUN mkdir -p /opt/f1/agents \
    && cp jvm/lib/monitoring/jmx_prometheus_javaagent-*.jar /opt/f1/agents/jmx_prometheus_javaagent.jar

# An unprivileged user owning the folders the compose file mounts named volumes on (a new volume takes
# the owner of the folder it is mounted on). F1_STATE_DIR stays .f1 under /app, as in the local runtime.
RUN useradd --create-home --uid 1000 f1 \
    && mkdir -p /app/.f1 /app/notebooks /var/lib/dagster /var/lib/metastore \
    && chown f1:f1 /app \
    && chown -R f1:f1 /app/.f1 /app/notebooks /app/dbt /var/lib/dagster /var/lib/metastore
USER f1

CMD ["f1", "--help"]
