"""Opening a case from a CaseSpec: the typed way the workflow describes a case (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.events.models import Event
from promoflow.exceptions import service
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import BLOCK_ACTIONS, CaseKind, CaseSpec, Severity
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import Role
from promoflow.promotions.models import Promotion

NOW = datetime(2026, 11, 12, 14, 30, tzinfo=UTC)


def shortfall(**changes: object) -> CaseSpec:
    fields: dict[str, object] = {
        "kind": CaseKind.SUPPLIER_SHORTFALL,
        "severity": Severity.HIGH,
        "owner_role": Role.SUPPLY_CHAIN_PLANNER,
        "title": "Supplier SUP-01 confirmed 600 of 1,000 units",
        "detail": "PO 4711 line 1 short by 400 units for the launch week",
        "allowed_actions": BLOCK_ACTIONS,
        "linked": {"purchase_order": "4711"},
    }
    fields.update(changes)
    return CaseSpec(**fields)  # type: ignore[arg-type]


def test_a_spec_opens_the_case_it_describes(session: Session, promotion: Promotion) -> None:
    case = service.open_case_from_spec(
        session, shortfall(), promotion=promotion, workflow_id=promotion.workflow_id, now=NOW
    )
    session.expire_all()  # read back what the database holds, not the objects given
    stored = session.get(ExceptionCase, case.id)
    assert stored is not None
    assert (stored.kind, stored.severity, stored.owner_role, stored.status) == (
        "supplier_shortfall",
        "high",
        "supply_chain_planner",
        "open",
    )
    assert stored.allowed_actions == ["reassign", "escalate", "cancel_promotion"]
    assert (stored.promotion_id, stored.revision, stored.workflow_id) == (
        promotion.id,
        promotion.revision,
        promotion.workflow_id,
    )
    assert stored.linked == {"purchase_order": "4711"}
    opened = session.scalars(sa.select(Event).where(Event.subject == f"exception/{case.id}")).one()
    assert opened.type == "io.promoflow.exception.opened"
    assert opened.data["kind"] == "supplier_shortfall"
    assert opened.data["allowed_actions"] == ["reassign", "escalate", "cancel_promotion"]


def test_a_spec_is_checked_like_any_case(session: Session, promotion: Promotion) -> None:
    with pytest.raises(InvalidInput) as refused:
        service.open_case_from_spec(
            session, shortfall(title="  "), promotion=promotion, workflow_id=None
        )
    assert refused.value.field == "title"
    with pytest.raises(InvalidInput) as refused:
        service.open_case_from_spec(
            session, shortfall(allowed_actions=()), promotion=promotion, workflow_id=None
        )
    assert refused.value.field == "allowed_actions"
