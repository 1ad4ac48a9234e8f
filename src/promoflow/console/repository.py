"""Every query of the console's read models: set-based, banner-scoped in SQL.

A page costs a fixed number of statements whatever it shows. The risk and readiness
of a promotion are SQL conditions (`failing_now`, `at_risk`), so a list filters and
pages on them in the database rather than in Python.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from promoflow.approvals.repository import line_covers_p90
from promoflow.catalog.models import Item, Location
from promoflow.events.log import TYPE_PREFIX
from promoflow.events.models import Event
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseStatus
from promoflow.gates.models import GateResult
from promoflow.gates.schemas import Gate, GateStatus
from promoflow.identity.schemas import BannerScope
from promoflow.inventory.models import PurchaseOrder
from promoflow.inventory.schemas import AckStatus, PurchaseOrderStatus
from promoflow.kit.types import UtcDateTime
from promoflow.promotions.models import ForecastLine, Promotion, PromotionItem, PromotionLocation
from promoflow.promotions.repository import visible_to
from promoflow.promotions.states import PromotionState

S = PromotionState
# Promotions still ahead of or in their window: the ones a risk can still hurt.
ACTIVE_STATES = (
    S.SUBMITTED,
    S.VALIDATED,
    S.ASSESSED,
    S.IN_APPROVAL,
    S.APPROVED,
    S.SCHEDULED,
    S.PUBLISHING,
    S.LIVE,
    S.ON_HOLD,
)
HIDDEN_FROM_CALENDAR = (S.REJECTED, S.CANCELLED)
SELL_THROUGH_CHECKED = f"{TYPE_PREFIX}sell_through.checked"


# Building these conditions costs more Python than running them: each is built once,
# and "now" reaches the late-acknowledgement test as a parameter of the execution.
RISK_NOW = "risk_now"


def _latest_round(gate: Any) -> sa.ColumnElement[bool]:
    """`gate` (an alias of gate_results) is of the current revision's newest round."""
    newest = aliased(GateResult)
    return sa.and_(
        gate.promotion_id == Promotion.id,
        gate.revision == Promotion.revision,
        gate.evaluation
        == sa.select(sa.func.max(newest.evaluation))
        .where(newest.promotion_id == Promotion.id, newest.revision == Promotion.revision)
        .correlate(Promotion)
        .scalar_subquery(),
    )


@cache
def evaluated() -> sa.ColumnElement[bool]:
    gate = aliased(GateResult)
    return sa.exists().where(gate.promotion_id == Promotion.id, gate.revision == Promotion.revision)


@cache
def failing_now() -> sa.ColumnElement[bool]:
    """A blocking gate failed in the newest round of the current revision."""
    gate = aliased(GateResult)
    return sa.exists().where(_latest_round(gate), gate.blocking, gate.status == GateStatus.FAIL)


@cache
def at_risk() -> sa.ColumnElement[bool]:
    """Active, and a failing gate, stockout risk over its threshold, or a PO not
    acknowledged by its due time (as of the execution's `risk_now` parameter)."""
    gate = aliased(GateResult)
    # One look at the newest round answers both gate questions (a blocking failure, a
    # stockout share over its threshold): the newest round is found once, not twice.
    gate_against = sa.exists().where(
        _latest_round(gate),
        sa.or_(
            sa.and_(gate.blocking, gate.status == GateStatus.FAIL),
            sa.and_(gate.gate == Gate.STOCKOUT_RISK, gate.score > gate.threshold),
        ),
    )
    late_acknowledgement = sa.exists().where(
        PurchaseOrder.promotion_id == Promotion.id,
        PurchaseOrder.status == PurchaseOrderStatus.OPEN,
        PurchaseOrder.ack_status == AckStatus.PENDING,
        PurchaseOrder.ack_due_at < sa.bindparam(RISK_NOW, type_=UtcDateTime()),
    )
    return sa.and_(
        Promotion.status.in_(ACTIVE_STATES),
        sa.or_(gate_against, late_acknowledgement),
    )


def promotion(session: Session, ref: int | str, banners: BannerScope) -> Promotion | None:
    """The promotion with id (int) or code (str) `ref`, if the banners may see it."""
    key = Promotion.id == ref if isinstance(ref, int) else Promotion.code == ref
    return session.scalar(sa.select(Promotion).where(key, visible_to(Promotion.id, banners)))


def promotions(session: Session, promotion_ids: Collection[int]) -> Sequence[Promotion]:
    return session.scalars(sa.select(Promotion).where(Promotion.id.in_(list(promotion_ids)))).all()


def states(session: Session, promotion_ids: Collection[int]) -> dict[int, str]:
    rows = session.execute(
        sa.select(Promotion.id, Promotion.status).where(Promotion.id.in_(list(promotion_ids)))
    ).all()
    return {int(pid): str(status) for pid, status in rows}


def scope_prices(session: Session, promotion_ids: Collection[int]) -> Sequence[Any]:
    """(promotion id, promo price, regular price) per scope line."""
    return session.execute(
        sa.select(PromotionItem.promotion_id, PromotionItem.promo_price, Item.regular_price)
        .join(Item, Item.id == PromotionItem.item_id)
        .where(PromotionItem.promotion_id.in_(list(promotion_ids)))
    ).all()


def forecast_money_of(session: Session, promotion_ids: Collection[int]) -> Sequence[Any]:
    """`_forecast_money` of the promotions with these ids."""
    ids = list(promotion_ids)
    if not ids:
        return []
    return _forecast_money(
        session, sa.and_(Promotion.id.in_(ids), ForecastLine.promotion_id.in_(ids))
    )


def forecast_money_launching(
    session: Session, banners: BannerScope, first: date, last: date, now: datetime
) -> Sequence[Any]:
    """`_forecast_money` of the active promotions launching between the dates, with a
    last column saying whether each is at risk."""
    launching = sa.and_(
        Promotion.start_date >= first,
        Promotion.start_date <= last,
        Promotion.status.in_(ACTIVE_STATES),
        visible_to(Promotion.id, banners),
    )
    return _forecast_money(session, launching, {RISK_NOW: now}, at_risk())


def _forecast_money(
    session: Session,
    condition: sa.ColumnElement[bool],
    params: dict[str, Any] | None = None,
    *more: sa.ColumnElement[Any],
) -> Sequence[Any]:
    """Per promotion matching `condition` (current revision's forecast): id, baseline,
    promoted, P10 and P90 units, margin impact vs doing nothing, incremental revenue,
    incremental margin (see schemas.MoneyAtStake), then one column per `more`.

    The lines are summed per item first (every figure is linear in the units, as the
    approval matrix's per-item figures are), so the scope and catalogue are joined once
    per item rather than once per item-location; `more` is judged once per promotion."""
    line = ForecastLine
    per_item = (
        sa.select(
            line.promotion_id,
            line.item_id,
            sa.func.sum(line.baseline_units).label("baseline"),
            sa.func.sum(line.promoted_units).label("promoted"),
            sa.func.sum(line.p10).label("p10"),
            sa.func.sum(line.p90).label("p90"),
            sa.func.max(Promotion.vendor_funding_per_unit).label("funding"),
        )
        .select_from(Promotion)
        .join(line, sa.and_(line.promotion_id == Promotion.id, line.revision == Promotion.revision))
        .where(condition)
        # By the forecast's columns: grouped by promotions.id, SQLite walks every
        # promotion in id order rather than the launch window's index.
        .group_by(line.promotion_id, line.item_id)
        .subquery()
    )
    extra = per_item.c.promoted - per_item.c.baseline
    unit_margin = PromotionItem.promo_price - Item.unit_cost + per_item.c.funding
    impact = unit_margin * per_item.c.promoted - (Item.regular_price - Item.unit_cost) * (
        per_item.c.baseline
    )
    sums = (
        sa.select(
            per_item.c.promotion_id.label("id"),
            sa.func.sum(per_item.c.baseline).label("baseline"),
            sa.func.sum(per_item.c.promoted).label("promoted"),
            sa.func.sum(per_item.c.p10).label("p10"),
            sa.func.sum(per_item.c.p90).label("p90"),
            sa.func.sum(impact).label("impact"),
            sa.func.sum(extra * PromotionItem.promo_price).label("revenue"),
            sa.func.sum(extra * unit_margin).label("margin"),
        )
        .join(
            PromotionItem,
            sa.and_(
                PromotionItem.promotion_id == per_item.c.promotion_id,
                PromotionItem.item_id == per_item.c.item_id,
            ),
        )
        .join(Item, Item.id == per_item.c.item_id)
        .group_by(per_item.c.promotion_id)
        .subquery()
    )
    return session.execute(
        sa.select(*sums.c, *more).join_from(sums, Promotion, Promotion.id == sums.c.id), params
    ).all()


def stock_coverage(
    session: Session, promotion_ids: Collection[int], min_ratio: float
) -> dict[int, tuple[int, int]]:
    """Per promotion (current revision): (forecast item-locations, those whose stock
    covers `min_ratio` x the P90), as the approval queue judges its early stock risk.

    The same test as the queue's (approvals.repository.line_covers_p90)."""
    covered = line_covers_p90(min_ratio)
    rows = session.execute(
        sa.select(Promotion.id, sa.func.count(), sa.func.sum(sa.case((covered, 1), else_=0)))
        .join(
            ForecastLine,
            sa.and_(
                ForecastLine.promotion_id == Promotion.id,
                ForecastLine.revision == Promotion.revision,
            ),
        )
        .where(
            Promotion.id.in_(list(promotion_ids)),
            ForecastLine.promotion_id.in_(list(promotion_ids)),
        )
        .group_by(Promotion.id)
    ).all()
    return {int(pid): (int(n), int(ok or 0)) for pid, n, ok in rows}


def open_cases(
    session: Session, role: str, assignee: str | None, banners: BannerScope, limit: int
) -> Sequence[ExceptionCase]:
    """Open cases owned by `role` or assigned to `assignee`, oldest first (due first)."""
    mine = ExceptionCase.owner_role == role
    if assignee:
        mine = sa.or_(mine, ExceptionCase.assignee == assignee)
    visible = sa.or_(
        sa.and_(
            ExceptionCase.promotion_id.is_not(None),
            visible_to(ExceptionCase.promotion_id, banners),
        ),
        sa.and_(ExceptionCase.promotion_id.is_(None), sa.literal(banners.every)),
    )
    return session.scalars(
        sa.select(ExceptionCase)
        .where(ExceptionCase.status == CaseStatus.OPEN, mine, visible)
        .order_by(ExceptionCase.opened_at, ExceptionCase.id)
        .limit(limit)
    ).all()


def at_risk_this_week(
    session: Session, banners: BannerScope, today: date, until: date, now: datetime, limit: int
) -> Sequence[Promotion]:
    """Live promotions, and active ones launching by `until`, that are at risk."""
    soon = sa.and_(Promotion.start_date >= today, Promotion.start_date <= until)
    return session.scalars(
        sa.select(Promotion)
        .where(
            sa.or_(Promotion.status == S.LIVE, soon),
            at_risk(),
            visible_to(Promotion.id, banners),
        )
        .order_by(Promotion.start_date, Promotion.id)
        .limit(limit),
        {RISK_NOW: now},
    ).all()


@cache
def _newest_gate_results() -> sa.Select[Any]:
    gate = aliased(GateResult)
    return (
        sa.select(gate.promotion_id, gate.gate, gate.status, gate.blocking, gate.score)
        .add_columns(gate.threshold)
        .join(Promotion, Promotion.id == gate.promotion_id)
        .where(Promotion.id.in_(sa.bindparam("ids", expanding=True)), _latest_round(gate))
        .order_by(gate.promotion_id, gate.id)
    )


def newest_gate_results(session: Session, promotion_ids: Collection[int]) -> Sequence[Any]:
    """(promotion id, gate, status, blocking, score, threshold) of each newest round."""
    return session.execute(_newest_gate_results(), {"ids": list(promotion_ids)}).all()


def late_purchase_orders(
    session: Session, promotion_ids: Collection[int], now: datetime
) -> Sequence[tuple[int, str]]:
    rows = session.execute(
        sa.select(PurchaseOrder.promotion_id, PurchaseOrder.number)
        .where(
            PurchaseOrder.promotion_id.in_(list(promotion_ids)),
            PurchaseOrder.status == PurchaseOrderStatus.OPEN,
            PurchaseOrder.ack_status == AckStatus.PENDING,
            PurchaseOrder.ack_due_at < now,
        )
        .order_by(PurchaseOrder.number)
    ).all()
    return [(int(pid or 0), str(number)) for pid, number in rows]


def live_sell_through_checks(session: Session, banners: BannerScope) -> Sequence[Any]:
    """(promotion, newest sell_through.checked event) of each live promotion checked."""
    checked = aliased(Event)
    newest = (
        sa.select(sa.func.max(checked.sequence))
        .where(checked.promotion_id == Promotion.id, checked.type == SELL_THROUGH_CHECKED)
        .correlate(Promotion)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(Promotion, Event)
        .join(Event, Event.sequence == newest)
        .where(Promotion.status == S.LIVE, visible_to(Promotion.id, banners))
    ).all()
    # Ordered here, not in SQL: asked for that order, SQLite walks every promotion
    # through the launch-order index instead of reading the live ones by status.
    return sorted(rows, key=lambda row: (row[0].start_date, row[0].id))


def events(session: Session, promotion_id: int) -> Sequence[Event]:
    """Every event of the promotion, every revision, in the order written."""
    return session.scalars(
        sa.select(Event).where(Event.promotion_id == promotion_id).order_by(Event.sequence)
    ).all()


def gate_results(session: Session, promotion_id: int) -> Sequence[GateResult]:
    """Every gate result of every round and revision (the timeline's evidence)."""
    return session.scalars(
        sa.select(GateResult)
        .where(GateResult.promotion_id == promotion_id)
        .order_by(GateResult.revision, GateResult.evaluation, GateResult.id)
    ).all()


def forecast_by_store(session: Session, promotion_id: int, revision: int) -> Sequence[Any]:
    """Per store: code, region, baseline, promoted, P10, P50, P80, P90 (items summed)."""
    line = ForecastLine
    return session.execute(
        sa.select(
            Location.code,
            Location.region,
            sa.func.sum(line.baseline_units),
            sa.func.sum(line.promoted_units),
            sa.func.sum(line.p10),
            sa.func.sum(line.p50),
            sa.func.sum(line.p80),
            sa.func.sum(line.p90),
        )
        .join(Location, Location.id == line.location_id)
        .where(line.promotion_id == promotion_id, line.revision == revision)
        .group_by(Location.code, Location.region)
        .order_by(Location.code)
    ).all()


def forecast_models(session: Session, promotion_id: int, revision: int) -> list[str]:
    return list(
        session.scalars(
            sa.select(ForecastLine.model_version)
            .where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
            .distinct()
            .order_by(ForecastLine.model_version)
        )
    )


def labels(session: Session, promotion_ids: Collection[int]) -> tuple[Sequence[Any], Sequence[Any]]:
    """(promotion id, category) of the scope's items and (promotion id, region) of its
    locations, each pair once."""
    ids = list(promotion_ids)
    categories = session.execute(
        sa.select(PromotionItem.promotion_id, Item.category)
        .join(Item, Item.id == PromotionItem.item_id)
        .where(PromotionItem.promotion_id.in_(ids))
        .distinct()
    ).all()
    regions = session.execute(
        sa.select(PromotionLocation.promotion_id, Location.region)
        .join(Location, Location.id == PromotionLocation.location_id)
        .where(PromotionLocation.promotion_id.in_(ids))
        .distinct()
    ).all()
    return categories, regions


def _any_location(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        PromotionLocation.promotion_id == Promotion.id,
        PromotionLocation.location_id == Location.id,
        condition,
    )


def search_conditions(
    *,
    state: str | None,
    category: str | None,
    region: str | None,
    banner: str | None,
    launch_from: date | None,
    launch_to: date | None,
    risky: bool | None,
    text: str | None,
) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of a promotion search, one per filter given."""
    found: list[sa.ColumnElement[bool]] = []
    if state is not None:
        found.append(Promotion.status == state)
    if category is not None:
        found.append(
            sa.exists().where(
                PromotionItem.promotion_id == Promotion.id,
                PromotionItem.item_id == Item.id,
                Item.category == category,
            )
        )
    if region is not None:
        found.append(_any_location(Location.region == region))
    if banner is not None:
        found.append(_any_location(Location.banner == banner))
    if launch_from is not None:
        found.append(Promotion.start_date >= launch_from)
    if launch_to is not None:
        found.append(Promotion.start_date <= launch_to)
    if risky is not None:
        found.append(at_risk() if risky else ~at_risk())
    if text:
        found.append(
            sa.or_(
                Promotion.code.icontains(text, autoescape=True),
                Promotion.name.icontains(text, autoescape=True),
            )
        )
    return found


def search(
    session: Session,
    banners: BannerScope,
    conditions: list[sa.ColumnElement[bool]],
    after: tuple[date, int] | None,
    limit: int,
    now: datetime,
) -> Sequence[Any]:
    """(promotion, evaluated, failing now, at risk) by launch date then id, after `after`."""
    query = sa.select(Promotion, evaluated(), failing_now(), at_risk()).where(
        visible_to(Promotion.id, banners), *conditions
    )
    if after is not None:
        start, last = after
        query = query.where(
            sa.or_(
                Promotion.start_date > start,
                sa.and_(Promotion.start_date == start, Promotion.id > last),
            )
        )
    return session.execute(
        query.order_by(Promotion.start_date, Promotion.id).limit(limit), {RISK_NOW: now}
    ).all()


def calendar(session: Session, banners: BannerScope, start: date, end: date) -> Sequence[Any]:
    """(promotion, evaluated, failing now) of every promotion active between the dates."""
    return session.execute(
        sa.select(Promotion, evaluated(), failing_now())
        .where(
            Promotion.start_date <= end,
            Promotion.end_date >= start,
            Promotion.status.not_in(HIDDEN_FROM_CALENDAR),
            visible_to(Promotion.id, banners),
        )
        .order_by(Promotion.start_date, Promotion.id)
    ).all()
