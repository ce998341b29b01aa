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
NOINPUT := $(if $(value PORTAL_PASSWORD),--noinput)
# $(call require,VARIABLES,USAGE): stop, showing USAGE, unless every variable was
# given on the command line. Not from the environment: shells export USERNAME
# (Windows), NAME (WSL) and EMAIL (git users) with the operator's own values,
# which would silently become the new user's.
# The value is looked at, never expanded: "$(shell …)" in a name must not run.
require = $(foreach name,$(1),$(if $(and $(filter command line,$(origin $(name))),$(value $(name))),,\
	$(error $(name) is missing. Usage: $(2))))
ACCOUNT_USAGE := make account NAME=Acme OWNER=alice EMAIL=alice@acme.example
USER_USAGE := make user USERNAME=bob ACCOUNT=Acme EMAIL=bob@acme.example [ROLE=owner|member]

.PHONY: run serve load test test-postgres test-browser lint format install account user \
	demo-passwords bench scale-report fuzz

# make bench: its own virtualenv, the runtime requirements plus the bench-only ones
# (djangorestframework-simplejwt, matplotlib), so none of those reach .venv.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# Production mode, as the portal should run: settings from the environment
# (DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL, REDIS_URL; see
# docs/DECISIONS.md "Production settings"), gunicorn as gunicorn.conf.py sizes it,
# on 127.0.0.1:8000 unless GUNICORN_BIND says otherwise. The deploy checks print
# what is still unsafe; only errors stop the start.
serve: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/python manage.py check --deploy
	$(BIN)/gunicorn --config gunicorn.conf.py

# The values reach the command through the environment, as given: written into the
# recipe, make would expand a "$" in them and the shell would read quotes, backticks
# and $(…) ("Cost$Plus" would be created as "Costlus"). Nor does make hand them to the
# recipes itself, which it would do expanded (running a "$(shell …)" in them).
unexport NAME OWNER EMAIL USERNAME ACCOUNT ROLE
account: export PROVISION_NAME = $(value NAME)
account: export PROVISION_OWNER = $(value OWNER)
account: export PROVISION_EMAIL = $(value EMAIL)
account: $(STAMP)
	$(call require,NAME OWNER EMAIL,$(ACCOUNT_USAGE))
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py create_account "$$PROVISION_NAME" \
		--owner "$$PROVISION_OWNER" --email "$$PROVISION_EMAIL" $(NOINPUT)

# ROLE, like the rest, only from the command line: an owner is staff.
user: export PROVISION_USERNAME = $(value USERNAME)
user: export PROVISION_ACCOUNT = $(value ACCOUNT)
user: export PROVISION_EMAIL = $(value EMAIL)
user: export PROVISION_ROLE = $(or $(if $(filter command line,$(origin ROLE)),$(value ROLE)),member)
user: $(STAMP)
	$(call require,USERNAME ACCOUNT EMAIL,$(USER_USAGE))
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py create_user "$$PROVISION_USERNAME" \
		--account "$$PROVISION_ACCOUNT" --email "$$PROVISION_EMAIL" \
		--role "$$PROVISION_ROLE" $(NOINPUT)

# The demo passwords are stored only as hashes: this sets new ones and prints them.
demo-passwords: $(STAMP)
	$(MIGRATE)
	$(DEV_ENV) $(BIN)/python manage.py seed_demo --reset-passwords

# A run that collects no test fails (pytest exits 5): CI must never pass on an empty
# selection.
test: $(STAMP)
	$(TEST_ENV) $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

# axe-core for the accessibility audit (package.json), exactly as package-lock.json
# pins it; npm ci writes node_modules/.package-lock.json when it is done.
AXE_STAMP := node_modules/.package-lock.json

$(AXE_STAMP): package-lock.json
	npm ci --no-audit --no-fund

test-browser: $(STAMP) $(AXE_STAMP)
	$(TEST_ENV) $(BIN)/pytest -m browser $(PYTEST_ARGS)

# Every page at 1280 px, 375 px and 1280 px dark, into docs/screenshots/ (tools/screenshots.py):
# a runserver on a scratch SQLite database with the demo account, photographed by chromium.
.PHONY: screenshots
screenshots: $(STAMP)
	$(BIN)/python -m tools.screenshots

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# make fuzz: schemathesis in a virtualenv of its own (.venv-fuzz, requirements-fuzz.txt),
# so none of its dependencies reach .venv; the portal it fuzzes runs from .venv.
FUZZ_VENV := .venv-fuzz
FUZZ_STAMP := $(FUZZ_VENV)/.installed

$(FUZZ_STAMP): requirements-fuzz.txt
	test -d $(FUZZ_VENV) || $(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-fuzz.txt
	touch $(FUZZ_STAMP)

# Every API operation fuzzed against the OpenAPI document on a live server (.ci/fuzz):
# fails on any 5xx, any answer the document does not describe, or a server traceback.
# FUZZ_MAX_EXAMPLES=20 for a quicker, shallower run.
fuzz: $(STAMP) $(FUZZ_STAMP)
	bash .ci/fuzz

$(BENCH_STAMP): requirements.txt bench/requirements.txt
	test -d $(BENCH_VENV) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check \
		-r requirements.txt -r bench/requirements.txt
	touch $(BENCH_STAMP)

# The portal against its peers on PostgreSQL (127.0.0.1:5432, user postgres), in one
# run of a few minutes: docs/PERFORMANCE.md and docs/performance.png. Installs wrk
# from Debian when it is missing and we are root. BENCH_ARGS="--seconds 5" for a
# quicker, noisier run.
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install wrk"; exit 1; }
	$(BENCH_VENV)/bin/python -m bench.run $(BENCH_ARGS)

# The portal at a million sign-in attempts, on scratch PostgreSQL databases it creates
# and drops (sp_scale and sp_scale_empty; SCALE_DATABASE_URL to name another): query
# plans, page times against an almost empty database, a bulk sign-out of 100,000
# sessions and the purges. Writes the "Scale" section of docs/PERFORMANCE.md.
SCALE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sp_scale
scale-report: $(STAMP)
	$(BIN)/python -m bench.scale_report --database-url $(SCALE_DATABASE_URL) $(SCALE_ARGS)

# 50 simulated users for 2 minutes against the portal as make serve runs it, on a
# scratch PostgreSQL database (sp_load, dropped afterwards) and a private Redis, on
# loopback: fails on any 5xx or any action without its audit row. Writes the "Load"
# section of docs/PERFORMANCE.md. LOAD_ARGS="--users 10 --seconds 20" for a short run.
load: $(STAMP)
	$(BIN)/python -m bench.load_portal --write-doc $(LOAD_ARGS)
