# One venv, made with python -m venv + pip (uv/poetry do not see the local torch wheel).
# torch is pinned here: an unpinned torch would pull a multi-gigabyte CUDA build.
# pip runs quietly, so each step first says what it does and about how long it takes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: install install-test demo test test-all lint check examples clean

$(BIN)/python:
	@echo "Creating the virtual environment $(VENV) (a few seconds)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	@echo "Installing rnnkit and $(TORCH) (CPU) into $(VENV): about 1-2 minutes on the first run, seconds after that..."
	$(BIN)/pip install -q $(TORCH) -e .

install-test: $(BIN)/python
	@echo "Installing rnnkit with its test extras and $(TORCH) (CPU) into $(VENV): about 2 minutes on the first run, seconds after that..."
	$(BIN)/pip install -q $(TORCH) -e '.[test]'

demo: install
	@echo "Running rnnkit demo: tunes and trains a SimpleRNN, an LSTM and a GRU on the bundled Beijing PM2.5 data and writes rnnkit_report/, about a minute on a 2-core CPU..."
	$(BIN)/rnnkit demo --out rnnkit_report

test: install-test lint
	@echo "Running the test suite (skip reasons are listed at the end)..."
	$(BIN)/python -m pytest -q

lint: install-test
	@echo "Checking style (ruff, with docstring rules), formatting, import layering (import-linter) and types (mypy): about a minute..."
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks
	cd src && ../$(BIN)/lint-imports ../pyproject.toml
	$(BIN)/mypy

test-all: install-test
	$(BIN)/python -m pytest -q -m "slow or not slow"

examples: install
	for f in examples/*.py; do echo "== $$f"; $(BIN)/python "$$f" || exit 1; done

check: test examples

clean:
	rm -rf $(VENV) rnnkit_report .pytest_cache
