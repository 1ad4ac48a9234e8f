"""`promoflow analytics scorecard` as a process on the demo's database: its figures and drills."""

from __future__ import annotations

import subprocess
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from analytics_support import analytics, category_of

from process_support import PROMOFLOW
from promoflow.kit.db import make_engine

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

MEASURED = (
    "cycle_time",
    "approval_latency",
    "launched_fully_ready",
    "forecast_accuracy",
    "exceptions_by_type",
    "integration_reliability",
    "manual_touches",
    "stockout_rate",
    "markdown_exposure",
    "margin_vs_plan",
)


def figure(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in result["figures"] if f["figure"] == name)


def logged(database_url: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    """Each event id's type and actor, as the events table holds them."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, type, actor FROM events WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            ).all()
    finally:
        engine.dispose()
    return {row[0]: (row[1].removeprefix("io.promoflow."), row[2]) for row in rows}


def test_a_launch_cleared_by_waiving_its_case_is_not_fully_ready(demo_run: Any) -> None:
    promotions = demo_run.report["promotions"]
    launched = {p["code"] for p in promotions if any(t["state"] == "live" for t in p["timeline"])}
    waived = {
        p["code"]: case
        for p in promotions
        for case in p["exceptions"]
        if case["resolution"] == "waive"
    }
    assert waived and set(waived) < launched, "the storyline waives one shortfall and launches"
    (total,) = figure(analytics(demo_run, "scorecard"), "launched_fully_ready")["total"]
    assert total["denominator"] == len(launched)
    assert total["numerator"] == len(launched) - len(waived)
    assert total["value"] == round((len(launched) - len(waived)) / len(launched), 4)

    drilled = analytics(demo_run, "scorecard", "--drill", "launched_fully_ready")["counted"]
    not_ready = {row["case"].split(" ")[0]: row for row in drilled if row["numerator"] == 0}
    assert set(not_ready) == set(waived)
    for code, row in not_ready.items():
        assert waived[code]["kind"] in row["note"]
        resolved = [e for e in row["events"] if e["type"] == "exception.resolved"]
        assert [e["actor"] for e in resolved] == [waived[code]["resolved_by"]]


def test_a_category_filter_scores_only_its_launches(demo_run: Any) -> None:
    promotions = demo_run.report["promotions"]
    launched = [p["code"] for p in promotions if any(t["state"] == "live" for t in p["timeline"])]
    categories = {code: category_of(demo_run.database_url, code) for code in launched}
    category = categories[launched[0]]
    in_category = {code for code, named in categories.items() if named == category}
    result = analytics(demo_run, "scorecard", "--category", category)
    (total,) = figure(result, "launched_fully_ready")["total"]
    assert result["filter"]["category"] == category
    assert total["denominator"] == len(in_category) < len(promotions)
    drilled = analytics(demo_run, "scorecard", "--category", category, "--drill", "cycle_time")
    # Every demo promotion has finished: each of the category's is a cycle-time row.
    assert {row["case"].split(" ")[0] for row in drilled["counted"]} == {
        p["code"] for p in promotions if category_of(demo_run.database_url, p["code"]) == category
    }


def test_exceptions_by_type_count_the_demo_cases(demo_run: Any) -> None:
    cases = Counter(c["kind"] for p in demo_run.report["promotions"] for c in p["exceptions"])
    assert cases
    totals = figure(analytics(demo_run, "scorecard"), "exceptions_by_type")["total"]
    assert {row["group"]: row["value"] for row in totals} == dict(cases)


@pytest.mark.parametrize("name", MEASURED)
def test_a_drill_lists_exactly_the_events_its_figure_counted(demo_run: Any, name: str) -> None:
    shown = figure(analytics(demo_run, "scorecard", "--period", "week"), name)
    assert shown["drill"] == f"/api/v1/analytics/scorecard/{name}"
    drilled = analytics(demo_run, "scorecard", "--period", "week", "--drill", name)["counted"]
    assert drilled, f"the demo gives {name} something to count"
    for total in shown["total"]:
        rows = [row for row in drilled if row["group"] == total.get("group")]
        assert len(rows) == total["counted"]
        assert sum(len(row["events"]) for row in rows) == total["events"]
        # The total is rounded to 4 places; rounding both to 2 could split at a half-cent.
        assert sum(row["numerator"] for row in rows) == pytest.approx(total["numerator"], abs=1e-3)
    # The events named are the logged ones: same ids, same types, same actors.
    named = {e["id"]: (e["type"], e["actor"]) for row in drilled for e in row["events"]}
    if name == "stockout_rate":  # counted from the sales history, which logs no events
        assert named == {}
    else:
        assert logged(demo_run.database_url, list(named)) == named


def test_cycle_time_agrees_with_the_stages_report(demo_run: Any) -> None:
    stages = analytics(demo_run, "stages")["cycle_time"]
    (total,) = figure(analytics(demo_run, "scorecard"), "cycle_time")["total"]
    assert total["denominator"] == stages["finished"] == len(demo_run.report["promotions"])
    assert total["value"] == pytest.approx(stages["mean_hours"], abs=0.01)


def test_the_finance_rejection_is_a_manual_touch_of_its_promotion(demo_run: Any) -> None:
    rejected = demo_run.story("finance rejects")
    decision = next(a for a in rejected["approvals"] if a["status"] == "rejected")
    drilled = analytics(demo_run, "scorecard", "--drill", "manual_touches")["counted"]
    (row,) = [r for r in drilled if r["case"] == f"{rejected['code']} r{rejected['revision']}"]
    decided = [e for e in row["events"] if e["type"] == "approval.decided"]
    assert decision["decided_by"] in {e["actor"] for e in decided}
    assert all(e["actor"] != "system" for e in row["events"])
    assert row["numerator"] == len(row["events"])


def _query(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params).all())
    finally:
        engine.dispose()


def _closed(demo_run: Any) -> dict[str, dict[str, Any]]:
    return {p["code"]: p for p in demo_run.report["promotions"] if p["status"] == "closed"}


def test_margin_vs_plan_sets_each_closed_promotion_against_its_forecast(demo_run: Any) -> None:
    closed = _closed(demo_run)
    drilled = analytics(demo_run, "scorecard", "--drill", "margin_vs_plan")["counted"]
    rows = {row["case"].split(" ")[0]: row for row in drilled}
    assert set(rows) == set(closed)
    for code, promotion in closed.items():
        # The plan, from the tables: forecast units x (promo price - unit cost + funding).
        ((planned,),) = _query(
            demo_run.database_url,
            "SELECT SUM(f.promoted_units * (pi.promo_price - i.unit_cost"
            " + p.vendor_funding_per_unit)) FROM promotion_forecasts f"
            " JOIN promotions p ON p.id = f.promotion_id AND p.revision = f.revision"
            " JOIN promotion_items pi ON pi.promotion_id = f.promotion_id"
            " AND pi.item_id = f.item_id JOIN items i ON i.id = f.item_id WHERE p.code = :code",
            code=code,
        )
        row = rows[code]
        assert row["denominator"] == pytest.approx(float(planned), abs=0.01)
        assert row["numerator"] == pytest.approx(float(promotion["analysis"]["margin"]["amount"]))
        assert [e["type"] for e in row["events"]] == ["promotion.analysed"]
    (total,) = figure(analytics(demo_run, "scorecard"), "margin_vs_plan")["total"]
    earned = sum(row["numerator"] for row in drilled)
    assert total["value"] == pytest.approx(earned / sum(r["denominator"] for r in drilled), 1e-3)


def test_markdown_exposure_is_what_each_analysis_left_unsold(demo_run: Any) -> None:
    closed = _closed(demo_run)
    drilled = analytics(demo_run, "scorecard", "--drill", "markdown_exposure")["counted"]
    rows = {row["case"].split(" ")[0]: row for row in drilled}
    assert set(rows) == set(closed)
    for code, promotion in closed.items():
        analysis = promotion["analysis"]
        assert rows[code]["numerator"] == pytest.approx(
            float(analysis["markdown_exposure"]["amount"])
        )
        assert f"{analysis['allocated_units_left']} allocated units" in rows[code]["note"]
    # The clean launch's allocation sent stock to stores: some of it is left or all sold,
    # never more than was sent.
    ((sent,),) = _query(
        demo_run.database_url,
        "SELECT COALESCE(SUM(COALESCE(l.quantity_decided, l.quantity_proposed)), 0)"
        " FROM recommendation_lines l JOIN recommendations r ON r.id = l.recommendation_id"
        " JOIN promotions p ON p.id = r.promotion_id WHERE r.kind = 'allocation'"
        " AND r.status IN ('auto_applied', 'accepted', 'edited') AND p.status = 'closed'",
    )
    left = sum(p["analysis"]["allocated_units_left"] for p in closed.values())
    assert 0 <= left <= float(sent)


def test_the_stockout_rate_compares_promotion_weeks_with_the_rest(demo_run: Any) -> None:
    counted = _query(
        demo_run.database_url,
        "SELECT on_promo, SUM(CASE WHEN stockout THEN 1 ELSE 0 END), COUNT(*)"
        " FROM weekly_sales GROUP BY on_promo",
    )
    expected = {
        ("in promotion" if on_promo else "outside promotions"): (float(out), float(weeks))
        for on_promo, out, weeks in counted
    }
    assert set(expected) == {"in promotion", "outside promotions"}
    totals = figure(analytics(demo_run, "scorecard"), "stockout_rate")["total"]
    assert {t["group"]: (t["numerator"], t["denominator"]) for t in totals} == expected
    for total in totals:
        out, weeks = expected[total["group"]]
        assert total["value"] == round(out / weeks, 4)
    # A category narrows it to that category's items.
    category = category_of(demo_run.database_url, next(iter(_closed(demo_run))))
    ((weeks_in_category,),) = _query(
        demo_run.database_url,
        "SELECT COUNT(*) FROM weekly_sales w JOIN items i ON i.id = w.item_id"
        " WHERE i.category = :category",
        category=category,
    )
    narrowed = figure(analytics(demo_run, "scorecard", "--category", category), "stockout_rate")
    assert sum(t["denominator"] for t in narrowed["total"]) == weeks_in_category


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--period", "day"), "period='day'"),
        (("--drill", "happiness"), "figure='happiness'"),
        (("--category", "Moon Rocks"), "category='Moon Rocks'"),
    ],
)
def test_bad_input_exits_2_naming_the_field(
    demo_run: Any, flags: tuple[str, ...], named: str
) -> None:
    done = _scorecard(demo_run, *flags)
    assert done.returncode == 2, done.stdout + done.stderr
    assert named in done.stdout + done.stderr


def _scorecard(demo_run: Any, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMOFLOW, "analytics", "scorecard", *flags],
        env=demo_run.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
