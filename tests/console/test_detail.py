"""A promotion's detail: its whole timeline, forecast by week and store, stockout heatmap."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from console_support import ALPHA, BETA, NOW, World
from sqlalchemy.orm import Session

from promoflow.approvals import service as approvals
from promoflow.connectors.ports import PublicationReceipt
from promoflow.console.service import forecast_series, promotion_timeline, stockout_heatmap
from promoflow.exceptions import service as exceptions
from promoflow.exceptions.schemas import CaseAction, CaseKind, Severity
from promoflow.gates.schemas import Gate
from promoflow.identity.schemas import EVERY_BANNER
from promoflow.kit.errors import NotFound
from promoflow.kit.roles import Role
from promoflow.promotions.states import PromotionState
from promoflow.publications import service as publications


def test_the_timeline_shows_a_block_and_its_clearing_decisions_publications_and_cases(
    session: Session, world: World
) -> None:
    promotion = world.promotion({"COLA": "1.50"}, status=PromotionState.SCHEDULED)
    task = world.task(promotion, Role.FINANCE_APPROVER, timedelta(hours=4))
    approvals.decide(
        session, task.id, "fay.finance", Role.FINANCE_APPROVER, "approve", "margin holds", NOW
    )
    world.gate_round(promotion, {Gate.STORE_READINESS: 0.5})
    case = exceptions.open_case(
        session,
        kind=CaseKind.INTEGRATION_FAILURE,
        severity=Severity.MEDIUM,
        owner_role=Role.STORE_OPERATIONS,
        title="stores not ready",
        detail="",
        promotion=promotion,
        linked={},
        allowed_actions=[CaseAction.RETRY],
        workflow_id=None,
    )
    exceptions.close_case(
        session, case, resolution="cleared", actor="system", reason="stores confirmed", now=NOW
    )
    world.gate_round(promotion)
    for channel in ("pos", "ecommerce"):
        receipt = PublicationReceipt(
            key=f"k-{channel}", system="sandbox", accepted=1, external_ref="x"
        )
        publications.mark_published(session, promotion, channel, [receipt])

    timeline = promotion_timeline(session, promotion.code, ALPHA)

    kinds = [entry.kind for entry in timeline.entries]
    assert kinds == [
        "approval.decided",
        "gate.evaluated",
        "exception.opened",
        "exception.resolved",
        "gate.evaluated",
        "publication.published",
        "publication.published",
    ]
    decided, blocked, opened, closed, cleared, pos, web = timeline.entries
    assert decided.actor == "fay.finance"
    assert decided.summary == "finance_approver approval approved by fay.finance: margin holds"
    assert blocked.summary == "gate round 1 of revision 1: blocked by store_readiness"
    assert blocked.detail["failed"] == [
        {
            "gate": Gate.STORE_READINESS,
            "blocking": True,
            "score": 0.5,
            "threshold": 0.05,
            "summary": "store_readiness failed",
        }
    ]
    assert cleared.summary == "gate round 2 of revision 1: every blocking gate passed"
    assert opened.summary == f"case #{case.id} opened (integration_failure): stores not ready"
    assert closed.summary == f"case #{case.id} closed by system: cleared (stores confirmed)"
    assert (pos.summary, web.summary) == (
        "published to pos: 1 prices",
        "published to ecommerce: 1 prices",
    )
    assert [e.at for e in timeline.entries] == sorted(e.at for e in timeline.entries)
    assert promotion_timeline(session, promotion.id, ALPHA).entries == timeline.entries


def test_another_banners_promotion_is_not_found_on_every_detail(
    session: Session, world: World
) -> None:
    promotion = world.promotion({"COLA": "1.50"}, ("A-N1",))
    for read in (promotion_timeline, forecast_series):
        with pytest.raises(NotFound):
            read(session, promotion.code, BETA)
    with pytest.raises(NotFound):
        stockout_heatmap(session, promotion.id, BETA, now=NOW)
    with pytest.raises(NotFound):
        promotion_timeline(session, "PRM-NOPE", EVERY_BANNER)


def test_the_forecast_is_spread_over_the_windows_weeks_in_all_and_per_store(
    session: Session, world: World
) -> None:
    # Thursday 5 to Wednesday 11 November: 4 days in ISO week 45, 3 in week 46.
    promotion = world.promotion({"COLA": "1.50", "CHIPS": "2.00"}, start=date(2026, 11, 5))
    world.forecast(promotion, "COLA", "A-N1", baseline=70, promoted=140)
    world.forecast(promotion, "CHIPS", "A-N1", baseline=7, promoted=14)
    world.forecast(promotion, "COLA", "A-S1", baseline=35, promoted=70)

    series = forecast_series(session, promotion.code, ALPHA)

    assert series.revision == 1 and series.model_versions == ["lgbm-1"]
    assert [p.week for p in series.total] == ["2026-W45", "2026-W46"]
    first, second = series.total
    assert (first.baseline, first.promoted) == (64.0, 128.0)  # 4/7 of 112 and 224
    assert (second.baseline, second.promoted) == (48.0, 96.0)
    assert (first.p10, first.p90) == (102.4, 153.6)  # the lines' 0.8x and 1.2x
    assert [s.location_code for s in series.stores] == ["A-N1", "A-S1"]
    north, south = series.stores
    assert north.region == "North" and north.points[0].promoted == 88.0  # 4/7 of 154
    assert south.points[1].baseline == 15.0  # 3/7 of 35


def test_the_heatmap_gives_stockout_probability_by_region_and_category(
    session: Session, world: World
) -> None:
    promotion = world.promotion({"COLA": "1.50", "CHIPS": "2.00"})
    for sku in ("COLA", "CHIPS"):
        for store in ("A-N1", "A-S1"):
            world.forecast(promotion, sku, store, baseline=20, promoted=40)
    world.stock("COLA", "A-N1", 500)  # plenty
    world.stock("COLA", "A-S1", 0)  # none: sure to run out
    world.stock("CHIPS", "A-N1", 40)  # about the mean

    heat = stockout_heatmap(session, promotion.code, ALPHA, now=NOW)

    assert heat.problem is None
    assert heat.regions == ["North", "South"] and heat.categories == ["Snacks", "Soft Drinks"]
    cells = {(c.region, c.category): c for c in heat.cells}
    assert cells["North", "Soft Drinks"].max_probability < 0.01
    assert cells["South", "Soft Drinks"].max_probability == pytest.approx(1.0)
    assert 0.2 < cells["North", "Snacks"].mean_probability < 0.8
    assert all(c.item_locations == 1 for c in heat.cells)


def test_the_heatmap_says_why_there_is_none_before_a_forecast(
    session: Session, world: World
) -> None:
    promotion = world.promotion({"COLA": "1.50"})
    heat = stockout_heatmap(session, promotion.code, ALPHA, now=NOW)
    assert heat.cells == [] and heat.problem is not None and "no forecast" in heat.problem
