"""/api/v1/analytics on the demo's database, served by `promoflow serve`, with API keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from process_support import serving

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

KEYS = {
    role: f"analytics-{role.replace('_', '-')}-key-0123456789"
    for role in ("auditor", "operations_admin", "category_manager", "merchandiser")
}


@pytest.fixture(scope="module")
def api(demo_run: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    keys = ",".join(f"{key}:{role}-person:{role}" for role, key in KEYS.items())
    env = {**demo_run.env, "PROMOFLOW_API_KEYS": keys, "PROMOFLOW_DBOS_LOG_LEVEL": "ERROR"}
    log: Path = tmp_path_factory.mktemp("analytics-serve") / "serve.log"
    with serving(env, log) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def _as(role: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[role]}


def test_the_auditor_reads_the_escalated_role_first_on_waiting(
    api: httpx.Client, demo_run: Any
) -> None:
    escalated = next(
        task["role"]
        for task in demo_run.story("approval breaches its SLA")["approvals"]
        if task["escalated"]
    )
    answer = api.get("/api/v1/analytics/approvals", headers=_as("auditor"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["by_role"][0]["role"] == escalated


def test_the_blocked_launch_waits_on_the_coverage_gate_over_http(
    api: httpx.Client, demo_run: Any
) -> None:
    code = demo_run.story("blocked by low coverage")["code"]
    answer = api.get("/api/v1/analytics/bottlenecks", headers=_as("category_manager"))
    assert answer.status_code == 200, answer.text
    held = next(row for row in answer.json()["blocked_launches"] if row["case"] == f"{code} r1")
    assert held["gates"][0]["gate"] == "inventory_coverage"


def test_a_role_without_analytics_is_refused(api: httpx.Client) -> None:
    answer = api.get("/api/v1/analytics/variants", headers=_as("merchandiser"))
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert api.get("/api/v1/analytics/variants").status_code == 401


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ({"region": "Atlantis"}, "region", "Atlantis"),
        ({"category": "Moon Rocks"}, "category", "Moon Rocks"),
        ({"mechanic": "half_off"}, "mechanic", "half_off"),
    ],
)
def test_an_unknown_filter_is_a_problem_naming_it(
    api: httpx.Client, query: dict[str, str], field: str, value: str
) -> None:
    answer = api.get("/api/v1/analytics/stages", params=query, headers=_as("auditor"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    (error,) = answer.json()["errors"]
    assert error["field"] == field and value in answer.text


def test_an_unknown_report_is_refused(api: httpx.Client) -> None:
    answer = api.get("/api/v1/analytics/horoscope", headers=_as("auditor"))
    assert answer.status_code == 404


def test_a_period_filter_counts_only_revisions_started_in_it(api: httpx.Client) -> None:
    everything = api.get("/api/v1/analytics/variants", headers=_as("operations_admin")).json()
    assert everything["cases"] == 6
    later = api.get(
        "/api/v1/analytics/variants",
        params={"since": "2999-01-01T00:00:00Z"},
        headers=_as("operations_admin"),
    ).json()
    assert later["cases"] == 0 and later["variants"] == []


def test_a_mechanic_no_promotion_used_gives_every_report_empty(
    api: httpx.Client, demo_run: Any
) -> None:
    used = {promotion["mechanic"] for promotion in demo_run.report["promotions"]}
    unused = next(m for m in ("bundle", "fixed_price", "amount_off") if m not in used)
    for report in ("flow", "variants", "stages", "approvals", "sla", "rework", "bottlenecks"):
        answer = api.get(
            f"/api/v1/analytics/{report}", params={"mechanic": unused}, headers=_as("auditor")
        )
        assert answer.status_code == 200, (report, answer.text)
        assert answer.json()["filter"]["mechanic"] == unused
    conformance = api.get(
        "/api/v1/analytics/conformance", params={"mechanic": unused}, headers=_as("auditor")
    ).json()
    assert conformance["cases"] == 0 and conformance["deviating"] == []


def test_the_scorecard_drill_link_lists_the_events_behind_a_figure(
    api: httpx.Client, demo_run: Any
) -> None:
    answer = api.get(
        "/api/v1/analytics/scorecard", params={"period": "week"}, headers=_as("auditor")
    )
    assert answer.status_code == 200, answer.text
    cases = next(f for f in answer.json()["figures"] if f["figure"] == "exceptions_by_type")
    drilled = api.get(cases["drill"], params={"period": "week"}, headers=_as("auditor"))
    assert drilled.status_code == 200, drilled.text
    opened = [e for row in drilled.json()["counted"] for e in row["events"]]
    planted = [c for p in demo_run.report["promotions"] for c in p["exceptions"]]
    assert len(opened) == len(planted) == sum(row["value"] for row in cases["total"])
    assert {e["type"] for e in opened} == {"exception.opened"}


def test_the_scorecard_is_refused_without_analytics_and_names_what_it_does_not_know(
    api: httpx.Client,
) -> None:
    assert api.get("/api/v1/analytics/scorecard", headers=_as("merchandiser")).status_code == 403
    plan = api.get("/api/v1/analytics/scorecard/margin_vs_plan", headers=_as("operations_admin"))
    assert plan.status_code == 200, plan.text
    assert plan.json()["counted"], "every closed demo promotion was set against its plan"
    unknown = api.get("/api/v1/analytics/scorecard/happiness", headers=_as("auditor"))
    assert unknown.status_code == 404 and "cycle_time" in unknown.text
    bad = api.get("/api/v1/analytics/scorecard", params={"period": "day"}, headers=_as("auditor"))
    assert bad.status_code == 422 and "period" in bad.text


def test_the_served_post_event_report_reads_for_all_and_runs_for_operations(
    api: httpx.Client, demo_run: Any
) -> None:
    closed = next(p for p in demo_run.report["promotions"] if p["status"] == "closed")
    path = f"/api/v1/promotions/{closed['code']}/post-event"
    read = api.get(path, headers=_as("auditor"))
    assert read.status_code == 200, read.text
    assert read.json()["units"]["sold"] == closed["analysis"]["actual_units"]
    # Running the reconciliation may open cases: not a reader's or a category manager's.
    for role in ("auditor", "category_manager"):
        refused = api.post(path, headers=_as(role))
        assert refused.status_code == 403, refused.text
    run = api.post(path, headers=_as("operations_admin"))
    assert run.status_code == 200, run.text
    assert run.json()["reconciliation"] == read.json()["reconciliation"]
