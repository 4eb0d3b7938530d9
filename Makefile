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

.PHONY: demo test test-fast bench lint docs dev clean help

help:
	@echo "make demo   set up, start the simulated sources, run one nightly sync, print the summary"
	@echo "make test   set up and run the whole test suite"
	@echo "make bench  throughput and memory benchmarks (prints figures)"
	@echo "make dev    the Dagster UI (asset graph, checks, schedule) on http://127.0.0.1:3000"
	@echo "make docs   build the dbt docs (then: make docs-serve)"

# Bytecode is compiled at install: uv does not by default, and where PYTHONDONTWRITEBYTECODE
# is set (as on these machines, and in the Dockerfile) every process would otherwise compile
# Dagster, dbt and GX from source again (GX's import: 15 s -> 6 s here; each dbt call: 3 s).
$(INSTALLED): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv || true
	@if [ -x $(BIN)/uv ]; then \
		$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]'; \
	else \
		$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'; \
	fi
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

lint: $(INSTALLED)
	$(BIN)/ruff check orchestration connectors simulator tests bench

# `dagster dev` re-parses the dbt project on load (DbtProject.prepare_if_dev) with the dbt on PATH
dev: $(INSTALLED) $(MANIFEST)
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home} ; mkdir -p $$DAGSTER_HOME ; \
	cp -n dagster.yaml $$DAGSTER_HOME/dagster.yaml 2>/dev/null || true ; \
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$$DAGSTER_HOME $(BIN)/dagster dev -w workspace.yaml

docs: $(INSTALLED) $(MANIFEST)
	cd dbt_project && BRIDGE_WORK_DB=$${BRIDGE_WORK_DB:-$(CURDIR)/warehouse/bridge.work.duckdb} ../$(BIN)/dbt docs generate --profiles-dir .

docs-serve: docs
	cd dbt_project && BRIDGE_WORK_DB=$${BRIDGE_WORK_DB:-$(CURDIR)/warehouse/bridge.work.duckdb} ../$(BIN)/dbt docs serve --profiles-dir . --host 127.0.0.1 --port 8080

clean:
	rm -rf warehouse .sim dbt_project/target dbt_project/logs
