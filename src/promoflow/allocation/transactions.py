"""Recommendation proposals and their review, as transactions (`runtime.run_tx`): each
writes and checkpoints together, exactly once even across a crash.

DBOS names a transaction after its function, and workflows in flight replay these
under the names they had in `lifecycle.planning_tx`: keep the function names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from promoflow.allocation.policy import PlanningPolicy
from promoflow.allocation.schemas import (
    PolicyData,
    Proposal,
    RecommendationState,
    Shortfall,
    StockPlan,
)
from promoflow.events.log import record_event
from promoflow.exceptions.schemas import BLOCK_ACTIONS, CaseAction, CaseKind, CaseSpec, Severity
from promoflow.kit.roles import Role
from promoflow.lifecycle.case_tx import open_promotion_case
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.recommendations import service as recommendations_service

APPLIED = ("auto_applied", "accepted", "edited")
PROPOSED = "proposed"
SHORTFALL_ACTIONS = (CaseAction.WAIVE, *BLOCK_ACTIONS)
OVERDUE_ACTIONS = (CaseAction.RETRY, *BLOCK_ACTIONS)


def _promotion(session: Session, promotion_id: int) -> Promotion:
    return promotions_service.get_promotion(session, promotion_id)


def _record(
    session: Session,
    promotion: Promotion,
    kind: str,
    plan: StockPlan,
    threshold: dict[str, Any],
) -> Proposal:
    """Store the plan as a recommendation; apply it at once when the policy allows."""
    recommendation = recommendations_service.propose(
        session,
        promotion_id=promotion.id,
        revision=promotion.revision,
        kind=kind,
        model_version=plan["model_version"],
        inputs_hash=plan["inputs_hash"],
        lines=plan["lines"],
        summary=plan["summary"],
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
        "units": plan["summary"]["units"],
        "lines": len(plan["lines"]),
        "created": recommendation.created_at.timestamp(),
    }


def propose_allocation(
    session: Session, promotion_id: int, planned: StockPlan, policy: PolicyData
) -> Proposal:
    """Store the DC-to-store allocation; apply it at once when it is small enough."""
    rules = PlanningPolicy.model_validate(policy)
    promotion = _promotion(session, promotion_id)
    plan = planned
    limit = rules.allocation.auto_apply
    units, cost = plan["summary"]["units"], plan["summary"]["transfer_cost"]
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
    session: Session, promotion_id: int, planned: StockPlan, policy: PolicyData
) -> Proposal:
    """Store the purchase-order proposal (applied at once when small); a shortfall opens a case."""
    rules = PlanningPolicy.model_validate(policy)
    promotion = _promotion(session, promotion_id)
    plan = planned
    limit = rules.replenishment.auto_apply
    units, value = plan["summary"]["units"], plan["summary"]["order_value"]
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
    shortfalls = plan.get("shortfalls") or []
    result["case_id"] = (
        _open_shortfall(session, promotion, result["recommendation_id"], shortfalls)
        if shortfalls
        else None
    )
    return result


def _open_shortfall(
    session: Session, promotion: Promotion, recommendation_id: int, lines: list[Shortfall]
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
    spec = CaseSpec(
        kind=CaseKind.SUPPLIER_SHORTFALL,
        severity=Severity.HIGH,
        owner_role=Role.SUPPLY_CHAIN_PLANNER,
        title=f"{promotion.code}: suppliers cannot cover {units:,.0f} units of window demand",
        detail=f"Replenishment recommendation {recommendation_id}: {named}{more}. "
        "Suggested: " + "; ".join(actions) + ".",
        allowed_actions=SHORTFALL_ACTIONS,
        linked={
            "recommendation_id": recommendation_id,
            "lines": lines,
            "suggested_actions": actions,
        },
    )
    return open_promotion_case(session, promotion, spec).id


def recommendation_state(session: Session, recommendation_id: int) -> RecommendationState:
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
    if recommendation.status != PROPOSED:
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
    if recommendation.status != PROPOSED:
        return None
    promotion = _promotion(session, recommendation.promotion_id)
    spec = CaseSpec(
        kind=CaseKind.APPROVAL_OVERDUE,
        severity=Severity.HIGH,
        owner_role=Role(escalate_to),
        title=f"{recommendation.kind} recommendation {recommendation.id} of {promotion.code} "
        f"is past its {sla_hours:g} h SLA",
        detail=f"Nobody has accepted, edited or rejected {recommendation.kind} recommendation "
        f"{recommendation.id} ({recommendation.threshold.get('because', '')}). The launch waits "
        f"for it. Decide it ({Role.SUPPLY_CHAIN_PLANNER} or {Role.OPERATIONS_ADMIN}), or choose "
        "retry to give the planner another SLA.",
        allowed_actions=OVERDUE_ACTIONS,
        linked={"recommendation_id": recommendation.id, "kind": recommendation.kind},
    )
    case = open_promotion_case(session, promotion, spec)
    record_event(
        session,
        "recommendation.escalated",
        f"recommendation/{recommendation.id}",
        {"recommendation_id": recommendation.id, "to": escalate_to, "case_id": case.id},
        promotion_id=promotion.id,
    )
    return case.id
