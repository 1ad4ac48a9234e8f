"""The post-event report of a promotion run through the real lifecycle to its close.

The promotion runs three days, Saturday to Monday, so its sales period is two
partial weeks: the report must compare those days with the same days at the
comparable stores, not with whole weeks. Its sales come from the sandbox POS feed
the lifecycle's post-event step read, its ERP ledger is booked on first ask, and
the finance posting is the one the workflow sent at close.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from lifecycle_support import Planned, desk_for, drive, make_planned, submit

from process_support import PROMOFLOW, process_env, run_cli
from promoflow.connectors import registry
from promoflow.connectors.sandbox.ledger import alter_posting
from promoflow.connectors.sandbox.sales_feed import DAY_SHARE
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseKind
from promoflow.kit.db import reading
from promoflow.lifecycle import repository as lifecycle_repository
from promoflow.postevent import commands, service
from promoflow.postevent.live import LivePromotion
from promoflow.promotions import service as promotions_service
from promoflow.runtime import Runtime, get_runtime
from promoflow.scenario import demand
from promoflow.scenario import repository as scenario_repository

pytestmark = pytest.mark.timeout(300)
WINDOW_DAYS = 3
SATURDAY = 5  # days after the helper's usual Monday start


@pytest.fixture(scope="module")
def closed(seeded: object) -> Planned:
    """A 10 % off promotion on five items, Saturday to Monday, run to its close."""
    rt = get_runtime()
    planned = submit(make_planned(rt, items=5, window_days=WINDOW_DAYS, shift_days=SATURDAY))
    desk = desk_for(planned)
    assert drive(planned, lambda s: s in ("closed", "rejected", "cancelled"), desk=desk,
                 timeout=240) == "closed"  # fmt: skip
    return planned


def _report(rt: Runtime, ref: str) -> dict[str, Any]:
    return commands.report_for(
        rt.sessions,
        ref,
        currency="EUR",
        sales_feed=registry.get_sales_feed(rt.sessions),
        ledger=service.sandbox_ledger(rt.sessions),
    )


def _lifecycle_analysis(rt: Runtime, planned: Planned) -> dict[str, Any]:
    with reading(rt.sessions) as session:
        event = lifecycle_repository.latest_analysis(session, planned.promotion_id)
        assert event is not None
        return dict(event.data)


def _expected_without_the_promotion(
    rt: Runtime, planned: Planned, days: list[date] | None = None
) -> float:
    """What the sandbox POS's demand model expects the promoted items to sell at their
    stores on the window's days (or `days`) at regular price (its base rate x season x
    the day's share of the week): the truth the baseline estimates, free of one draw's
    noise."""
    with reading(rt.sessions) as session:
        promotion = promotions_service.find_promotion(session, planned.code)
        item_ids = [i.id for i in lifecycle_repository.scope_items(session, promotion.id)]
        location_ids = [
            loc.id for loc in lifecycle_repository.scope_locations(session, promotion.id)
        ]
        params = scenario_repository.load_demand_params(session, item_ids, location_ids)
        profiles = scenario_repository.load_category_demand(session)
        first, last = promotion.start_date, promotion.end_date
    if days is None:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    expected = 0.0
    for category, base_rate in params.select("category", "base_rate").iter_rows():
        for day in days:
            week = np.array([day - timedelta(days=day.weekday())], dtype="datetime64[D]")
            season = float(demand.seasonal_index(week, profiles[category])[0])
            expected += base_rate * season * float(DAY_SHARE[day.weekday()])
    return expected


def _reconciliation_cases(rt: Runtime, code: str) -> list[Any]:
    with reading(rt.sessions) as session:
        cases = exceptions_service.list_cases(session, kind=CaseKind.RECONCILIATION_MISMATCH)
        return [c for c in cases if c.linked.get("promotion_ref") == code]


def test_incremental_units_are_actual_sales_minus_the_counterfactual_over_its_days(
    closed: Planned,
) -> None:
    rt = get_runtime()
    report = _report(rt, closed.code)
    units, identity = report["units"], report["promotion"]
    # The sales are the ones the lifecycle's post-event step read from the POS feed.
    assert units["sold"] == pytest.approx(_lifecycle_analysis(rt, closed)["actual_units"], abs=0.1)
    assert units["sold"] > 0
    assert units["incremental"] == pytest.approx(units["sold"] - units["baseline"], abs=0.15)
    assert identity["days"] == WINDOW_DAYS
    first = identity["first_day"]
    assert identity["first_week"] < first <= identity["last_week"]
    # Two partial weeks, each measured against the same days at the comparable stores.
    assert report["baseline_method"] == {
        "comparable_stores": report["baseline_method"]["comparable_stores"]
    }
    # The chart's weeks: the two partial ones and the whole week after (its dip).
    assert [w["week"] for w in report["weekly"]] == [
        identity["first_week"],
        identity["last_week"],
        identity["week_after"],
    ]
    # Near what the POS expected to sell at regular price on those three days (a baseline
    # of whole weeks would be 7/3 of it), so the incremental units are the sales minus that.
    truth = _expected_without_the_promotion(rt, closed)
    assert units["baseline"] == pytest.approx(truth, rel=0.3), (units, truth)
    assert units["incremental"] == pytest.approx(units["sold"] - truth, abs=0.3 * truth)


def test_the_week_after_is_measured_and_its_dip_is_what_it_sold_below_its_baseline(
    closed: Planned,
) -> None:
    rt = get_runtime()
    report = _report(rt, closed.code)
    identity, units = report["promotion"], report["units"]
    after = date.fromisoformat(identity["last_week"]) + timedelta(weeks=1)
    assert identity["week_after"] == after.isoformat()
    assert identity["week_after_sold"] is True
    (week,) = [w for w in report["weekly"] if w["week"] == after.isoformat()]
    # The sandbox POS sells the promoted items at their stores at the regular rate then.
    expected = _expected_without_the_promotion(rt, closed, [after + timedelta(n) for n in range(7)])
    assert week["sold"] > 0 and week["baseline"] == pytest.approx(expected, rel=0.5)
    shortfall = max(0.0, week["baseline"] - week["sold"])
    assert units["pull_forward"] == pytest.approx(shortfall, abs=0.2)


def test_the_ledger_is_consistent_so_reconciliation_opens_no_case(closed: Planned) -> None:
    rt = get_runtime()
    report = _report(rt, closed.code)
    reconciliation = report["reconciliation"]
    totals = reconciliation["totals"]
    assert reconciliation["status"] == "matched", reconciliation["mismatches"]
    assert (
        float(totals["pos_units"])
        == float(totals["erp_units"])
        == pytest.approx(report["units"]["sold"], abs=0.5)
    )
    # The posting is the one the workflow sent when it closed the promotion.
    assert totals["document_number"]
    assert float(totals["posted_margin"]) == pytest.approx(
        _lifecycle_analysis(rt, closed)["margin"], abs=0.01
    )
    assert _reconciliation_cases(rt, closed.code) == []
    # Asked again, the ledger answers the same and still nothing is opened.
    again = _report(rt, closed.code)
    assert again["reconciliation"] == reconciliation
    assert again["units"] == report["units"]
    assert _reconciliation_cases(rt, closed.code) == []


def test_a_promotion_that_has_not_closed_is_refused_with_its_status(seeded: object) -> None:
    rt = get_runtime()
    draft = make_planned(rt, items=1)
    from promoflow.kit.errors import Conflict

    with pytest.raises(Conflict) as refused:
        _report(rt, draft.code)
    assert "status='draft'" in str(refused.value)


def test_the_api_answers_with_the_report_behind_auth(
    client: TestClient, auth: Callable[[str], dict[str, str]], closed: Planned
) -> None:
    path = f"/api/v1/promotions/{closed.code}/post-event"
    assert client.get(path).status_code == 401
    answer = client.get(path, headers=auth("auditor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["promotion"]["code"] == closed.code
    assert body["reconciliation"]["status"] == "matched"
    assert body["units"] == _report(get_runtime(), closed.code)["units"]
    missing = client.get("/api/v1/promotions/NO-SUCH-PROMO/post-event", headers=auth("auditor"))
    assert missing.status_code == 404
    assert "NO-SUCH-PROMO" in missing.json()["detail"]
    # Running the reconciliation (which may open cases) is finance's, not a reader's.
    refused = client.post(path, headers=auth("auditor"))
    assert refused.status_code == 403, refused.text
    assert "allowed roles: finance_approver" in refused.json()["detail"]


def test_a_read_reports_a_mismatch_and_opens_nothing_until_finance_runs_it(
    client: TestClient, auth: Callable[[str], dict[str, str]], closed: Planned
) -> None:
    rt = get_runtime()
    path = f"/api/v1/promotions/{closed.code}/post-event"
    posted = Decimal(_report(rt, closed.code)["reconciliation"]["totals"]["posted_margin"])
    with reading(rt.sessions) as session:
        subject = service.find_subject(session, closed.code)
    assert isinstance(subject, LivePromotion)
    keyed = subject.posting_key
    alter_posting(rt.sessions, closed.code, margin=posted - Decimal("10.00"), posting_key=keyed)
    try:
        read = client.get(path, headers=auth("auditor"))
        assert read.status_code == 200, read.text
        (mismatch,) = read.json()["reconciliation"]["mismatches"]
        assert mismatch["check"] == "margin"
        assert mismatch["case_id"] is None
        assert _reconciliation_cases(rt, closed.code) == []

        run = client.post(path, headers=auth("finance_approver"))
        assert run.status_code == 200, run.text
        (case,) = _reconciliation_cases(rt, closed.code)
        assert run.json()["reconciliation"]["mismatches"][0]["case_id"] == case.id
        # A later read names that case; a second run opens no other.
        again = client.get(path, headers=auth("auditor")).json()["reconciliation"]
        assert again["mismatches"][0]["case_id"] == case.id
        assert client.post(path, headers=auth("finance_approver")).status_code == 200
        assert [c.id for c in _reconciliation_cases(rt, closed.code)] == [case.id]
    finally:
        alter_posting(rt.sessions, closed.code, margin=posted, posting_key=keyed)


def test_the_cli_writes_the_report_of_a_closed_live_promotion(
    closed: Planned, tmp_path: Path
) -> None:
    rt = get_runtime()
    env = process_env(rt.settings.resolved_database_url(), tmp_path / "data")
    folder = tmp_path / "reports"
    shown = run_cli(
        ["report", "promotion", closed.code, "--output", str(folder), "--format", "json,html"],
        env,
        timeout=300,
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{closed.code}.html",
        f"{closed.code}.json",
    ]
    written = json.loads((folder / f"{closed.code}.json").read_text())
    assert written["units"] == _report(rt, closed.code)["units"]
    said = " ".join(shown.split())  # the console wraps long lines (a long temp path)
    assert f"{closed.code}:" in said and "reconciliation matched" in said
    assert written["promotion"]["last_day"] == str(_window_end(written["promotion"]["first_day"]))


def test_the_cli_refuses_a_promotion_that_has_not_closed_and_writes_nothing(
    seeded: object, tmp_path: Path
) -> None:
    rt = get_runtime()
    draft = make_planned(rt, items=1)
    folder = tmp_path / "reports"
    done = subprocess.run(
        [PROMOFLOW, "report", "promotion", draft.code, "--output", str(folder)],
        env=process_env(rt.settings.resolved_database_url(), tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "status='draft'" in done.stderr.replace("\n", "")
    assert not folder.exists()


def _window_end(first_day: str) -> Any:
    from datetime import date

    return date.fromisoformat(first_day) + timedelta(days=WINDOW_DAYS - 1)
