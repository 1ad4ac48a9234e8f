"""Objects of two banners, written directly, for the access matrix and banner-scope tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.runtime import get_runtime

OWN, OTHER = "FreshMart", "FreshMart Express"


@dataclass(frozen=True)
class Objects:
    """One promotion of each banner, with an approval task, a case and a recommendation."""

    promotion: dict[str, str]  # banner -> code
    task: dict[str, int]
    case: dict[str, int]
    recommendation: dict[str, int]
    retailer_case: int
    sku: str


def _stores(session: Any, banner: str) -> list[str]:
    from promoflow.catalog.models import Location

    return list(
        session.scalars(
            sa.select(Location.code)
            .where(Location.kind == "store", Location.banner == banner)
            .order_by(Location.id)
            .limit(2)
        )
    )


def _promotion_of(session: Any, banner: str, skus: list[str], label: str) -> Any:
    from promoflow.promotions import service as promotions_service
    from promoflow.promotions.schemas import PromotionCreate

    start = date.today() + timedelta(days=40)
    data = PromotionCreate(
        name=f"Access matrix {label} ({banner})",
        mechanic="percent_off",
        discount_percent=Decimal(10),
        start_date=start,
        end_date=start + timedelta(days=6),
        channels=["pos"],
        items=skus,
        locations=_stores(session, banner),
    )
    return promotions_service.create_promotion(session, data, f"creator-{label}")


def make_objects(skus: list[str], label: str) -> Objects:
    """Promotions of both banners and an object of each kind on each, written directly."""
    from promoflow.approvals.models import ApprovalTask
    from promoflow.exceptions.models import ExceptionCase
    from promoflow.recommendations.models import Recommendation

    now = utcnow()
    promotion: dict[str, str] = {}
    task: dict[str, int] = {}
    case: dict[str, int] = {}
    recommendation: dict[str, int] = {}
    with transaction(get_runtime().sessions) as session:
        for banner in (OWN, OTHER):
            row = _promotion_of(session, banner, skus, label)
            promotion[banner] = row.code
            made_task = ApprovalTask(
                promotion_id=row.id,
                revision=row.revision,
                role="finance_approver",
                assigned_role="finance_approver",
                sla_hours=24.0,
                due_at=now + timedelta(days=1),
            )
            made_case = ExceptionCase(
                kind="supplier_shortfall",
                severity="high",
                owner_role="supply_chain_planner",
                promotion_id=row.id,
                revision=row.revision,
                title=f"shortfall on {row.code}",
                linked={},
                allowed_actions=["retry", "cancel_promotion"],
            )
            made_recommendation = Recommendation(
                promotion_id=row.id,
                revision=row.revision,
                kind="allocation",
                model_version="demand-test",
                inputs_hash="0" * 64,
                summary={},
                threshold={},
            )
            session.add_all([made_task, made_case, made_recommendation])
            session.flush()
            task[banner] = made_task.id
            case[banner] = made_case.id
            recommendation[banner] = made_recommendation.id
        retailer = ExceptionCase(
            kind="integration_failure",
            severity="high",
            owner_role="operations_admin",
            title="a connection failed",
            linked={},
            allowed_actions=["retry"],
        )
        session.add(retailer)
        session.flush()
        retailer_id = retailer.id
    return Objects(promotion, task, case, recommendation, retailer_id, skus[0])


def api_key(role: str, banners: list[str], name: str | None = None) -> dict[str, str]:
    """Headers carrying a new API key record of `role` for `banners` (`["*"]`: every one)."""
    import uuid

    from promoflow.identity import service as identity

    with transaction(get_runtime().sessions) as session:
        issued = identity.create_api_key(
            session,
            name=name or f"{role}-{uuid.uuid4().hex[:6]}",
            role=role,
            banners=banners,
            days=1,
            created_by="access.tests",
            now=utcnow(),
        )
    return {"X-API-Key": issued.secret}
