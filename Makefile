# Two entry points that work on a fresh machine from a fresh clone:
#   make demo   create .venv, install mlops, run the demo on the embedded SQLite store
#   make test   create .venv, install mlops with its test extras, run ruff, mypy and pytest
# Everything installs into .venv from PyPI, pinned by constraints.txt.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt
PYTEST_ARGS ?= -n 2

.PHONY: demo test lint typecheck pytest bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q --upgrade pip

$(VENV)/.demo-installed: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e '.[explain]'
	touch $@

$(VENV)/.test-installed: pyproject.toml constraints.txt requirements-peers.txt | $(PY)
	$(PIP) -e '.[test,s3,gcs,postgres,explain,spark,dask]'
	$(PIP) -r requirements-peers.txt
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(PY) -m mlops demo

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check mlops tests benchmarks examples conftest.py

typecheck: $(VENV)/.test-installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.test-installed
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(VENV)/.test-installed
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mlops-data
