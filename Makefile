# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock run test test-faults lint lint-image format services migrate check-migrations clean bench

# Exactly the locked versions (hashes checked), then the project itself without resolving again.
$(BIN)/caseimport: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/caseimport

# After a change to pyproject.toml's dependencies: requirements.lock and requirements-dev.lock
# made again with uv, keeping every pin that still fits (`scripts/lock --upgrade` moves them all).
lock: install
	$(BIN)/python scripts/lock

services:
	scripts/ensure-services

migrate: install services
	$(BIN)/caseimport migrate

# Everything for a newcomer (`caseimport run`): the service's own PostgreSQL and Redis unless
# DATABASE_URL and REDIS_URL are set, migrations, a first admin and a demo app the first time,
# the API (with the SPA at /) and a worker. Ctrl-C stops them all.
run: install
	$(BIN)/caseimport run --host $(HOST) --port $(PORT)

# The whole suite, the browser tests in Debian's Chromium and the corpus of files exported by
# Debian's LibreOffice included (both installed when missing); then the fault suite.
test: install services
	scripts/ensure-chromium
	scripts/ensure-libreoffice
	scripts/ensure-fault-servers
	$(BIN)/pytest
	$(FAULT_SUITE)

# The fault suite (tests/faults/, about 5 minutes): its own PostgreSQL and Redis, two API
# processes and real workers, killed, stopped, frozen and cut off mid-import; it prints a
# RECOVERY line per scenario. Only its own conftest (--confcutdir): the unit tests' one builds
# their database on the machine's server. One scenario: `make test-faults ARGS='-k sigkill'`.
ARGS ?=
FAULT_SUITE = $(BIN)/pytest --confcutdir tests/faults -s tests/faults $(ARGS)
test-faults: install
	scripts/ensure-fault-servers
	$(FAULT_SUITE)

# The benchmark of docs/performance.md (not part of `make test`; a 10,000-row run of it is): ROWS rows
# (default 1,000,000) through the API and a real worker, against PostgreSQL's own COPY. It wipes
# its own database caseimport_bench and Redis db 12 (DATABASE_URL and REDIS_URL choose others)
# and prints a table and one line of JSON; see bench/__main__.py.
ROWS ?= 1000000
bench: install services
	ROWS=$(ROWS) $(BIN)/python -m bench

# The models and the migrations describe the same tables (alembic check on a scratch database).
check-migrations: install services
	scripts/check-migrations

lint: install lint-image
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The lock files match pyproject.toml (first: a dependency added without `make lock` is named
# before anything fails on it); hadolint passes the Dockerfile; compose.yaml fits the Compose
# specification and holds together (.ci/compose-check: compose.yaml requires a secret key from
# its user, and any value does for the check); the scripts without a .py suffix, which ruff and
# mypy would not find, pass them.
IMAGE_SCRIPTS = scripts/lock .ci/compose-check .ci/dockerfile-steps
lint-image: install
	$(BIN)/python scripts/lock --check
	$(BIN)/hadolint Dockerfile
	CASEIMPORT_SECRET_KEY=compose-check $(BIN)/python .ci/compose-check compose.yaml
	$(BIN)/ruff check $(IMAGE_SCRIPTS)
	$(BIN)/ruff format --check $(IMAGE_SCRIPTS)
	for script in $(IMAGE_SCRIPTS); do $(BIN)/mypy --strict --ignore-missing-imports $$script || exit 1; done

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
