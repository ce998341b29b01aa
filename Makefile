PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tests run with DEBUG off, as in production; they need a key of their own.
TEST_ENV := DJANGO_SECRET_KEY=test-only-secret-key-not-for-production

.PHONY: run test test-postgres test-browser lint format install

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

# pytest exits 5 when a selection holds no test; that is not a failure here.
test: $(STAMP)
	$(TEST_ENV) $(BIN)/pytest -m "not browser" $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-browser: $(STAMP)
	$(TEST_ENV) $(BIN)/pytest -m browser $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
