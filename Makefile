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
# but under CI=true they must run. The two passes share nothing (SQLite files and
# PostgreSQL databases of their own, free ports, NATS subjects and Redis keys per
# test), so by default they run side by side: most of a pass waits on workflows,
# not on a core. The PostgreSQL pass's output follows the SQLite pass's.
# TEST_PASSES=serial runs them one after the other. TEST_WORKERS=N (N > 1) hands
# each pass's whole test files to N processes (pytest-xdist), longest files first
# (tests/conftest.py); the default is one process. Every pass lists its 30 slowest
# tests.
TEST_WORKERS ?= 1
TEST_PASSES ?= side-by-side
PYTEST_PARALLEL = $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)
SQLITE_PASS = $(UV) run --no-sync pytest $(PYTEST_PARALLEL)
POSTGRES_PASS = PROMOFLOW_TEST_BACKEND=postgresql $(UV) run --no-sync pytest $(PYTEST_PARALLEL) -m "postgres"

test: setup lint
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund --prefix tests/sap_mockserver; \
	else echo "npm not found: the SAP connector tests will skip (under CI=true they fail)"; fi
ifeq ($(TEST_PASSES),serial)
	$(SQLITE_PASS)
	$(POSTGRES_PASS)
else
	@log=$$(mktemp); \
	( $(POSTGRES_PASS) >"$$log" 2>&1; echo $$? >"$$log.rc" ) & \
	echo "== SQLite pass (the PostgreSQL pass runs beside it; its output follows) =="; \
	$(SQLITE_PASS); sqlite=$$?; wait; \
	echo "== PostgreSQL pass =="; cat "$$log"; postgres=$$(cat "$$log.rc"); \
	rm -f "$$log" "$$log.rc"; \
	echo "SQLite pass exit $$sqlite, PostgreSQL pass exit $$postgres"; \
	[ "$$sqlite" -eq 0 ] && [ "$$postgres" -eq 0 ]
endif

serve: setup
	$(UV) run promoflow serve
