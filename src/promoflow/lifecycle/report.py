"""One promotion's story as plain data: timeline, gates, approvals, recommendations,
publications, exceptions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from promoflow.gates.schemas import GateStatus
from promoflow.kit.money import MoneyAmount
from promoflow.lifecycle import repository as repo
from promoflow.promotions import repository as promotions_repository
from promoflow.promotions.models import Promotion
from promoflow.publications import repository as publications_repository
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.schemas import RecommendationKind

ALLOCATION = RecommendationKind.ALLOCATION


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def timeline(session: Session, promotion_id: int) -> list[dict[str, Any]]:
    """State transitions in order, with who and why."""
    rows = repo.promotion_events(session, promotion_id)
    return [
        {
            "time": _iso(e.time),
            "state": e.type.rsplit(".", 1)[-1],
            "actor": e.actor,
            "reason": e.data.get("reason", ""),
        }
        for e in rows
    ]


def latest_gates(session: Session, promotion: Promotion) -> list[dict[str, Any]]:
    """The newest evaluation round's result per gate."""
    rows = repo.latest_gate_results(session, promotion.id, promotion.revision)
    return [
        {
            "gate": g.gate,
            "status": g.status,
            "blocking": g.blocking,
            "summary": g.summary,
            "waived_by": g.waived_by,
            "waiver_reason": g.waiver_reason,
            "evaluation": g.evaluation,
        }
        for g in rows
    ]


def gate_rounds(session: Session, promotion: Promotion) -> list[dict[str, Any]]:
    """Every evaluation round of the revision: which blocking gates failed, which were waived.

    A block and its clearing are two rounds, so the story shows both."""
    rounds: dict[int, dict[str, Any]] = {}
    for row in repo.gate_results(session, promotion.id, promotion.revision):
        found = rounds.setdefault(
            row.evaluation,
            {"evaluation": row.evaluation, "time": _iso(row.evaluated_at), "gates": 0},
        )
        found["gates"] += 1
        if row.status == GateStatus.FAIL:
            found.setdefault("failing" if row.blocking else "warnings", []).append(row.gate)
        elif row.status == GateStatus.WAIVED:
            found.setdefault("waived", []).append(row.gate)
    return [{"failing": [], "warnings": [], "waived": [], **found} for found in rounds.values()]


def purchase_orders(session: Session, promotion_id: int) -> list[dict[str, Any]]:
    """The POs raised for the promotion: supplier, destination, units and acknowledgement."""
    return [
        {
            "number": order.number,
            "supplier": supplier,
            "destination": destination,
            "units": units,
            "status": order.status,
            "ack_status": order.ack_status,
            "due": order.due_date.isoformat(),
        }
        for order, supplier, destination, units in repo.purchase_orders_with_parties(
            session, promotion_id
        )
    ]


def promotion_report(session: Session, promotion: Promotion, *, currency: str) -> dict[str, Any]:
    """Everything an operations lead asks about one promotion, as JSON-ready data; amounts
    as {"amount": "183.44", "currency": "EUR"} in `currency`, the deployment's."""
    approvals = repo.approval_tasks(session, promotion.id)
    cases = repo.cases(session, promotion.id)
    evaluations = repo.gate_evaluation_count(session, promotion.id)
    return {
        "id": promotion.id,
        "code": promotion.code,
        "name": promotion.name,
        "status": promotion.status,
        "status_reason": promotion.status_reason,
        "revision": promotion.revision,
        "workflow_id": promotion.workflow_id,
        "mechanic": promotion.mechanic,
        "window": [promotion.start_date.isoformat(), promotion.end_date.isoformat()],
        "channels": promotion.channels,
        "timeline": timeline(session, promotion.id),
        "findings": [
            f.as_dict()
            for f in promotions_repository.findings(session, promotion.id, promotion.revision)
        ],
        "gates": latest_gates(session, promotion),
        "gate_rounds": gate_rounds(session, promotion),
        "gate_evaluations": evaluations,
        "approvals": [
            {
                "role": t.role,
                "assigned_role": t.assigned_role,
                "status": t.status,
                "decided_by": t.decided_by,
                "comment": t.comment,
                "reminded": t.reminded_at is not None,
                "escalated": t.escalated_at is not None,
            }
            for t in approvals
        ],
        "publications": [
            {
                "channel": p.channel,
                "status": p.status,
                "prices": p.item_count,
                "key": p.publication_key,
                "error": p.last_error,
            }
            for p in publications_repository.publications(session, promotion.id)
        ],
        "exceptions": [
            {
                "id": c.id,
                "kind": c.kind,
                "severity": c.severity,
                "status": c.status,
                "owner_role": c.owner_role,
                "title": c.title,
                "resolution": c.resolution,
                "resolved_by": c.resolved_by,
                "reason": c.resolution_reason,
            }
            for c in cases
        ],
        "recommendations": recommendations(session, promotion),
        "purchase_orders": purchase_orders(session, promotion.id),
        "analysis": _analysis(session, promotion.id, currency),
    }


def recommendations(session: Session, promotion: Promotion) -> list[dict[str, Any]]:
    """The revision's allocation and replenishment recommendations and who decided them."""
    rows = recommendations_service.list_recommendations(
        session, promotion.id, revision=promotion.revision
    )
    result = []
    for row in reversed(rows):
        lines = recommendations_service.recommendation_lines(session, row.id)
        decided = [line.quantity_decided for line in lines if line.quantity_decided is not None]
        # Allocation ships DC -> store; replenishment orders supplier -> DC.
        source, target = ("dc", "store") if row.kind == ALLOCATION else ("supplier", "dc")
        result.append(
            {
                "id": row.id,
                "kind": row.kind,
                "status": row.status,
                "lines": len(lines),
                "units_proposed": sum(line.quantity_proposed for line in lines),
                "units_decided": sum(decided) if decided else None,
                "decided_by": row.decided_by,
                "model_version": row.model_version,
                "policy": row.threshold.get("because", ""),
                "from": sorted({str(line.details.get(source, "")) for line in lines}),
                "to": sorted({str(line.details.get(target, "")) for line in lines}),
            }
        )
    return result


# The post-event analysis's amounts (lifecycle.schemas.Analysis); the rest are units and %.
ANALYSIS_AMOUNTS = ("revenue", "margin", "vendor_funding", "planned_margin", "markdown_exposure")


def _analysis(session: Session, promotion_id: int, currency: str) -> dict[str, Any] | None:
    event = repo.latest_analysis(session, promotion_id)
    if event is None:
        return None
    analysis = dict(event.data)
    for name in ANALYSIS_AMOUNTS:
        if analysis.get(name) is not None:
            analysis[name] = MoneyAmount.of(analysis[name], currency).as_json()
    return analysis
