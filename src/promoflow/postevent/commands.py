"""The post-event report as one job: read the promotion and its sales, ask the ERP, then
write the cases its reconciliation opens (the CLI, the API and the demo run it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import SalesFeed
from promoflow.kit.db import reading, transaction
from promoflow.postevent import service
from promoflow.postevent.live import LivePromotion


def report_for(
    sessions: sessionmaker[Session],
    ref: str,
    *,
    currency: str,
    sales_feed: SalesFeed,
    ledger: service.LedgerSource,
    open_cases: bool = True,
) -> dict[str, Any]:
    """The post-event report of promotion `ref` (history or workflow); commits the cases
    its reconciliation opens, or, with `open_cases` false, only reads.

    The sales feed and the ERP answer in their own transactions, so both are read before
    this job's write transaction takes SQLite's write turn.
    """
    with reading(sessions) as session:
        subject = service.find_subject(session, ref)
        cells = (
            service.live_cells(session, subject, sales_feed)
            if isinstance(subject, LivePromotion)
            else None
        )
    if isinstance(subject, LivePromotion):
        booked = service.read_ledger(ledger, subject)
    else:
        booked = service.read_ledger(ledger, subject.code)
    with (transaction if open_cases else reading)(sessions) as session:
        if isinstance(subject, LivePromotion) and cells is not None:
            return service.live_report(
                session, subject, cells, booked, currency=currency, open_cases=open_cases
            )
        return service.promotion_report(
            session, subject.code, booked, currency=currency, open_cases=open_cases
        )
