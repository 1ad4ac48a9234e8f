"""A closed promotion's post-event report: incremental figures and three-way reconciliation.

GET reads: it opens no case, and a mismatch names the case already open for it (or
null). POST runs the reconciliation as a job would and opens a case per new mismatch,
so only a caller allowed to raise reconciliation cases can write through it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from promoflow.api.deps import CommandSessions, Currency, PromotionRef
from promoflow.api.permissions import Reader, Reconciler
from promoflow.api.problems import problem_responses
from promoflow.connectors import registry
from promoflow.postevent import commands, service

router = APIRouter(prefix="/promotions/{ref}", tags=["promotions"])


def _report(
    sessions: CommandSessions, ref: str, currency: str, *, open_cases: bool
) -> dict[str, Any]:
    return commands.report_for(
        sessions,
        ref,
        currency=currency,
        sales_feed=registry.get_sales_feed(sessions),
        ledger=service.sandbox_ledger(sessions),
        open_cases=open_cases,
    )


@router.get("/post-event", responses=problem_responses(404, 409))
def get_post_event(
    sessions: CommandSessions, _actor: Reader, ref: PromotionRef, currency: Currency
) -> dict[str, Any]:
    """What a closed promotion earned against a counterfactual from actuals, and whether
    POS, ERP stock movements and the finance posting agree (the JSON of `promoflow report
    promotion`). Writes nothing: each mismatch names the case open for it, or null until
    `POST .../post-event` opens one. 409 before it closed."""
    return _report(sessions, ref, currency, open_cases=False)


@router.post("/post-event", responses=problem_responses(403, 404, 409))
def post_post_event(
    sessions: CommandSessions, _actor: Reconciler, ref: PromotionRef, currency: Currency
) -> dict[str, Any]:
    """The same report, and a reconciliation case opened for each mismatch not raised
    before (owned by finance; a repeat opens none). 409 before it closed."""
    return _report(sessions, ref, currency, open_cases=True)
