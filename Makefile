# Warroom — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed
# axe-core, which the browser tests inject into Chromium (npm package, pinned in package-lock.json).
AXE := node_modules/axe-core/axe.min.js

.PHONY: install run test lint format demo browser prometheus axe bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: install, migrate, load the demo go-live, start web + worker + beat, print the URL
run: install
	@$(PY) manage.py migrate --verbosity 0
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@$(PY) manage.py load_demo --app-url http://127.0.0.1:$(PORT)
	@PORT=$(PORT) $(PY) -m warroom.run

demo: install
	@$(PY) manage.py migrate --verbosity 0
	@$(PY) manage.py load_demo --app-url http://127.0.0.1:$(PORT)

## browser: Debian's Chromium for the browser tests (never a downloaded browser)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

## prometheus: Debian's Prometheus server, which the metric-gate tests run and scrape
prometheus:
	@command -v prometheus >/dev/null 2>&1 || { \
	  echo "Installing Debian's prometheus for the metric-gate tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) \
	  || echo "warning: could not install prometheus; metric-gate tests will be skipped"; }

## axe: axe-core for the accessibility tests, from the npm registry (Debian's nodejs + npm)
axe: $(AXE)

$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's nodejs and npm for axe-core"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $(AXE)

## test: the whole suite (PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set)
test: install browser prometheus axe
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/lint-imports
	@$(VENV)/bin/mypy

format: install
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

bench: install
	@$(PY) -m bench.importer --json
	@$(PY) -m bench.http --json
	@$(PY) -m bench.fanout --viewers 1000 --ticks 50 --json
	@$(PY) -m bench.faults --json

clean:
	rm -rf var/test.sqlite3* var/staticfiles var/screenshots .pytest_cache
