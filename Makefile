# NAPHS Planner. `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The first Python 3.12 or newer found: on PATH, or installed by pyenv (the newest first).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $$(ls -d $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test bench lint migrate demo worker clean

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed; none was found." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

migrate: $(BIN)/.installed
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py demo_load

# The web server and a Celery worker (with beat) side by side; Ctrl-C stops both.
run: demo
	@echo "Serving http://127.0.0.1:8000 with a Celery worker beside it. Ctrl-C stops both."
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/celery -A naphs worker --beat --loglevel=INFO --concurrency=2 & \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

worker: $(BIN)/.installed
	$(BIN)/celery -A naphs worker --beat --loglevel=INFO

# The layers contract of pyproject.toml first (the core imports no app, an app only those below it), then the type
# checker (mypy, configured in pyproject.toml), then the suite.
test: $(BIN)/.installed
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Figures, not assertions: response times and query counts as a plan grows, and a load against gunicorn
# (wrk, a small C load generator from Debian's packages, is installed if missing).
bench: $(BIN)/.installed
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi; }
	$(BIN)/python -m pytest tests/bench_foundation.py tests/bench_planning.py tests/bench_costing.py tests/bench_load.py \
		-q -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
