# Two commands do everything on a fresh machine: `make run` (the coursework suite) and
# `make test` (lint and pytest). Both create .venv/, install the package and fetch the data.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install data run test lint benchmark tensorboard clean

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

data: $(INSTALLED)
	$(PY) -m mlpkit.fetch_data

run: data
	$(PY) -m experiments.coursework

lint: $(INSTALLED)
	$(PY) -m ruff check .

test: data lint
	$(PY) -m pytest

benchmark: data
	$(PY) -m benchmarks.boston_housing

tensorboard: $(INSTALLED)
	$(VENV)/bin/tensorboard --logdir logs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
