# One venv, made with python -m venv + pip (uv/poetry do not see the local torch wheel).
# torch is pinned here: an unpinned torch would pull a multi-gigabyte CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: install install-test demo test test-all lint check examples clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q $(TORCH) -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q $(TORCH) -e '.[test]'

demo: install
	$(BIN)/rnnkit demo --out rnnkit_report

test: install-test
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/python -m pytest -q

test-all: install-test
	$(BIN)/python -m pytest -q -m "slow or not slow"

examples: install
	for f in examples/*.py; do echo "== $$f"; $(BIN)/python "$$f" || exit 1; done

check: test examples

clean:
	rm -rf $(VENV) rnnkit_report .pytest_cache
