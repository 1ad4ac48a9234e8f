"""A small retailer of two banners for the console tests, and writers of its history.

Alpha has stores in the North and South; Beta one store in the North. `world.promotion`
writes a promotion with its scope, and the other helpers write what the lifecycle
would have left behind it (forecast lines, gate rounds, tasks, cases, orders), events
through the event service, so the console reads the rows it meets in production.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.catalog.models import Item, Location, Supplier
from promoflow.events.service import record_event
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseAction, CaseKind, Severity
from promoflow.gates.models import GateResult
from promoflow.gates.schemas import Gate, GateStatus
from promoflow.identity.schemas import BannerScope
from promoflow.inventory.models import InventoryPosition, PurchaseOrder
from promoflow.kit.roles import Role
from promoflow.promotions.models import ForecastLine, Promotion, PromotionItem, PromotionLocation

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
TODAY = NOW.date()
ALPHA = BannerScope(names=frozenset({"Alpha"}))
BETA = BannerScope(names=frozenset({"Beta"}))


class World:
    """A tiny retailer, and writers of what the lifecycle leaves behind."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.items = {
            sku: Item(
                sku=sku,
                name=name,
                department="Grocery",
                category=category,
                subcategory=category,
                unit_cost=Decimal(cost),
                regular_price=Decimal(price),
                attributes={},
            )
            for sku, name, category, cost, price in (
                ("COLA", "Cola 1.5 l", "Soft Drinks", "1.00", "2.00"),
                ("LEMON", "Lemonade 1 l", "Soft Drinks", "0.80", "1.60"),
                ("CHIPS", "Chips 200 g", "Snacks", "1.50", "3.00"),
            )
        }
        self.stores = {
            code: Location(
                code=code, name=code, kind="store", region=region, banner=banner, attributes={}
            )
            for code, region, banner in (
                ("A-N1", "North", "Alpha"),
                ("A-S1", "South", "Alpha"),
                ("B-N1", "North", "Beta"),
            )
        }
        self.supplier = Supplier(code="SUP-1", name="Fizz Ltd")
        session.add_all([*self.items.values(), *self.stores.values(), self.supplier])
        session.flush()
        self.count = 0

    def promotion(
        self,
        prices: dict[str, str],
        stores: tuple[str, ...] = ("A-N1", "A-S1"),
        *,
        start: date = TODAY + timedelta(days=3),
        days: int = 7,
        status: str = "scheduled",
        name: str = "Autumn fizz",
        code: str | None = None,
    ) -> Promotion:
        self.count += 1
        promotion = Promotion(
            code=code or f"PRM-C{self.count:04d}",
            name=name,
            requested_by="mia.merch",
            category="",
            mechanic="fixed_price",
            start_date=start,
            end_date=start + timedelta(days=days - 1),
            channels=["pos"],
            timing={},
            status=status,
        )
        self.session.add(promotion)
        self.session.flush()
        for sku, price in prices.items():
            self.session.add(
                PromotionItem(
                    promotion_id=promotion.id,
                    item_id=self.items[sku].id,
                    promo_price=Decimal(price),
                )
            )
        for store in stores:
            self.session.add(
                PromotionLocation(promotion_id=promotion.id, location_id=self.stores[store].id)
            )
        self.session.flush()
        return promotion

    def forecast(
        self, promotion: Promotion, sku: str, store: str, baseline: float, promoted: float
    ) -> None:
        self.session.add(
            ForecastLine(
                promotion_id=promotion.id,
                revision=promotion.revision,
                item_id=self.items[sku].id,
                location_id=self.stores[store].id,
                baseline_units=baseline,
                promoted_units=promoted,
                p10=promoted * 0.8,
                p50=promoted,
                p80=promoted * 1.1,
                p90=promoted * 1.2,
                model_version="lgbm-1",
                inputs_hash="h",
            )
        )
        self.session.flush()

    def stock(self, sku: str, store: str, on_hand: float) -> None:
        self.session.add(
            InventoryPosition(
                item_id=self.items[sku].id, location_id=self.stores[store].id, on_hand=on_hand
            )
        )
        self.session.flush()

    def gate_round(self, promotion: Promotion, failing: dict[str, float] | None = None) -> None:
        """A round of every gate; `failing` gates fail with that score (threshold 0.05)."""
        failing = failing or {}
        rounds = [
            r.evaluation
            for r in self.session.query(GateResult).filter_by(promotion_id=promotion.id)
        ]
        evaluation = max(rounds, default=0) + 1
        for gate in Gate:
            self.session.add(
                GateResult(
                    promotion_id=promotion.id,
                    revision=promotion.revision,
                    evaluation=evaluation,
                    gate=gate,
                    status=GateStatus.FAIL if gate in failing else GateStatus.PASS,
                    blocking=gate != Gate.OVERSTOCK_RISK,
                    score=failing.get(gate, 0.01),
                    threshold=0.05,
                    summary=f"{gate} {'failed' if gate in failing else 'passed'}",
                    evidence={},
                    policy_version="test",
                )
            )
        record_event(
            self.session,
            "gate.evaluated",
            f"promotion/{promotion.id}",
            {
                "revision": promotion.revision,
                "evaluation": evaluation,
                "launch_ready": not failing,
                "gates": {g: ("fail" if g in failing else "pass") for g in Gate},
                "failing": sorted(failing),
            },
            promotion_id=promotion.id,
        )
        self.session.flush()

    def task(self, promotion: Promotion, role: Role, due_in: timedelta) -> ApprovalTask:
        task = ApprovalTask(
            promotion_id=promotion.id,
            revision=promotion.revision,
            role=role,
            assigned_role=role,
            reason="depth over 30 %",
            sla_hours=8,
            due_at=NOW + due_in,
            created_at=NOW + due_in - timedelta(hours=8),
        )
        self.session.add(task)
        self.session.flush()
        return task

    def case(
        self, promotion: Promotion | None, owner: Role, opened: datetime, title: str = "a case"
    ) -> ExceptionCase:
        case = ExceptionCase(
            kind=CaseKind.SUPPLIER_SHORTFALL,
            severity=Severity.HIGH,
            owner_role=owner,
            promotion_id=promotion.id if promotion else None,
            revision=promotion.revision if promotion else None,
            title=title,
            linked={},
            allowed_actions=[CaseAction.RETRY],
            opened_at=opened,
        )
        self.session.add(case)
        self.session.flush()
        return case

    def purchase_order(self, promotion: Promotion, number: str, ack_due: datetime) -> None:
        self.session.add(
            PurchaseOrder(
                number=number,
                supplier_id=self.supplier.id,
                destination_id=self.stores["A-N1"].id,
                promotion_id=promotion.id,
                ack_due_at=ack_due,
                due_date=promotion.start_date - timedelta(days=1),
            )
        )
        self.session.flush()
