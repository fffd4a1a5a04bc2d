# Doorstep — developer commands. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Local runs default to DEBUG; production sets DEBUG=false and real keys in the environment.
export DEBUG ?= true

.PHONY: topology topology-down run serve worker install install-dev migrate seed test lint format messages makemessages e2e screenshots bench bench-risk clean security

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiles the catalogues (.po → .mo; needs Debian's gettext). The compiled .mo files are committed
# too, so a machine without msgfmt still runs in every language.
messages: install
	@if ! command -v msgfmt >/dev/null 2>&1; then echo "msgfmt not found (apt-get install gettext): using the committed .mo files"; \
	elif ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore=.venv -v 0; fi

# After adding or changing user-facing strings: extract them into the catalogues, then translate
# the new entries (no empty or fuzzy ones: tests/i18n checks) and run `make messages`.
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=bench --ignore=tests --ignore=control --ignore=test-artifacts
makemessages: install
	$(PY) manage.py makemessages -l zh_Hans $(I18N_IGNORE) -v 0
	$(PY) manage.py makemessages -d djangojs -l zh_Hans $(I18N_IGNORE) --ignore=static/vendor -v 0

migrate: install messages
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --if-empty

# The web server, the Celery worker and its embedded beat scheduler (Procfile.dev), stopped together by
# Ctrl-C: config.supervise stops every process group and exits 0. runserver closes its database
# connections after each request (settings: CONN_MAX_AGE=0 under runserver).
run: seed
	@echo "Doorstep on http://$(HOST):$(PORT)/ — log in as collector1 / supervisor1 / manager, password doorstep-demo"
	@HOST=$(HOST) PORT=$(PORT) exec $(PY) -m config.supervise Procfile.dev

# As in production (README, "Deploying"): gunicorn (config/gunicorn.conf.py), a Celery worker and beat
# (Procfile), DEBUG off, keys from a local key file made once (mode 0600), static files collected and
# served by WhiteNoise. Plain HTTP on this machine, so no HTTPS redirect; behind TLS leave it on.
VAR_DIR := $(or $(DOORSTEP_VAR_DIR),var)
serve: install messages
	@$(PY) -m config.keys $(VAR_DIR)/keys.env
	@set -a && . "$(abspath $(VAR_DIR))/keys.env" && set +a && \
	export DEBUG=false HOST=$(HOST) PORT=$(PORT) \
	  ALLOWED_HOSTS=$${ALLOWED_HOSTS:-$(HOST),localhost,127.0.0.1} SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} && \
	$(PY) manage.py collectstatic --noinput -v 0 && \
	$(PY) manage.py migrate --noinput -v 0 && \
	echo "Doorstep (production mode) on http://$(HOST):$(PORT)/" && \
	exec $(PY) -m config.supervise Procfile

# PYTEST_ARGS passes options through, e.g. PYTEST_ARGS='-m "not postgres"' for the SQLite pass in CI.
test: install-dev messages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Only the browser tests (Playwright + Debian's /usr/bin/chromium; `make test` runs them too).
e2e: install-dev messages
	$(VENV)/bin/pytest tests/e2e

# The README's pictures (docs/screenshots/*.png): the demo data in Chromium, phone and desktop.
screenshots: install-dev messages
	$(VENV)/bin/pytest tests/e2e/screenshots.py -p no:cacheprovider -q -s

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

# Production settings pass Django's deploy checks (fresh random keys) and bandit finds nothing.
security: install-dev
	DEBUG=false ALLOWED_HOSTS=doorstep.example.com \
	  SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_hex(32))') \
	  FIELD_ENCRYPTION_KEY=$$($(PY) -c 'import secrets; print(secrets.token_hex(32))') \
	  $(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/bandit -ll -q -r config collections_app credentials visits repayment risk evidence quality voice dashboard -x '*/migrations/*,tests'

# Performance at scale (README, "Performance"): generate each bench database (PostgreSQL, from
# DATABASE_URL's server or the local one), time the pages, the sweep and an import, write bench/results.json.
BENCH_SCALE ?= 10k 1m
BENCH_SEED ?= 1
bench: install-dev
	@for scale in $(BENCH_SCALE); do \
	  $(PY) -m bench.generate --scale $$scale --seed $(BENCH_SEED) && \
	  $(PY) -m bench.run --scale $$scale --seed $(BENCH_SEED) || exit 1; \
	done

# The risk model's scale (README, "Risk and early warning", "Bench figures"): statements imported, a model
# trained and every account scored on a fresh database of its own; writes bench/results.json under "risk".
# Bounded by the size asked for (the issue's budgets are for RISK_BENCH_ACCOUNTS=1000000).
RISK_BENCH_ACCOUNTS ?= 100000
RISK_BENCH_MONTHS ?= 12
bench-risk: install-dev
	$(PY) -m bench.risk --accounts $(RISK_BENCH_ACCOUNTS) --months $(RISK_BENCH_MONTHS)

# The scaled-out topology on this machine (README, "Scaled-out topology"), under var/topology on ports 18400+.
topology: install messages
	deploy/local/up

topology-down:
	deploy/local/down

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/doorstep.sqlite3 var/celery-broker var/celerybeat-schedule* var/staticfiles var/prometheus
