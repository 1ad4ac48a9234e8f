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
# but under CI=true they must run. The passes run one after the other: side by side
# on CI (2026-12-07) they took as long, 38 min, the 2 cores being busy. TEST_WORKERS=N (N > 1)
# hands each pass's whole test files to N processes (pytest-xdist), longest files
# first (tests/conftest.py); the default is one process. Every pass lists its 30
# slowest tests.
TEST_WORKERS ?= 1
PYTEST_PARALLEL = $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: setup lint
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund --prefix tests/sap_mockserver; \
	else echo "npm not found: the SAP connector tests will skip (under CI=true they fail)"; fi
	$(UV) run --no-sync pytest $(PYTEST_PARALLEL)
	PROMOFLOW_TEST_BACKEND=postgresql $(UV) run --no-sync pytest $(PYTEST_PARALLEL) -m "postgres"

serve: setup
	$(UV) run promoflow serve
