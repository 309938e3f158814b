# The two commands that set up everything on a fresh machine with Python 3.11:
#   make demo   - environment, sample legacy system, full dry run, readiness summary and report
#   make test   - environment, the services the tests need, lint, types and the whole suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := demo-workspace
OFFENDERS ?= 2000
PYTEST_ARGS ?=

.PHONY: all env demo test lint typecheck pytest services bench profile clean goldens

all: test

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

services:
	scripts/test-services start

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: env
	$(BIN)/mypy

pytest: env services
	set -a && . .services/env && set +a && $(BIN)/pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

demo: env
	$(BIN)/cutover demo --dir $(DEMO) --offenders $(OFFENDERS) --seed 7

# Every figure of issue 7 in one run (100,000 offenders, reused from bench-out/ when there);
# e.g. BENCH_ARGS='--offenders 2000 --scaling-sizes 500,1000,2000 --scaling' for a quick one.
BENCH_ARGS ?= --scaling
bench: env services
	$(BIN)/pip install -q -e '.[dev,bench]'
	set -a && . .services/env && set +a && $(BIN)/python -m tests.benchmarks.run $(BENCH_ARGS)

# Where a dry run's time goes: py-spy samples every process of one SQLite dry run (10,000
# offenders by default) and prints the project's functions and the running frames by share.
PROFILE_ARGS ?=
profile: env
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m tests.benchmarks.profile $(PROFILE_ARGS)

# Rewrite the golden files of the mapping tests on purpose, after reviewing the change.
goldens: env
	CUTOVER_REFRESH_GOLDENS=1 $(BIN)/pytest -q tests/transform -k golden

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
	-scripts/test-services stop
	rm -rf .services
