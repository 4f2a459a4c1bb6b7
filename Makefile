# The two commands a newcomer needs: `make run` and `make test`. Python 3.11, 3.12 or 3.13.
#
# PYTHON: the newest of python3.13, python3.12, python3.11 that runs, or PYTHON=NAME-OR-PATH.
# A name is looked up on PATH, then under `pyenv root` (a pyenv shim of a version that is not
# activated does not run, so PYTHON=python3.12 also finds pyenv's 3.12.x).
# VENV: where it is installed (.venv); a venv made by another interpreter version is rebuilt.
hash := \#
find_python = $(shell for name in $(1); do \
	for p in "$$name" $$(ls -d "$$(pyenv root 2>/dev/null)"/versions/$${name$(hash)python}.*/bin/$$name \
	    2>/dev/null | sort -rV); do \
	  "$$p" -c '' 2>/dev/null && { command -v "$$p"; exit 0; }; done; done)
override PYTHON := $(call find_python,$(or $(PYTHON),python3.13 python3.12 python3.11 python3))
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON_VERSION := $(if $(PYTHON),$(shell $(PYTHON) -c \
	'import sys; sys.version_info >= (3, 11) and print("%d.%d.%d" % sys.version_info[:3])'))
ifeq ($(PYTHON_VERSION),)
$(error No Python 3.11 or newer found ($(or $(PYTHON),none runs)): set PYTHON=python3.13, 3.12 or 3.11)
endif
# One stamp per interpreter version: asking for another Python rebuilds the venv.
STAMP := $(VENV)/.installed-py$(PYTHON_VERSION)
VENV_VERSION = $(shell $(BIN)/python -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' \
	2>/dev/null)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run serve test lint bench bench-ab bench-instructions bench-admin bench-import schema clean

$(STAMP): pyproject.toml
	@if test -x $(BIN)/python && [ "$(VENV_VERSION)" != "$(PYTHON_VERSION)" ]; then \
	  echo "$(VENV) holds Python $(VENV_VERSION); rebuilding it with $(PYTHON) ($(PYTHON_VERSION))"; \
	  rm -rf $(VENV); fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run: install, migrate, load the demo data, print curl examples, serve on $(HOST):$(PORT)
## with a webhook delivery worker beside the server. DEBUG is on (development keys); every
## other start has DEBUG off unless it is set, and then needs SECRET_KEY and JWT_SIGNING_KEY.
run: export DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loaddata fixtures/demo.json
	$(BIN)/python manage.py demo_examples --base-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py deliver_webhooks & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## make serve: production-style gunicorn (see metadata_gateway/gunicorn.py for its settings).
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c python:metadata_gateway.gunicorn metadata_gateway.wsgi

## make test: install and run the whole suite (DATABASE_URL picks the database; SQLite by default).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make bench: issue 7's benchmark over PostgreSQL (DATABASE_URL, default a database of its own,
## metadata_bench, rebuilt each run) with wrk; writes bench/results.json and bench/results.png.
## BENCH_CONNECTIONS, BENCH_DURATION, BENCH_RUNS, BENCH_WORKERS, BENCH_SIZES override defaults.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench.run

## make bench-ab A=DIR B=DIR: `make bench` of two checkouts (each with its own .venv and bench
## extras installed) in interleaved rounds at 10^6 rows; prints each door's B over A and spread.
bench-ab: $(BENCH_STAMP)
	$(BIN)/python -m bench.ab $(A) $(B) $(BENCH_AB_ARGS)

## make bench-instructions A=DIR B=DIR: the gateway's instructions per request of each door in
## two checkouts, counted by callgrind (repeatable where req/s spread); over the database
## `make bench` left behind.
bench-instructions: $(BENCH_STAMP)
	command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind >/dev/null)
	$(BIN)/python -m bench.instructions $(A) $(B)

## make bench-admin: issue 22's admin pages and searches at 10^6 metadata rows, best of three,
## through Django's test client (BENCH_ADMIN_DATABASE_URL, default a database of its own,
## metadata_bench_admin, built once and reused while it holds the rows; BENCH_ADMIN_ARGS=--rebuild).
bench-admin: install
	$(BIN)/python -m bench.admin $(BENCH_ADMIN_ARGS)
## make bench-import: 10^5 counterparts through import_objects on PostgreSQL (a database of its own,
## BENCH_IMPORT_DATABASE_URL, default import_bench, dropped afterwards); target under 60 s.
bench-import: install
	$(BIN)/python -m bench.provisioning

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make schema: write the OpenAPI and GraphQL schemas that are checked in.
schema: export DEBUG ?= true
schema: install
	$(BIN)/python manage.py spectacular --file docs/openapi.yaml --validate --fail-on-warn
	$(BIN)/python manage.py graphql_schema --schema metadata.graphql.schema.schema --out docs/schema.graphql

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache
