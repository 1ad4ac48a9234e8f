"""When a promotion ends, its cases stop offering what no longer makes sense."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from test_exception_service import ALL_ACTIONS, NOW, open_shortfall, types

from promoflow.exceptions import service
from promoflow.exceptions.settling import settle_promotion_cases
from promoflow.kit.errors import Conflict
from promoflow.promotions.models import Promotion


def test_an_ended_promotion_resolves_its_open_cases_and_hands_over_the_purchase_orders(
    session: Session, promotion: Promotion
) -> None:
    alert = open_shortfall(
        session, promotion, kind="sell_through_anomaly", title="selling below pace"
    )
    order = open_shortfall(
        session,
        promotion,
        kind="purchase_order_cancellation",
        allowed_actions=["retry", "waive", "reassign", "cancel_promotion"],
    )
    promotion.status = "ended"

    kept = settle_promotion_cases(session, promotion, "system", NOW)

    assert (alert.status, alert.resolution, alert.resolved_by) == (
        "resolved",
        "promotion_ended",
        "system",
    )
    assert alert.resolution_reason == (
        "PRM-X0001 is ended: this sell_through_anomaly case no longer applies"
    )
    assert types(session, alert)[-1] == "exception.resolved"
    # The order outlives the promotion: still the planner's, but nothing left to cancel.
    assert kept == [order]
    assert order.status == "open"
    assert order.allowed_actions == ["retry", "waive", "reassign"]


@pytest.mark.parametrize("status", ["ended", "analysed", "closed", "cancelled", "rejected"])
def test_cancel_promotion_is_refused_once_the_promotion_is_over(
    session: Session, promotion: Promotion, status: str
) -> None:
    case = open_shortfall(session, promotion, allowed_actions=list(ALL_ACTIONS))
    promotion.status = status
    with pytest.raises(Conflict, match=f"PRM-X0001 is {status}; .* can no longer cancel it"):
        service.resolve_case(
            session,
            case.id,
            action="cancel_promotion",
            actor="ada.admin",
            role="operations_admin",
            reason="stop it",
            now=NOW,
        )
    assert case.status == "open"


def test_cancel_promotion_still_works_while_the_promotion_runs(
    session: Session, promotion: Promotion
) -> None:
    case = open_shortfall(session, promotion)
    resolved = service.resolve_case(
        session,
        case.id,
        action="cancel_promotion",
        actor="ada.admin",
        role="operations_admin",
        reason="supplier cannot deliver",
        now=NOW,
    )
    assert (resolved.status, resolved.resolution) == ("resolved", "cancel_promotion")
