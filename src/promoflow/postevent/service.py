"""Post-event analysis of one promotion: figures, reconciliation, exception cases.

Never commits: the cases a reconciliation opens ride the caller's transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import ConnectorError, SalesFeed
from promoflow.connectors.sandbox.ledger import PromotionLedger, SandboxLedger
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseAction, CaseKind, Severity
from promoflow.kit.errors import Conflict, NotFound, Unavailable
from promoflow.kit.roles import Role
from promoflow.postevent import financials, live, repository
from promoflow.postevent.financials import PromotionScope
from promoflow.postevent.live import LivePromotion
from promoflow.postevent.reconciliation import Mismatch, reconcile
from promoflow.promotions.states import PromotionState
from promoflow.scenario.models import ScenarioPromotionEvent

MISMATCH_ACTIONS = [CaseAction.WAIVE, CaseAction.REASSIGN, CaseAction.ESCALATE]
PROMOTED = pl.col("role") == "promoted"


class LedgerSource(Protocol):
    """The ERP's view of a promotion that has run (the sandbox ledger plays it)."""

    def promotion_ledger(self, code: str) -> PromotionLedger: ...

    def live_promotion_ledger(
        self,
        code: str,
        scope: tuple[list[str], list[str], date, date],
        funding_per_unit: Decimal,
        posting_key: str,
    ) -> PromotionLedger: ...


def event_codes(session: Session) -> list[str]:
    """Codes of every promotion that has run, in order."""
    return repository.event_codes(session)


def find_event(session: Session, ref: str) -> ScenarioPromotionEvent:
    """A promotion of the seeded history, by its code (NotFound otherwise)."""
    found = find_subject(session, ref)
    if isinstance(found, LivePromotion):
        raise NotFound(f"promotion {ref!r} ran through the workflow, not in the seeded history")
    return found


def find_subject(session: Session, ref: str) -> ScenarioPromotionEvent | LivePromotion:
    """A promotion that has run, by its code: one of the seeded history, else one the
    workflow closed; NotFound names the code and some known ones."""
    code = ref.strip()
    event = repository.event_by_code(session, code)
    if event is not None:
        return event
    promotion = repository.promotion_by_code(session, code)
    if promotion is None:
        known = repository.closed_promotion_codes(session)[:2] + repository.event_codes(session)
        hint = f"known codes include {', '.join(known[:3])}" if known else "none has run yet"
        raise NotFound(
            f"promotion {ref!r}: no promotion with that code has a post-event history "
            f"(the report covers promotions that have run: {hint})"
        )
    if promotion.status != PromotionState.CLOSED:
        raise Conflict(
            f"status={promotion.status!r}: promotion {promotion.code} has not closed; the "
            "post-event report covers a promotion the workflow analysed, posted to finance "
            "and closed",
            field="status",
            value=promotion.status,
        )
    return live.describe(session, promotion)


def scope_of(event: ScenarioPromotionEvent) -> PromotionScope:
    """Where, when and how the promotion ran."""
    return PromotionScope(
        code=event.code,
        category=event.category,
        region=event.region,
        start=event.start_week,
        end=event.end_week,
        display=event.display,
        feature=event.feature,
    )


def measured_cells(session: Session, event: ScenarioPromotionEvent) -> pl.DataFrame:
    """Promoted, sibling and dip cells of the promotion with their baseline units."""
    panel = repository.category_panel(session, event.category)
    return financials.measure(panel, scope_of(event))


def true_incremental_units(session: Session, event: ScenarioPromotionEvent) -> float | None:
    """The scenario generator's true incremental units sold (None if it kept no truth)."""
    truth = repository.counterfactual_truth(session, event.id)
    if truth.is_empty() or truth["counterfactual_sold_units"].null_count():
        return None
    return float((truth["units"] - truth["counterfactual_sold_units"]).sum())


def sandbox_ledger(sessions: sessionmaker[Session]) -> LedgerSource:
    """The embedded estate's ERP ledger (history promotions live only in the sandbox)."""
    return SandboxLedger(sessions)


def read_ledger(source: LedgerSource, subject: str | LivePromotion) -> PromotionLedger:
    """The ERP's record of the promotion (a code of the history, or a workflow's promotion);
    call it outside the caller's transaction (the ERP answers in its own), an unreachable
    ERP is Unavailable."""
    code = subject if isinstance(subject, str) else subject.code
    try:
        if isinstance(subject, str):
            return source.promotion_ledger(subject)
        scope = (
            list(subject.skus),
            list(subject.location_codes),
            subject.first_day,
            subject.last_day,
        )
        return source.live_promotion_ledger(
            code, scope, subject.funding_per_unit, subject.posting_key
        )
    except ConnectorError as error:
        raise Unavailable(f"the ERP ledger of {code} could not be read ({error})") from None


def live_scope(promotion: LivePromotion) -> PromotionScope:
    """Where, when and how a workflow's promotion ran (weeks by their Monday)."""
    return PromotionScope(
        code=promotion.code,
        category=", ".join(promotion.categories),
        region=None,
        start=live.monday(promotion.first_day),
        end=live.monday(promotion.last_day),
        display=promotion.display,
        feature=promotion.feature,
        skus=promotion.skus,
        location_codes=promotion.location_codes,
    )


def live_cells(session: Session, promotion: LivePromotion, feed: SalesFeed) -> pl.DataFrame:
    """Promoted and sibling cells of a workflow's promotion, category by category, with
    their baseline units (reads the sales feed: call it before any write)."""
    scope, shares = live_scope(promotion), live.week_shares(promotion)
    frames = [
        financials.measure(live.category_panel(session, promotion, category, feed), scope, shares)
        for category in promotion.categories
    ]
    return pl.concat(frames) if frames else pl.DataFrame()


def live_report(
    session: Session,
    promotion: LivePromotion,
    cells: pl.DataFrame,
    ledger: PromotionLedger,
    *,
    currency: str,
    open_cases: bool = True,
) -> dict[str, Any]:
    """The post-event report of a promotion the workflow closed; opens a case per new
    reconciliation mismatch unless `open_cases` is false, as `promotion_report` does."""
    if ledger.code != promotion.code:
        raise Conflict(f"ledger of {ledger.code!r} given for promotion {promotion.code!r}")
    promoted = cells.filter(PROMOTED)
    identity = {
        "code": promotion.code,
        "name": promotion.name,
        "category": ", ".join(promotion.categories),
        "region": ", ".join(sorted(set(promoted["region"].drop_nulls().to_list()))) or "-",
        "mechanic": promotion.mechanic,
        "nominal_depth_pct": round(100 * promotion.nominal_depth, 1),
        "display": promotion.display,
        "feature": promotion.feature,
        "first_week": live.monday(promotion.first_day).isoformat(),
        "last_week": live.monday(promotion.last_day).isoformat(),
        "items": promoted["sku"].n_unique(),
        "locations": promoted["location_code"].n_unique(),
        "first_day": promotion.first_day.isoformat(),
        "last_day": promotion.last_day.isoformat(),
        "days": promotion.days,
        "sales_source": "sales feed (daily), as the workflow's post-event step read it",
        # Measured once the feed has sold the week after; until then pull-forward is 0.
        "week_after": live.week_after(promotion).isoformat(),
        "week_after_sold": cells.filter(pl.col("role") == "dip").height > 0,
    }
    return _assemble(session, identity, cells, live_scope(promotion), ledger, currency, open_cases)


def promotion_report(
    session: Session, ref: str, ledger: PromotionLedger, *, currency: str, open_cases: bool = True
) -> dict[str, Any]:
    """The post-event report of the history's promotion `ref`; opens a case per new
    reconciliation mismatch (once: a rerun finds the case it opened). With `open_cases`
    false it writes nothing: a mismatch names the case already open for it, or none."""
    event = find_event(session, ref)
    if ledger.code != event.code:
        raise Conflict(f"ledger of {ledger.code!r} given for promotion {event.code!r}")
    cells = measured_cells(session, event)
    identity = _identity(event, cells.filter(PROMOTED))
    return _assemble(session, identity, cells, scope_of(event), ledger, currency, open_cases)


def _assemble(
    session: Session,
    identity: dict[str, Any],
    cells: pl.DataFrame,
    scope: PromotionScope,
    ledger: PromotionLedger,
    currency: str,
    open_cases: bool,
) -> dict[str, Any]:
    code = scope.code
    funding = {sku: float(value) for sku, value in ledger.funding_per_unit.items()}
    figures = financials.figures(cells, scope, funding)
    promoted = cells.filter(PROMOTED)
    mismatches, totals = reconcile(code, promoted, ledger)
    case_ids = (
        open_mismatch_cases(session, code, mismatches)
        if open_cases
        else raised_cases(session, code, mismatches)
    )
    claimed = totals["vendor_funding_claimed"]
    return {
        "promotion": identity,
        "currency": currency,
        **figures,
        "vendor_funding": {
            "earned": figures["costs"]["vendor_funding_earned"],
            "claimed": float(claimed) if claimed else None,
        },
        "reconciliation": {
            "status": "mismatched" if mismatches else "matched",
            "totals": totals,
            "mismatches": [
                {
                    "check": m.check,
                    "title": m.title,
                    "pos": m.pos,
                    "erp": m.erp,
                    "finance": m.finance,
                    "case_id": case_ids[m.key(code)],
                }
                for m in mismatches
            ],
        },
    }


def _identity(event: ScenarioPromotionEvent, promoted: pl.DataFrame) -> dict[str, Any]:
    return {
        "code": event.code,
        "name": event.name,
        "category": event.category,
        "region": event.region or "national",
        "mechanic": event.mechanic,
        "nominal_depth_pct": round(100 * event.nominal_depth, 1),
        "display": event.display,
        "feature": event.feature,
        "first_week": event.start_week.isoformat(),
        "last_week": event.end_week.isoformat(),
        "items": promoted["sku"].n_unique(),
        "locations": promoted["location_code"].n_unique(),
    }


def raised_cases(session: Session, code: str, mismatches: list[Mismatch]) -> dict[str, int | None]:
    """Case id per mismatch key: the case once opened for that mismatch, or None."""
    kind = CaseKind.RECONCILIATION_MISMATCH
    raised = {
        str(case.linked.get("reconciliation_key")): case.id
        for case in exceptions_service.list_cases(session, kind=kind)
    }
    return {m.key(code): raised.get(m.key(code)) for m in mismatches}


def open_mismatch_cases(
    session: Session, code: str, mismatches: list[Mismatch]
) -> dict[str, int | None]:
    """Case id per mismatch key, opening a case only for a mismatch never raised before."""
    kind = CaseKind.RECONCILIATION_MISMATCH
    raised = raised_cases(session, code, mismatches)
    for mismatch in mismatches:
        key = mismatch.key(code)
        if raised[key] is not None:
            continue
        case = exceptions_service.open_case(
            session,
            kind=kind,
            severity=Severity.MEDIUM if mismatch.check == "units" else Severity.HIGH,
            owner_role=Role.FINANCE_APPROVER,
            title=f"{code}: {mismatch.title}"[:300],
            detail=(
                f"Three-way reconciliation of {code} ({mismatch.check}): "
                f"POS {mismatch.pos or '-'}, ERP {mismatch.erp or '-'}, "
                f"finance {mismatch.finance or '-'}. Correct the posting in the ERP, "
                "or waive with the reason it stands."
            ),
            promotion=None,
            linked={
                "promotion_ref": code,
                "reconciliation_key": key,
                "check": mismatch.check,
                "pos": mismatch.pos,
                "erp": mismatch.erp,
                "finance": mismatch.finance,
            },
            allowed_actions=list(MISMATCH_ACTIONS),
            workflow_id=None,
        )
        raised[key] = case.id
    return raised
