"""Sandbox ERP: the item master (with a change log) and finance postings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item
from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.client import Rejected, SandboxSystem
from promoflow.connectors.sandbox.models import SandboxFinancePosting, SandboxItemChange
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction


def _item_record(item: Item, supplier_code: str | None) -> dict[str, object]:
    return {
        "sku": item.sku,
        "name": item.name,
        "department": item.department,
        "category": item.category,
        "subcategory": item.subcategory,
        "brand": item.brand,
        "supplier_code": supplier_code,
        "unit_cost": str(item.unit_cost),
        "regular_price": str(item.regular_price),
        "status": item.status,
        "restricted": item.restricted,
        "case_pack": item.case_pack,
    }


class SandboxItemMaster(SandboxSystem):
    """The ERP's item master; the seeded catalogue plus changes recorded by `change_item`."""

    system = "sandbox-erp"
    reference_prefix = "ERP"

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        """Item master records changed since a time (None = all)."""
        key = f"items-since-{since.isoformat() if since else 'all'}"

        def apply(session: Session) -> list[dict[str, object]]:
            changes: dict[str, dict[str, Any]] = {}
            for change in repository.item_changes(session, since):
                changes.setdefault(change.sku, {}).update(change.fields)
            skus = list(changes) if since is not None else None
            records = [
                {**_item_record(item, code), **changes.get(item.sku, {})}
                for item, code in repository.items_with_supplier_codes(session, skus)
            ]
            self.record(session, "changed_items", key, "applied", f"{len(records)} items")
            return records

        return self.call("changed_items", key, apply)


def change_item(sessions: sessionmaker[Session], sku: str, **fields: object) -> None:
    """Record a change to an item in the ERP (what `changed_items` reports next)."""
    with transaction(sessions) as session:
        session.add(SandboxItemChange(sku=sku, fields=dict(fields), changed_at=utcnow()))


class SandboxFinance(SandboxSystem):
    """The ERP's general ledger: promotion results posted once per key."""

    system = "sandbox-erp-finance"
    reference_prefix = "FI"

    def post_promotion_result(
        self, key: str, promotion_code: str, margin: Decimal, vendor_funding: Decimal
    ) -> str:
        """Post the promotion's realised margin and vendor funding claim once per key."""

        def apply(session: Session) -> str:
            earlier = repository.finance_posting(session, key)
            if earlier is not None:
                self.record(session, "post_promotion_result", key, "duplicate")
                return earlier.document_number
            if vendor_funding < 0:
                raise Rejected(f"vendor_funding {vendor_funding} cannot be negative")
            receipt = self.new_receipt(session, "post_promotion_result", key, 1)
            session.add(
                SandboxFinancePosting(
                    request_key=key,
                    promotion_code=promotion_code,
                    margin=margin,
                    vendor_funding=vendor_funding,
                    document_number=receipt.external_ref,
                    posted_at=utcnow(),
                )
            )
            self.record(session, "post_promotion_result", key, "applied", promotion_code)
            return receipt.external_ref

        return self.call("post_promotion_result", key, apply)


def finance_postings(sessions: sessionmaker[Session]) -> list[dict[str, object]]:
    """Every posting in the ledger, oldest first."""
    with transaction(sessions) as session:
        return [
            {
                "promotion_code": r.promotion_code,
                "margin": r.margin,
                "vendor_funding": r.vendor_funding,
                "document_number": r.document_number,
                "posted_at": r.posted_at,
            }
            for r in repository.finance_postings(session)
        ]
