"""Evaluate, store and waive launch gates. Never commits: the caller's transaction does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from promoflow.events.log import record_event
from promoflow.gates import repository
from promoflow.gates.evaluate import GateOutcome, evaluate
from promoflow.gates.inputs import load_gate_inputs
from promoflow.gates.models import GateResult, GateWaiver
from promoflow.gates.policy import GATE_NAMES, GatePolicy, load_gate_policy
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Forbidden, InvalidInput
from promoflow.promotions.models import Promotion


@dataclass(frozen=True)
class GateRound:
    """One evaluation round of a revision's gates, after standing waivers."""

    promotion_id: int
    revision: int
    evaluation: int
    policy_version: str
    results: list[GateResult]
    launch_ready: bool
    failing: list[str]  # blocking gates neither passed nor waived
    advisory: list[str]  # non-blocking gates that failed


def evaluate_promotion_gates(
    session: Session,
    promotion: Promotion,
    policy: GatePolicy | None = None,
    *,
    now: datetime | None = None,
) -> GateRound:
    """Evaluate every gate for the current revision and store the round with evidence."""
    policy = policy or load_gate_policy()
    now = now or utcnow()
    inputs = load_gate_inputs(
        session,
        promotion,
        quantile=policy.gates.inventory_coverage.quantile,
        as_of=now,
        history_days=policy.gates.supplier_commitments.history_days,
    )
    standing = {w.gate: w for w in repository.waivers(session, promotion.id, promotion.revision)}
    evaluation = repository.last_evaluation(session, promotion.id, promotion.revision) + 1
    results = [
        _result(promotion, evaluation, policy, outcome, standing.get(outcome.gate), now)
        for outcome in evaluate(inputs, policy)
    ]
    session.add_all(results)
    failing = [r.gate for r in results if r.blocking and r.status == "fail"]
    advisory = [r.gate for r in results if not r.blocking and r.status == "fail"]
    record_event(
        session,
        "gate.evaluated",
        f"promotion/{promotion.id}",
        {
            "revision": promotion.revision,
            "evaluation": evaluation,
            "policy_version": policy.version,
            "launch_ready": not failing,
            "gates": {r.gate: r.status for r in results},
            "failing": failing,
        },
        promotion_id=promotion.id,
    )
    session.flush()
    return GateRound(
        promotion_id=promotion.id,
        revision=promotion.revision,
        evaluation=evaluation,
        policy_version=policy.version,
        results=results,
        launch_ready=not failing,
        failing=failing,
        advisory=advisory,
    )


def _result(
    promotion: Promotion,
    evaluation: int,
    policy: GatePolicy,
    outcome: GateOutcome,
    waiver: GateWaiver | None,
    now: datetime,
) -> GateResult:
    evidence = dict(outcome.evidence)
    status = outcome.status
    applies = waiver is not None and outcome.status == "fail"
    if applies and waiver is not None and waiver.role not in policy.gate(outcome.gate).waivable_by:
        # The policy changed since the waiver was given: it no longer counts.
        evidence["ignored_waiver"] = (
            f"waiver by {waiver.waived_by} ({waiver.role}) no longer counts: policy "
            f"{policy.version} lets {_roles(policy, outcome.gate)} waive {outcome.gate}"
        )
        applies = False
    if applies:
        status = "waived"
    return GateResult(
        promotion_id=promotion.id,
        revision=promotion.revision,
        evaluation=evaluation,
        gate=outcome.gate,
        status=status,
        blocking=outcome.blocking,
        score=outcome.score,
        threshold=outcome.threshold,
        summary=outcome.summary,
        evidence=evidence,
        policy_version=policy.version,
        evaluated_at=now,
        waived_by=waiver.waived_by if applies and waiver else None,
        waiver_reason=waiver.reason if applies and waiver else None,
        waived_at=waiver.waived_at if applies and waiver else None,
    )


def _roles(policy: GatePolicy, gate: str) -> str:
    roles = policy.gate(gate).waivable_by
    return ", ".join(roles) if roles else "no role"


def waive_gate(
    session: Session,
    promotion: Promotion,
    gate: str,
    actor: str,
    role: str,
    reason: str,
    policy: GatePolicy | None = None,
) -> GateWaiver:
    """Waive one gate for the current revision; applies from the next evaluation round."""
    policy = policy or load_gate_policy()
    if gate not in GATE_NAMES:
        raise InvalidInput("gate", gate, f"unknown gate; known gates are {', '.join(GATE_NAMES)}")
    if role not in policy.gate(gate).waivable_by:
        raise Forbidden(
            f"role {role!r} may not waive gate {gate!r}; policy {policy.version} lets "
            f"{_roles(policy, gate)} waive it",
            role=role,
            gate=gate,
        )
    if not reason or not reason.strip():
        raise InvalidInput(
            "reason", reason, "a waiver needs a reason: say why launching without this gate is safe"
        )
    now = utcnow()
    waiver = repository.get_waiver(session, promotion, gate)
    if waiver is None:
        waiver = GateWaiver(promotion_id=promotion.id, revision=promotion.revision, gate=gate)
        session.add(waiver)
    waiver.waived_by, waiver.role, waiver.reason, waiver.waived_at = (
        actor,
        role,
        reason.strip(),
        now,
    )
    record_event(
        session,
        "gate.waived",
        f"promotion/{promotion.id}",
        {"revision": promotion.revision, "gate": gate, "role": role, "reason": reason.strip()},
        promotion_id=promotion.id,
        actor=actor,
    )
    session.flush()
    return waiver


def latest_gate_results(session: Session, promotion_id: int, revision: int) -> list[GateResult]:
    """The newest evaluation round of a revision (empty when never evaluated)."""
    newest = repository.last_evaluation(session, promotion_id, revision)
    if newest == 0:
        return []
    return repository.results_of_round(session, promotion_id, revision, newest)
