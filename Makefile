# adamlab: `make demo` runs the main job, `make test` runs the tests.
# Both create or refresh .venv in this folder first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
OUT ?= adamlab-out

.PHONY: setup demo test test-fast test-slow lint typecheck bench dist clean

setup: $(STAMP)

# torch is pinned and installed before anything that depends on it, so pip takes the
# local CPU wheel instead of pulling a CUDA build. The stamp makes a second `make setup` instant.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,papers]"
	touch $(STAMP)

# the seed's experiment at the seed's settings, then (in the same command) every optimizer
# tuned on one shared learning-rate grid and compared with its given settings from fresh starts
demo: setup
	$(BIN)/adamlab run --out $(OUT)

test: setup
	$(BIN)/python -m pytest -m "not slow" -q

test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -q -x

# exit code 5 means "no test selected": not a failure when no slow test exists.
# The slow tests include the Ray executor's: install the ray extra first; where Ray cannot be
# installed, that test skips with its reason and the target still runs the others.
test-slow: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,papers,ray]" \
		|| echo "could not install the ray extra: the Ray executor test will be skipped"
	$(BIN)/python -m pytest -m slow -q || test $$? -eq 5

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/engine_throughput.py

# the release artefacts: dist/adamlab-<version>.tar.gz and dist/adamlab-<version>-py3-none-any.whl
dist: setup
	$(BIN)/python -m build

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
