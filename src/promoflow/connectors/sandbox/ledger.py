"""Sandbox ERP ledger of past promotions: goods issues, vendor funding deals, postings.

The ERP books what the POS sold: each sale is a goods issue from the store's stock,
and the promotion's result (margin including the vendor funding claimed) is posted
to the general ledger once. Faults that a real estate suffers (a posting lost in an
interface, a posting keyed by hand) are injected with `drop_posting` and
`alter_posting`, so the three-way reconciliation has something to find.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.client import Rejected, SandboxSystem
from promoflow.connectors.sandbox.models import SandboxFinancePosting
from promoflow.connectors.sandbox.sales_feed import simulate_sales
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import NotFound
from promoflow.scenario import repository as scenario_repository

CENT = Decimal("0.01")
BOOK = "book_promotion"
BOOK_ISSUES = "book_goods_issues"
# The vendor funds this share of the price cut; which one is the deal of each promotion.
FUNDING_SHARES = (Decimal("0.20"), Decimal("0.35"), Decimal("0.50"))


@dataclass(frozen=True)
class GoodsIssue:
    """Units the ERP issued from a location's stock to sales in one week."""

    sku: str
    location_code: str
    week: date
    units: float


@dataclass(frozen=True)
class LedgerPosting:
    """The promotion's result as posted to the general ledger."""

    document_number: str
    margin: Decimal
    vendor_funding: Decimal


@dataclass(frozen=True)
class PromotionLedger:
    """What the ERP holds about one past promotion."""

    code: str
    goods_issues: list[GoodsIssue]
    funding_per_unit: dict[str, Decimal]
    posting: LedgerPosting | None  # None: never reached the ledger


def _key(code: str) -> str:
    return f"history-{code}"


class SandboxLedger(SandboxSystem):
    """The ERP's stock ledger and general ledger for promotions that have run."""

    system = "sandbox-erp-finance"
    reference_prefix = "FI"

    def promotion_ledger(self, code: str) -> PromotionLedger:
        """Goods issues, funding deal and posting of promotion `code` (booked on first ask)."""
        key = _key(code)

        def apply(session: Session) -> PromotionLedger:
            sales = scenario_repository.event_sales(session, code)
            if not sales:
                raise Rejected(f"promotion {code!r} has no sales in the ledger")
            funding = _funding_deal(code, sales)
            if self.first_receipt(session, BOOK, key) is None:
                self._book(session, key, code, sales, funding)
            posted = repository.finance_posting(session, key)
            self.record(session, "promotion_ledger", key, "applied", code)
            issues = [
                GoodsIssue(sku, loc, week, float(units)) for sku, loc, week, units, *_ in sales
            ]
            posting = (
                None
                if posted is None
                else LedgerPosting(posted.document_number, posted.margin, posted.vendor_funding)
            )
            return PromotionLedger(code, issues, funding, posting)

        return self.call("promotion_ledger", key, apply)

    def live_promotion_ledger(
        self,
        code: str,
        scope: tuple[list[str], list[str], date, date],
        funding_per_unit: Decimal,
        posting_key: str,
    ) -> PromotionLedger:
        """Goods issues, funding deal and posting of a promotion run through the workflow.

        `scope` is (skus, location codes, first day, last day). The ERP issues what its
        POS sold (booked on first ask, per week); the posting is the one the workflow
        sent under `posting_key`, and the deal is the promotion's funding per unit.
        """
        skus, codes, first, last = scope
        key = f"live-{code}"

        def apply(session: Session) -> PromotionLedger:
            weekly: dict[tuple[str, str, date], float] = defaultdict(float)
            for record in simulate_sales(session, skus, codes, first, last):
                week = record.day - timedelta(days=record.day.weekday())
                weekly[(record.sku, record.location_code, week)] += record.units
            if self.first_receipt(session, BOOK_ISSUES, key) is None:
                self.new_receipt(session, BOOK_ISSUES, key, len(weekly))
                self.record(session, BOOK_ISSUES, key, "applied", code)
            posted = repository.finance_posting(session, posting_key)
            self.record(session, "promotion_ledger", key, "applied", code)
            issues = [
                GoodsIssue(sku, loc, week, units)
                for (sku, loc, week), units in sorted(weekly.items())
                if units > 0
            ]
            posting = (
                None
                if posted is None
                else LedgerPosting(posted.document_number, posted.margin, posted.vendor_funding)
            )
            return PromotionLedger(code, issues, dict.fromkeys(skus, funding_per_unit), posting)

        return self.call("promotion_ledger", key, apply)

    def _book(
        self,
        session: Session,
        key: str,
        code: str,
        sales: list[tuple[str, str, date, float, float, Decimal, Decimal]],
        funding: dict[str, Decimal],
    ) -> None:
        margin = Decimal(0)
        claimed = Decimal(0)
        for sku, _, _, units, price, cost, _ in sales:
            sold = Decimal(str(units))
            margin += sold * (Decimal(str(price)) - cost)
            claimed += sold * funding[sku]
        receipt = self.new_receipt(session, BOOK, key, len(sales))
        session.add(
            SandboxFinancePosting(
                request_key=key,
                promotion_code=code,
                margin=(margin + claimed).quantize(CENT, ROUND_HALF_UP),
                vendor_funding=claimed.quantize(CENT, ROUND_HALF_UP),
                document_number=receipt.external_ref,
                posted_at=utcnow(),
            )
        )
        self.record(session, BOOK, key, "applied", code)


def _funding_deal(
    code: str, sales: list[tuple[str, str, date, float, float, Decimal, Decimal]]
) -> dict[str, Decimal]:
    """Funding per unit per SKU: the deal's share of the SKU's price cut."""
    share = FUNDING_SHARES[zlib.crc32(code.encode()) % len(FUNDING_SHARES)]
    cuts: dict[str, list[Decimal]] = defaultdict(list)
    for sku, _, _, _, price, _, regular in sales:
        cuts[sku].append(regular - Decimal(str(price)))
    return {
        sku: (share * max(values)).quantize(CENT, ROUND_HALF_UP) for sku, values in cuts.items()
    }


def drop_posting(sessions: sessionmaker[Session], code: str) -> None:
    """Fault: the promotion's posting never reached the general ledger."""
    with transaction(sessions) as session:
        if not repository.delete_finance_posting(session, _key(code)):
            raise NotFound(f"promotion {code!r} has no posting in the sandbox ledger")


def alter_posting(
    sessions: sessionmaker[Session],
    code: str,
    *,
    margin: Decimal | None = None,
    vendor_funding: Decimal | None = None,
    posting_key: str | None = None,
) -> None:
    """Fault: the promotion's posting was keyed with other amounts (a workflow's
    promotion is found by the `posting_key` it sent, a history's by its code)."""
    with transaction(sessions) as session:
        posting = repository.finance_posting(session, posting_key or _key(code))
        if posting is None:
            raise NotFound(f"promotion {code!r} has no posting in the sandbox ledger")
        if margin is not None:
            posting.margin = margin
        if vendor_funding is not None:
            posting.vendor_funding = vendor_funding
