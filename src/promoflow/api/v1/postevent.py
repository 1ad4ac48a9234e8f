"""A closed promotion's post-event report: incremental figures and three-way reconciliation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from promoflow.api.deps import CommandSessions, Currency, PromotionRef
from promoflow.api.permissions import Reader
from promoflow.api.problems import problem_responses
from promoflow.connectors import registry
from promoflow.postevent import commands, service

router = APIRouter(prefix="/promotions/{ref}", tags=["promotions"])


@router.get("/post-event", responses=problem_responses(404, 409))
def get_post_event(
    sessions: CommandSessions, _actor: Reader, ref: PromotionRef, currency: Currency
) -> dict[str, Any]:
    """What a closed promotion earned against a counterfactual from actuals, and whether
    POS, ERP stock movements and the finance posting agree (the JSON of `promoflow report
    promotion`); a new mismatch opens a reconciliation case, once. 409 before it closed."""
    return commands.report_for(
        sessions,
        ref,
        currency=currency,
        sales_feed=registry.get_sales_feed(sessions),
        ledger=service.sandbox_ledger(sessions),
    )
