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
SERVICE ?=

JVM_POMS := jvm/pom.xml $(wildcard jvm/*/pom.xml)
JVM_STAMP := jvm/lib/.installed
PY_STAMP := .venv/.installed

.PHONY: help install install-system up wait init status logs down test lint format clean reset bench env-example

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: install-system $(PY_STAMP) $(JVM_STAMP) ## install Python deps (uv.lock) and JVM jars (jvm/pom.xml)

install-system:
	@scripts/install-system-deps.sh

$(PY_STAMP): pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

# Jars from Maven Central only: jvm/settings.xml blocks the extra repositories some poms declare.
$(JVM_STAMP): $(JVM_POMS) jvm/settings.xml
	rm -rf jvm/lib
	$(MVN) -B -q -s jvm/settings.xml -f jvm/pom.xml $(MVN_ARGS) package
	@touch $@

up: install ## install on first use, start every service, create topics and tables, start Dagster
	$(F1) up
	$(F1) init
	@$(F1) status

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

test: install ## run the test suite against real services on free loopback ports
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: $(PY_STAMP) ## static checks
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: $(PY_STAMP) ## format the code
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench: install ## benchmark the platform's pieces and print each figure
	$(F1) bench

env-example: $(PY_STAMP) ## regenerate .env.example from streaming/settings.py
	$(F1) env-example > .env.example

clean: ## remove build artefacts and caches (keeps data; see reset)
	rm -rf jvm/lib jvm/*/target .pytest_cache .ruff_cache dbt/target dbt/logs
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

reset: $(PY_STAMP) ## stop everything and delete all local state: data, checkpoints, logs
	$(F1) reset
