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
	$(BIN)/quartier serve --demo --with-worker

lint: install
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench

typecheck: install
	$(BIN)/mypy

# Two workers (pytest-xdist), each with its own private PostgreSQL cluster; tests of one module
# stay on one worker (module-scoped live servers and browsers). PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 2
unit: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope

test: lint typecheck unit

openapi: install
	$(BIN)/quartier openapi --output openapi/openapi.json

# Contract fuzzing (Schemathesis, all checks and phases, anonymous / token / admin).
fuzz: install
	$(BIN)/python tests/fuzz/run_fuzz.py --examples 1000
# CI (about 8 minutes on two quiet cores, 2026-12-07), one server, in this order:
# - the API token holder (every scope, so every operation's logic is reached): all phases —
#   the coverage phase's systematic boundary and negative cases, then 5 generated examples per
#   operation and the stateful links — from a fixed seed (the regression run);
# - anonymous callers and a signed-in administrator (session cookie + CSRF): 3 generated
#   examples per operation each (authentication and the cookie path; the coverage phase's cases
#   come from the schema alone, so it runs once, as the token holder, to keep CI under 30 min);
# - a short campaign with a seed derived from the commit: it changes with every commit, yet a
#   CI result depends only on the commit and replays exactly (`run_fuzz.py --run
#   token:fuzzing:50:SEED --operations REGEX`; every seed is printed).
# `make fuzz` runs all phases with 1,000 examples per operation for every caller, random seed.
# One worker: Hypothesis describes strategies with ast.parse, which CPython 3.11 does not do
# safely from two threads at once ("AST constructor recursion depth mismatch", seen here).
FUZZ_SEED := 20261125
fuzz-ci: install
	$(BIN)/python tests/fuzz/run_fuzz.py --workers 1 \
	  --run token:all:5:$(FUZZ_SEED) \
	  --run anonymous:examples,fuzzing,stateful:3:$(FUZZ_SEED) \
	  --run admin:examples,fuzzing,stateful:3:$(FUZZ_SEED) \
	  --run token:fuzzing,stateful:3:commit

# Crash durability: SIGKILL app and PostgreSQL under submission load, verify nothing is lost.
durability: install
	$(BIN)/python tests/durability/run_durability.py --kills 5 --seconds 10 --clients 32
durability-ci: install
	$(BIN)/python tests/durability/run_durability.py --kills 3 --seconds 2 --clients 8

# Benchmarks (bench/results/<date>*.md): submissions, aggregated needs and the social report
# (run.py, which runs surveys_bench.py and with it report_bench.py, #11), ideas with 1M ideas (#9),
# feedback on measures (#10), the job queue and webhook deliveries with retries and dead letters
# (jobs_bench.py, #13); then the table of staff page sizes on the demo data (#12, printed).
# Run on a quiet machine.
bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/ideas_bench.py
	$(BIN)/python bench/feedback_bench.py
	$(BIN)/python bench/jobs_bench.py
	$(BIN)/python bench/staff_pages.py

# Re-extract UI strings and merge them into the de/en/tr/ar catalogues (then translate the new
# German, Turkish and Arabic entries; tests/test_i18n.py fails while one is missing). The
# easy-read catalogue (de_x_simple) is edited by hand: it carries only the texts it makes easier.
UI_CATALOGUES := de en tr ar
messages: install
	mkdir -p .quartier
	$(BIN)/pybabel extract -F babel.cfg -o .quartier/messages.pot --project=Quartier \
	  --copyright-holder="Quartier contributors" --sort-output --no-wrap --add-location=file .
	for lang in $(UI_CATALOGUES); do \
	  $(BIN)/pybabel update -i .quartier/messages.pot -d frontend/locales -D messages -l $$lang \
	    --no-wrap --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date || exit 1; \
	done

clean-db:
	rm -rf .quartier/pgdata .quartier/run
