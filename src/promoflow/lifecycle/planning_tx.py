"""The lifecycle's planning transactions. Each runs through `runtime.run_tx`, so its
writes and DBOS's checkpoint commit together: exactly once, even across a crash."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.connectors.ports import PositionRecord
from promoflow.events.log import record_event
from promoflow.exceptions import service as exceptions_service
from promoflow.inventory import service as inventory_service
from promoflow.kit.clock import utcnow
from promoflow.lifecycle import planning_repository as repo
from promoflow.lifecycle import sell_through
from promoflow.lifecycle.planning_policy import PlanningPolicy
from promoflow.lifecycle.stock_planning import StockPlan
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.models import Recommendation

APPLIED = ("auto_applied", "accepted", "edited")
SHORTFALL_ACTIONS = ["waive", "reassign", "escalate", "cancel_promotion"]
OVERDUE_ACTIONS = ["retry", "reassign", "escalate", "cancel_promotion"]
ANOMALY_ACTIONS = ["waive", "reassign", "escalate", "cancel_promotion"]


def _promotion(session: Session, promotion_id: int) -> Promotion:
    return promotions_service.get_promotion(session, promotion_id)


def _record(
    session: Session,
    promotion: Promotion,
    kind: str,
    plan: StockPlan,
    threshold: dict[str, Any],
) -> dict[str, Any]:
    """Store the plan as a recommendation; apply it at once when the policy allows."""
    recommendation = recommendations_service.propose(
        session,
        promotion_id=promotion.id,
        revision=promotion.revision,
        kind=kind,
        model_version=plan.model_version,
        inputs_hash=plan.inputs_hash,
        lines=plan.lines,
        summary=plan.summary,
        threshold=threshold,
    )
    if threshold["decision"] == "auto_apply":
        recommendations_service.auto_apply(
            session,
            recommendation.id,
            reason=f"within planning policy {threshold['policy_version']}: " + threshold["because"],
        )
    else:
        promotion.status_reason = (
            f"awaiting a supply chain planner's decision on {kind} recommendation "
            f"{recommendation.id}: {threshold['because']}"
        )
    return {
        "recommendation_id": recommendation.id,
        "kind": kind,
        "status": recommendation.status,
        "units": plan.summary["units"],
        "lines": len(plan.lines),
        "created": recommendation.created_at.timestamp(),
    }


def propose_allocation(
    session: Session, promotion_id: int, planned: dict[str, Any], policy: dict[str, Any]
) -> dict[str, Any]:
    """Store the DC-to-store allocation; apply it at once when it is small enough."""
    rules = PlanningPolicy.model_validate(policy)
    promotion = _promotion(session, promotion_id)
    plan = StockPlan.from_dict(planned)
    limit = rules.allocation.auto_apply
    units, cost = plan.summary["units"], plan.summary["transfer_cost"]
    small = units <= limit.max_units and cost <= limit.max_transfer_cost
    figures = f"{units:,.0f} units, transfer cost {cost:,.2f}"
    limits = f"{limit.max_units:,.0f} units and {limit.max_transfer_cost:,.2f}"
    threshold = {
        "policy_version": rules.version,
        "decision": "auto_apply" if small else "review",
        "units": units,
        "max_units": limit.max_units,
        "transfer_cost": cost,
        "max_transfer_cost": limit.max_transfer_cost,
        "because": f"{figures} {'within' if small else 'above'} the auto-apply limits ({limits})",
    }
    return _record(session, promotion, "allocation", plan, threshold)


def propose_replenishment(
    session: Session, promotion_id: int, planned: dict[str, Any], policy: dict[str, Any]
) -> dict[str, Any]:
    """Store the purchase-order proposal (applied at once when small); a shortfall opens a case."""
    rules = PlanningPolicy.model_validate(policy)
    promotion = _promotion(session, promotion_id)
    plan = StockPlan.from_dict(planned)
    limit = rules.replenishment.auto_apply
    units, value = plan.summary["units"], plan.summary["order_value"]
    small = units <= limit.max_units and value <= limit.max_order_value
    figures = f"{units:,.0f} units worth {value:,.2f} at cost"
    limits = f"{limit.max_units:,.0f} units and {limit.max_order_value:,.2f}"
    threshold = {
        "policy_version": rules.version,
        "decision": "auto_apply" if small else "review",
        "units": units,
        "max_units": limit.max_units,
        "order_value": value,
        "max_order_value": limit.max_order_value,
        "because": f"{figures} {'within' if small else 'above'} the auto-apply limits ({limits})",
    }
    result = _record(session, promotion, "replenishment", plan, threshold)
    result["case_id"] = (
        _open_shortfall(session, promotion, result["recommendation_id"], plan.shortfalls)
        if plan.shortfalls
        else None
    )
    return result


def _open_shortfall(
    session: Session, promotion: Promotion, recommendation_id: int, lines: list[dict[str, Any]]
) -> int:
    """One supplier_shortfall case naming every line the suppliers cannot cover."""
    reasons = {reason for line in lines for reason in line["reasons"]}
    actions = []
    if "too_late" in reasons:
        actions.append("expedite: ask the supplier for a shorter lead time or faster freight")
        actions.append("move the promotion's start date to when the stock can land")
    if "supplier_capacity" in reasons:
        actions.append("split the order with a second supplier or ask for extra capacity")
    if "no_supplier" in reasons:
        actions.append("name a supplier for the items that have none in the item master")
    actions.append("reduce the scope (items or stores) or waive with a reason to launch short")
    units = sum(line["shortfall_units"] for line in lines)
    named = "; ".join(
        f"{line['sku']} from {line['supplier'] or 'no supplier'}: "
        f"{line['shortfall_units']:,.0f} of {line['need_units']:,.0f} units short "
        f"({', '.join(line['reasons'])})"
        for line in lines[:5]
    )
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    case = exceptions_service.open_case(
        session,
        kind="supplier_shortfall",
        severity="high",
        owner_role="supply_chain_planner",
        title=f"{promotion.code}: suppliers cannot cover {units:,.0f} units of window demand",
        detail=f"Replenishment recommendation {recommendation_id}: {named}{more}. "
        "Suggested: " + "; ".join(actions) + ".",
        promotion=promotion,
        linked={
            "recommendation_id": recommendation_id,
            "lines": lines,
            "suggested_actions": actions,
        },
        allowed_actions=SHORTFALL_ACTIONS,
        workflow_id=promotion.workflow_id,
    )
    return case.id


def recommendation_state(session: Session, recommendation_id: int) -> dict[str, Any]:
    """Where a recommendation stands, read fresh after every wake-up."""
    recommendation = recommendations_service.get_recommendation(session, recommendation_id)
    return {
        "status": recommendation.status,
        "decided_by": recommendation.decided_by,
        "kind": recommendation.kind,
    }


def recommendation_reminder(session: Session, recommendation_id: int, role: str) -> None:
    """The planner has not decided within the reminder time: log a reminder to their role."""
    recommendation = recommendations_service.get_recommendation(session, recommendation_id)
    if recommendation.status != "proposed":
        return
    record_event(
        session,
        "recommendation.reminded",
        f"recommendation/{recommendation.id}",
        {"recommendation_id": recommendation.id, "kind": recommendation.kind, "role": role},
        promotion_id=recommendation.promotion_id,
    )


def recommendation_overdue(
    session: Session, recommendation_id: int, escalate_to: str, sla_hours: float
) -> int | None:
    """Past its SLA: an approval_overdue case goes to `escalate_to` (None once decided)."""
    recommendation = recommendations_service.get_recommendation(session, recommendation_id)
    if recommendation.status != "proposed":
        return None
    promotion = _promotion(session, recommendation.promotion_id)
    case = exceptions_service.open_case(
        session,
        kind="approval_overdue",
        severity="high",
        owner_role=escalate_to,
        title=f"{recommendation.kind} recommendation {recommendation.id} of {promotion.code} "
        f"is past its {sla_hours:g} h SLA",
        detail=f"Nobody has accepted, edited or rejected {recommendation.kind} recommendation "
        f"{recommendation.id} ({recommendation.threshold.get('because', '')}). The launch waits "
        "for it. Decide it (supply_chain_planner or operations_admin), or choose retry to give "
        "the planner another SLA.",
        promotion=promotion,
        linked={"recommendation_id": recommendation.id, "kind": recommendation.kind},
        allowed_actions=OVERDUE_ACTIONS,
        workflow_id=promotion.workflow_id,
    )
    record_event(
        session,
        "recommendation.escalated",
        f"recommendation/{recommendation.id}",
        {"recommendation_id": recommendation.id, "to": escalate_to, "case_id": case.id},
        promotion_id=promotion.id,
    )
    return case.id


def _decided_lines(
    session: Session, recommendation_id: int
) -> tuple[Recommendation, Promotion, list[Any]]:
    recommendation = recommendations_service.get_recommendation(session, recommendation_id)
    lines = [
        line
        for line in recommendations_service.recommendation_lines(session, recommendation_id)
        if (line.quantity_decided or 0.0) > 0
    ]
    return recommendation, _promotion(session, recommendation.promotion_id), lines


def allocation_transfers(session: Session, recommendation_id: int) -> dict[str, Any]:
    """What the WMS must ship for a decided allocation: (sku, from DC, to store, units)."""
    recommendation, promotion, lines = _decided_lines(session, recommendation_id)
    wanted = sa.select(Item.id, Item.sku).where(Item.id.in_({ln.item_id for ln in lines}))
    skus: dict[int, str] = {item_id: sku for item_id, sku in session.execute(wanted)}
    ids = {ln.location_id for ln in lines} | {ln.source_id for ln in lines}
    codes = repo.location_codes(session, ids)
    return {
        "key": f"{promotion.code}-r{recommendation.revision}-allocation-{recommendation.id}",
        "transfers": [
            [skus[ln.item_id], codes[ln.source_id], codes[ln.location_id], ln.quantity_decided]
            for ln in lines
        ],
    }


def allocation_applied(
    session: Session, recommendation_id: int, positions: list[dict[str, Any]], reference: str
) -> float:
    """The WMS shipped the allocation: our positions follow it (and the gates hear of it)."""
    recommendation, promotion, lines = _decided_lines(session, recommendation_id)
    records = [PositionRecord(**position) for position in positions]
    inventory_service.apply_positions(session, records, records[0].source if records else "wms")
    units = float(sum(line.quantity_decided or 0.0 for line in lines))
    record_event(
        session,
        "recommendation.applied",
        f"recommendation/{recommendation.id}",
        {
            "recommendation_id": recommendation.id,
            "kind": recommendation.kind,
            "status": recommendation.status,
            "units": units,
            "lines": len(lines),
            "reference": reference,
        },
        promotion_id=promotion.id,
    )
    return units


def raise_replenishment(
    session: Session, recommendation_id: int, ack_due_seconds: float
) -> list[dict[str, Any]]:
    """Record one purchase order per supplier and DC for the decided lines; return requests."""
    recommendation, promotion, lines = _decided_lines(session, recommendation_id)
    grouped: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for line in lines:
        grouped[(line.source_id, line.location_id)].append(line)
    now = utcnow()
    requests: list[dict[str, Any]] = []
    for index, ((supplier_id, dc_id), order_lines) in enumerate(sorted(grouped.items()), start=1):
        supplier, dc = session.get(Supplier, supplier_id), session.get(Location, dc_id)
        if supplier is None or dc is None:
            continue  # the catalogue lost the row since the proposal; nothing to order from
        items = {ln.item_id: session.get(Item, ln.item_id) for ln in order_lines}
        due = now.date() + timedelta(days=supplier.lead_time_days)
        number = f"{promotion.code[:26]}-r{recommendation.revision}-RP{index}"
        inventory_service.raise_purchase_order(
            session,
            number=number,
            supplier_id=supplier.id,
            destination_id=dc.id,
            promotion_id=promotion.id,
            lines=[(ln.item_id, float(ln.quantity_decided or 0.0)) for ln in order_lines],
            due_date=due,
            ack_due_at=now + timedelta(seconds=ack_due_seconds),
        )
        requests.append(
            {
                "number": number,
                "supplier_code": supplier.code,
                "destination_code": dc.code,
                "due": due.isoformat(),
                "lines": [
                    [item.sku, float(ln.quantity_decided or 0.0)]
                    for ln in order_lines
                    if (item := items[ln.item_id]) is not None
                ],
            }
        )
    record_event(
        session,
        "recommendation.applied",
        f"recommendation/{recommendation.id}",
        {
            "recommendation_id": recommendation.id,
            "kind": recommendation.kind,
            "status": recommendation.status,
            "units": float(sum(ln.quantity_decided or 0.0 for ln in lines)),
            "lines": len(lines),
            "purchase_orders": [r["number"] for r in requests],
        },
        promotion_id=promotion.id,
    )
    return requests


def window_days(session: Session, promotion_id: int) -> int:
    """Days in the promotion's window, first and last included."""
    promotion = _promotion(session, promotion_id)
    return (promotion.end_date - promotion.start_date).days + 1


def check_sell_through(
    session: Session,
    promotion_id: int,
    sold: list[list[Any]],
    elapsed_days: int,
    window_days: int,
    policy: dict[str, Any],
) -> dict[str, Any]:
    """Compare sales to date with the forecast; new anomalous lines open one case."""
    rules = PlanningPolicy.model_validate(policy).sell_through
    promotion = _promotion(session, promotion_id)
    forecast = repo.forecast_lines(session, promotion.id, promotion.revision)
    items = repo.scope_items(session, promotion.id)
    stores = repo.scope_stores(session, promotion.id)
    sold_frame = (
        pl.DataFrame(
            sold, schema={"sku": pl.String, "code": pl.String, "units": pl.Float64}, orient="row"
        )
        .join(items.select("item_id", "sku"), on="sku")
        .join(stores.select("location_id", "code"), on="code")
    )
    stock = repo.positions(
        session, items["item_id"].to_list(), stores["location_id"].to_list()
    ).with_columns(available=pl.col("on_hand") + pl.col("in_transit"))
    share = elapsed_days / window_days
    anomalies = sell_through.find_anomalies(
        forecast, sold_frame, stock, share=share, settings=rules
    )
    flagged = repo.flagged_sell_through(session, promotion.id, promotion.revision)
    fresh = anomalies.filter(
        ~pl.format("{}:{}:{}", "item_id", "location_id", "direction").is_in(list(flagged))
    )
    data = {
        "elapsed_days": elapsed_days,
        "window_days": window_days,
        "lines_checked": forecast.height,
        "units_sold": round(float(sold_frame["units"].sum()), 1) if sold_frame.height else 0.0,
        "anomalies": anomalies.height,
        "new_anomalies": fresh.height,
    }
    case_id = (
        _open_anomaly(session, promotion, fresh, items, stores, data) if fresh.height else None
    )
    record_event(
        session,
        "sell_through.checked",
        f"promotion/{promotion.id}",
        {**data, "case_id": case_id},
        promotion_id=promotion.id,
    )
    return {**data, "case_id": case_id}


def _open_anomaly(
    session: Session,
    promotion: Promotion,
    fresh: pl.DataFrame,
    items: pl.DataFrame,
    stores: pl.DataFrame,
    check: dict[str, Any],
) -> int:
    """One sell_through_anomaly case for this check's new anomalous lines."""
    sku = dict(zip(items["item_id"].to_list(), items["sku"].to_list(), strict=True))
    code = dict(zip(stores["location_id"].to_list(), stores["code"].to_list(), strict=True))
    lines = [
        {
            "item_id": row["item_id"],
            "location_id": row["location_id"],
            "sku": sku.get(row["item_id"], ""),
            "store": code.get(row["location_id"], ""),
            "direction": row["direction"],
            "actual_units": round(row["actual_units"], 1),
            "expected_units": round(row["expected_units"], 1),
            "expected_low": round(row["expected_low"], 1),
            "expected_high": round(row["expected_high"], 1),
            "suggested_action": row["suggested_action"],
            "transfer_from": [code.get(i, "") for i in (row["transfer_from"] or [])[:3]],
        }
        for row in fresh.iter_rows(named=True)
    ]
    directions = sorted({line["direction"] for line in lines})
    actions = sorted({line["suggested_action"] for line in lines})
    owner = "supply_chain_planner" if sell_through.ABOVE in directions else "merchandiser"
    day = f"day {check['elapsed_days']} of {check['window_days']}"
    named = "; ".join(
        f"{ln['sku']} @ {ln['store']} sold {ln['actual_units']:,.0f} vs "
        f"{ln['expected_low']:,.0f}–{ln['expected_high']:,.0f} expected ({ln['direction']})"
        for ln in lines[:5]
    )
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    case = exceptions_service.open_case(
        session,
        kind="sell_through_anomaly",
        severity="high" if sell_through.ABOVE in directions else "medium",
        owner_role=owner,
        title=f"{promotion.code}: {len(lines)} item-store(s) selling "
        f"{' and '.join(directions)} the forecast's P10–P90 pace ({day})",
        detail=f"{named}{more}. Suggested: "
        + "; ".join(sell_through.ACTION_TEXT[a] for a in actions)
        + ".",
        promotion=promotion,
        linked={
            "elapsed_days": check["elapsed_days"],
            "window_days": check["window_days"],
            "directions": directions,
            "suggested_actions": actions,
            "lines": lines,
        },
        allowed_actions=ANOMALY_ACTIONS,
        workflow_id=promotion.workflow_id,
    )
    return case.id
