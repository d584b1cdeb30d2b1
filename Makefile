# Two commands: `make run` (set up and start with demo data on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format demo worker clean

$(VENV)/.base: requirements/base.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.test: requirements/test.txt $(VENV)/.base
	$(BIN)/python -m pip install --quiet -r requirements/test.txt
	touch $@

run: $(VENV)/.base
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py setup_staff_group
	DEBUG=1 $(BIN)/python manage.py demo --if-empty
	@echo "Квартплата: http://$(HOST):$(PORT)/  (бэк-офис: http://$(HOST):$(PORT)/office/)"
	@export DEBUG=1 SITE_URL=http://$(HOST):$(PORT); \
	$(BIN)/python manage.py run_huey --quiet & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(VENV)/.base
	$(BIN)/python manage.py run_huey

clean:
	rm -rf data
