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
# but under CI=true they must run.
test: setup lint
	@if command -v npm >/dev/null 2>&1; then npm ci --silent --no-audit --no-fund --prefix tests/sap_mockserver; \
	else echo "npm not found: the SAP connector tests will skip (under CI=true they fail)"; fi
	$(UV) run pytest
	PROMOFLOW_TEST_BACKEND=postgresql $(UV) run pytest -m "postgres"

serve: setup
	$(UV) run promoflow serve
