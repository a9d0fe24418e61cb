# The three front-door targets: harvest, demo, test (plus bench and lint).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= ./harvest-data
SITE   ?= wilson
ARGS   ?=

.PHONY: harvest demo test lint bench install install-test services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

## harvest the live archive (default: wilson) into STORE (./harvest-data or s3://bucket/prefix)
harvest: install
	$(BIN)/harvester harvest $(SITE) --store $(STORE) $(ARGS)

## harvest the bundled offline sample archive into ./harvest-data and print a summary
demo: install
	$(BIN)/harvester demo --store $(STORE) $(ARGS)

## services the tests need (redis-server from apt when missing)
services:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	  else echo "redis-server missing: install it (apt-get install redis-server)"; exit 1; fi; }

lint: install-test
	$(BIN)/ruff check harvester pipelines tests bench
	$(BIN)/mypy harvester pipelines

## the whole suite: lint, types, tests (tests start their own HTTP, S3 and Redis servers on loopback)
test: install-test services lint
	$(BIN)/python -m compileall -q harvester pipelines >/dev/null
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## benchmarks (see bench/README.md); prints ratios measured side by side
bench: install-test
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf build *.egg-info .pytest_cache .mypy_cache .ruff_cache
