"""Approval tasks on drafts, opened through the approvals service: the console's inbox
tests reach each state and refusal without waiting on a lifecycle workflow."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from api.conftest import Catalog


def draft(catalog: Catalog, requested_by: str, days_ahead: int) -> tuple[int, str]:
    """A 20 %-off draft on two items in two stores, requested by `requested_by`."""
    from promoflow.lifecycle import commands
    from promoflow.promotions.schemas import PromotionCreate

    start = date.today() + timedelta(days=days_ahead)
    code = f"INBOX-{uuid.uuid4().hex[:6].upper()}"
    promotion = commands.create_promotion(
        PromotionCreate(
            code=code, name=f"Inbox {code}", mechanic="percent_off", discount_percent=Decimal(20),
            start_date=start, end_date=start + timedelta(days=6), channels=["pos"],
            items=catalog.skus[:2], locations=catalog.stores,
        ),
        requested_by,
    )  # fmt: skip
    return promotion.id, code


def open_tasks(promotion_id: int, *roles: str) -> list[int]:
    """Pending tasks for `roles` on the draft's revision, due in a day (nothing lapses)."""
    from promoflow.approvals import service as approvals_service
    from promoflow.approvals.matrix import RequiredApproval
    from promoflow.kit.clock import utcnow
    from promoflow.kit.db import transaction
    from promoflow.promotions import service as promotions_service
    from promoflow.runtime import get_runtime

    needs = [
        RequiredApproval(
            role=role, reasons=[f"{role} checks it"], sla_hours=24, reminder_after_hours=12,
            escalate_to="operations_admin", expire_after_hours=48,
        )
        for role in roles
    ]  # fmt: skip
    with transaction(get_runtime().sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        tasks = approvals_service.open_approval_tasks(
            session, promotion, needs, utcnow(), seconds_per_business_hour=3600.0
        )
        return [task.id for task in tasks]
