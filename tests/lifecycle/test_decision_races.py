"""Two decisions on one record at the same instant: exactly one wins, the other is told who did.

Every decision people take through the commands (approvals, exception cases,
recommendations, gate waivers, store tasks) is raced against a second decision, and
the approval, case and recommendation decisions against the workflow's own writes
(expiry, escalation, withdrawal, clearing, superseding). Each racer has its own
session and transaction; on PostgreSQL (READ COMMITTED) both used to win.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals import service as approvals_service
from promoflow.approvals.matrix import RequiredApproval
from promoflow.approvals.models import ApprovalTask
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.models import ExceptionCase
from promoflow.gates.models import GateWaiver
from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict, Forbidden
from promoflow.lifecycle import approval_tx, case_tx, commands
from promoflow.promotions.models import Promotion
from promoflow.publications.models import StoreTask
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.models import Recommendation
from promoflow.runtime import Runtime, run_tx
from race_support import ROUNDS, events, hand_made_promotion, one_winner, race, retire

PRICING = RequiredApproval(
    role="pricing_analyst",
    reasons=["Every promotion price is checked by pricing"],
    sla_hours=8,
    reminder_after_hours=4,
    escalate_to="operations_admin",
    expire_after_hours=24,
    rules=["promo_price_check"],
    policy_version="race-1",
)
CASE_ACTIONS = ["retry", "waive", "reassign", "escalate"]


@pytest.fixture
def made(rt: Runtime) -> Iterator[list[int]]:
    """Promotions a test makes; cancelled afterwards."""
    ids: list[int] = []
    yield ids
    retire(ids)


def _promotion(made: list[int], status: str) -> int:
    promotion_id = hand_made_promotion(status)
    made.append(promotion_id)
    return promotion_id


def _task(rt: Runtime, promotion_id: int) -> int:
    with transaction(rt.sessions) as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        [task] = approvals_service.open_approval_tasks(
            session, promotion, [PRICING], datetime.now(UTC), seconds_per_business_hour=3600
        )
        return task.id


def _case(rt: Runtime, promotion_id: int) -> int:
    with transaction(rt.sessions) as session:
        promotion = session.get(Promotion, promotion_id)
        case = exceptions_service.open_case(
            session,
            kind="channel_publication_error",
            severity="high",
            owner_role="channel_operations",
            title="pos publication failed after retries",
            detail="race",
            promotion=promotion,
            linked={},
            allowed_actions=CASE_ACTIONS,
            workflow_id=promotion.workflow_id if promotion else None,
        )
        return case.id


def _propose(session: Session, promotion_id: int) -> int:
    recommendation = recommendations_service.propose(
        session,
        promotion_id=promotion_id,
        revision=1,
        kind="allocation",
        model_version="race",
        inputs_hash="0" * 64,
        lines=[],
    )
    return recommendation.id


def _recommendation(rt: Runtime, promotion_id: int) -> int:
    with transaction(rt.sessions) as session:
        return _propose(session, promotion_id)


def _store_tasks(rt: Runtime, promotion_id: int) -> None:
    from promoflow.promotions.models import PromotionLocation

    with transaction(rt.sessions) as session:
        for location_id in session.scalars(
            sa.select(PromotionLocation.location_id).where(
                PromotionLocation.promotion_id == promotion_id
            )
        ):
            session.add(
                StoreTask(
                    promotion_id=promotion_id, revision=1, location_id=location_id, kind="signage"
                )
            )


def _row(rt: Runtime, model: type[Any], key: Any) -> Any:
    with rt.sessions() as session:
        row = session.get(model, key)
        assert row is not None
        return row


def test_two_approvals_of_one_task_one_wins(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        task_id = _task(rt, _promotion(made, "in_approval"))
        outcomes = race(
            partial(
                commands.decide_approval, task_id, "priya.pricing", "pricing_analyst", "approve"
            ),
            partial(
                commands.decide_approval, task_id, "omar.pricing", "pricing_analyst", "approve"
            ),
        )
        _, winner, loser = one_winner(outcomes)
        assert isinstance(loser.error, Conflict)
        assert f"already approved by {winner.value.decided_by}" in loser.error.message
        assert _row(rt, ApprovalTask, task_id).decided_by == winner.value.decided_by
        assert len(events("approval.decided", f"approval/{task_id}")) == 1


def test_approve_racing_reject_leaves_the_winners_decision(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        task_id = _task(rt, _promotion(made, "in_approval"))
        outcomes = race(
            partial(
                commands.decide_approval, task_id, "priya.pricing", "pricing_analyst", "approve"
            ),
            partial(
                commands.decide_approval,
                task_id,
                "omar.pricing",
                "pricing_analyst",
                "reject",
                "price below cost",
            ),
        )
        index, winner, loser = one_winner(outcomes)
        assert isinstance(loser.error, Conflict)
        row = _row(rt, ApprovalTask, task_id)
        assert row.status == ("approved", "rejected")[index]
        assert (row.decided_by, row.status) == (winner.value.decided_by, winner.value.status)
        [decided] = events("approval.decided", f"approval/{task_id}")
        assert decided.data["decision"] == row.status


def test_approval_racing_its_expiry_is_one_or_the_other(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        task_id = _task(rt, _promotion(made, "in_approval"))
        human, _workflow = race(
            partial(
                commands.decide_approval, task_id, "priya.pricing", "pricing_analyst", "approve"
            ),
            partial(run_tx, approval_tx.approval_milestone, task_id, "expire", None),
        )
        row = _row(rt, ApprovalTask, task_id)
        decided = events("approval.decided", f"approval/{task_id}")
        expired = events("approval.expired", f"approval/{task_id}")
        if human.won:
            assert (row.status, len(decided), len(expired)) == ("approved", 1, 0)
        else:
            assert isinstance(human.error, Conflict)
            assert "already expired" in human.error.message
            assert (row.status, len(decided), len(expired)) == ("expired", 0, 1)


def test_approval_racing_its_escalation_is_one_or_the_other(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        promotion_id = _promotion(made, "in_approval")
        task_id = _task(rt, promotion_id)
        human, _workflow = race(
            partial(
                commands.decide_approval, task_id, "priya.pricing", "pricing_analyst", "approve"
            ),
            partial(
                run_tx, approval_tx.approval_milestone, task_id, "escalate", "operations_admin"
            ),
        )
        row = _row(rt, ApprovalTask, task_id)
        escalated = events("approval.escalated", f"approval/{task_id}")
        with rt.sessions() as session:
            open_cases = exceptions_service.list_cases(
                session, status="open", promotion_id=promotion_id, kind="approval_overdue"
            )
        if human.won:
            # Decided first: nothing is left overdue, so no case and no escalation.
            assert (row.status, row.assigned_role) == ("approved", "pricing_analyst")
            assert (len(escalated), len(open_cases)) == (0, 0)
        else:
            # Escalated first: the pricing analyst is no longer the one to decide.
            assert isinstance(human.error, Forbidden)
            assert (row.status, row.assigned_role) == ("pending", "operations_admin")
            assert (len(escalated), len(open_cases)) == (1, 1)


def test_approval_racing_its_withdrawal_is_one_or_the_other(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        promotion_id = _promotion(made, "in_approval")
        task_id = _task(rt, promotion_id)
        human, _workflow = race(
            partial(
                commands.decide_approval, task_id, "priya.pricing", "pricing_analyst", "approve"
            ),
            partial(
                run_tx,
                approval_tx.close_revision,
                promotion_id,
                1,
                "cancelled",
                "range review",
                "ada.admin",
            ),
        )
        row = _row(rt, ApprovalTask, task_id)
        decided = events("approval.decided", f"approval/{task_id}")
        expired = events("approval.expired", f"approval/{task_id}")
        assert _row(rt, Promotion, promotion_id).status == "cancelled"
        if human.won:
            assert (row.status, len(decided), len(expired)) == ("approved", 1, 0)
        else:
            assert isinstance(human.error, Conflict)
            assert (row.status, len(decided), len(expired)) == ("expired", 0, 1)


def test_two_actions_on_one_case_one_wins(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        case_id = _case(rt, _promotion(made, "on_hold"))
        outcomes = race(
            partial(
                commands.resolve_exception, case_id, "retry", "casey.channels", "channel_operations"
            ),
            partial(
                commands.resolve_exception,
                case_id,
                "waive",
                "ada.admin",
                "operations_admin",
                reason="launch on web only",
            ),
        )
        index, winner, loser = one_winner(outcomes)
        assert isinstance(loser.error, Conflict)
        assert f"by {winner.value.resolved_by}" in loser.error.message
        row = _row(rt, ExceptionCase, case_id)
        assert (row.status, row.resolution) == ("resolved", ("retry", "waive")[index])
        assert len(events("exception.resolved", f"exception/{case_id}")) == 1


def test_case_action_racing_the_workflow_clearing_it_is_one_or_the_other(
    rt: Runtime, made: list[int]
) -> None:
    for _ in range(ROUNDS):
        case_id = _case(rt, _promotion(made, "on_hold"))
        human, _workflow = race(
            partial(
                commands.resolve_exception, case_id, "retry", "casey.channels", "channel_operations"
            ),
            partial(run_tx, case_tx.close_case_cleared, case_id, "the channel answers again"),
        )
        row = _row(rt, ExceptionCase, case_id)
        assert row.resolution == ("retry" if human.won else "cleared")
        if not human.won:
            assert isinstance(human.error, Conflict)
        assert len(events("exception.resolved", f"exception/{case_id}")) == 1


def test_accept_racing_reject_of_one_recommendation_one_wins(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        recommendation_id = _recommendation(rt, _promotion(made, "scheduled"))
        outcomes = race(
            partial(
                commands.decide_recommendation,
                recommendation_id,
                "accept",
                "sasha.supply",
                "supply_chain_planner",
            ),
            partial(
                commands.decide_recommendation,
                recommendation_id,
                "reject",
                "ada.admin",
                "operations_admin",
                reason="the DC is closing for stock-take",
            ),
        )
        index, winner, loser = one_winner(outcomes)
        assert isinstance(loser.error, Conflict)
        assert f"by {winner.value.decided_by}" in loser.error.message
        row = _row(rt, Recommendation, recommendation_id)
        assert row.status == ("accepted", "rejected")[index]
        subject = f"recommendation/{recommendation_id}"
        assert (
            len(
                events("recommendation.accepted", subject)
                + events("recommendation.rejected", subject)
            )
            == 1
        )


def test_accept_racing_a_newer_proposal_is_one_or_the_other(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        promotion_id = _promotion(made, "scheduled")
        recommendation_id = _recommendation(rt, promotion_id)
        human, _workflow = race(
            partial(
                commands.decide_recommendation,
                recommendation_id,
                "accept",
                "sasha.supply",
                "supply_chain_planner",
            ),
            partial(run_tx, _propose, promotion_id),
        )
        row = _row(rt, Recommendation, recommendation_id)
        subject = f"recommendation/{recommendation_id}"
        accepted = events("recommendation.accepted", subject)
        superseded = events("recommendation.superseded", subject)
        if human.won:
            assert (row.status, len(accepted), len(superseded)) == ("accepted", 1, 0)
        else:
            assert isinstance(human.error, Conflict)
            assert (row.status, len(accepted), len(superseded)) == ("superseded", 0, 1)


def test_two_waivers_of_one_gate_one_wins(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        promotion_id = _promotion(made, "scheduled")
        outcomes = race(
            partial(
                commands.waive_gate,
                promotion_id,
                "store_readiness",
                "sam.stores",
                "store_operations",
                "signs are up",
            ),
            partial(
                commands.waive_gate,
                promotion_id,
                "store_readiness",
                "ada.admin",
                "operations_admin",
                "stores called",
            ),
        )
        _, winner, loser = one_winner(outcomes)
        assert isinstance(loser.error, Conflict)
        assert f"already waived by {winner.value.waived_by}" in loser.error.message
        with rt.sessions() as session:
            rows = session.scalars(
                sa.select(GateWaiver).where(GateWaiver.promotion_id == promotion_id)
            ).all()
        assert [row.waived_by for row in rows] == [winner.value.waived_by]
        assert len(events("gate.waived", f"promotion/{promotion_id}")) == 1


def test_two_confirmations_of_the_same_store_tasks_one_wins(rt: Runtime, made: list[int]) -> None:
    for _ in range(ROUNDS):
        promotion_id = _promotion(made, "scheduled")
        _store_tasks(rt, promotion_id)
        outcomes = race(
            partial(commands.confirm_store_tasks, promotion_id, None, "sam.stores"),
            partial(commands.confirm_store_tasks, promotion_id, None, "ruth.stores"),
        )
        index, winner, loser = one_winner(outcomes)
        assert winner.value == 2
        assert isinstance(loser.error, Conflict)
        person = ("sam.stores", "ruth.stores")[index]
        assert f"already confirmed by {person}" in loser.error.message
        with rt.sessions() as session:
            confirmers = session.scalars(
                sa.select(StoreTask.confirmed_by).where(StoreTask.promotion_id == promotion_id)
            ).all()
        assert set(confirmers) == {person}
        assert len(events("store_tasks.confirmed", f"promotion/{promotion_id}")) == 1
