"""Schemathesis over the live OpenAPI document of a real `promoflow serve` (issue 10).

The server runs as an operator starts it, on a fresh database of its own (SQLite,
and PostgreSQL in that pass) with a seeded catalogue, one promotion to read and
act on, and API keys for several roles. Schemathesis reads /openapi.json from
the running process and sends every operation a bounded number of generated
requests, valid and invalid, in all its phases (examples, coverage, fuzzing,
stateful). Every default check runs: no 5xx; each status, content type, header
and body as documented; schema-valid requests accepted and invalid ones refused;
auth enforced. The test fails on any failure and prints Schemathesis' report,
which shows each failing case with a curl command that reproduces it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from db_support import fresh_database
from process_support import process_env, serving

# About a minute alone; the timeout leaves room for a machine busy with other work.
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(420)]

SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
ADMIN_KEY = "conformance-admin-key-0123456789"
KEYS = ",".join(
    [
        f"{ADMIN_KEY}:ada.admin:operations_admin",
        "conformance-merch-key-0123456789:mia.merch:merchandiser",
        "conformance-audit-key-0123456789:al.auditor:auditor",
        "conformance-plan-key-0123456789:pat.planner:supply_chain_planner",
    ]
)
# Generated requests per operation and phase (the coverage phase adds its own).
MAX_EXAMPLES = 10

# Operations whose schema-valid requests the server may still refuse with 422,
# because the rule is about stored data or several fields at once, which JSON
# Schema cannot say: SKUs, stores and regions that exist, a date window within the
# planning horizon, an installed connector's settings, a case's allowed actions,
# a reason a rejection needs, a gate the policy names, a line the plan holds, a
# mechanic the draft's items allow.
RULES_BEYOND_THE_SCHEMA = [
    ("POST", "/api/v1/promotions"),
    ("POST", "/api/v1/promotions/{ref}/revisions"),
    ("POST", "/api/v1/connections"),
    ("POST", "/api/v1/promotions/{ref}/store-tasks/confirm"),
    ("POST", "/api/v1/promotions/{ref}/gates/{gate}/waive"),
    ("POST", "/api/v1/approvals/{task_id}/decision"),
    ("POST", "/api/v1/exceptions/{case_id}/actions"),
    ("POST", "/api/v1/recommendations/{recommendation_id}/edit"),
    # A bundle needs a draft of two items or more.
    ("GET", "/api/v1/promotions/{ref}/whatif"),
    ("POST", "/api/v1/promotions/{ref}/whatif"),
]
# Analytics filters name a category, region or banner that exists, and a period
# whose `until` comes after its `since`.
RULES_BEYOND_THE_SCHEMA += [
    ("GET", f"/api/v1/analytics/{report}")
    for report in ("flow", "variants", "stages", "approvals", "sla", "rework", "bottlenecks")
] + [("GET", "/api/v1/analytics/conformance")]
# 412 and 428 too: If-Match is a schema-valid header whose value (a stale or made-up
# ETag), or absence on a change that needs it, is judged against the stored version.
# List routes: a schema-valid `cursor` is still refused (422) unless the server gave
# it out, for these filters; it is opaque, and its checksum is no JSON Schema rule.
PAGED_LISTS = [
    "/api/v1/promotions",
    "/api/v1/promotions/{ref}/findings",
    "/api/v1/promotions/{ref}/gates",
    "/api/v1/promotions/{ref}/approvals",
    "/api/v1/promotions/{ref}/events",
    "/api/v1/promotions/{ref}/publications",
    "/api/v1/promotions/{ref}/recommendations",
    "/api/v1/approvals",
    "/api/v1/exceptions",
    "/api/v1/models",
    "/api/v1/connectors",
    "/api/v1/connections",
    "/api/v1/dead-letters",
    "/api/v1/audit",
    "/api/v1/catalog/items",
    "/api/v1/catalog/locations",
    "/api/v1/catalog/suppliers",
    "/api/v1/catalog/ranging",
]
RULES_BEYOND_THE_SCHEMA += [("GET", path) for path in PAGED_LISTS]
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "428", "429"]


def _config(promotion_code: str, promotion_id: int, sku: str) -> str:
    """schemathesis.toml: the run's seed, sizes and the per-operation allowances."""
    lines = [
        "seed = 10",
        # One worker: with two threads, Hypothesis describing a lambda (ast.parse) hit
        # CPython 3.11's thread-unsafe AST recursion check ("AST constructor recursion
        # depth mismatch"), an error of the tool that failed the run at random.
        "workers = 1",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        # Half the refs name the seeded promotion, so its routes answer more than 404.
        "[dictionaries.refs]",
        f'values = ["{promotion_code}", "{promotion_id}"]',
        "[dictionaries.skus]",
        f'values = ["{sku}"]',
        "[parameters]",
        '"path.ref" = { dictionary = "refs", probability = 0.5 }',
        # And half the SKUs name a catalogued item, so its route answers more than 404.
        '"path.sku" = { dictionary = "skus", probability = 0.5 }',
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {POSITIVE_STATUSES}",
    ]
    for method, path in RULES_BEYOND_THE_SCHEMA:
        lines += [
            "[[operations]]",
            f'include-method = "{method}"',
            f'include-path = "{path}"',
            f"checks.positive_data_acceptance.expected-statuses = {[*POSITIVE_STATUSES, '422']}",
        ]
    return "\n".join(lines).replace("'", '"') + "\n"


@pytest.fixture
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this test's own, with the schema and a small seeded retailer."""
    from promoflow.kit.db import make_engine
    from promoflow.migrate import upgrade
    from promoflow.scenario.generator import ScenarioSize, generate

    for url in fresh_database(tmp_path_factory, "openapi"):
        engine = make_engine(url)
        try:
            upgrade(engine)
            generate(sessionmaker(bind=engine), ScenarioSize.small(), seed=7)
        finally:
            engine.dispose()
        yield url


def _seed_promotion(base_url: str, database_url: str) -> dict[str, object]:
    """A draft promotion created through the API, so reads and actions find one."""
    from promoflow.catalog.models import Location
    from promoflow.kit.db import make_engine
    from promoflow.scenario import picking

    engine = make_engine(database_url)
    try:
        with sessionmaker(bind=engine)() as session:
            region = picking.regions(session)[0]
            skus = picking.promotable_skus(session, region=region, count=2)
            stores = session.scalars(
                sa.select(Location.code)
                .where(Location.kind == "store", Location.region == region)
                .limit(2)
            ).all()
    finally:
        engine.dispose()
    start = date.today() + timedelta(days=30)
    body = {
        "code": "CONFORMANCE-1",
        "name": "Conformance run",
        "mechanic": "percent_off",
        "discount_percent": 10,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=6)).isoformat(),
        "channels": ["pos"],
        "items": skus,
        "locations": list(stores),
    }
    created = httpx.post(
        f"{base_url}/api/v1/promotions",
        json=body,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return {**created.json(), "sku": skus[0]}


def test_the_live_openapi_document_holds_under_schemathesis(
    database_url: str, tmp_path: Path
) -> None:
    # Budgets far above the run's few thousand requests: a 429 is documented (and
    # allowed), but every operation should be exercised, not refused.
    env = process_env(
        database_url,
        tmp_path,
        api_keys=KEYS,
        rate_limit_reads="100000/minute",
        rate_limit_writes="100000/minute",
        rate_limit_anonymous="100000/minute",
    )
    with serving(env, tmp_path / "serve.log") as server:
        promotion = _seed_promotion(server.url, database_url)
        config = tmp_path / "schemathesis.toml"
        sku = str(promotion["sku"])
        config.write_text(_config(str(promotion["code"]), int(str(promotion["id"])), sku))
        run = subprocess.run(
            [
                SCHEMATHESIS,
                "--config-file",
                str(config),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"X-API-Key: {ADMIN_KEY}",
                "--generation-with-security-parameters",
                "false",
                "--no-color",
                "--request-timeout",
                "30",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=tmp_path,
        )
        report = run.stdout + run.stderr
        print(report[-2500:])  # the summary: phases, operations, cases (shown with -s)
        assert run.returncode == 0, f"schemathesis found failures:\n{report}"
        assert "Traceback" not in server.output(), server.output()
