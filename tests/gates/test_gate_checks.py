"""Each gate passing and failing on the hand-made retailer, through the real queries.

Every item-store starts with 10 units on hand; the tests set the P90 forecast and
the other facts so each verdict can be checked by hand.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from gate_retail import NOW, Retail, add_promotion
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.catalog.models import Price, Ranging, Supplier
from promoflow.events.models import Event
from promoflow.gates.evaluate import GateOutcome, evaluate
from promoflow.gates.inputs import load_gate_inputs
from promoflow.gates.policy import load_gate_policy
from promoflow.inventory.models import PurchaseOrder, PurchaseOrderLine
from promoflow.promotions.models import PromotionItem, PromotionLocation
from promoflow.publications.models import StoreTask

COVERED = {
    ("SKU-A", "ST-1"): 8.0,
    ("SKU-A", "ST-2"): 10.0,
    ("SKU-B", "ST-1"): 5.0,
    ("SKU-B", "ST-2"): 9.0,
}


def _gate(session: Session, retail: Retail, gate: str) -> GateOutcome:
    inputs = load_gate_inputs(session, retail.promotion, as_of=NOW)
    return next(o for o in evaluate(inputs, load_gate_policy()) if o.gate == gate)


def _approve(session: Session, retail: Retail, role: str, status: str = "approved") -> None:
    session.add(
        ApprovalTask(
            promotion_id=retail.promotion.id,
            revision=1,
            role=role,
            assigned_role=role,
            status=status,
            sla_hours=24,
            due_at=NOW,
        )
    )
    session.flush()


def _po(
    session: Session,
    retail: Retail,
    number: str,
    *,
    sku: str = "SKU-A",
    store: str = "ST-1",
    quantity: float = 20,
    confirmed: float | None = None,
    ack_status: str = "pending",
    ack_due_at: object = NOW + timedelta(days=1),
    acknowledged_at: object = None,
    due: date = date(2026, 11, 12),
    linked: bool = True,
) -> None:
    po = PurchaseOrder(
        number=number,
        supplier_id=retail.supplier.id,
        destination_id=retail.stores[store].id,
        promotion_id=retail.promotion.id if linked else None,
        ack_status=ack_status,
        ack_due_at=ack_due_at,
        acknowledged_at=acknowledged_at,
        due_date=due,
    )
    session.add(po)
    session.flush()
    session.add(
        PurchaseOrderLine(
            purchase_order_id=po.id,
            item_id=retail.items[sku].id,
            quantity=quantity,
            confirmed_quantity=confirmed,
        )
    )
    session.flush()


# inventory_coverage


def test_coverage_fails_below_share_and_names_the_worst_item_location(
    session: Session, retail: Retail
) -> None:
    retail.forecast(session, {**COVERED, ("SKU-A", "ST-2"): 12.5})
    outcome = _gate(session, retail, "inventory_coverage")
    # 3 of 4 covered: 10 / 12.5 = 0.8x at SKU-A @ ST-2.
    assert outcome.status == "fail"
    assert outcome.score == 0.75
    assert outcome.summary == (
        "75.0 % of 4 item-locations covered at P90 (needs 95 %); worst: SKU-A @ ST-2 0.80x"
    )
    assert outcome.evidence["worst"][0] == {
        "sku": "SKU-A",
        "location": "ST-2",
        "upper_units": 12.5,
        "available_units": 10.0,
        "coverage_ratio": 0.8,
        # Mean 10 (0.8 x P90) with a spread below Poisson: P(Poisson(10) > 10).
        "stockout_probability": 0.417,
    }
    assert outcome.evidence["shortfall_units"] == 2.5
    assert outcome.evidence["short_items"] == [
        {"sku": "SKU-A", "shortfall_units": 2.5, "item_locations_short": 1}
    ]


def test_coverage_counts_in_transit_and_orders_due_before_start_minus_allocated(
    session: Session, retail: Retail
) -> None:
    retail.forecast(session, {**COVERED, ("SKU-A", "ST-2"): 14.0})
    retail.position(session, "SKU-A", "ST-2").in_transit = 3.0
    retail.position(session, "SKU-A", "ST-2").allocated = 2.0
    _po(session, retail, "PO-EARLY", store="ST-2", quantity=3, linked=False)
    _po(session, retail, "PO-LATE", store="ST-2", quantity=50, due=date(2026, 11, 20), linked=False)
    # 10 on hand + 3 in transit + 3 due before start - 2 allocated = 14 >= 14.
    outcome = _gate(session, retail, "inventory_coverage")
    assert outcome.status == "pass"
    assert outcome.score == 1.0


def test_coverage_without_a_forecast_fails_and_says_what_to_do(
    session: Session, retail: Retail
) -> None:
    outcome = _gate(session, retail, "inventory_coverage")
    assert outcome.status == "fail"
    assert outcome.summary == "no forecast for revision 1: run it, then re-evaluate"


# stockout_risk and overstock_risk through the real queries


def test_stockout_risk_reads_the_stored_forecast_stock_and_orders_due(
    session: Session, retail: Retail
) -> None:
    retail.stores["ST-2"].region = "south"
    retail.items["SKU-B"].category = "dips"
    retail.forecast(session, {**COVERED, ("SKU-A", "ST-2"): 20.0})
    # Mean 16 at SKU-A @ ST-2 on 10 available: most of the promotion's lost demand.
    failing = _gate(session, retail, "stockout_risk")
    assert failing.status == "fail"
    evidence = failing.evidence
    assert evidence["forecast_models"] == [
        {"model_version": "test", "inputs_hash": "0" * 64, "lines": 4}
    ]
    assert [row["region"] for row in evidence["by_region"]] == ["north", "south"]
    assert [row["category"] for row in evidence["by_category"]] == ["dips", "snacks"]
    worst = evidence["worst"][0]
    assert (worst["sku"], worst["location"], worst["available"]) == ("SKU-A", "ST-2", 10.0)
    assert worst["expected_units"] == 16.0
    # 6 due before the start and 4 in transit make 20 available: the risk falls away.
    _po(session, retail, "PO-EARLY", store="ST-2", quantity=6, linked=False)
    retail.position(session, "SKU-A", "ST-2").in_transit = 4.0
    session.flush()
    passing = _gate(session, retail, "stockout_risk")
    assert passing.status == "pass"
    now = {(r["sku"], r["location"]): r for r in passing.evidence["worst"]}
    assert now[("SKU-A", "ST-2")]["available"] == 20.0
    assert now[("SKU-A", "ST-2")]["stockout_probability"] < 0.2


def test_risk_gates_without_a_forecast_fail_and_say_what_to_do(
    session: Session, retail: Retail
) -> None:
    for gate in ("stockout_risk", "overstock_risk"):
        outcome = _gate(session, retail, gate)
        assert outcome.status == "fail"
        assert outcome.summary == "no forecast for revision 1: run it, then re-evaluate"


# supplier_commitments


def test_no_linked_purchase_orders_passes_with_evidence(session: Session, retail: Retail) -> None:
    _po(session, retail, "PO-OTHER", linked=False)
    outcome = _gate(session, retail, "supplier_commitments")
    assert outcome.status == "pass"
    assert outcome.summary == (
        "no supplier commitments required: no purchase orders linked to PRM-T1"
    )


def test_pending_acknowledgement_fails_until_acknowledged_in_time(
    session: Session, retail: Retail
) -> None:
    _po(session, retail, "PO-1")
    outcome = _gate(session, retail, "supplier_commitments")
    assert outcome.status == "fail"
    assert "PO-1 (SUP-T1): awaiting acknowledgement (due 2026-11-03 09:00 UTC)" in (outcome.summary)
    po = session.scalars(sa.select(PurchaseOrder).where(PurchaseOrder.number == "PO-1")).one()
    po.ack_status, po.acknowledged_at = "acknowledged", NOW
    session.flush()
    passed = _gate(session, retail, "supplier_commitments")
    assert passed.status == "pass"
    assert passed.summary == "the only purchase order linked to PRM-T1 acknowledged in time"


def test_overdue_late_and_rejected_acknowledgements_fail(session: Session, retail: Retail) -> None:
    yesterday = NOW - timedelta(days=1)
    _po(session, retail, "PO-OVERDUE", ack_due_at=yesterday)
    _po(
        session,
        retail,
        "PO-LATE",
        ack_status="acknowledged",
        ack_due_at=yesterday,
        acknowledged_at=NOW,
    )
    _po(session, retail, "PO-NO", ack_status="rejected")
    outcome = _gate(session, retail, "supplier_commitments")
    assert outcome.status == "fail"
    assert outcome.score == 0.0
    reasons = {row["po_number"]: row["problem"] for row in outcome.evidence["failing"]}
    assert reasons == {
        "PO-OVERDUE": "acknowledgement overdue since 2026-11-01 09:00 UTC",
        "PO-LATE": "acknowledged late (2026-11-02 09:00 UTC, due 2026-11-01 09:00 UTC)",
        "PO-NO": "rejected by the supplier",
    }


def test_partial_acknowledgement_passes_only_when_it_covers_what_is_needed(
    session: Session, retail: Retail
) -> None:
    # SKU-A needs 0 units at ST-1 (8 <= 10) and 2 at ST-2 (12 - 10): 2 in all.
    retail.forecast(session, {**COVERED, ("SKU-A", "ST-2"): 12.0})
    _po(
        session, retail, "PO-P", quantity=20, confirmed=1, ack_status="partial", acknowledged_at=NOW
    )
    short = _gate(session, retail, "supplier_commitments")
    assert short.status == "fail"
    assert "partial: 1 of 2 units needed for SKU-A confirmed" in short.summary
    line = session.scalars(sa.select(PurchaseOrderLine)).one()
    line.confirmed_quantity = 2
    session.flush()
    assert _gate(session, retail, "supplier_commitments").status == "pass"


# price_validity


def test_prices_pass_when_above_cost_alone_and_equal_on_both_channels(
    session: Session, retail: Retail
) -> None:
    outcome = _gate(session, retail, "price_validity")
    assert outcome.status == "pass"
    assert outcome.summary.startswith("all 2 promo prices valid")


def test_below_cost_fails_until_finance_approves(session: Session, retail: Retail) -> None:
    item = session.get(PromotionItem, (retail.promotion.id, retail.items["SKU-B"].id))
    assert item is not None
    item.promo_price = Decimal("2.50")
    session.flush()
    outcome = _gate(session, retail, "price_validity")
    assert outcome.status == "fail"
    assert "1 below cost without finance approval (SKU-B 2.50 < cost 3.00)" in outcome.summary
    assert outcome.score == 0.5
    _approve(session, retail, "finance_approver", "pending")
    assert _gate(session, retail, "price_validity").status == "fail"
    task = session.scalars(sa.select(ApprovalTask)).one()
    task.status = "approved"
    session.flush()
    assert _gate(session, retail, "price_validity").status == "pass"


def test_overlapping_active_promotion_fails(session: Session, retail: Retail) -> None:
    other = add_promotion(
        session,
        retail.items,
        code="PRM-T2",
        status="approved",
        start_date=date(2026, 11, 25),
        end_date=date(2026, 12, 5),
    )
    session.add(
        PromotionItem(
            promotion_id=other.id, item_id=retail.items["SKU-A"].id, promo_price=Decimal("3.50")
        )
    )
    session.add(PromotionLocation(promotion_id=other.id, location_id=retail.stores["ST-1"].id))
    session.flush()
    outcome = _gate(session, retail, "price_validity")
    assert outcome.status == "fail"
    assert "1 on overlapping promotions (SKU-A with PRM-T2 at 1 locations)" in outcome.summary


def test_regular_price_differing_by_channel_fails(session: Session, retail: Retail) -> None:
    web_price = session.scalars(
        sa.select(Price).where(
            Price.item_id == retail.items["SKU-A"].id, Price.channel == "ecommerce"
        )
    ).one()
    web_price.amount = Decimal("4.20")
    session.flush()
    outcome = _gate(session, retail, "price_validity")
    assert outcome.status == "fail"
    assert "SKU-A national: ecommerce 4.20 vs pos 4.00" in outcome.summary


def test_published_promo_prices_must_match_the_plan_on_every_channel(
    session: Session, retail: Retail
) -> None:
    for channel, amount in (("pos", "3.00"), ("ecommerce", "3.10")):
        session.add(
            Price(
                item_id=retail.items["SKU-A"].id,
                channel=channel,
                price_zone="national",
                amount=Decimal(amount),
                kind="promo",
                promotion_id=retail.promotion.id,
                effective_from=date(2026, 11, 16),
            )
        )
    session.flush()
    outcome = _gate(session, retail, "price_validity")
    assert outcome.status == "fail"
    assert "SKU-A plans 3.00, published 3.00, 3.10" in outcome.summary


# approvals_complete


def test_approvals_need_at_least_one_task_and_all_approved(
    session: Session, retail: Retail
) -> None:
    none = _gate(session, retail, "approvals_complete")
    assert none.status == "fail"
    assert "no approval tasks for revision 1" in none.summary
    _approve(session, retail, "category_manager")
    _approve(session, retail, "pricing_analyst", "pending")
    waiting = _gate(session, retail, "approvals_complete")
    assert waiting.status == "fail"
    assert waiting.summary == "1 of 2 approvals given; pending: pricing_analyst"
    task = session.scalars(sa.select(ApprovalTask).where(ApprovalTask.status == "pending")).one()
    task.status = "approved"
    session.flush()
    assert _gate(session, retail, "approvals_complete").status == "pass"


def test_a_rejected_approval_fails(session: Session, retail: Retail) -> None:
    _approve(session, retail, "category_manager")
    _approve(session, retail, "finance_approver", "rejected")
    outcome = _gate(session, retail, "approvals_complete")
    assert outcome.summary == "1 of 2 approvals given; rejected: finance_approver"


# store_readiness

KINDS = ("signage", "display", "shelf_label", "endcap", "leaflet")


def _store_tasks(session: Session, retail: Retail, open_tasks: int) -> None:
    # 2 stores x 5 kinds = 10 tasks; the first `open_tasks` stay open.
    pairs = [(store, kind) for store in ("ST-1", "ST-2") for kind in KINDS]
    for index, (store, kind) in enumerate(pairs):
        session.add(
            StoreTask(
                promotion_id=retail.promotion.id,
                revision=1,
                location_id=retail.stores[store].id,
                kind=kind,
                status="open" if index < open_tasks else "confirmed",
            )
        )
    session.flush()


def test_no_store_tasks_means_nothing_to_wait_for(session: Session, retail: Retail) -> None:
    outcome = _gate(session, retail, "store_readiness")
    assert outcome.status == "pass"
    assert outcome.summary == "no store tasks required (no display or signage work)"


def test_store_readiness_passes_at_the_threshold(session: Session, retail: Retail) -> None:
    _store_tasks(session, retail, open_tasks=1)
    outcome = _gate(session, retail, "store_readiness")
    assert outcome.status == "pass"
    assert outcome.summary == (
        "90.0 % of 10 store tasks confirmed (needs 90 %); waiting on ST-1 signage"
    )


def test_store_readiness_fails_below_the_threshold(session: Session, retail: Retail) -> None:
    _store_tasks(session, retail, open_tasks=2)
    outcome = _gate(session, retail, "store_readiness")
    assert outcome.status == "fail"
    assert outcome.score == 0.8
    assert outcome.evidence["unconfirmed"] == ["ST-1 display", "ST-1 signage"]


# channel_readiness


def test_channels_ready_when_items_ranged_in_stores_and_web(
    session: Session, retail: Retail
) -> None:
    outcome = _gate(session, retail, "channel_readiness")
    assert outcome.status == "pass"
    assert outcome.summary == "all 2 items ranged for ecommerce, pos"


def test_item_missing_from_the_web_node_fails_ecommerce_only(
    session: Session, retail: Retail
) -> None:
    session.execute(
        sa.delete(Ranging).where(
            Ranging.item_id == retail.items["SKU-B"].id, Ranging.location_id == retail.web.id
        )
    )
    session.flush()
    outcome = _gate(session, retail, "channel_readiness")
    assert outcome.status == "fail"
    assert outcome.summary == (
        "1 of 4 item-channels not ready: SKU-B on ecommerce (not ranged at the e-commerce node)"
    )
    retail.promotion.channels = ["pos"]
    session.flush()
    assert _gate(session, retail, "channel_readiness").status == "pass"


def test_item_ranged_at_no_target_store_fails_pos(session: Session, retail: Retail) -> None:
    session.execute(
        sa.delete(Ranging).where(
            Ranging.item_id == retail.items["SKU-A"].id, Ranging.location_id != retail.web.id
        )
    )
    session.flush()
    outcome = _gate(session, retail, "channel_readiness")
    assert outcome.status == "fail"
    assert "SKU-A on pos (not ranged at any target store)" in outcome.summary


# supplier risk from purchase-order history

ORDERED = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _history(
    session: Session,
    supplier: Supplier,
    retail: Retail,
    *,
    orders: int,
    lead_days: list[int],
    received_share: float = 1.0,
    due_days: int = 10,
    recorded: bool = True,
) -> None:
    """`orders` received POs of 100 units, ordered a week apart, with receipt events."""
    for k in range(orders):
        ordered = ORDERED + timedelta(days=7 * k)
        number = f"H-{supplier.code}-{k:02d}"
        po = PurchaseOrder(
            number=number,
            supplier_id=supplier.id,
            destination_id=retail.stores["ST-1"].id,
            status="received",
            ack_status="acknowledged",
            ordered_at=ordered,
            acknowledged_at=ordered,
            due_date=ordered.date() + timedelta(days=due_days),
        )
        session.add(po)
        session.flush()
        session.add(
            PurchaseOrderLine(
                purchase_order_id=po.id,
                item_id=retail.items["SKU-A"].id,
                quantity=100.0,
                received_quantity=100.0 * received_share,
            )
        )
        if recorded:
            session.add(
                Event(
                    id=str(uuid.uuid4()),
                    source="urn:promoflow",
                    type="io.promoflow.purchase_order.received",
                    subject=f"purchase_order/{number}",
                    time=ordered + timedelta(days=lead_days[k % len(lead_days)]),
                    data={"number": number},
                )
            )
    session.flush()


def _suppliers(session: Session, retail: Retail) -> Supplier:
    """SUP-T1 always late (20 days for 10) and half delivered; SUP-T2 reliable."""
    reliable = Supplier(code="SUP-T2", name="Steady Foods")
    session.add(reliable)
    session.flush()
    _history(session, retail.supplier, retail, orders=10, lead_days=[20], received_share=0.5)
    _history(session, reliable, retail, orders=10, lead_days=[9, 10])
    return reliable


def test_high_risk_supplier_fails_unless_acknowledged_and_due_early(
    session: Session, retail: Retail
) -> None:
    _suppliers(session, retail)
    # Acknowledged in time but due 2026-11-14: SUP-T1 must deliver by 2026-11-13.
    _po(session, retail, "PO-1", ack_status="acknowledged", acknowledged_at=NOW,
        due=date(2026, 11, 14))  # fmt: skip
    outcome = _gate(session, retail, "supplier_commitments")
    assert outcome.status == "fail"
    [failing] = outcome.evidence["failing"]
    assert failing["risk_band"] == "high"
    assert failing["problem"].startswith("high risk supplier (score 0.")
    assert failing["problem"].endswith(
        "must deliver by 2026-11-13 (3 days before start); due 2026-11-14"
    )
    assert outcome.evidence["risky_supplier_due_by"] == "2026-11-13"
    po = session.scalars(sa.select(PurchaseOrder).where(PurchaseOrder.number == "PO-1")).one()
    po.due_date = date(2026, 11, 13)
    session.flush()
    assert _gate(session, retail, "supplier_commitments").status == "pass"


def test_high_risk_supplier_still_needs_the_acknowledgement(
    session: Session, retail: Retail
) -> None:
    _suppliers(session, retail)
    _po(session, retail, "PO-1", due=date(2026, 11, 9))  # early, but pending
    outcome = _gate(session, retail, "supplier_commitments")
    assert outcome.status == "fail"
    [failing] = outcome.evidence["failing"]
    assert failing["problem"] == "awaiting acknowledgement (due 2026-11-03 09:00 UTC)"
    assert failing["risk_band"] == "high"


def test_supplier_evidence_lists_score_band_and_the_rates_behind_them(
    session: Session, retail: Retail
) -> None:
    reliable = _suppliers(session, retail)
    _po(session, retail, "PO-1", ack_status="acknowledged", acknowledged_at=NOW)
    session.add(
        PurchaseOrder(
            number="PO-2", supplier_id=reliable.id, destination_id=retail.stores["ST-2"].id,
            promotion_id=retail.promotion.id, ack_status="acknowledged", acknowledged_at=NOW,
            ack_due_at=NOW, due_date=date(2026, 11, 15),
        )
    )  # fmt: skip
    session.flush()
    po2 = session.scalars(sa.select(PurchaseOrder).where(PurchaseOrder.number == "PO-2")).one()
    session.add(
        PurchaseOrderLine(purchase_order_id=po2.id, item_id=retail.items["SKU-B"].id, quantity=5)
    )
    session.flush()
    outcome = _gate(session, retail, "supplier_commitments")
    scores = {row["supplier"]: row for row in outcome.evidence["suppliers"]}
    late, steady = scores["SUP-T1"], scores["SUP-T2"]
    # Pooled priors over both suppliers' 20 POs: on time 10/20, fill (10 x 0.5 + 10) / 20.
    assert late["purchase_orders"] == 10 and late["received_orders"] == 10
    assert late["observed_on_time_rate"] == 0.0
    assert late["on_time_rate"] == pytest.approx((0 + 10 * 0.5) / 20, abs=1e-4)
    assert late["observed_fill_rate"] == 0.5
    assert late["fill_rate"] == pytest.approx((10 * 0.5 + 10 * 0.75) / 20, abs=1e-4)
    assert late["mean_lead_time_days"] == 20.0
    assert late["risk_band"] == "high"
    assert steady["observed_on_time_rate"] == 1.0
    assert steady["on_time_rate"] == pytest.approx((10 + 10 * 0.5) / 20, abs=1e-4)
    assert steady["risk_band"] != "high"
    assert steady["risk_score"] < late["risk_score"]
    # High-risk SUP-T1's PO-1 is acknowledged and due 2026-11-12, 4 days early; PO-2 of
    # SUP-T2 may arrive the day before the start: it is not in a failing band.
    assert outcome.status == "pass"
    assert outcome.evidence["failing"] == []
    json.dumps(outcome.evidence, allow_nan=False)


def test_received_orders_without_a_receipt_date_are_left_out_of_the_history(
    session: Session, retail: Retail
) -> None:
    _history(session, retail.supplier, retail, orders=4, lead_days=[30], recorded=False)
    _po(session, retail, "PO-1", ack_status="acknowledged", acknowledged_at=NOW)
    outcome = _gate(session, retail, "supplier_commitments")
    assert outcome.status == "pass"
    history = outcome.evidence["history"]
    assert (history["purchase_orders"], history["receipt_date_unknown"]) == (5, 4)
    [scored] = outcome.evidence["suppliers"]
    assert scored["purchase_orders"] == 0  # no evidence: the fallback prior, not 4 late POs
