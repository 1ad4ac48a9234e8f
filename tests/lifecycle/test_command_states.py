"""Each command is refused outside the states where it means something, naming the state.

Store readiness tasks are confirmed only while readiness still matters (scheduled to
live), a gate is waived only while the promotion waits at its gates, and a draft is
cancelled only by its requester (however they spell their name) or operations_admin.
Nothing a refused command touches is written.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict, Forbidden, Unavailable
from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion, PromotionLocation
from promoflow.publications.models import StoreTask
from promoflow.runtime import Runtime
from race_support import events, hand_made_promotion, retire


@pytest.fixture
def made(rt: Runtime) -> Iterator[list[int]]:
    ids: list[int] = []
    yield ids
    retire(ids)


def _with_store_tasks(rt: Runtime, made: list[int], status: str) -> int:
    promotion_id = hand_made_promotion(status)
    made.append(promotion_id)
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
    return promotion_id


def _task_statuses(rt: Runtime, promotion_id: int) -> list[str]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                sa.select(StoreTask.status).where(StoreTask.promotion_id == promotion_id)
            ).all()
        )


def _status(rt: Runtime, promotion_id: int) -> str:
    with rt.sessions() as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        return promotion.status


@pytest.mark.parametrize(
    "status", ["draft", "in_approval", "ended", "analysed", "closed", "cancelled", "rejected"]
)
def test_store_tasks_are_not_confirmed_outside_scheduled_to_live(
    rt: Runtime, made: list[int], status: str
) -> None:
    promotion_id = _with_store_tasks(rt, made, status)
    with pytest.raises(Conflict) as refused:
        commands.confirm_store_tasks(promotion_id, None, "sam.stores")
    assert f"is {status}; store tasks can be confirmed only while it is scheduled" in (
        refused.value.message
    )
    assert _task_statuses(rt, promotion_id) == ["open", "open"]
    assert events("store_tasks.confirmed", f"promotion/{promotion_id}") == []


@pytest.mark.parametrize("status", ["scheduled", "publishing", "live", "on_hold"])
def test_store_tasks_are_confirmed_while_readiness_matters(
    rt: Runtime, made: list[int], status: str
) -> None:
    promotion_id = _with_store_tasks(rt, made, status)
    assert commands.confirm_store_tasks(promotion_id, None, "sam.stores") == 2
    assert _task_statuses(rt, promotion_id) == ["confirmed", "confirmed"]


def test_confirming_confirmed_tasks_again_says_who_confirmed_them(
    rt: Runtime, made: list[int]
) -> None:
    promotion_id = _with_store_tasks(rt, made, "scheduled")
    assert commands.confirm_store_tasks(promotion_id, None, "sam.stores") == 2
    with pytest.raises(Conflict, match=r"already confirmed by sam\.stores"):
        commands.confirm_store_tasks(promotion_id, None, "ruth.stores")
    assert len(events("store_tasks.confirmed", f"promotion/{promotion_id}")) == 1


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_a_gate_is_not_waived_on_a_draft_or_a_closed_promotion(
    rt: Runtime, made: list[int], status: str
) -> None:
    promotion_id = hand_made_promotion(status)
    made.append(promotion_id)
    with pytest.raises(Conflict, match=f"is {status}; a gate can be waived only while"):
        commands.waive_gate(
            promotion_id, "store_readiness", "ada.admin", "operations_admin", "stores called"
        )
    assert events("gate.waived", f"promotion/{promotion_id}") == []


def test_another_author_may_not_cancel_a_draft(rt: Runtime, made: list[int]) -> None:
    promotion_id = hand_made_promotion("draft", requested_by="mia.merch")
    made.append(promotion_id)
    with pytest.raises(Forbidden) as refused:
        commands.cancel_promotion(promotion_id, "noah.merch", "merchandiser", "not mine")
    assert "is a draft of mia.merch; only they or operations_admin may cancel it" in (
        refused.value.message
    )
    assert _status(rt, promotion_id) == "draft"
    assert events("promotion.cancelled", f"promotion/{promotion_id}") == []


@pytest.mark.parametrize(
    ("actor", "role"),
    [
        ("Mia.Merch", "merchandiser"),
        ("mia.merch", "integration_client"),
        ("ada.admin", "operations_admin"),
    ],
)
def test_the_requester_or_operations_admin_cancels_a_draft(
    rt: Runtime, made: list[int], actor: str, role: str
) -> None:
    promotion_id = hand_made_promotion("draft", requested_by="mia.merch")
    made.append(promotion_id)
    assert commands.cancel_promotion(promotion_id, actor, role, "range review").status == (
        "cancelled"
    )
    [cancelled] = events("promotion.cancelled", f"promotion/{promotion_id}")
    assert cancelled.actor == actor


def test_another_author_may_not_cancel_a_running_promotion(rt: Runtime, made: list[int]) -> None:
    promotion_id = hand_made_promotion("scheduled", requested_by="mia.merch")
    made.append(promotion_id)
    with pytest.raises(Forbidden, match=r"is a promotion of mia\.merch; only they or operations"):
        commands.cancel_promotion(promotion_id, "noah.merch", "merchandiser", "not mine")
    assert _status(rt, promotion_id) == "scheduled"


def test_a_cancellation_no_workflow_takes_is_refused_not_accepted(
    rt: Runtime, made: list[int]
) -> None:
    """A running promotion is cancelled by its workflow; an undelivered request is a 503."""
    promotion_id = hand_made_promotion("scheduled", requested_by="mia.merch")
    made.append(promotion_id)  # made by hand: no workflow runs for it
    with pytest.raises(Unavailable, match="did not take the cancellation; nothing was changed"):
        commands.cancel_promotion(promotion_id, "mia.merch", "merchandiser", "range review")
    assert _status(rt, promotion_id) == "scheduled"
