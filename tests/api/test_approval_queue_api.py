"""`GET /approvals` returns what an approver needs (issue 12, item 6): the promotion's code,
name, mechanic and depth, forecast uplift, margin impact, stock risk, due time and SLA
state, read in a fixed number of statements per page, however many tasks it holds.

Tasks are opened through the approvals service with chosen request times, so each SLA
state is reached without waiting; forecast lines are written for the revision, so the
uplift and the stock coverage are known figures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from promoflow.approvals.matrix import RequiredApproval
from promoflow.kit.clock import utcnow

if TYPE_CHECKING:
    from tests.api.conftest import Catalog

Auth = Callable[[str], dict[str, str]]
HOUR = 3600.0  # wall-clock seconds per business hour for these tasks: nothing lapses by itself


def _need(role: str, sla_hours: float) -> RequiredApproval:
    return RequiredApproval(
        role=role,
        reasons=[f"{role} checks it"],
        sla_hours=sla_hours,
        reminder_after_hours=sla_hours / 2,
        escalate_to="operations_admin",
        expire_after_hours=sla_hours * 3,
    )


def _draft(catalog: Catalog, code: str, days_ahead: int) -> int:
    from promoflow.lifecycle import commands
    from promoflow.promotions.schemas import PromotionCreate

    start = date.today() + timedelta(days=days_ahead)
    promotion = commands.create_promotion(
        PromotionCreate(
            code=code,
            name=f"Queue {code}",
            mechanic="percent_off",
            discount_percent=Decimal(20),
            start_date=start,
            end_date=start + timedelta(days=6),
            channels=["pos"],
            items=catalog.skus[:2],
            locations=catalog.stores,
        ),
        "mia.merch",
    )
    return promotion.id


def _open(promotion_id: int, role: str, sla_hours: float, requested: datetime) -> int:
    from promoflow.approvals import service as approvals_service
    from promoflow.kit.db import transaction
    from promoflow.promotions import service as promotions_service
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        (task,) = approvals_service.open_approval_tasks(
            session, promotion, [_need(role, sla_hours)], requested, seconds_per_business_hour=HOUR
        )
        return task.id


def _forecast(promotion_id: int, p90_by_pair: list[float]) -> None:
    """Forecast lines for revision 1: 10 baseline and 15 promoted units per item-location."""
    from promoflow.kit.db import transaction
    from promoflow.promotions.models import ForecastLine, PromotionItem, PromotionLocation
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        items = session.scalars(
            sa.select(PromotionItem.item_id).where(PromotionItem.promotion_id == promotion_id)
        ).all()
        stores = session.scalars(
            sa.select(PromotionLocation.location_id).where(
                PromotionLocation.promotion_id == promotion_id
            )
        ).all()
        pairs = [(item, store) for item in sorted(items) for store in sorted(stores)]
        assert len(pairs) == len(p90_by_pair)
        for (item, store), p90 in zip(pairs, p90_by_pair, strict=True):
            session.add(
                ForecastLine(
                    promotion_id=promotion_id,
                    revision=1,
                    item_id=item,
                    location_id=store,
                    baseline_units=10.0,
                    promoted_units=15.0,
                    p10=5.0,
                    p50=15.0,
                    p80=20.0,
                    p90=p90,
                    model_version="test",
                    inputs_hash="0" * 64,
                )
            )


def _queue(client: TestClient, auth: Auth, role: str) -> dict[int, dict[str, Any]]:
    response = client.get(f"/api/v1/approvals?role={role}&limit=500", headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return {row["id"]: row for row in response.json()["items"]}


@pytest.fixture(scope="module")
def queued(catalog: Catalog) -> dict[str, Any]:
    """One promotion with three tasks, one per SLA state, and a forecast 3 of 4 lines cover."""
    promotion_id = _draft(catalog, "QUEUE-1", 400)
    _forecast(promotion_id, [0.0, 0.0, 0.0, 1e9])
    now = utcnow()
    return {
        "promotion_id": promotion_id,
        "on_time": _open(promotion_id, "pricing_analyst", 8, now),
        "due_soon": _open(promotion_id, "category_manager", 16, now - timedelta(hours=9)),
        "overdue": _open(promotion_id, "finance_approver", 24, now - timedelta(hours=25)),
    }


def test_each_task_carries_the_promotion_and_its_figures(
    client: TestClient, auth: Auth, queued: dict[str, Any]
) -> None:
    from promoflow.approvals.facts import promotion_facts
    from promoflow.promotions import service as promotions_service
    from promoflow.runtime import get_runtime

    row = _queue(client, auth, "pricing_analyst")[queued["on_time"]]
    assert (row["promotion_code"], row["promotion_name"]) == ("QUEUE-1", "Queue QUEUE-1")
    assert row["mechanic"] == "percent_off"
    assert row["depth"] == pytest.approx(0.2, abs=1e-3)
    assert row["forecast_uplift_pct"] == 50.0  # 15 promoted vs 10 baseline units
    with get_runtime().sessions() as session:
        promotion = promotions_service.get_promotion(session, queued["promotion_id"])
        facts = promotion_facts(session, promotion)
    # As the matrix judged it, in the deployment's currency.
    assert row["margin_impact"] == {"amount": str(facts.margin_impact), "currency": "EUR"}
    # 3 of 4 item-locations covered: below the coverage gate's 95 %, so the risk is high.
    assert (row["risk"], row["stock_covered_share"]) == ("high", 0.75)
    assert row["due_at"] and row["status"] == "pending"


def test_the_sla_state_follows_the_roles_reminder_point_and_due_time(
    client: TestClient, auth: Auth, queued: dict[str, Any]
) -> None:
    """8 h SLA just opened: on time; 16 h SLA 9 h in (reminder at half): due soon; 24 h SLA
    25 h in: overdue."""
    assert _queue(client, auth, "pricing_analyst")[queued["on_time"]]["sla_state"] == "on_time"
    assert _queue(client, auth, "category_manager")[queued["due_soon"]]["sla_state"] == "due_soon"
    assert _queue(client, auth, "finance_approver")[queued["overdue"]]["sla_state"] == "overdue"


def test_a_revision_without_a_forecast_has_unknown_risk_and_no_uplift(
    client: TestClient, auth: Auth, catalog: Catalog
) -> None:
    promotion_id = _draft(catalog, "QUEUE-2", 410)
    task_id = _open(promotion_id, "store_operations", 16, utcnow())
    row = _queue(client, auth, "store_operations")[task_id]
    assert (row["risk"], row["stock_covered_share"], row["forecast_uplift_pct"]) == (
        "unknown",
        None,
        None,
    )


def test_sla_and_risk_rules() -> None:
    from promoflow.approvals.models import ApprovalTask
    from promoflow.approvals.queue import sla_state, stock_risk
    from promoflow.approvals.schemas import QueueRules

    rules = QueueRules({"pricing_analyst": 0.75}, min_coverage_ratio=1.0, min_share_covered=0.9)
    start = datetime(2026, 1, 1, 8, 0)
    task = ApprovalTask(role="pricing_analyst", created_at=start, due_at=start + timedelta(hours=8))
    assert sla_state(task, start + timedelta(hours=5), rules) == "on_time"  # reminder at 6 h
    assert sla_state(task, start + timedelta(hours=6), rules) == "due_soon"
    assert sla_state(task, start + timedelta(hours=8), rules) == "overdue"
    assert stock_risk((10, 10), rules) == ("low", 1.0)
    assert stock_risk((10, 9), rules) == ("medium", 0.9)
    assert stock_risk((10, 8), rules) == ("high", 0.8)
    assert stock_risk(None, rules) == ("unknown", None)


@pytest.fixture
def statements() -> Callable[[Callable[[Any], object]], int]:
    """`statements(read)`: how many SQL statements `read(session)` sends."""
    from sqlalchemy import event

    from promoflow.runtime import get_runtime

    def count(read: Callable[[Any], object]) -> int:
        sent: list[str] = []
        with get_runtime().api_reads() as session:
            connection = session.connection()

            def record(*args: Any) -> None:
                sent.append(str(args[2]))

            event.listen(connection, "before_cursor_execute", record)
            try:
                read(session)
            finally:
                event.remove(connection, "before_cursor_execute", record)
        return len(sent)

    return count


def test_a_page_costs_the_same_statements_for_one_task_or_sixty(
    statements: Callable[[Callable[[Any], object]], int], catalog: Catalog
) -> None:
    """No N+1: 60 tasks on 20 promotions are read in as many statements as one task."""
    from promoflow.approvals.queue import queue_page, queue_rules

    now = utcnow()
    for n in range(20):
        promotion_id = _draft(catalog, f"QUEUE-N{n}", 420 + n)
        _forecast(promotion_id, [1.0, 2.0, 3.0, 4.0])
        for role in ("pricing_analyst", "category_manager", "finance_approver"):
            _open(promotion_id, role, 8, now)
    rules = queue_rules(None, None)

    def page(limit: int) -> Callable[[Any], object]:
        def read(session: Any) -> object:
            rows, total = queue_page(session, None, limit, 0, now=now, rules=rules, currency="EUR")
            assert len(rows) == min(limit, total) and total >= 60
            return rows

        return read

    one, sixty = statements(page(1)), statements(page(60))
    assert one == sixty <= 6, (one, sixty)
