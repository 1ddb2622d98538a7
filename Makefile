# payportal: `make dev` runs the whole stack offline, `make test` runs every test.
# Each target sets up what it needs (virtual environment, packages, browser) on its own.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export UV_NO_PROGRESS := 1

.PHONY: dev test lint typecheck unit integration infra e2e bench synth deploy lock openapi browser clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: requirements-dev.lock | $(UV)
	test -x $(PY) || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(PY) --require-hashes requirements-dev.lock
	touch $@

venv: $(VENV)/.synced

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lock: | $(UV)
	$(UV) pip compile --quiet pyproject.toml --generate-hashes --universal --python-version 3.11 -o requirements.lock
	$(UV) pip compile --quiet pyproject.toml --group dev --generate-hashes --universal --python-version 3.11 -o requirements-dev.lock

dev: venv
	$(PY) -m local

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest tests/unit

test: venv browser lint typecheck
	$(PY) -m pytest tests

bench: venv
	$(PY) -m benchmarks

openapi: venv
	$(PY) -m functions.operator_api.openapi > docs/openapi.json

# The real CDK CLI (pinned in package.json); then every Lambda asset's size, and cfn-lint on the templates.
# CDK_ARGS passes context, e.g. make deploy CDK_ARGS="-c stage=prod -c payportal:alarmEmail=ops@example.com".
synth: venv node_modules/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk synth --quiet $(CDK_ARGS)
	$(PY) -m infra.asset_sizes cdk.out
	$(VENV)/bin/cfn-lint --non-zero-exit-code error -- cdk.out/*.template.json

deploy: venv node_modules/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk deploy --all $(CDK_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) cdk.out node_modules build .pytest_cache .mypy_cache .ruff_cache
