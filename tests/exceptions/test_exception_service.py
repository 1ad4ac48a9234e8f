"""Exception cases: opening, every action, every refusal, and the event log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.events.models import Event
from promoflow.exceptions import service
from promoflow.exceptions.models import ExceptionCase
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from promoflow.promotions.models import Promotion

NOW = datetime(2026, 11, 12, 14, 30, tzinfo=UTC)
ALL_ACTIONS = ["retry", "waive", "reassign", "escalate", "cancel_promotion"]


def open_shortfall(
    session: Session, promotion: Promotion | None, **overrides: Any
) -> ExceptionCase:
    fields: dict[str, Any] = {
        "kind": "supplier_shortfall",
        "severity": "medium",
        "owner_role": "supply_chain_planner",
        "title": "Supplier SUP-01 confirmed 600 of 1,000 units",
        "detail": "PO 4711 line 1 short by 400 units for the launch week",
        "promotion": promotion,
        "linked": {"purchase_order": "4711", "supplier": "SUP-01"},
        "allowed_actions": list(ALL_ACTIONS),
        "workflow_id": promotion.workflow_id if promotion else None,
    }
    fields.update(overrides)
    return service.open_case(session, **fields)


def event_rows(session: Session, case: ExceptionCase) -> list[Event]:
    return list(
        session.scalars(
            sa.select(Event).where(Event.subject == f"exception/{case.id}").order_by(Event.sequence)
        ).all()
    )


def types(session: Session, case: ExceptionCase) -> list[str]:
    return [e.type.removeprefix("io.promoflow.") for e in event_rows(session, case)]


@pytest.fixture
def case(session: Session, promotion: Promotion) -> ExceptionCase:
    return open_shortfall(session, promotion)


def test_open_case(session: Session, promotion: Promotion, case: ExceptionCase) -> None:
    assert (case.status, case.kind, case.severity, case.owner_role) == (
        "open",
        "supplier_shortfall",
        "medium",
        "supply_chain_planner",
    )
    assert (case.promotion_id, case.revision, case.workflow_id) == (
        promotion.id,
        2,
        "promotion-1-rev-2",
    )
    assert case.linked == {"purchase_order": "4711", "supplier": "SUP-01"}
    [opened] = event_rows(session, case)
    assert opened.type == "io.promoflow.exception.opened"
    assert opened.promotion_id == promotion.id
    assert opened.data["allowed_actions"] == ALL_ACTIONS
    assert service.get_case(session, case.id) is case


def test_open_case_without_a_promotion(session: Session) -> None:
    case = open_shortfall(
        session,
        None,
        kind="integration_failure",
        severity="critical",
        owner_role="operations_admin",
        allowed_actions=["retry", "waive"],
    )
    assert (case.promotion_id, case.revision, case.workflow_id) == (None, None, None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "weather"}, "kind"),
        ({"severity": "urgent"}, "severity"),
        ({"owner_role": "cfo"}, "owner_role"),
        ({"title": "  "}, "title"),
        ({"allowed_actions": []}, "allowed_actions"),
        ({"allowed_actions": ["retry", "ignore"]}, "allowed_actions[1]"),
        ({"allowed_actions": ["retry", "retry"]}, "allowed_actions"),
    ],
)
def test_open_case_refuses_bad_input(
    session: Session, promotion: Promotion, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        open_shortfall(session, promotion, **overrides)
    assert caught.value.field == field
    assert service.list_cases(session, promotion_id=promotion.id) == []


def test_retry_resolves(session: Session, case: ExceptionCase) -> None:
    service.resolve_case(
        session, case.id, action="retry", actor="sam.supply", role="supply_chain_planner", now=NOW
    )
    assert (case.status, case.resolution, case.resolved_by, case.resolved_at) == (
        "resolved",
        "retry",
        "sam.supply",
        NOW,
    )
    resolved = event_rows(session, case)[-1]
    assert resolved.type == "io.promoflow.exception.resolved"
    assert resolved.actor == "sam.supply"
    assert resolved.data["workflow_id"] == "promotion-1-rev-2"


@pytest.mark.parametrize("action", ["waive", "cancel_promotion"])
def test_waive_and_cancel_resolve_with_their_reason(
    session: Session, case: ExceptionCase, action: str
) -> None:
    service.resolve_case(
        session,
        case.id,
        action=action,
        actor="sam.supply",
        role="supply_chain_planner",
        reason=" second supplier covers it ",
        now=NOW,
    )
    assert (case.status, case.resolution, case.resolution_reason) == (
        "resolved",
        action,
        "second supplier covers it",
    )


@pytest.mark.parametrize("action", ["waive", "cancel_promotion"])
def test_waive_and_cancel_need_a_reason(session: Session, case: ExceptionCase, action: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.resolve_case(
            session,
            case.id,
            action=action,
            actor="sam.supply",
            role="supply_chain_planner",
            reason="  ",
            now=NOW,
        )
    assert caught.value.field == "reason"
    assert case.status == "open"


def test_reassign_to_a_person_keeps_the_case_open(session: Session, case: ExceptionCase) -> None:
    service.resolve_case(
        session,
        case.id,
        action="reassign",
        actor="sam.supply",
        role="supply_chain_planner",
        assignee="kim.supply",
        now=NOW,
    )
    assert (case.status, case.assignee, case.owner_role) == (
        "open",
        "kim.supply",
        "supply_chain_planner",
    )
    assert types(session, case) == ["exception.opened", "exception.reassigned"]


def test_reassign_to_another_role(session: Session, case: ExceptionCase) -> None:
    service.resolve_case(
        session,
        case.id,
        action="reassign",
        actor="ops.olga",
        role="operations_admin",
        new_owner_role="pricing_analyst",
        now=NOW,
    )
    assert (case.status, case.owner_role) == ("open", "pricing_analyst")
    reassigned = event_rows(session, case)[-1]
    assert reassigned.data["from"]["owner_role"] == "supply_chain_planner"
    # The previous owner no longer owns it.
    with pytest.raises(Forbidden):
        service.resolve_case(
            session,
            case.id,
            action="retry",
            actor="sam.supply",
            role="supply_chain_planner",
            now=NOW,
        )


def test_reassign_needs_someone(session: Session, case: ExceptionCase) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.resolve_case(
            session,
            case.id,
            action="reassign",
            actor="sam.supply",
            role="supply_chain_planner",
            now=NOW,
        )
    assert caught.value.field == "assignee"
    with pytest.raises(InvalidInput) as unknown:
        service.resolve_case(
            session,
            case.id,
            action="reassign",
            actor="sam.supply",
            role="supply_chain_planner",
            new_owner_role="cfo",
            now=NOW,
        )
    assert unknown.value.field == "new_owner_role"


def test_escalate_raises_severity_and_hands_to_operations_admin(
    session: Session, case: ExceptionCase
) -> None:
    service.resolve_case(
        session,
        case.id,
        action="escalate",
        actor="sam.supply",
        role="supply_chain_planner",
        now=NOW,
    )
    assert (case.status, case.severity, case.owner_role) == ("open", "high", "operations_admin")
    service.resolve_case(
        session, case.id, action="escalate", actor="ops.olga", role="operations_admin", now=NOW
    )
    assert case.severity == "critical"
    with pytest.raises(Conflict, match="nothing higher to escalate to"):
        service.resolve_case(
            session, case.id, action="escalate", actor="ops.olga", role="operations_admin", now=NOW
        )
    assert types(session, case) == [
        "exception.opened",
        "exception.escalated",
        "exception.escalated",
    ]


def test_critical_case_escalates_to_operations_admin_without_going_higher(
    session: Session, promotion: Promotion
) -> None:
    case = open_shortfall(session, promotion, severity="critical")
    service.resolve_case(
        session,
        case.id,
        action="escalate",
        actor="sam.supply",
        role="supply_chain_planner",
        now=NOW,
    )
    assert (case.severity, case.owner_role) == ("critical", "operations_admin")


def test_unknown_case(session: Session) -> None:
    with pytest.raises(NotFound, match="exception case 999999 does not exist"):
        service.resolve_case(
            session, 999_999, action="retry", actor="a", role="operations_admin", now=NOW
        )


def test_resolved_case_cannot_be_acted_on(session: Session, case: ExceptionCase) -> None:
    service.resolve_case(
        session, case.id, action="retry", actor="sam.supply", role="supply_chain_planner", now=NOW
    )
    with pytest.raises(Conflict, match="is resolved"):
        service.resolve_case(
            session,
            case.id,
            action="waive",
            actor="sam.supply",
            role="supply_chain_planner",
            reason="late",
            now=NOW,
        )


def test_only_the_owner_role_or_operations_admin_may_act(
    session: Session, case: ExceptionCase
) -> None:
    with pytest.raises(Forbidden) as caught:
        service.resolve_case(
            session, case.id, action="retry", actor="pia.pricing", role="pricing_analyst", now=NOW
        )
    assert "role pricing_analyst may not act" in caught.value.message
    assert "owned by supply_chain_planner" in caught.value.message
    service.resolve_case(
        session, case.id, action="retry", actor="ops.olga", role="operations_admin", now=NOW
    )
    assert case.status == "resolved"


def test_action_must_be_allowed_on_the_case(session: Session, promotion: Promotion) -> None:
    case = open_shortfall(session, promotion, allowed_actions=["retry", "cancel_promotion"])
    with pytest.raises(InvalidInput) as caught:
        service.resolve_case(
            session,
            case.id,
            action="waive",
            actor="sam.supply",
            role="supply_chain_planner",
            reason="fine",
            now=NOW,
        )
    assert caught.value.field == "action"
    assert caught.value.value == "waive"
    assert "allowed: retry, cancel_promotion" in caught.value.message


def test_close_case_when_the_cause_went_away(session: Session, case: ExceptionCase) -> None:
    service.close_case(
        session,
        case,
        resolution="stock_arrived",
        actor="system",
        reason="PO 4711 received in full",
        now=NOW,
    )
    assert (case.status, case.resolution) == ("resolved", "stock_arrived")
    service.close_case(session, case, resolution="again", actor="system", reason="", now=NOW)
    assert case.resolution == "stock_arrived"
    assert types(session, case) == ["exception.opened", "exception.resolved"]


def test_list_cases_filters(session: Session, promotion: Promotion, case: ExceptionCase) -> None:
    other = open_shortfall(
        session,
        None,
        kind="integration_failure",
        owner_role="operations_admin",
        allowed_actions=["retry"],
    )
    service.resolve_case(
        session, other.id, action="retry", actor="ops.olga", role="operations_admin", now=NOW
    )
    assert [c.id for c in service.list_cases(session, status="open")] == [case.id]
    assert [c.id for c in service.list_cases(session, owner_role="operations_admin")] == [other.id]
    assert [c.id for c in service.list_cases(session, promotion_id=promotion.id)] == [case.id]
    assert [c.id for c in service.list_cases(session, kind="integration_failure")] == [other.id]
    assert {c.id for c in service.list_cases(session)} == {case.id, other.id}
    with pytest.raises(InvalidInput, match="status='closed'"):
        service.list_cases(session, status="closed")


def test_events_roll_back_with_the_case(session: Session, promotion: Promotion) -> None:
    savepoint = session.begin_nested()
    case = open_shortfall(session, promotion)
    service.resolve_case(
        session, case.id, action="retry", actor="sam.supply", role="supply_chain_planner", now=NOW
    )
    case_id = case.id
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.subject == f"exception/{case_id}")
        )
        == 2
    )
    savepoint.rollback()
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.subject == f"exception/{case_id}")
        )
        == 0
    )
    assert service.list_cases(session, promotion_id=promotion.id) == []
