"""Two clients deciding one approval task at the same instant: one 200, one 409.

On PostgreSQL both used to be told 200 and two `approval.decided` events were
written, the row ending with whichever commit came last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial

import pytest
from fastapi.testclient import TestClient

from promoflow.approvals import service as approvals_service
from promoflow.approvals.matrix import RequiredApproval
from promoflow.kit.db import transaction
from promoflow.promotions.models import Promotion
from promoflow.runtime import get_runtime
from race_support import ROUNDS, events, hand_made_promotion, race, retire

Auth = Callable[[str], dict[str, str]]
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


@pytest.fixture
def made(client: TestClient) -> Iterator[list[int]]:
    ids: list[int] = []
    yield ids
    retire(ids)


def _pending_task(made: list[int]) -> int:
    promotion_id = hand_made_promotion("in_approval")
    made.append(promotion_id)
    with transaction(get_runtime().sessions) as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        [task] = approvals_service.open_approval_tasks(
            session, promotion, [PRICING], datetime.now(UTC), seconds_per_business_hour=3600
        )
        return task.id


def test_approve_and_reject_at_once_one_200_one_409(
    client: TestClient, auth: Auth, made: list[int]
) -> None:
    for _ in range(ROUNDS):
        task_id = _pending_task(made)
        url = f"/api/v1/approvals/{task_id}/decision"
        post = partial(client.post, url, headers=auth("pricing_analyst"))
        approve, reject = (
            outcome.value
            for outcome in race(
                partial(post, json={"decision": "approve", "comment": "ok"}),
                partial(post, json={"decision": "reject", "comment": "price below cost"}),
            )
        )
        codes = sorted([approve.status_code, reject.status_code])
        assert codes == [200, 409], (approve.text, reject.text)
        winner, loser = (approve, reject) if approve.status_code == 200 else (reject, approve)
        assert loser.headers["content-type"] == "application/problem+json"
        decision = winner.json()["status"]
        assert f"already {decision} by pricing_analyst-tester" in loser.json()["detail"]
        [decided] = events("approval.decided", f"approval/{task_id}")
        assert decided.data["decision"] == decision
