# Doorstep — developer commands. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Local runs default to DEBUG; production sets DEBUG=false and real keys in the environment.
export DEBUG ?= true

.PHONY: run serve worker install install-dev migrate seed test lint format messages e2e bench clean

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

messages: install
	@if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore=.venv -v 0; fi

migrate: install messages
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --if-empty

# The web server, the Celery worker and its embedded beat scheduler, stopped together by Ctrl-C.
run: seed
	@echo "Doorstep on http://$(HOST):$(PORT)/ — log in as collector1 / supervisor1 / manager, password doorstep-demo"
	@trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A collections_app worker --beat --loglevel=INFO --concurrency=2 & \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install-dev messages
	$(VENV)/bin/pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/doorstep.sqlite3 var/celery-broker var/celerybeat-schedule* var/staticfiles
