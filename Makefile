# Salescoach: `make run` starts everything; `make test` runs every test. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install run test test-unit test-integration test-e2e lint format bench eval clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	@$(UV) sync --locked --quiet
	@touch $@

install: $(VENV)/.installed ## install Python and every dependency from the lock file

run: install ## start the whole system with the demo org; Ctrl-C stops it
	@$(PY) -m deploy.local.stack run

test: install lint ## lint, then unit + integration (SQLite and PostgreSQL) + e2e tests
	@$(PY) -m pytest tests/unit tests/integration tests/e2e

test-unit: install ## unit tests only (no I/O)
	@$(PY) -m pytest tests/unit

test-integration: install ## integration tests (real broker, SQLite + PostgreSQL, real HTTP)
	@$(PY) -m pytest tests/integration

test-e2e: install ## the whole stack as processes
	@$(PY) -m pytest tests/e2e

lint: install ## ruff, ruff-format check, mypy strict on services/ and shared/
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

format: install ## apply ruff fixes and formatting
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

bench: install ## benchmarks, as ratios against a baseline measured in the same run
	@$(PY) -m benchmarks

eval: install ## score the alert rules on the simulator's standard scenarios (~15 min)
	@$(PY) -m simulator eval

clean: ## remove the virtualenvs and local state (var/)
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
