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
# but under CI=true they must run. A lone pytest keeps less than one of CI's two
# cores busy (it waits on the processes, browsers and timers its tests start), and
# the passes share nothing (each test database, NATS stream, Redis key and port is
# the test's own), so the two run at the same time. TEST_WORKERS=N (N > 1) also
# hands each pass's whole test files to N processes (pytest-xdist), longest files
# first (tests/conftest.py); the default is one process per pass, because the
# demo and model-training tests share the two cores with everything else then and
# their time limits were set for one. The PostgreSQL pass's output is kept and
# printed after the SQLite pass's; either failing fails `make test`. Every pass
# lists its 30 slowest tests.
TEST_WORKERS ?= 1
PYTEST_PARALLEL = $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: setup lint
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund --prefix tests/sap_mockserver; \
	else echo "npm not found: the SAP connector tests will skip (under CI=true they fail)"; fi
	@pg_log=$$(mktemp -t promoflow-postgres-pass.XXXXXX); \
	echo "PostgreSQL pass started alongside; its output follows the SQLite pass's"; \
	trap 'kill $$pg 2>/dev/null' INT TERM; \
	PROMOFLOW_TEST_BACKEND=postgresql $(UV) run --no-sync pytest $(PYTEST_PARALLEL) -m "postgres" >"$$pg_log" 2>&1 & pg=$$!; \
	$(UV) run --no-sync pytest $(PYTEST_PARALLEL); sqlite_status=$$?; \
	wait $$pg; pg_status=$$?; \
	echo; echo "SQLite pass exit $$sqlite_status, PostgreSQL pass exit $$pg_status"; \
	echo "==== PostgreSQL pass: PROMOFLOW_TEST_BACKEND=postgresql pytest -m postgres ===="; \
	cat "$$pg_log"; rm -f "$$pg_log"; \
	test $$sqlite_status -eq 0 && test $$pg_status -eq 0

serve: setup
	$(UV) run promoflow serve
