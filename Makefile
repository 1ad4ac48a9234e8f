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
# but under CI=true they must run. The passes share nothing (each test database,
# NATS stream, Redis key and port is the test's own), so they run at the same
# time, each spreading whole test files over TEST_WORKERS processes (pytest-xdist):
# much of a pass is waiting on a started process, a browser or a timer, which
# leaves a core idle in a lone pytest. The PostgreSQL pass's output is kept and
# printed once the SQLite pass has printed its own; either failing fails `make test`.
TEST_WORKERS ?= 2
PYTEST_PARALLEL = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: setup lint
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund --prefix tests/sap_mockserver; \
	else echo "npm not found: the SAP connector tests will skip (under CI=true they fail)"; fi
	@pg_log=$$(mktemp -t promoflow-postgres-pass.XXXXXX); \
	echo "PostgreSQL pass started alongside; its output follows the SQLite pass's"; \
	trap 'kill $$pg 2>/dev/null' INT TERM; \
	PROMOFLOW_TEST_BACKEND=postgresql $(UV) run --no-sync pytest $(PYTEST_PARALLEL) -m "postgres" >"$$pg_log" 2>&1 & pg=$$!; \
	$(UV) run --no-sync pytest $(PYTEST_PARALLEL); sqlite_status=$$?; \
	wait $$pg; pg_status=$$?; \
	echo; echo "==== PostgreSQL pass: PROMOFLOW_TEST_BACKEND=postgresql pytest -m postgres ===="; \
	cat "$$pg_log"; rm -f "$$pg_log"; \
	echo "SQLite pass exit $$sqlite_status, PostgreSQL pass exit $$pg_status"; \
	test $$sqlite_status -eq 0 && test $$pg_status -eq 0

serve: setup
	$(UV) run promoflow serve
