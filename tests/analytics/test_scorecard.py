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
        assert round(sum(row["numerator"] for row in rows), 2) == round(total["numerator"], 2)
    # The events named are the logged ones: same ids, same types, same actors.
    named = {e["id"]: (e["type"], e["actor"]) for row in drilled for e in row["events"]}
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


def test_what_promoflow_does_not_record_is_named_not_measured(demo_run: Any) -> None:
    result = analytics(demo_run, "scorecard")
    gaps = {gap["figure"]: gap["why"] for gap in result["not_measured"]}
    assert set(gaps) == {"stockout_rate_in_vs_out", "markdown_exposure", "margin_vs_plan"}
    assert not set(gaps) & {f["figure"] for f in result["figures"]}
    done = _scorecard(demo_run, "--drill", "markdown_exposure")
    assert done.returncode == 2
    assert "markdown_exposure" in done.stderr + done.stdout
    assert "not measured" in done.stderr + done.stdout


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
