"""Every branch of the lifecycle workflow, end to end on the sandbox estate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from lifecycle_support import Planned, desk_for, drive, status_of, submit

from promoflow.approvals.models import ApprovalTask
from promoflow.connectors.sandbox.models import SandboxChannelPrice
from promoflow.events.models import Event
from promoflow.exceptions.models import ExceptionCase
from promoflow.forecasting.registry_models import PromotionForecastAccuracy
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict
from promoflow.lifecycle import commands
from promoflow.publications.models import Publication
from promoflow.runtime import Runtime
from promoflow.scenario import estate_actions

REFERENCE = [
    "submitted",
    "validated",
    "assessed",
    "in_approval",
    "approved",
    "scheduled",
    "publishing",
    "live",
    "ended",
    "analysed",
    "closed",
]


def _states(rt: Runtime, promotion_id: int) -> list[str]:
    with rt.sessions() as session:
        types = session.scalars(
            sa.select(Event.type)
            .where(Event.promotion_id == promotion_id, Event.type.like("io.promoflow.promotion.%"))
            .order_by(Event.sequence)
        ).all()
    return [t.rsplit(".", 1)[-1] for t in types if not t.endswith(".created")]


def _cases(rt: Runtime, promotion_id: int) -> list[ExceptionCase]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                sa.select(ExceptionCase)
                .where(ExceptionCase.promotion_id == promotion_id)
                .order_by(ExceptionCase.id)
            ).all()
        )


def _publications(rt: Runtime, promotion_id: int) -> dict[str, str]:
    with rt.sessions() as session:
        rows = session.scalars(
            sa.select(Publication).where(Publication.promotion_id == promotion_id)
        ).all()
        return {p.channel: p.status for p in rows}


def _pos_prices(rt: Runtime, code: str) -> list[SandboxChannelPrice]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                sa.select(SandboxChannelPrice).where(
                    SandboxChannelPrice.system == "sandbox-pos",
                    SandboxChannelPrice.publication_key.like(f"{code}-r%"),
                )
            ).all()
        )


def test_clean_promotion_walks_the_reference_lifecycle(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    planned = submit(plan_promotion(items=3))
    assert drive(planned, done, desk=desk_for(planned)) == "closed"
    assert _states(rt, planned.promotion_id) == REFERENCE
    assert _publications(rt, planned.promotion_id) == {"pos": "published", "ecommerce": "published"}
    prices = _pos_prices(rt, planned.code)
    stores = {p.location_code for p in prices}
    assert {p.sku for p in prices} == set(planned.skus)
    assert len(prices) == len(planned.skus) * len(stores)  # each price applied once
    assert _cases(rt, planned.promotion_id) == []
    with rt.sessions() as session:
        analysed = session.scalar(
            sa.select(Event).where(
                Event.promotion_id == planned.promotion_id,
                Event.type == "io.promoflow.promotion.analysed",
            )
        )
        assert analysed is not None
        assert analysed.data["actual_units"] > 0
        assert analysed.data["forecast_units"] > analysed.data["baseline_units"]
        # Post-event accuracy is kept per model, line by line, for the registry.
        accuracy = session.get(PromotionForecastAccuracy, (planned.promotion_id, 1))
        assert accuracy is not None
        assert accuracy.model_version == analysed.data["forecast_model"]
        assert accuracy.actual_units == pytest.approx(analysed.data["actual_units"])
        assert accuracy.lines == len(planned.skus) * len(stores)


def test_validation_stops_a_restricted_item_with_a_message_naming_it(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    from promoflow.promotions.models import PromotionItem
    from promoflow.scenario import picking

    planned = plan_promotion(items=2)
    with rt.sessions() as session, session.begin():
        sku = picking.restricted_sku(session)
        assert sku is not None
        from promoflow.catalog.models import Item

        item = session.scalar(sa.select(Item).where(Item.sku == sku))
        assert item is not None
        session.add(
            PromotionItem(
                promotion_id=planned.promotion_id, item_id=item.id, promo_price=item.regular_price
            )
        )
    submit(planned)
    assert drive(planned, done) == "rejected"
    _, reason = status_of(planned.promotion_id)
    assert sku in reason and "item_restricted" in reason
    with rt.sessions() as session:
        tasks = session.scalars(
            sa.select(ApprovalTask).where(ApprovalTask.promotion_id == planned.promotion_id)
        ).all()
    assert tasks == []  # nothing went to approvers


def test_a_rejection_withdraws_the_other_approvals(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    from decimal import Decimal

    planned = submit(plan_promotion(items=2, discount_percent=Decimal(35)))
    desk = desk_for(planned, reject_by="category_manager", reject_comment="too deep")
    assert drive(planned, done, desk=desk) == "rejected"
    _, reason = status_of(planned.promotion_id)
    assert "category_manager" in reason and "too deep" in reason
    with rt.sessions() as session:
        statuses = set(
            session.scalars(
                sa.select(ApprovalTask.status).where(
                    ApprovalTask.promotion_id == planned.promotion_id
                )
            ).all()
        )
    assert "pending" not in statuses


def test_unanswered_approval_is_reminded_escalated_then_expires(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    planned = submit(plan_promotion(items=2))
    assert drive(planned, done, timeout=30) == "rejected"  # nobody at the desk
    _, reason = status_of(planned.promotion_id)
    assert "expired" in reason
    with rt.sessions() as session:
        task = session.scalars(
            sa.select(ApprovalTask).where(ApprovalTask.promotion_id == planned.promotion_id)
        ).one()
    assert task.reminded_at is not None and task.escalated_at is not None
    assert task.reminded_at < task.escalated_at
    assert task.assigned_role == "operations_admin"
    overdue = [c for c in _cases(rt, planned.promotion_id) if c.kind == "approval_overdue"]
    assert len(overdue) == 1 and overdue[0].status == "resolved"


def test_low_coverage_blocks_launch_until_stock_arrives(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    planned = submit(plan_promotion(items=2, weeks_of_cover=0.05))
    desk = desk_for(planned)
    drive(planned, lambda s: s == "scheduled" and bool(_cases(rt, planned.promotion_id)), desk=desk)
    _, reason = status_of(planned.promotion_id)
    assert "inventory_coverage" in reason
    case = _cases(rt, planned.promotion_id)[0]
    assert (case.kind, case.owner_role, case.status) == (
        "stockout_risk",
        "supply_chain_planner",
        "open",
    )
    # Replenishment arrives: the inventory event wakes the workflow, gates pass.
    estate_actions.set_cover(rt, planned.skus, [planned.region], weeks_of_cover=8.0)
    assert drive(planned, done, desk=desk) == "closed"
    case = _cases(rt, planned.promotion_id)[0]
    assert (case.status, case.resolution) == ("resolved", "cleared")


def test_waiver_by_an_authorised_role_releases_the_launch(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    from promoflow.kit.errors import Forbidden, InvalidInput

    planned = submit(plan_promotion(items=2, weeks_of_cover=0.05))
    desk = desk_for(planned)
    drive(planned, lambda s: s == "scheduled" and bool(_cases(rt, planned.promotion_id)), desk=desk)
    with pytest.raises(Forbidden):
        commands.waive_gate(
            planned.promotion_id,
            "inventory_coverage",
            "mia.merch",
            "merchandiser",
            "I want it live",
        )
    with pytest.raises(InvalidInput):
        commands.waive_gate(
            planned.promotion_id, "inventory_coverage", "sasha.supply", "supply_chain_planner", "  "
        )
    # The same shortage fails coverage and stockout risk; the reason covers both.
    for gate in ("inventory_coverage", "stockout_risk"):
        commands.waive_gate(
            planned.promotion_id,
            gate,
            "sasha.supply",
            "supply_chain_planner",
            "vendor ships direct to store on day one",
        )
    assert drive(planned, done, desk=desk) == "closed"
    with rt.sessions() as session:
        waived = session.scalars(
            sa.select(Event.data)
            .where(
                Event.promotion_id == planned.promotion_id,
                Event.type == "io.promoflow.gate.evaluated",
            )
            .order_by(Event.sequence)
        ).all()
    assert waived[-1]["gates"]["inventory_coverage"] == "waived"
    assert waived[-1]["gates"]["stockout_risk"] == "waived"


def _outage_for(rt: Runtime, seconds: float) -> tuple[object, object]:
    start, end = utcnow() - timedelta(seconds=1), utcnow() + timedelta(seconds=seconds)
    estate_actions.pos_outage(rt, start, end)
    return start, end


def test_pos_outage_goes_to_the_queue_and_a_retry_publishes_once(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    """Chaos (a): the POS pricing API is down through the launch window.

    Retries with backoff, then an exception routed to channel operations; the audit
    keeps every failed attempt, the case and the operator's decision; the operator's
    retry publishes every price exactly once.
    """
    from promoflow.connectors.sandbox import faults

    planned = plan_promotion(items=2, channels=["pos"])
    _outage_for(rt, 600)
    try:
        submit(planned)
        desk = desk_for(planned)
        drive(planned, lambda s: s == "on_hold", desk=desk, timeout=60)
        case = _cases(rt, planned.promotion_id)[-1]
        assert (case.kind, case.owner_role, case.status) == (
            "channel_publication_error",
            "channel_operations",
            "open",
        )
        assert "outage" in case.detail
    finally:
        faults.clear_faults(rt.sessions, "sandbox-pos")
    commands.resolve_exception(
        case.id, "retry", "casey.channels", "channel_operations", reason="POS back up"
    )
    assert drive(planned, done, desk=desk) == "closed"
    prices = _pos_prices(rt, planned.code)
    assert len({(p.sku, p.location_code) for p in prices}) == len(prices) > 0
    with rt.sessions() as session:
        attempts = session.scalars(
            sa.select(Event.data["outcome"].as_string()).where(
                Event.promotion_id == planned.promotion_id,
                Event.type == "io.promoflow.publication.attempted",
            )
        ).all()
    assert attempts.count("failed") >= 4 and "applied" in attempts  # retries, then success
    with rt.sessions() as session:
        audit = {
            (row.type.rsplit(".", 2)[-2] + "." + row.type.rsplit(".", 1)[-1], row.actor)
            for row in session.scalars(
                sa.select(Event).where(Event.subject == f"exception/{case.id}")
            )
        }
        resolved = session.get(ExceptionCase, case.id)
    assert ("exception.opened", "system") in audit
    assert ("exception.resolved", "casey.channels") in audit
    assert resolved is not None and (resolved.resolution, resolved.resolved_by) == (
        "retry",
        "casey.channels",
    )


def test_operator_can_waive_a_failing_channel(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    from promoflow.connectors.sandbox import faults

    planned = plan_promotion(items=2, channels=["pos", "ecommerce"])
    _outage_for(rt, 600)
    try:
        submit(planned)
        desk = desk_for(planned)
        drive(planned, lambda s: s == "on_hold", desk=desk, timeout=60)
        case = _cases(rt, planned.promotion_id)[-1]
        with pytest.raises(Exception, match="reason"):
            commands.resolve_exception(case.id, "waive", "casey.channels", "channel_operations")
        commands.resolve_exception(
            case.id,
            "waive",
            "casey.channels",
            "channel_operations",
            reason="stores will key the price by hand",
        )
        assert drive(planned, done, desk=desk) == "closed"
    finally:
        faults.clear_faults(rt.sessions, "sandbox-pos")
    assert _publications(rt, planned.promotion_id) == {"pos": "skipped", "ecommerce": "published"}


def test_cancelling_a_live_promotion_withdraws_its_prices(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    planned = submit(plan_promotion(items=2), live_hours=10_000)
    desk = desk_for(planned)
    drive(planned, lambda s: s == "live", desk=desk)
    commands.cancel_promotion(
        planned.promotion_id, "ada.admin", "operations_admin", "supplier recall"
    )
    assert drive(planned, done, desk=desk) == "cancelled"
    assert status_of(planned.promotion_id)[1] == "supplier recall"
    prices = _pos_prices(rt, planned.code)
    assert prices and all(p.reverted_at is not None for p in prices)
    assert _publications(rt, planned.promotion_id)["pos"] == "reverted"


def test_a_revision_is_submitted_once(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    planned = plan_promotion(items=2)
    first = commands.submit_promotion(
        planned.promotion_id, "mia.merch", launch_lead_hours=10, live_hours=10
    )
    drive(planned, lambda s: s != "draft")
    with pytest.raises(Conflict):
        commands.submit_promotion(planned.promotion_id, "mia.merch")
    assert first == f"promotion-{planned.promotion_id}-rev-1"
    planned.workflow_id = first
    assert drive(planned, done, desk=desk_for(planned)) == "closed"


def test_cancelling_during_approval_empties_the_approvers_queues(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    planned = submit(plan_promotion(items=2))
    drive(planned, lambda s: s == "in_approval")  # nobody at the desk: tasks stay pending
    commands.cancel_promotion(
        planned.promotion_id, "mia.merch", "merchandiser", "range review moved the dates"
    )
    assert drive(planned, done) == "cancelled"
    with rt.sessions() as session:
        statuses = set(
            session.scalars(
                sa.select(ApprovalTask.status).where(
                    ApprovalTask.promotion_id == planned.promotion_id
                )
            ).all()
        )
    assert statuses and "pending" not in statuses
    assert all(c.status == "resolved" for c in _cases(rt, planned.promotion_id))
