# hris-lms-bridge: `make demo` and `make test` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests dbt_project/snapshots -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml

export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_VERSION_CHECK := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test test-fast bench lint upgrade lock docs dev clean help

help:
	@echo "make demo   set up, start the simulated sources, run one nightly sync, print the summary"
	@echo "make test   set up and run the whole test suite"
	@echo "make bench  throughput and memory benchmarks (prints figures)"
	@echo "make dev    the Dagster UI (asset graph, checks, schedule) on http://127.0.0.1:3000"
	@echo "make docs   build the dbt docs (then: make docs-serve)"
	@echo "make lint   ruff, with no reaching into other packages' private names"
	@echo "make upgrade  re-resolve uv.lock to the newest versions pyproject.toml allows, then make test"

# uv.lock fixes every package and version (`make upgrade` re-resolves it). A fresh clone needs
# only Python and pip: pip brings the uv that uv.lock names, and uv installs exactly the lock
# (`--locked` stops, rather than re-resolve, when pyproject.toml changed without a new lock;
# packages the lock does not name are removed, except the venv's own pip).
# Bytecode is compiled at install: uv does not by default, and where PYTHONDONTWRITEBYTECODE
# is set (as on these machines, and in the Dockerfile) every process would otherwise compile
# Dagster, dbt and GX from source again (GX's import: 15 s -> 6 s here; each dbt call: 3 s).
UV_VERSION = $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

define BOOTSTRAP_UV
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if [ "$$($(BIN)/uv --version 2>/dev/null | cut -d' ' -f2)" != "$(UV_VERSION)" ]; then \
		{ $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null; } && \
		$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"; \
	fi
endef

$(INSTALLED): pyproject.toml uv.lock Makefile
	$(BOOTSTRAP_UV)
	@$(BIN)/uv sync -q --locked --compile-bytecode
	@touch $@

# The dbt manifest is built once here, not at every import of the code location.
$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	@$(BIN)/bridge prepare >/dev/null
	@touch $@

demo: $(INSTALLED) $(MANIFEST)
	$(BIN)/bridge demo --profile standard

# Two workers: a sync waits on its dbt subprocess and the simulator much of the time,
# so two modules at once use the second core. --dist loadfile keeps a module (its fixtures,
# its test order) on one worker; --no-loadscope-reorder hands modules out in collection
# order, which tests/conftest.py starts with the longest ones.
TEST_WORKERS ?= 2

test: $(INSTALLED) $(MANIFEST)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

test-fast: $(INSTALLED) $(MANIFEST)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(INSTALLED) $(MANIFEST)
	$(BIN)/python bench/run_all.py

# The rules (pyproject.toml [tool.ruff.lint]) include PLC2701 and SLF001, preview rules.
lint: $(INSTALLED)
	$(BIN)/ruff check --preview orchestration connectors simulator tests bench

# After editing pyproject.toml's dependencies: `make lock` keeps every other version as locked;
# `make upgrade` moves all of them to the newest allowed and runs the suite on them.
lock:
	$(BOOTSTRAP_UV)
	$(BIN)/uv lock

upgrade:
	$(BOOTSTRAP_UV)
	$(BIN)/uv lock --upgrade
	$(MAKE) test

# Unless the environment or .env names a warehouse, the UI's syncs go to one of their own
# (warehouse/dev/), never into the demo's (warehouse/bridge.duckdb) by surprise.
# `dagster dev` re-parses the dbt project on load (DbtProject.prepare_if_dev) with the dbt on PATH.
dev: $(INSTALLED) $(MANIFEST)
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home} ; mkdir -p $$DAGSTER_HOME ; \
	cp -n dagster.yaml $$DAGSTER_HOME/dagster.yaml 2>/dev/null || true ; \
	if [ -z "$$BRIDGE_WAREHOUSE" ] && ! grep -qs '^ *BRIDGE_WAREHOUSE *=' .env ; then \
		export BRIDGE_WAREHOUSE=$(CURDIR)/warehouse/dev/bridge.duckdb ; fi ; \
	BRIDGE_SIMULATOR_DIR=$${BRIDGE_SIMULATOR_DIR:-$(CURDIR)/.sim} PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$$DAGSTER_HOME $(BIN)/dagster dev -w workspace.yaml

docs: $(INSTALLED) $(MANIFEST)
	cd dbt_project && BRIDGE_WORK_DB=$${BRIDGE_WORK_DB:-$(CURDIR)/warehouse/bridge.work.duckdb} ../$(BIN)/dbt docs generate --profiles-dir .

docs-serve: docs
	cd dbt_project && BRIDGE_WORK_DB=$${BRIDGE_WORK_DB:-$(CURDIR)/warehouse/bridge.work.duckdb} ../$(BIN)/dbt docs serve --profiles-dir . --host 127.0.0.1 --port 8080

clean:
	rm -rf warehouse .sim dbt_project/target dbt_project/logs
