# make run: install everything and launch the app.  make test: install everything and run all checks.
# make test-fast: the quick loop while editing: the tests but the slow and X-server ones, no lint.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast setup setup-test lint check-imports pytest clean

setup:
	scripts/setup.sh run

setup-test:
	scripts/setup.sh test

run: setup
	$(BIN)/resnet-explorer

test: setup-test lint check-imports pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check-imports:
	$(BIN)/lint-imports

pytest:
	$(BIN)/python -m pytest -n auto --durations=20

test-fast:
	$(BIN)/python -m pytest -q -m "not slow and not xvfb"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache build *.egg-info
