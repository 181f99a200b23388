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
CHROMIUM := /usr/bin/chromium
PLPGSQL_CHECK := /usr/lib/postgresql/15/lib/plpgsql_check.so
# pgmq as hosted Supabase ships it (1.4.4 on Postgres 15 projects, 1.5.1 on 17), installed as a
# real extension from ../shared/platform/pgmq (DESIGN.md section 8)
PG_EXTENSION_DIR := /usr/share/postgresql/15/extension
PGMQ_PLATFORM := $(abspath $(CURDIR)/../shared/platform/pgmq)
PGMQ_VERSIONS := 1.4.4 1.5.1
# its control file as ../shared/platform/pgmq/README.md gives it (no module_pathname: pure SQL)
PGMQ_CONTROL := comment = 'pgmq'\ndefault_version = '1.4.4'\nschema = 'pgmq'\nrelocatable = false\nsuperuser = false\n
# the Supabase CLI (npm, pinned exactly): db push, db lint, gen signing-key
SUPABASE_CLI_DIR := devtools/supabase-cli
SUPABASE_CLI := $(SUPABASE_CLI_DIR)/node_modules/.installed-$(shell md5sum < $(SUPABASE_CLI_DIR)/package-lock.json | cut -c1-12)
# web/: npm ci when the lockfile changes, vite build when a source changes
WEB_DEPS := web/node_modules/.installed-$(shell md5sum < web/package-lock.json | cut -c1-12)
WEB_BUILD := web/dist/.built
WEB_SRC := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json web/package.json web/package-lock.json
export PYTHONPATH := $(CURDIR)

.PHONY: help deps system-deps pgmq-extension pgmq-1.5.1-test supabase-cli venv web web-deps web-test browser-test run test lint typecheck audit lock unit integration functions-test e2e pooler-test schema package bench emulator demo requeue service-key clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

system-deps: ## install PostgreSQL 15, pg_cron, pgbouncer and Chromium (browser tests) with apt when missing
	@if [ ! -x $(PG_BIN) ] || [ ! -f $(PG_CRON) ]; then \
	  echo "installing postgresql-15-cron (and postgresql-15 if missing) ..."; \
	  $(SUDO) apt-get update -qq; \
	  pkgs="postgresql-15-cron"; [ -x $(PG_BIN) ] || pkgs="postgresql-15 $$pkgs"; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$pkgs >/dev/null; \
	fi
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing chromium (the browser tests drive Debian's Chromium) ..."; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi
	@if [ ! -f $(PLPGSQL_CHECK) ]; then \
	  echo "installing postgresql-15-plpgsql-check (supabase db lint runs plpgsql_check) ..."; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-15-plpgsql-check >/dev/null; \
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

pgmq-extension: ## install hosted's pgmq (1.4.4, 1.5.1) as a Postgres extension from ../shared/platform/pgmq
	@if [ ! -d $(PGMQ_PLATFORM) ]; then \
	  echo "$(PGMQ_PLATFORM) is missing: pgmq cannot be installed as hosted ships it" >&2; exit 1; fi
	@printf "$(PGMQ_CONTROL)" | cmp -s - $(PG_EXTENSION_DIR)/pgmq.control || \
	  printf "$(PGMQ_CONTROL)" | $(SUDO) tee $(PG_EXTENSION_DIR)/pgmq.control >/dev/null
	@for v in $(PGMQ_VERSIONS); do \
	  cmp -s $(PGMQ_PLATFORM)/pgmq--$$v.sql $(PG_EXTENSION_DIR)/pgmq--$$v.sql || \
	  $(SUDO) install -m 644 $(PGMQ_PLATFORM)/pgmq--$$v.sql $(PG_EXTENSION_DIR)/; \
	done

$(SUPABASE_CLI): $(SUPABASE_CLI_DIR)/package-lock.json
	cd $(SUPABASE_CLI_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(SUPABASE_CLI_DIR)/node_modules/.installed-*; touch $@

supabase-cli: $(SUPABASE_CLI) ## the Supabase CLI 2.117.0 from npm (db push and db lint in the tests)

deps: system-deps venv supabase-cli ## everything the project needs (apt packages, hosted's pgmq, the venv, the Supabase CLI)
	@$(PY) -c 'from devtools.local_keys import LocalKeys; LocalKeys().signing_key()'  # config.toml's signing_keys_path

$(WEB_DEPS): web/package-lock.json
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a * 100 + b >= 2019 ? 0 : 1)' \
	  2>/dev/null || { echo "web/ needs Node.js >= 20.19 with npm (e.g. from nodejs.org or NodeSource)" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@rm -f web/node_modules/.installed-*; touch $@

web-deps: $(WEB_DEPS) ## web/'s npm packages, from the lockfile (npm ci when it changed)

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SRC)
	cd web && npm run -s build
	@touch $@

web: $(WEB_BUILD) ## build the page into web/dist (skipped when up to date)

web-test: web-deps ## the web unit tests (tsc, vitest + Testing Library)
	cd web && npm test -s

run: deps web ## the local stack: Postgres+pg_cron+pgmq, emulator, gateway :54321 (and the page), consumer loop
	@if [ -d $(PGMQ_PLATFORM) ]; then $(MAKE) -s pgmq-extension; fi
	$(PY) -m devtools.stack

test: deps pgmq-extension lint typecheck audit web-test web ## the whole suite: lint, types, audits, web unit, Python tests, browser; handlers and e2e again through pgbouncer; the queue subset on pgmq 1.5.1
	$(PY) -m pytest -q
	GUILD_SYNC_TEST_POOLER=1 $(PY) -m pytest -q tests/functions tests/e2e
	$(MAKE) -s pgmq-1.5.1-test

# The queue, delivery and end-to-end tests once more on pgmq 1.5.1 (hosted's Postgres 17
# projects), on a cluster and ports of their own.
PGMQ_151_TESTS := tests/integration/test_delivery_sql.py tests/integration/test_background_sql.py \
	tests/integration/test_queue_consumer_job.py tests/integration/test_migrations.py \
	tests/functions/test_background_jobs.py tests/functions/test_consumer_health.py \
	tests/e2e/test_character_sync.py tests/e2e/test_load_and_faults.py tests/e2e/test_outages.py

pgmq-1.5.1-test: deps pgmq-extension ## the queue, delivery and e2e tests on pgmq 1.5.1 (as hosted's Postgres 17 projects)
	GUILD_SYNC_PGMQ_VERSION=1.5.1 TEST_DB_PORT=25462 TEST_GATEWAY_PORT=25461 TEST_EMULATOR_PORT=25463 \
	  TEST_POOLER_PORT=25464 $(PY) -m pytest -q $(PGMQ_151_TESTS)

browser-test: deps pgmq-extension web ## the Chromium tests of the page alone
	$(PY) -m pytest -q tests/e2e/test_browser.py

lint: venv ## ruff on everything
	$(VENV)/bin/ruff check shared functions devtools tests
	$(VENV)/bin/ruff format --check shared functions devtools tests

typecheck: venv ## mypy on shared/ and functions/
	$(VENV)/bin/mypy shared functions

audit: venv web-deps ## known vulnerabilities: pip-audit on requirements.lock, npm audit on web/'s runtime packages
	$(PY) -m devtools.audit

lock: venv ## regenerate requirements.lock (the pins `make package` ships) from pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --quiet --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --custom-compile-command 'make lock' -o requirements.lock

unit: venv ## the fast tests only
	$(PY) -m pytest -q tests/unit

integration: deps pgmq-extension ## tests on the real Postgres
	$(PY) -m pytest -q tests/integration

functions-test: deps pgmq-extension ## handler tests through functions-framework
	$(PY) -m pytest -q tests/functions

e2e: deps pgmq-extension ## end-to-end tests over the gateway and the emulator
	$(PY) -m pytest -q tests/e2e

pooler-test: deps pgmq-extension ## handler and end-to-end tests through pgbouncer in transaction mode (as Supabase's pooler)
	GUILD_SYNC_TEST_POOLER=1 $(PY) -m pytest -q tests/functions tests/e2e

schema: deps pgmq-extension ## write sql/schema/ (one file per table and per function) from the migrations, on a throwaway cluster
	$(PY) -m devtools.schema

package: venv ## deployable bundles: dist/functions/<name>/ per function, dist/container/ for deploy/Dockerfile
	$(PY) -m devtools.package

bench: deps pgmq-extension ## benchmarks against the emulator (numbers and ratios)
	$(PY) -m devtools.bench

emulator: venv ## the Battle.net emulator alone on :54323
	$(PY) -m devtools.emulator --port 54323

demo: venv ## log an emulator user in and sync their characters (needs `make run`)
	$(PY) -m devtools.demo

requeue: venv ## put dead letters back as work (QUEUE= SINCE= REASON= LIMIT=; needs `make run`)
	@$(PY) -m devtools.requeue $(if $(QUEUE),--queue '$(QUEUE)') $(if $(SINCE),--since '$(SINCE)') \
	  $(if $(REASON),--reason '$(REASON)') $(if $(LIMIT),--limit '$(LIMIT)')

service-key: venv ## print the local service credential (the stack's sb_secret_ key; legacy JWT with SUPABASE_JWT_SECRET)
	@$(PY) -m devtools.service_key

clean: ## remove the local clusters, the venv, dist/ and web/'s packages and build
	rm -rf .local $(VENV) dist web/node_modules web/dist
