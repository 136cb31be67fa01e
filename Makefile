# f1-telemetry: the commands a user types. `make up` to run the platform, `make test` to test it.
# Every target is also an `f1` subcommand (`uv run f1 --help`).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# `python3 -m uv` when the uv that install-system-deps.sh put in site-packages has no script on PATH.
UV ?= $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)
MVN ?= mvn
MVN_ARGS ?=
F1 := $(UV) run --frozen f1
PYTEST_ARGS ?=
# pytest-xdist workers (tests/conftest.py groups the tests for them). make test runs in one process (0):
# the suite is CPU-bound on two cores, and two workers took 2,830 s against 2,933 s, at a load average of
# 12-15, with the first-hour test twice as long. The fast tier, pure logic, gains: 168 s against 211 s.
TEST_WORKERS ?= 0
FAST_TEST_WORKERS ?= 2
NOTEBOOK_PORT ?= 8888
SERVICE ?=

JVM_POMS := jvm/pom.xml $(wildcard jvm/*/pom.xml)
# Our own Spark functions are built from source, and carry the JSON Schemas they check records against.
JVM_SOURCES := $(shell find jvm/udf/src -type f 2>/dev/null) $(wildcard schemas/*.json)
JVM_STAMP := jvm/lib/.installed
# docker-compose.yml's validator (compose-go), for machines without the `docker compose` plugin.
COMPOSE_CHECK := scripts/compose-check/bin/compose-check
PY_STAMP := .venv/.installed

.PHONY: help install install-system up wait init status logs down test test-fast lint format clean reset bench bench-platform gold notebook env-example compose-check

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: install-system $(PY_STAMP) $(JVM_STAMP) compose-check ## install Python deps (uv.lock) and JVM jars (jvm/pom.xml)

install-system:
	@scripts/install-system-deps.sh

$(PY_STAMP): pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

# Jars from Maven Central only: jvm/settings.xml blocks the extra repositories some poms declare.
$(JVM_STAMP): $(JVM_POMS) $(JVM_SOURCES) jvm/settings.xml
	rm -rf jvm/lib
	$(MVN) -B -q -s jvm/settings.xml -f jvm/pom.xml $(MVN_ARGS) package
	@touch $@

# Built only where Go is (CI, this project's machines); tests/test_compose.py prefers `docker compose config`
# and skips the schema check when neither is present. About 45 s the first time, then cached by Go.
compose-check: ## build the compose-go validator of docker-compose.yml (needs Go; skipped without it)
	@if command -v go >/dev/null 2>&1; then $(MAKE) -s --no-print-directory $(COMPOSE_CHECK); \
	else echo "go not found: compose-check not built (tests/test_compose.py uses docker compose or skips)"; fi

$(COMPOSE_CHECK): scripts/compose-check/main.go scripts/compose-check/go.mod scripts/compose-check/go.sum
	cd scripts/compose-check && go build -trimpath -ldflags='-s -w' -o bin/compose-check .

up: install ## install on first use, start every service (topics and tables are made before Dagster starts)
	@$(F1) up

wait: ## wait until every service is healthy
	$(F1) wait

init: ## create Kafka topics and the catalog's databases (idempotent)
	$(F1) init

status: ## show what runs where, health and memory
	@$(F1) status

logs: ## follow service logs (SERVICE=kafka for one)
	$(F1) logs --follow $(SERVICE)

down: ## stop every service
	$(F1) down

test: install ## the whole suite against real services on free loopback ports (what CI runs)
	$(UV) run --frozen pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Pure logic, and the one smoke test through a real Kafka, bronze and silver (tests/conftest.py: the tiers).
test-fast: install ## the fast tier, a few minutes: run it before every commit
	$(UV) run --frozen pytest -n $(FAST_TEST_WORKERS) --dist loadgroup -m "(not services and not e2e) or smoke" $(PYTEST_ARGS)

lint: $(PY_STAMP) ## static checks
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: $(PY_STAMP) ## format the code
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench: install ## benchmark the platform's pieces and print each figure
	$(F1) bench

bench-platform: install ## the whole platform (make up's) for 20 minutes: RSS and CPU per process, gold's trail
	$(F1) bench platform

gold: install ## build the gold layer with dbt (dbt build, in-process Spark on the shared catalog)
	$(F1) gold build

notebook: install ## Jupyter Lab on 127.0.0.1 in notebooks/, with the project's env (the platform runs: make up)
	$(UV) run --frozen jupyter lab --ip=127.0.0.1 --port=$(NOTEBOOK_PORT) --notebook-dir=notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root)

env-example: $(PY_STAMP) ## regenerate .env.example from streaming/settings/variables.py
	$(F1) env-example > .env.example

clean: ## remove build artefacts and caches (keeps data; see reset)
	rm -rf jvm/lib jvm/*/target .pytest_cache .ruff_cache dbt/target dbt/logs scripts/compose-check/bin
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

reset: $(PY_STAMP) ## stop everything and delete all local state: data, checkpoints, logs
	$(F1) reset
