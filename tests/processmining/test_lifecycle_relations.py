"""A known lifecycle run, as a process-mining tool sees it: qualified relations and history."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import sqlalchemy as sa
from export_support import promotion_events
from processmining_support import Run

from promoflow.events.models import Event
from promoflow.kit.db import reading
from promoflow.processmining.builder import build_log
from promoflow.processmining.log import ObjectCentricLog
from promoflow.runtime import get_runtime


def _related(log: ObjectCentricLog, activity: str, promotion_id: int) -> pl.DataFrame:
    """E2O rows of the promotion's events of one activity."""
    ids = promotion_events(log, promotion_id)
    chosen = log.events.filter(pl.col("type") == activity, pl.col("id").is_in(list(ids)))
    return log.relations.join(chosen.select(pl.col("id").alias("event_id")), on="event_id")


def _o2o(log: ObjectCentricLog, qualifier: str) -> set[tuple[str, str]]:
    rows = log.object_relations.filter(pl.col("qualifier") == qualifier)
    return {(str(s), str(t)) for s, t, _ in rows.rows()}


def _item_ids(log: ObjectCentricLog, skus: list[str]) -> set[str]:
    named = log.object_attributes.filter(pl.col("name") == "sku", pl.col("value").is_in(skus))
    return set(named.get_column("object_id").to_list())


def test_a_transition_relates_the_promotion_and_its_revision(
    log: ObjectCentricLog, closed_run: Run
) -> None:
    pk = closed_run.planned.promotion_id
    submitted = _related(log, "promotion.submitted", pk)
    assert set(zip(submitted["object_id"], submitted["qualifier"], strict=True)) == {
        (f"promotion:{pk}", "promotion"),
        (f"revision:{pk}.1", "revision"),
    }


def test_approval_decisions_relate_their_task_which_approves_the_revision(
    log: ObjectCentricLog, closed_run: Run
) -> None:
    pk = closed_run.planned.promotion_id
    decided = _related(log, "approval.decided", pk).filter(pl.col("qualifier") == "approval task")
    tasks = set(decided.get_column("object_id").to_list())
    assert tasks, "the run's approvals were decided"
    assert {(task, f"revision:{pk}.1") for task in tasks} <= _o2o(log, "approves")


def test_publications_are_objects_that_publish_the_revision_on_each_channel(
    log: ObjectCentricLog, closed_run: Run
) -> None:
    pk = closed_run.planned.promotion_id
    published = _related(log, "publication.published", pk)
    channels = published.filter(pl.col("qualifier") == "publication").get_column("object_id")
    assert set(channels.to_list()) == {f"publication:{pk}.1.pos", f"publication:{pk}.1.ecommerce"}
    assert {(c, f"revision:{pk}.1") for c in channels.to_list()} <= _o2o(log, "publishes")


def test_the_promotion_promotes_exactly_its_items(log: ObjectCentricLog, closed_run: Run) -> None:
    pk = closed_run.planned.promotion_id
    promoted = {t for s, t in _o2o(log, "promotes") if s == f"promotion:{pk}"}
    assert promoted == _item_ids(log, closed_run.planned.skus)
    assert len(promoted) == len(closed_run.planned.skus)


def test_the_status_history_follows_every_recorded_transition(
    log: ObjectCentricLog, closed_run: Run
) -> None:
    pk = closed_run.planned.promotion_id
    with reading(get_runtime().sessions) as session:
        moves = session.scalars(
            sa.select(Event.data)
            .where(Event.promotion_id == pk, Event.type.like("io.promoflow.promotion.%"))
            .order_by(Event.sequence)
        ).all()
    recorded = ["draft"] + [move["to"] for move in moves if "to" in move]
    history = log.object_attributes.filter(
        pl.col("object_id") == f"promotion:{pk}", pl.col("name") == "status"
    )
    assert history.get_column("value").to_list() == recorded
    assert recorded[-1] == "closed"
    assert history.get_column("time").to_list() == sorted(history.get_column("time").to_list())


def test_purchase_orders_are_raised_for_the_promotion_and_order_its_item(
    log: ObjectCentricLog, replenished_run: Run
) -> None:
    pk = replenished_run.planned.promotion_id
    orders = {f"purchase_order:{number}" for number in replenished_run.purchase_orders}
    assert orders, "replenishment raised purchase orders"
    assert {(order, f"promotion:{pk}") for order in orders} <= _o2o(log, "raised for")
    item = _item_ids(log, replenished_run.planned.skus)
    ordered = {t for s, t in _o2o(log, "orders") if s in orders}
    assert ordered == item
    raised = _related(log, "purchase_order.raised", pk)
    assert orders == set(
        raised.filter(pl.col("qualifier") == "purchase order").get_column("object_id").to_list()
    )


def test_since_and_until_keep_only_the_events_in_the_window(closed_run: Run) -> None:
    pk = closed_run.planned.promotion_id
    with reading(get_runtime().sessions) as session:
        closed_at = session.scalar(
            sa.select(Event.time).where(
                Event.promotion_id == pk, Event.type == "io.promoflow.promotion.closed"
            )
        )
        assert closed_at is not None
        window = build_log(session, since=closed_at, until=closed_at + timedelta(microseconds=1))
    kinds = window.events.join(
        window.relations.filter(pl.col("object_id") == f"promotion:{pk}"),
        left_on="id",
        right_on="event_id",
    ).get_column("type")
    assert kinds.to_list() == ["promotion.closed"]
