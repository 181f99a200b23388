# Guild Sync. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
PG_CRON := /usr/lib/postgresql/15/lib/pg_cron.so
PG_BIN := /usr/lib/postgresql/15/bin/postgres
PGBOUNCER := /usr/sbin/pgbouncer
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PYTHONPATH := $(CURDIR)

.PHONY: help deps system-deps venv run test lint typecheck unit integration functions-test e2e pooler-test package bench emulator demo service-key clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

system-deps: ## install PostgreSQL 15, pg_cron and pgbouncer with apt when missing
	@if [ ! -x $(PG_BIN) ] || [ ! -f $(PG_CRON) ]; then \
	  echo "installing postgresql-15-cron (and postgresql-15 if missing) ..."; \
	  $(SUDO) apt-get update -qq; \
	  pkgs="postgresql-15-cron"; [ -x $(PG_BIN) ] || pkgs="postgresql-15 $$pkgs"; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$pkgs >/dev/null; \
	fi
	@if [ ! -x $(PGBOUNCER) ]; then \
	  echo "installing pgbouncer (the tests run once more through it, in transaction mode) ..."; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq pgbouncer >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip >/dev/null
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create the virtualenv with the project and its dev tools

deps: system-deps venv ## everything the project needs (apt packages and the venv)

run: deps ## the local stack: Postgres+pg_cron+pgmq, emulator, gateway :54321, consumer loop
	$(PY) -m devtools.stack

test: deps lint typecheck ## the whole suite: lint, types, unit, integration, handlers, end to end; handlers and end to end once more through pgbouncer
	$(PY) -m pytest -q
	GUILD_SYNC_TEST_POOLER=1 $(PY) -m pytest -q tests/functions tests/e2e

lint: venv ## ruff on everything
	$(VENV)/bin/ruff check shared functions devtools tests
	$(VENV)/bin/ruff format --check shared functions devtools tests

typecheck: venv ## mypy on shared/ and functions/
	$(VENV)/bin/mypy shared functions

unit: venv ## the fast tests only
	$(PY) -m pytest -q tests/unit

integration: deps ## tests on the real Postgres
	$(PY) -m pytest -q tests/integration

functions-test: deps ## handler tests through functions-framework
	$(PY) -m pytest -q tests/functions

e2e: deps ## end-to-end tests over the gateway and the emulator
	$(PY) -m pytest -q tests/e2e

pooler-test: deps ## handler and end-to-end tests through pgbouncer in transaction mode (as Supabase's pooler)
	GUILD_SYNC_TEST_POOLER=1 $(PY) -m pytest -q tests/functions tests/e2e

package: venv ## deployable bundles: dist/functions/<name>/ per function, dist/container/ for deploy/Dockerfile
	$(PY) -m devtools.package

bench: deps ## benchmarks against the emulator (numbers and ratios)
	$(PY) -m devtools.bench

emulator: venv ## the Battle.net emulator alone on :54323
	$(PY) -m devtools.emulator --port 54323

demo: venv ## log an emulator user in and sync their characters (needs `make run`)
	$(PY) -m devtools.demo

service-key: venv ## print the local service-role key
	@$(PY) -m devtools.service_key

clean: ## remove the local clusters, the venv and dist/
	rm -rf .local $(VENV) dist
