# The two commands: `make run` (set up and serve on the embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-deps
DEV_STAMP := $(VENV)/.dev-deps
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint typecheck imports pytest bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip

$(RUN_STAMP): requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

run: $(RUN_STAMP)
	$(BIN)/python run.py

system-deps:
	bash scripts/system-deps.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy vibue signaling documents tests bench run.py

imports: $(DEV_STAMP)
	$(BIN)/lint-imports

# Two workers: much of a test's time is waiting (browsers, databases, timers), and CI has 2 cores.
PYTEST_WORKERS ?= 2

pytest: $(DEV_STAMP) system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test: lint typecheck imports pytest

bench: $(DEV_STAMP)
	$(BIN)/python bench/booking.py
	$(BIN)/python bench/signaling.py
	$(BIN)/python bench/call_setup.py
	$(BIN)/python -m bench.documents

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
