# NAPHS Planner. `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The first Python 3.12 or newer found: on PATH, or installed by pyenv (the newest first).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $$(ls -d $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test bench lint migrate demo worker clean messages messages-compile

# The catalogues' languages besides English (Django's locale names), and what makemessages leaves out.
LOCALES := fr es ar ru zh_Hans
MESSAGES_IGNORE := --ignore='.venv/*' --ignore='var/*' --ignore='staticfiles/*' --ignore='tests/*' --ignore='static/vendor/*'
MSGFMT_MISSING := msgfmt (GNU gettext) is needed to compile the translations: apt-get install gettext

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed; none was found." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

migrate: $(BIN)/.installed
	$(BIN)/python manage.py migrate --no-input

# Every marked string into locale/<language>/LC_MESSAGES/django.po (new ones empty, changed ones fuzzy).
messages: $(BIN)/.installed
	@command -v xgettext >/dev/null || { echo "$(MSGFMT_MISSING)" >&2; exit 1; }
	$(BIN)/python manage.py makemessages $(addprefix --locale=,$(LOCALES)) --no-obsolete --no-wrap $(MESSAGES_IGNORE)

# The compiled catalogues (.mo, not committed) that the product reads.
messages-compile:
	@command -v msgfmt >/dev/null || { echo "$(MSGFMT_MISSING)" >&2; exit 1; }
	@for po in locale/*/LC_MESSAGES/django.po; do msgfmt --check --output-file="$${po%.po}.mo" "$$po" || exit 1; done

demo: migrate messages-compile
	$(BIN)/python manage.py demo_load

# The web server and a Celery worker (with beat) side by side; Ctrl-C stops both (naphs/management/commands/serve.py).
RUN_ADDRESS ?= 127.0.0.1:8000
run: demo
	@echo "Serving http://$(RUN_ADDRESS) with a Celery worker beside it. Ctrl-C stops both."
	@$(BIN)/python manage.py serve $(RUN_ADDRESS)

worker: $(BIN)/.installed
	$(BIN)/celery -A naphs worker --beat --loglevel=INFO

# What the plan document (costing/document.py) is drawn with: Pango and HarfBuzz for WeasyPrint, and fonts for every
# language of the product (Noto for Latin, Cyrillic and Arabic, Noto CJK for Chinese, DejaVu as the fallback).
DOCUMENT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-noto-cjk fonts-dejavu-core

# The layers contract of pyproject.toml first (the core imports no app, an app only those below it), then the type
# checker (mypy, configured in pyproject.toml), then the suite. LibreOffice Calc (Debian's package) opens every
# workbook the product writes, and the plan document needs DOCUMENT_PACKAGES; both are installed here if missing.
# Where they cannot be installed their tests are skipped, except under CI, where they fail.
test: $(BIN)/.installed messages-compile
	@command -v soffice >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y libreoffice-calc; \
		else sudo -n apt-get update -qq && sudo -n apt-get install -y libreoffice-calc; fi; } || echo "LibreOffice Calc could not be installed." >&2
	@dpkg -s $(DOCUMENT_PACKAGES) >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y --no-install-recommends $(DOCUMENT_PACKAGES); \
		else sudo -n apt-get update -qq && sudo -n apt-get install -y --no-install-recommends $(DOCUMENT_PACKAGES); fi; } || echo "The plan document's fonts could not be installed." >&2
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Figures, not assertions: response times and query counts as a plan grows, and a load against gunicorn
# (wrk, a small C load generator from Debian's packages, is installed if missing).
bench: $(BIN)/.installed
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi; }
	$(BIN)/python -m pytest tests/bench_foundation.py tests/bench_planning.py tests/bench_costing.py tests/bench_monitoring.py \
		tests/bench_plan_workbook.py tests/bench_who_files.py tests/bench_versions.py tests/bench_engagement.py \
		tests/bench_load.py -q -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
