# Safety Registry. `make run` serves the site; `make test` runs every check. Both set up
# everything they need first (virtual environment, packages, translations, Chromium).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCALES := es pl zh_Hans ar
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# The suite runs on every CPU (pytest-xdist); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install run test test-sqlite test-postgres lint format chromium iptables \
        translations-extract translations-update translations-compile bench bench-sms \
        bench-cameras bench-lookup clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(STAMP) ## Create the virtual environment and install the app with its dev tools

translations-extract: $(STAMP) ## Extract every marked string into translations/messages.pot
	$(BIN)/pybabel -q extract -F babel.cfg -k _l --no-location --sort-output \
	  --project="Safety Registry" --copyright-holder="Safety Registry" \
	  --msgid-bugs-address="translations@safety-registry.invalid" \
	  -o translations/messages.pot .

translations-update: translations-extract ## Merge messages.pot into every locale's catalog
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

translations-compile: $(STAMP) ## Compile the catalogs (.po -> .mo); fuzzy entries are never used
	$(BIN)/pybabel -q compile -d translations

chromium: ## Install Debian's Chromium for the browser tests when it is missing
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	echo "Installing Debian's chromium for the browser tests"; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium

iptables: ## Install Debian's iptables for the unreachable-database tests when it is missing
	@if command -v iptables >/dev/null || [ -x /usr/sbin/iptables ]; then exit 0; fi; \
	echo "Installing Debian's iptables for the unreachable-database tests"; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q iptables

run: $(STAMP) translations-compile ## Serve the site on http://127.0.0.1:5000 (SQLite, local SMS outbox)
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app wsgi db upgrade
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app wsgi run --host 127.0.0.1 --port 5000

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: $(STAMP) translations-compile chromium ## The whole suite on SQLite
	$(PYTEST)

test-postgres: $(STAMP) translations-compile chromium iptables ## The whole suite on PostgreSQL (TEST_DATABASE_URL)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PYTEST)

test: $(STAMP) translations-compile chromium iptables lint ## Everything: lint, SQLite, then PostgreSQL when reachable
	$(PYTEST)
	@if $(BIN)/python tests/support/pg_reachable.py "$(TEST_DATABASE_URL)"; then \
	  echo "== PostgreSQL pass ($(TEST_DATABASE_URL))"; \
	  TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PYTEST); \
	elif [ -n "$$CI" ]; then \
	  echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL): CI must run the PostgreSQL pass"; exit 1; \
	else \
	  echo "== PostgreSQL not reachable at $(TEST_DATABASE_URL): skipped that pass (CI runs it)"; \
	fi

bench: $(STAMP) translations-compile ## Print the benchmark figures
	$(BIN)/python -m bench

bench-sms: $(STAMP) ## SMS webhook load under gunicorn, SQLite and PostgreSQL (about 8 minutes)
	$(BIN)/python -m bench.sms_load --db both

bench-cameras: $(STAMP) ## Camera search over 1,000,000 registrations, SQLite and PostgreSQL (about 8 minutes)
	$(BIN)/python -m bench.camera_search --database both

bench-lookup: $(STAMP) ## Phone look-up over 1,000,000 profiles, SQLite and PostgreSQL (about 10 minutes)
	$(BIN)/python -m bench.lookup --database both

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
	find translations -name '*.mo' -delete
