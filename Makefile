# Two commands do all the set-up on a fresh machine:
#   make run   - virtualenv, install, migrate the embedded SQLite database, start gunicorn
#   make test  - virtualenv, install with test extras, ruff, mypy, pytest
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export HOST ?= 127.0.0.1
export PORT ?= 8000
export FLASK_APP := app:create_app

.PHONY: run test lint typecheck bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# After an edit of resources.yaml, `flask schema sync` writes the migration revision under
# migrations/versions/ (review and commit it) and applies it when every change is additive;
# otherwise it stops with the list of changes and the commands that apply them.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask schema sync
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	@if command -v npm >/dev/null 2>&1 && [ -f tests/interop/package.json ]; then \
		npm install --silent --no-audit --no-fund --prefix tests/interop; fi
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.rest
	$(BIN)/python -m bench.hub
	$(BIN)/python -m bench.transport

clean:
	rm -rf $(VENV) instance .mypy_cache .pytest_cache .ruff_cache
