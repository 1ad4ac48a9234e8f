# Two entry points: `make demo` and `make test`. Both set up everything first.
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export UV_LINK_MODE := copy

.PHONY: setup demo test lint bench serve

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --frozen --all-groups --all-extras

demo: setup
	$(UV) run promoflow demo

lint: setup
	$(UV) run ruff check src tests benchmarks
	$(UV) run ruff format --check src tests benchmarks
	$(UV) run mypy
	$(UV) run lint-imports

# The suite runs twice: on SQLite (every test) and on PostgreSQL (every test that
# touches the database). PostgreSQL tests skip on a laptop without the server,
# but under CI=true they must run. Each pass hands whole test folders to
# TEST_WORKERS processes (pytest-xdist; tests/conftest.py groups by folder, long
# ones first), 2 by default for the 2-core machines CI runs on: on CI's machine
# (2026-12-07) the SQLite pass took 15:12 with one worker, 9:35 with two taking
# files and 8:31 with two taking folders; the PostgreSQL pass 12:23, 7:46 and 7:09.
# A single pass leaves a core idle while it waits on processes, browsers and the
# database. TEST_WORKERS=1 runs one process. The passes run one after the other:
# side by side they fought for the same 2 cores. Every pass lists its 30 slowest
# tests.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: setup lint
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund --prefix tests/sap_mockserver; \
	else echo "npm not found: the SAP connector tests will skip (under CI=true they fail)"; fi
	$(UV) run --no-sync pytest $(PYTEST_PARALLEL)
	PROMOFLOW_TEST_BACKEND=postgresql $(UV) run --no-sync pytest $(PYTEST_PARALLEL) -m "postgres"

serve: setup
	$(UV) run promoflow serve
