# Two commands do all the set-up on a fresh machine:
#   make run   - virtualenv, install what running needs, migrate the embedded SQLite
#                database, start gunicorn
#   make test  - virtualenv, install with the test extras, ruff, mypy, the docs site
#                (strict), pytest
# and one more serves it over HTTPS and HTTP/2:
#   make https - as make run, behind Caddy (deploy/Caddyfile) at https://localhost:8443
# Any CPython from 3.11 on works; PYTHON picks another interpreter: make run PYTHON=python3.13
PYTHON ?= $(shell for p in python3 python3.14 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && command -v $$p && break; done)
VENV ?= .venv
BIN := $(VENV)/bin
export HOST ?= 127.0.0.1
export PORT ?= 8000
# deploy/Caddyfile's settings for `make https` (see the file for production).
export CADDY_SITE ?= localhost:8443
export CADDY_HTTP_PORT ?= 8080

.PHONY: run https test lint typecheck docs bench install install-dev venv-check clean

# A virtualenv whose interpreter is gone or older than 3.11 (made by another Python, or
# left over from one) is removed and made again, with a message saying why.
venv-check:
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: no Python 3.11 or newer found; install one or set PYTHON=/path/to/python3"; \
		exit 1; fi
	@if [ -e $(VENV) ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
			>/dev/null 2>&1; then \
		echo "$(VENV) was made by an interpreter that is missing or older than Python 3.11" \
			"($$($(BIN)/python --version 2>&1 | head -n 1)); rebuilding it with" \
			"$$($(PYTHON) --version) ($(PYTHON))"; \
		rm -rf $(VENV); fi

$(BIN)/python: | venv-check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What running needs only; the test tools come with `make test`.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: venv-check $(VENV)/.installed

install-dev: venv-check $(VENV)/.installed-dev

# After an edit of resources.yaml, `flask schema sync` writes the migration revision under
# migrations/versions/ (review and commit it) and applies it when every change is additive;
# otherwise it stops with the list of changes and the commands that apply them.
# `flask` finds the app through .flaskenv: no FLASK_APP to export.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask schema sync
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Caddy terminates TLS (certificates of its local authority; `caddy trust` makes browsers
# trust them) and speaks HTTP/2, so a browser tab's API calls and EventSource streams share
# one connection. gunicorn reads any request line: Caddy bounds request heads itself.
# Stopping gunicorn (Ctrl-C) stops Caddy too.
https: install
	@command -v caddy >/dev/null || { echo "caddy is not installed: apt-get install caddy" >&2; exit 1; }
	$(BIN)/flask db upgrade
	$(BIN)/flask schema sync
	CADDY_UPSTREAM=$(HOST):$(PORT) caddy run --config deploy/Caddyfile --adapter caddyfile & \
	caddy=$$!; trap 'kill $$caddy 2>/dev/null; wait $$caddy' EXIT INT TERM; \
	LIMIT_REQUEST_LINE=0 $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

# The documentation site (docs/, mkdocs.yml), built in strict mode: a broken link, a
# missing page or a bad anchor fails the build. Output in site/.
docs: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck docs
	@if command -v npm >/dev/null 2>&1 && [ -f tests/interop/package.json ]; then \
		npm install --silent --no-audit --no-fund --prefix tests/interop; fi
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.rest
	$(BIN)/python -m bench.hub --workers --share
	$(BIN)/python -m bench.hub --only redis --share --readers native --repeat 3
	$(BIN)/python -m bench.transport

clean:
	rm -rf $(VENV) instance site .mypy_cache .pytest_cache .ruff_cache
