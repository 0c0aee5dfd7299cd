# kubepy — every target installs what it needs, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= /var/lib/kubepy
PORT ?= 6443
# Debian packages the project needs (kubectl comes with the machine).
APT_PACKAGES := python3-venv

.PHONY: install run test test-unit test-integration bench-api bench-controllers bench-scheduler lint clean

install: $(VENV)/.installed
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi
	@command -v kubectl >/dev/null || { echo "kubectl is required on PATH" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# The main job: a single-node cluster on the embedded SQLite store.
run: install
	$(VENV)/bin/kubepy server --data-dir $(DATA_DIR) --secure-port $(PORT)

test: install
	$(VENV)/bin/mypy kubepy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q tests

test-unit: install
	$(PY) -m pytest -q tests/unit

test-integration: install
	$(PY) -m pytest -q tests/integration

bench-api: install
	$(PY) -m benchmarks.bench_api

bench-controllers: install
	$(PY) -m benchmarks.bench_controllers

bench-scheduler: install
	$(PY) -m benchmarks.bench_scheduler

clean:
	rm -rf $(VENV) build *.egg-info

lint: install
	$(VENV)/bin/mypy kubepy
	$(VENV)/bin/lint-imports
