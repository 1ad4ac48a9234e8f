"""Evaluate, store and waive launch gates. Never commits: the caller's transaction does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from promoflow.events.log import record_event
from promoflow.gates import repository
from promoflow.gates.evaluate import GateOutcome, evaluate
from promoflow.gates.inputs import load_gate_inputs
from promoflow.gates.models import GateResult, GateWaiver
from promoflow.gates.policy import GATE_NAMES, GatePolicy, load_gate_policy
from promoflow.gates.schemas import GateRound as GateRound  # re-exported
from promoflow.gates.schemas import GateStatus
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput
from promoflow.kit.identity import same_person
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState

# The workflow evaluates the launch gates only while the promotion is scheduled (approved,
# not yet publishing). Before that, a waiver would waive a failure nobody has seen and
# apply silently at the first round; after it, there is nothing left to waive.
WAIVABLE_STATES: tuple[PromotionState, ...] = (PromotionState.SCHEDULED,)


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
    given = repository.waivers(session, promotion.id, promotion.revision)
    evaluation = repository.last_evaluation(session, promotion.id, promotion.revision) + 1
    results = [
        _result(
            promotion,
            evaluation,
            policy,
            outcome,
            [waiver for waiver in given if waiver.gate == outcome.gate],
            now,
        )
        for outcome in evaluate(inputs, policy)
    ]
    session.add_all(results)
    failing = [r.gate for r in results if r.blocking and r.status == GateStatus.FAIL]
    advisory = [r.gate for r in results if not r.blocking and r.status == GateStatus.FAIL]
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
    waivers: Sequence[GateWaiver],
    now: datetime,
) -> GateResult:
    evidence = dict(outcome.evidence)
    status = outcome.status
    waiver = standing_waiver(waivers, outcome.gate, policy)
    if outcome.status == GateStatus.FAIL and waiver is None and waivers:
        # The policy changed since the waivers were given: none of them counts now.
        newest = waivers[-1]
        evidence["ignored_waiver"] = (
            f"waiver by {newest.waived_by} ({newest.role}) no longer counts: policy "
            f"{policy.version} lets {_roles(policy, outcome.gate)} waive {outcome.gate}"
        )
    applies = waiver is not None and outcome.status == GateStatus.FAIL
    if applies:
        status = GateStatus.WAIVED
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


def standing_waiver(
    waivers: Sequence[GateWaiver], gate: str, policy: GatePolicy
) -> GateWaiver | None:
    """The waiver of `gate` in force: the newest whose role the policy still lets waive it."""
    allowed = policy.gate(gate).waivable_by
    return next(
        (w for w in reversed(waivers) if w.gate == gate and w.role in allowed),
        None,
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
    """Record a waiver of one gate for the current revision; it counts from the next round.

    Only while the promotion waits at its launch gates (WAIVABLE_STATES). A waiver is a
    record: while one still counts, a second is refused; once the policy stops counting
    it, a new one is added beside it, never written over it.
    """
    policy = policy or load_gate_policy()
    if gate not in GATE_NAMES:
        raise InvalidInput("gate", gate, f"unknown gate; known gates are {', '.join(GATE_NAMES)}")
    if role not in policy.gate(gate).waivable_by:
        raise Forbidden(
            f"role '{role}' may not waive gate {gate!r}; policy {policy.version} lets "
            f"{_roles(policy, gate)} waive it",
            role=role,
            gate=gate,
        )
    if not reason or not reason.strip():
        raise InvalidInput(
            "reason", reason, "a waiver needs a reason: say why launching without this gate is safe"
        )
    # Segregation of duties: whoever made the revision does not waive its gates.
    for author in promotions_service.authors_of_revision(session, promotion):
        if same_person(actor, author):
            raise Forbidden(
                f"{actor} requested or revised promotion {promotion.code} (revision "
                f"{promotion.revision}) and may not waive its gates; a waiver needs someone "
                "else's judgement",
                actor=actor,
                gate=gate,
            )
    # Locked: two waivers at once are serialised here, and so is a state change.
    promotions_service.lock(session, promotion)
    if promotion.status not in WAIVABLE_STATES:
        raise Conflict(
            f"promotion {promotion.code} is {promotion.status}; a gate can be waived only "
            f"while the promotion is {' or '.join(WAIVABLE_STATES)} and waits at its launch "
            "gates",
            status=promotion.status,
        )
    given = repository.waivers(session, promotion.id, promotion.revision)
    standing = standing_waiver(given, gate, policy)
    if standing is not None:
        raise Conflict(
            f"gate {gate} of promotion {promotion.code} (revision {promotion.revision}) is "
            f"already waived by {standing.waived_by} ({standing.role}) at "
            f"{standing.waived_at:%Y-%m-%d %H:%M} UTC: {standing.reason!r}; a waiver stands "
            "as given and is not replaced",
            waived_by=standing.waived_by,
        )
    waiver = GateWaiver(
        promotion_id=promotion.id,
        revision=promotion.revision,
        gate=gate,
        waived_by=actor,
        role=role,
        reason=reason.strip(),
        waived_at=utcnow(),
    )
    session.add(waiver)
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


def failure_counts(session: Session) -> dict[str, int]:
    """How often each gate has failed an evaluation, for metrics."""
    return repository.failure_counts(session)
