# The hub's two everyday commands, `make run` and `make test`, set up what they need themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
BENCH_VENV := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: setup run test lint audit lock load bench bench-vs-dlt bench-runs bench-import bench-events connector fuzz chaos clean

setup: $(PIP_STAMP) $(NPM_STAMP)

$(PIP_STAMP): requirements.txt requirements-dev.txt requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "The hub targets Python 3.11 (Azure Functions runtime); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c requirements.lock
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## Run the hub with every dependency local; Ctrl-C stops it all.
run: setup
	$(PY) -m localdev.run $(if $(CORE_TOOLS),--core-tools)

## Lint, type-check, and run the whole test suite (starts and stops its own services) in TEST_WORKERS
## pytest-xdist workers, each with services of its own; `pytest tests/x.py` alone still runs serially.
TEST_WORKERS ?= 6
test: setup lint audit
	$(PY) -m pytest -n $(TEST_WORKERS)

## The engine's numbers on this machine (see README, "Benchmark").
bench: setup
	$(PY) -m localdev.bench

## The hub's extract → validate → stage against dlt 1.31's pyarrow backend on the same 1,000,000-row source,
## dlt in a virtualenv of its own (.bench-venv, requirements-bench.txt; see README, "Benchmark").
bench-vs-dlt: setup $(BENCH_STAMP)
	$(PY) -m localdev.bench.vs_dlt --dlt-python $(BENCH_VENV)/bin/python

$(BENCH_STAMP): requirements-bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements-bench.txt
	@touch $@

## The API's run queries against 20,000 run records in Azurite's Table service (see README, "Benchmark").
## How long a cold start spends importing function_app, against azure.functions alone.
bench-import: setup
	$(PY) -m localdev.bench.import_time

bench-runs: setup
	$(PY) -m localdev.bench.run_queries

## From a Dataverse Web API write to its GP posting's start, on a running `make run` (see README, "Benchmark").
bench-events: setup
	$(PY) -m localdev.bench.dataverse_events

## The custom connector a Power Platform maker imports: the OpenAPI 2.0 document and the apiProperties.json
## `paconn create` takes (CONNECTOR_HOST names the Function App; README, "The custom connector").
connector: setup
	$(PY) -m localdev.connector hub-connector.swagger.json

## Schemathesis against a host of its own over a running `make run`'s world (start that first):
## at least 10,000 requests (EXAMPLES per operation and phase), 0 x 5xx, 0 check failures, 0 hangs.
EXAMPLES ?= 400
fuzz: setup
	$(PY) -m localdev.fuzz --examples $(EXAMPLES)

## A seeded month-end of faults over a world of its own, then the proof, by the runner's own reads, that
## nothing was lost or doubled (see README, "Chaos"); the same SEED injects the same faults.
RECORDS ?= 1000000
SEED ?= 20261203
STATEMENTS ?= 200
chaos: setup
	$(PY) -m localdev.chaos --records $(RECORDS) --seed $(SEED) --statements $(STATEMENTS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared functions function_app.py localdev

## Locust against the API on a host of its own over a running `make run`'s world (start that first):
## limiter on and off, 50 and 200 users; Locust lives in .load-venv, never in the hub's venv.
LOAD_VENV := .load-venv
$(LOAD_VENV)/bin/locust:
	$(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/python -m pip install --quiet 'locust>=2.40,<3'

load: setup $(LOAD_VENV)/bin/locust
	$(PY) -m localdev.load

## The runtime set pinned exactly (requirements.lock), after a change to requirements.txt.
lock: setup
	$(PY) -m localdev.supply_chain lock

## pip-audit over requirements.lock; AUDIT_STRICT=1 also fails on pins the service could not check.
audit: setup
	$(PY) -m localdev.supply_chain audit $(if $(AUDIT_STRICT),--strict)

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(LOAD_VENV) node_modules .local .mypy_cache .ruff_cache .pytest_cache
