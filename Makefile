PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tests run with DEBUG off, as in production; they need a key of their own.
TEST_ENV := DJANGO_SECRET_KEY=test-only-secret-key-not-for-production
# make run and the provisioning targets: development mode, so no DJANGO_SECRET_KEY is needed.
DEV_ENV := DJANGO_DEBUG=1
# A fresh checkout has no database yet; every target that needs one migrates first.
MIGRATE := $(DEV_ENV) $(BIN)/python manage.py migrate --noinput
# With PORTAL_PASSWORD in the environment the commands read it instead of prompting.
NOINPUT := $(if $(PORTAL_PASSWORD),--noinput)
# $(call require,VARIABLES,USAGE): stop, showing USAGE, unless every variable was
# given on the command line. Not from the environment: shells export USERNAME
# (Windows), NAME (WSL) and EMAIL (git users) with the operator's own values,
# which would silently become the new user's.
require = $(foreach name,$(1),$(if $(and $(filter command line,$(origin $(name))),$($(name))),,\
	$(error $(name) is missing. Usage: $(2))))
ACCOUNT_USAGE := make account NAME=Acme OWNER=alice EMAIL=alice@acme.example
USER_USAGE := make user USERNAME=bob ACCOUNT=Acme EMAIL=bob@acme.example [ROLE=owner|member]

.PHONY: run test test-postgres test-browser lint format install account user \
	demo-passwords

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

account: $(STAMP)
	$(call require,NAME OWNER EMAIL,$(ACCOUNT_USAGE))
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py create_account "$(NAME)" --owner "$(OWNER)" \
		--email "$(EMAIL)" $(NOINPUT)

user: $(STAMP)
	$(call require,USERNAME ACCOUNT EMAIL,$(USER_USAGE))
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py create_user "$(USERNAME)" --account "$(ACCOUNT)" \
		--email "$(EMAIL)" --role "$(or $(ROLE),member)" $(NOINPUT)

# The demo passwords are stored only as hashes: this sets new ones and prints them.
demo-passwords: $(STAMP)
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py seed_demo --reset-passwords

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
