# Quartier: `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(abspath $(BIN)/python)

.PHONY: install run test lint typecheck unit openapi bench fuzz fuzz-ci durability durability-ci messages clean-db

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --quiet
	touch $@

run: install
	$(BIN)/quartier serve --demo

lint: install
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint typecheck unit

openapi: install
	$(BIN)/quartier openapi --output openapi/openapi.json

# Contract fuzzing (Schemathesis, all checks and phases, anonymous / token / admin).
fuzz: install
	$(BIN)/python tests/fuzz/run_fuzz.py --examples 1000
fuzz-ci: install
	$(BIN)/python tests/fuzz/run_fuzz.py --examples 50 --seed 20261125

# Crash durability: SIGKILL app and PostgreSQL under submission load, verify nothing is lost.
durability: install
	$(BIN)/python tests/durability/run_durability.py --kills 5 --seconds 10 --clients 32
durability-ci: install
	$(BIN)/python tests/durability/run_durability.py --kills 3 --seconds 2 --clients 8

bench: install
	$(BIN)/python bench/run.py

# Re-extract UI strings and merge them into the de/en catalogues (then translate the new
# German entries; tests/test_i18n.py fails while one is missing).
messages: install
	mkdir -p .quartier
	$(BIN)/pybabel extract -F babel.cfg -o .quartier/messages.pot --project=Quartier \
	  --copyright-holder="Quartier contributors" --sort-output --no-wrap --add-location=file .
	$(BIN)/pybabel update -i .quartier/messages.pot -d frontend/locales -D messages --no-wrap \
	  --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

clean-db:
	rm -rf .quartier/pgdata .quartier/run
