"""Every query the approvals package makes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.approvals.schemas import TaskStatus
from promoflow.catalog.models import Item
from promoflow.identity.schemas import BannerScope
from promoflow.inventory.models import InventoryPosition
from promoflow.kit import keyset
from promoflow.promotions.models import ForecastLine, Promotion, PromotionItem, PromotionLocation
from promoflow.promotions.repository import visible_to

RevisionKey = tuple[int, int]  # (promotion id, revision)


def get_task(session: Session, task_id: int, *, for_update: bool = False) -> ApprovalTask | None:
    """One approval task by id; `for_update` locks its row until the transaction ends.

    Deciding, escalating, expiring and withdrawing a task all lock it first, so on
    PostgreSQL (READ COMMITTED) the second of two concurrent writers waits and then
    reads what the first committed; SQLite's IMMEDIATE transactions serialise them anyway.
    """
    if not for_update:
        return session.get(ApprovalTask, task_id)
    return session.get(ApprovalTask, task_id, with_for_update=True, populate_existing=True)


def lock(session: Session, task: ApprovalTask) -> ApprovalTask:
    """Re-read a loaded task under its row lock (see `get_task`)."""
    session.refresh(task, with_for_update=True)
    return task


def promotion_of(session: Session, task: ApprovalTask) -> Promotion | None:
    """The promotion a task belongs to (a read through the promotions model)."""
    return session.get(Promotion, task.promotion_id)


def tasks_for_revision(
    session: Session, promotion_id: int, revision: int
) -> Sequence[ApprovalTask]:
    """Every approval task of one promotion revision, oldest first."""
    return session.scalars(
        sa.select(ApprovalTask)
        .where(ApprovalTask.promotion_id == promotion_id, ApprovalTask.revision == revision)
        .order_by(ApprovalTask.id)
    ).all()


def decided_tasks(session: Session, promotion_id: int) -> Sequence[ApprovalTask]:
    """Tasks on any revision of the promotion that someone approved or rejected."""
    return session.scalars(
        sa.select(ApprovalTask)
        .where(ApprovalTask.promotion_id == promotion_id, ApprovalTask.decided_by.is_not(None))
        .order_by(ApprovalTask.id)
    ).all()


def pending_tasks(session: Session, assigned_role: str | None = None) -> Sequence[ApprovalTask]:
    """Pending tasks, soonest due first, optionally only those assigned to one role."""
    query = sa.select(ApprovalTask).where(ApprovalTask.status == TaskStatus.PENDING)
    if assigned_role is not None:
        query = query.where(ApprovalTask.assigned_role == assigned_role)
    return session.scalars(query.order_by(ApprovalTask.due_at, ApprovalTask.id)).all()


def location_count(session: Session, promotion_id: int) -> int:
    """How many locations the promotion covers."""
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(PromotionLocation)
        .where(PromotionLocation.promotion_id == promotion_id)
    )
    return int(count or 0)


def forecast_units_by_item(
    session: Session, promotion_id: int, revision: int
) -> dict[int, tuple[float, float]]:
    """(baseline units, promoted units) per item, summed over locations, for one revision."""
    rows = session.execute(
        sa.select(
            ForecastLine.item_id,
            sa.func.sum(ForecastLine.baseline_units),
            sa.func.sum(ForecastLine.promoted_units),
        )
        .where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
        .group_by(ForecastLine.item_id)
    ).all()
    return {int(row[0]): (float(row[1] or 0.0), float(row[2] or 0.0)) for row in rows}


def pending_page(
    session: Session,
    assigned_role: str | None,
    limit: int,
    offset: int = 0,
    *,
    banners: BannerScope | None = None,
    after: tuple[datetime, int] | None = None,
) -> tuple[Sequence[tuple[ApprovalTask, Promotion]], int]:
    """Pending tasks with their promotions, soonest due first (after the task whose
    (due_at, id) is `after`), and how many in all.

    With `banners`, only the tasks of promotions within them (the access policy).
    """
    query = sa.select(ApprovalTask).where(ApprovalTask.status == TaskStatus.PENDING)
    if assigned_role is not None:
        query = query.where(ApprovalTask.assigned_role == assigned_role)
    if banners is not None:
        query = query.where(visible_to(ApprovalTask.promotion_id, banners))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    if after is not None:
        query = query.where(keyset.after([ApprovalTask.due_at, ApprovalTask.id], after))
    rows = session.execute(
        query.add_columns(Promotion)
        .join(Promotion, Promotion.id == ApprovalTask.promotion_id)
        .order_by(ApprovalTask.due_at, ApprovalTask.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [(row[0], row[1]) for row in rows], total


def scopes_of(
    session: Session, promotion_ids: Collection[int]
) -> Sequence[tuple[PromotionItem, Item]]:
    """The scope lines (with their items) of several promotions, in one read."""
    rows = session.execute(
        sa.select(PromotionItem, Item)
        .join(Item, Item.id == PromotionItem.item_id)
        .where(PromotionItem.promotion_id.in_(list(promotion_ids)))
        .order_by(PromotionItem.promotion_id, Item.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def location_counts(session: Session, promotion_ids: Collection[int]) -> dict[int, int]:
    """How many locations each promotion covers."""
    rows = session.execute(
        sa.select(PromotionLocation.promotion_id, sa.func.count())
        .where(PromotionLocation.promotion_id.in_(list(promotion_ids)))
        .group_by(PromotionLocation.promotion_id)
    ).all()
    return {int(pid): int(count) for pid, count in rows}


def _revisions(keys: Collection[RevisionKey]) -> sa.ColumnElement[bool]:
    """The forecast lines of these (promotion, revision) keys. The promotion ids alone
    are repeated so that SQLite searches the forecast's key for them: given only the
    pair, it scans every forecast line."""
    pairs = list(keys)
    return sa.and_(
        ForecastLine.promotion_id.in_(sorted({pid for pid, _ in pairs})),
        sa.tuple_(ForecastLine.promotion_id, ForecastLine.revision).in_(pairs),
    )


def forecast_units_of(
    session: Session, keys: Collection[RevisionKey]
) -> dict[RevisionKey, dict[int, tuple[float, float]]]:
    """Per revision: (baseline, promoted) units per item, summed over locations."""
    rows = session.execute(
        sa.select(
            ForecastLine.promotion_id,
            ForecastLine.revision,
            ForecastLine.item_id,
            sa.func.sum(ForecastLine.baseline_units),
            sa.func.sum(ForecastLine.promoted_units),
        )
        .where(_revisions(keys))
        .group_by(ForecastLine.promotion_id, ForecastLine.revision, ForecastLine.item_id)
    ).all()
    found: dict[RevisionKey, dict[int, tuple[float, float]]] = {}
    for pid, revision, item_id, baseline, promoted in rows:
        found.setdefault((int(pid), int(revision)), {})[int(item_id)] = (
            float(baseline or 0.0),
            float(promoted or 0.0),
        )
    return found


def line_covers_p90(min_ratio: float) -> sa.ColumnElement[bool]:
    """A forecast line whose item-location's stock covers `min_ratio` x its P90 (or no P90).

    Stock is on hand + in transit + on order - allocated. Each line looks its position
    up by key (item, location): an outer join let PostgreSQL hash the whole positions
    table to match a page's few hundred lines. The console's Today page uses it too.
    """
    position = InventoryPosition
    available = (
        sa.select(position.on_hand + position.in_transit + position.on_order - position.allocated)
        .where(
            position.item_id == ForecastLine.item_id,
            position.location_id == ForecastLine.location_id,
        )
        .correlate(ForecastLine)
        .scalar_subquery()
    )
    return sa.or_(
        ForecastLine.p90 <= 0, sa.func.coalesce(available, 0.0) >= min_ratio * ForecastLine.p90
    )


def stock_coverage_of(
    session: Session, keys: Collection[RevisionKey], min_ratio: float
) -> dict[RevisionKey, tuple[int, int]]:
    """Per revision: (forecast item-locations, those whose stock covers min_ratio x P90).

    Stock is on hand + in transit + on order - allocated, as the position reports it (the
    launch gate later counts only orders due before the start, so this is its early view);
    an item-location with no position has none, and one with no P90 demand is covered.
    """
    covered = line_covers_p90(min_ratio)
    rows = session.execute(
        sa.select(
            ForecastLine.promotion_id,
            ForecastLine.revision,
            sa.func.count(),
            sa.func.sum(sa.case((covered, 1), else_=0)),
        )
        .where(_revisions(keys))
        .group_by(ForecastLine.promotion_id, ForecastLine.revision)
    ).all()
    return {(int(pid), int(rev)): (int(n), int(ok or 0)) for pid, rev, n, ok in rows}


def tasks_with_promotions(
    session: Session, task_ids: Collection[int], *, banners: BannerScope | None = None
) -> Sequence[tuple[ApprovalTask, Promotion]]:
    """The given tasks (any status) with their promotions, soonest due first; with
    `banners`, only those of promotions within them."""
    query = (
        sa.select(ApprovalTask, Promotion)
        .join(Promotion, Promotion.id == ApprovalTask.promotion_id)
        .where(ApprovalTask.id.in_(list(task_ids)))
    )
    if banners is not None:
        query = query.where(visible_to(ApprovalTask.promotion_id, banners))
    rows = session.execute(query.order_by(ApprovalTask.due_at, ApprovalTask.id)).all()
    return [(row[0], row[1]) for row in rows]


def pending_of_revisions(session: Session, keys: Collection[RevisionKey]) -> Sequence[ApprovalTask]:
    """The pending tasks of several promotion revisions, in one read."""
    return session.scalars(
        sa.select(ApprovalTask)
        .where(
            ApprovalTask.status == TaskStatus.PENDING,
            sa.tuple_(ApprovalTask.promotion_id, ApprovalTask.revision).in_(list(keys)),
        )
        .order_by(ApprovalTask.id)
    ).all()
