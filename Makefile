# payportal: `make dev` runs the whole stack offline, `make test` runs every test; `make help` lists the rest.
# Each target sets up what it needs (virtual environment, packages, browser) on its own.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export UV_NO_PROGRESS := 1

# Lambda runs Python 3.13: `make test-py313` runs the unit and integration tests on it too, in their own
# environment. The interpreter comes from pyenv when it has a 3.13, else python3.13 on PATH; or set PYTHON313.
PYTHON313 ?= $(or $(addsuffix /bin/python3.13,$(firstword $(shell pyenv prefix 3.13 2>/dev/null))),python3.13)
VENV313 := .venv-3.13

# checkov, the second infrastructure scanner (`make synth`), in an environment of its own: its dependencies
# need not agree with the project's.
SCAN_VENV := .venv-scan
# The prod stage as an operator with a custom domain deploys it: synthesized and scanned beside the stage
# that CDK_ARGS chose (dev by default), so both stages pass cdk-nag, cfn-lint and checkov.
PROD_SYNTH_DIR := build/cdk.out.prod
PROD_SYNTH_ARGS := -c stage=prod -c payportal:domainName=pay.example.com -c payportal:hostedZoneId=Z0000000000EXAMPLE \
	-c payportal:hostedZoneName=example.com -c payportal:alarmEmail=oncall@example.com

# pytest-xdist workers for the unit, integration and infra tests (`auto`: one per core; 0 runs them in-process).
# A module's tests stay on one worker, so module fixtures (a Stripe front) are built once, and the infra tests on
# one worker, so each stage is synthesized once; these groups go out longest first, by the seconds each took last
# time (tests/conftest.py).
WORKERS ?= auto
PARALLEL := -n $(WORKERS) --dist loadfile --no-loadscope-reorder

# Node runs the CDK CLI and jsii (aws-cdk-lib in Python). payportal is built and tested with these LTS releases.
NODE_SUPPORTED := 22 24
NODE_MAJOR := $(firstword $(subst ., ,$(patsubst v%,%,$(shell node --version 2>/dev/null))))
ifeq ($(NODE_MAJOR),)
NODE_WARNING := warning: node not found; synth, deploy and the infra tests need Node $(subst $() , or ,$(NODE_SUPPORTED)).
else ifeq ($(filter $(NODE_MAJOR),$(NODE_SUPPORTED)),)
NODE_WARNING := warning: this is Node $(NODE_MAJOR); payportal supports Node $(subst $() , and ,$(NODE_SUPPORTED)), the LTS \
releases (older ones are past end of life). Carrying on.
# On such a Node, jsii prints its own banner through Python as byte strings (b'!!  Node 20 is end-of-life ...');
# `node-version` says it once, readably, and these keep jsii quiet about that Node major only.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(NODE_MAJOR)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := $(NODE_MAJOR)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := $(NODE_MAJOR)
endif

.PHONY: help dev test test-py313 lint format typecheck unit integration infra e2e bench synth deploy lock openapi client catalogs \
	browser node-version venv clean

help: ## this list
	@echo "make <target>, each setting up what it needs:"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z0-9-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: requirements-dev.lock | $(UV)
	test -x $(PY) || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(PY) --require-hashes requirements-dev.lock
	touch $@

venv: $(VENV)/.synced ## the virtual environment (.venv) from the hashed dev lock file

$(SCAN_VENV)/.synced: requirements-scan.lock | $(UV)
	test -x $(SCAN_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(SCAN_VENV)
	$(UV) pip sync --quiet --python $(SCAN_VENV)/bin/python --require-hashes requirements-scan.lock
	touch $@

$(VENV313)/.synced: requirements-dev.lock | $(UV)
	test -x $(VENV313)/bin/python || $(UV) venv --quiet --no-python-downloads --python $(PYTHON313) $(VENV313)
	$(VENV313)/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version'
	$(UV) pip sync --quiet --python $(VENV313)/bin/python --require-hashes requirements-dev.lock
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser: ## Debian's Chromium, for the browser tests
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

node-version:
	@$(if $(NODE_WARNING),echo "$(NODE_WARNING)" >&2,:)

# The CDK CLI (synth, deploy) and axe-core (the e2e accessibility checks, tests/e2e/axe.py), as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lock: | $(UV) ## re-pin the packages (requirements.lock, requirements-dev.lock; uv, hashes)
	$(UV) pip compile --quiet pyproject.toml --generate-hashes --universal --python-version 3.11 -o requirements.lock
	$(UV) pip compile --quiet pyproject.toml --group dev --generate-hashes --universal --python-version 3.11 -o requirements-dev.lock
	$(UV) pip compile --quiet requirements-scan.in --generate-hashes --universal --python-version 3.11 -o requirements-scan.lock

dev: venv ## the whole stack offline: API, pay pages, moto, the local Stripe
	$(PY) -m local

lint: venv ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv ## ruff: format, and fix what the linter can
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: venv ## mypy
	$(VENV)/bin/mypy

unit: venv ## unit tests
	$(PY) -m pytest $(PARALLEL) tests/unit

integration: venv ## integration tests: handlers over moto and the local Stripe
	$(PY) -m pytest $(PARALLEL) tests/integration

infra: venv node-version ## infra tests: CDK assertions, cdk-nag, cfn-lint
	$(PY) -m pytest $(PARALLEL) tests/infra

# One local stack serves every e2e test (a session fixture), so they run in one process, after the rest.
# axe-core comes from node_modules (npm ci): the browser tests run it on every page.
e2e: venv browser node_modules/.installed ## end-to-end tests: the local stack, over HTTP and in Chromium (with axe-core)
	$(PY) -m pytest tests/e2e

# Three jobs side by side (the 2-core machine's cores are otherwise idle while tests wait on processes, sockets
# and the browser): the checks, the unit/integration/infra tests on the xdist workers, and the e2e tests, which
# share one local stack and so run in one process. Each job's output is printed whole when it ends; the first
# failure fails the target. The wall time is printed at the end.
test: venv browser node_modules/.installed node-version ## lint, type checks and every test (unit, integration, infra, e2e), side by side
	@start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory -j3 --output-sync=target test-checks test-suites test-e2e || status=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s, $$([ $$status = 0 ] && echo passed || echo FAILED)"; exit $$status

.PHONY: test-checks test-suites test-e2e
test-checks: lint typecheck
test-suites: venv
	$(PY) -m pytest $(PARALLEL) tests/unit tests/integration tests/infra
test-e2e: venv browser node_modules/.installed
	$(PY) -m pytest tests/e2e

test-py313: $(VENV313)/.synced ## unit and integration tests on Python 3.13, Lambda's runtime (.venv-3.13)
	$(VENV313)/bin/python -m pytest $(PARALLEL) tests/unit tests/integration

# BEFORE=<commit> also measures that commit's handlers' cold start in the same run, e.g. make bench BEFORE=main.
# On Python 3.13, Lambda's runtime: import costs differ between versions (3.11 loads the same code slower).
bench: $(VENV313)/.synced ## benchmarks on Python 3.13: cold start (BEFORE=<commit>), calls per operation, work vs a scan
	PAYPORTAL_BENCH_BEFORE=$(BEFORE) $(VENV313)/bin/python -m benchmarks

openapi: venv ## regenerate docs/openapi.json
	$(PY) -m functions.operator_api.openapi > docs/openapi.json

# Payer-facing text (shared/locale/babel.cfg says where it is): extracted into the template messages.pot, merged
# into each language's messages.po (new and changed messages come untranslated: translate them, then
# run it again), and compiled into the messages.mo the functions read. The catalog tests fail until all three agree.
CATALOG_LANGUAGES = $(shell $(PY) -c 'from shared.domain.languages import LANGUAGES; print(*LANGUAGES)')
catalogs: venv ## extract payer-facing text into shared/locale, update every language's catalog and compile it
	$(VENV)/bin/pybabel --quiet extract -F shared/locale/babel.cfg -k payer_text -k payer_plural:1,2 \
	  --add-location=file --sort-output --no-wrap --project=payportal -o shared/locale/messages.pot shared functions
	for lang in $(CATALOG_LANGUAGES); do \
	  if [ -f shared/locale/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(VENV)/bin/pybabel --quiet update --no-wrap --no-fuzzy-matching --ignore-obsolete -i shared/locale/messages.pot -d shared/locale -l $$lang; \
	  else $(VENV)/bin/pybabel --quiet init --no-wrap -i shared/locale/messages.pot -d shared/locale -l $$lang; fi; \
	done
	$(VENV)/bin/pybabel --quiet compile -d shared/locale

client: venv ## regenerate the typed Python client (clients/python) from docs/openapi.json
	$(PY) clients/python/generate.py

# The real CDK CLI (pinned in package.json); then every Lambda asset's size, cfn-lint and checkov on the
# templates: the stage CDK_ARGS chose and the prod stage with a custom domain. checkov fails on any finding
# that is not skipped, with its reason, on its resource (infra/nag.py; the list is in docs/security.md).
# CDK_ARGS passes context, e.g. make deploy CDK_ARGS="-c stage=prod -c payportal:alarmEmail=ops@example.com".
synth: venv $(SCAN_VENV)/.synced node_modules/.installed node-version ## synthesize; asset sizes, cfn-lint, checkov (CDK_ARGS=...)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk synth --quiet $(CDK_ARGS)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk synth --quiet $(PROD_SYNTH_ARGS) --output $(PROD_SYNTH_DIR)
	$(PY) -m infra.asset_sizes cdk.out
	$(VENV)/bin/cfn-lint --non-zero-exit-code error -- cdk.out/*.template.json $(PROD_SYNTH_DIR)/*.template.json
	$(SCAN_VENV)/bin/checkov --framework cloudformation --skip-download --compact --quiet \
	  $$(printf -- '--file %s ' cdk.out/*.template.json $(PROD_SYNTH_DIR)/*.template.json)

deploy: venv node_modules/.installed node-version ## deploy every stack (CDK_ARGS=...)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk deploy --all $(CDK_ARGS)

clean: ## remove what the targets built
	rm -rf $(VENV) $(VENV313) $(SCAN_VENV) $(TOOLS) cdk.out node_modules build .pytest_cache .mypy_cache .ruff_cache
