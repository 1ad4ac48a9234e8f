"""Sandbox supplier portal: purchase orders in, acknowledgements out when their time comes;
a PO its supplier has not confirmed yet can be cancelled."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import (
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
)
from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.client import Rejected, SandboxSystem
from promoflow.connectors.sandbox.faults import as_utc
from promoflow.connectors.sandbox.models import SandboxPurchaseOrder, SandboxSupplierBehaviour
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput


@dataclass(frozen=True)
class SupplierBehaviour:
    """How a supplier answers; suppliers never configured answer at once, in full."""

    ack_after_seconds: float = 0.0
    fill_rate: float = 1.0
    never_ack: bool = False

    @classmethod
    def of(cls, row: SandboxSupplierBehaviour | None) -> SupplierBehaviour:
        """The behaviour stored in `row`, or the default."""
        if row is None:
            return cls()
        return cls(row.ack_after_seconds, row.fill_rate, row.never_ack)


class SandboxSupplierPortal(SandboxSystem):
    """Suppliers receive POs and acknowledge them as configured per supplier."""

    system = "sandbox-supplier-portal"
    reference_prefix = "SP"

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Send a PO to the supplier once per key; returns the supplier's reference."""

        def apply(session: Session) -> str:
            earlier = repository.purchase_order_by_key(session, key)
            if earlier is not None:
                self.record(session, "submit_purchase_order", key, "duplicate")
                return earlier.external_ref
            self._validate(session, order)
            receipt = self.new_receipt(session, "submit_purchase_order", key, len(order.lines))
            session.add(
                SandboxPurchaseOrder(
                    number=order.number,
                    request_key=key,
                    supplier_code=order.supplier_code,
                    destination_code=order.destination_code,
                    due=order.due,
                    lines=[[sku, float(qty)] for sku, qty in order.lines],
                    external_ref=receipt.external_ref,
                    submitted_at=utcnow(),
                )
            )
            self.record(session, "submit_purchase_order", key, "applied", order.number)
            return receipt.external_ref

        return self.call("submit_purchase_order", key, apply)

    def _validate(self, session: Session, order: PurchaseOrderRequest) -> None:
        if session.get(SandboxPurchaseOrder, order.number) is not None:
            raise Rejected(f"PO {order.number} was already submitted under another key")
        if not repository.supplier_exists(session, order.supplier_code):
            raise Rejected(f"unknown supplier {order.supplier_code}")
        if not repository.location_exists(session, order.destination_code):
            raise Rejected(f"unknown destination {order.destination_code}")
        if not order.lines or any(qty <= 0 for _, qty in order.lines):
            raise Rejected(f"PO {order.number} needs lines with positive quantities")

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """Acknowledgements whose time has come (submission + the supplier's delay)."""
        digest = hashlib.sha256(",".join(sorted(numbers)).encode()).hexdigest()[:16]
        key = f"acks-{digest}"

        def apply(session: Session) -> list[PurchaseOrderAck]:
            now = utcnow()
            acks: list[PurchaseOrderAck] = []
            # A cancelled PO was withdrawn before any answer: it never gets one.
            for po in repository.live_purchase_orders(session, numbers):
                row = session.get(SandboxSupplierBehaviour, po.supplier_code)
                ack = _acknowledge(po, SupplierBehaviour.of(row), now)
                if ack is not None:
                    acks.append(ack)
            self.record(session, "acknowledgements", key, "applied", f"{len(acks)} acks")
            return acks

        return self.call("acknowledgements", key, apply)

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Withdraw a PO its supplier has not confirmed yet; a confirmed one stays."""

        def apply(session: Session) -> PurchaseOrderCancellation:
            po = session.get(SandboxPurchaseOrder, number)
            if po is None:
                self.record(session, "cancel_purchase_order", key, "applied", "never received")
                return PurchaseOrderCancellation(number, "cancelled", "the portal never got it")
            if po.cancelled_at is not None:
                self.record(session, "cancel_purchase_order", key, "duplicate", number)
                return PurchaseOrderCancellation(number, "cancelled", "already cancelled")
            row = session.get(SandboxSupplierBehaviour, po.supplier_code)
            answer = _acknowledge(po, SupplierBehaviour.of(row), utcnow())
            if answer is not None and answer.status != "rejected":
                self.record(session, "cancel_purchase_order", key, "rejected", "confirmed")
                when = f"{answer.acknowledged_at:%Y-%m-%d %H:%M} UTC"
                return PurchaseOrderCancellation(
                    number, "confirmed", f"{po.supplier_code} confirmed it ({answer.status}) {when}"
                )
            po.cancelled_at = utcnow()
            self.record(session, "cancel_purchase_order", key, "applied", number)
            return PurchaseOrderCancellation(number, "cancelled")

        return self.call("cancel_purchase_order", key, apply)


def _acknowledge(
    po: SandboxPurchaseOrder, behaviour: SupplierBehaviour, now: datetime
) -> PurchaseOrderAck | None:
    if behaviour.never_ack:
        return None
    answered_at = as_utc(po.submitted_at) + timedelta(seconds=behaviour.ack_after_seconds)
    if answered_at > now:
        return None
    if behaviour.fill_rate <= 0:
        return PurchaseOrderAck(po.number, "rejected", (), answered_at)
    confirmed = tuple(
        (str(sku), float(math.floor(float(qty) * min(1.0, behaviour.fill_rate))))
        for sku, qty in po.lines
    )
    status = "acknowledged" if behaviour.fill_rate >= 1.0 else "partial"
    return PurchaseOrderAck(po.number, status, confirmed, answered_at)


def set_supplier_behaviour(
    sessions: sessionmaker[Session],
    supplier_code: str,
    *,
    ack_after_seconds: float = 0.0,
    fill_rate: float = 1.0,
    never_ack: bool = False,
) -> None:
    """How `supplier_code` answers POs from now on (also for POs already submitted)."""
    if ack_after_seconds < 0:
        raise InvalidInput("ack_after_seconds", ack_after_seconds, "must be 0 or more")
    if not 0.0 <= fill_rate <= 1.0:
        raise InvalidInput("fill_rate", fill_rate, "must be between 0 and 1")
    with transaction(sessions) as session:
        row = session.get(SandboxSupplierBehaviour, supplier_code) or SandboxSupplierBehaviour(
            supplier_code=supplier_code
        )
        row.ack_after_seconds = ack_after_seconds
        row.fill_rate = fill_rate
        row.never_ack = never_ack
        session.add(row)
