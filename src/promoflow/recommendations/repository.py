"""Every query the recommendations package makes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.recommendations.models import OPEN_STATUS, Recommendation, RecommendationLine


def get(
    session: Session, recommendation_id: int, *, for_update: bool = False
) -> Recommendation | None:
    """One recommendation by id; `for_update` locks its row until the transaction ends.

    Deciding and superseding both lock first, so on PostgreSQL (READ COMMITTED) the
    second of two concurrent writers waits and then reads what the first committed.
    """
    if not for_update:
        return session.get(Recommendation, recommendation_id)
    return session.get(
        Recommendation, recommendation_id, with_for_update=True, populate_existing=True
    )


def list_for_promotion(
    session: Session,
    promotion_id: int,
    *,
    revision: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> Sequence[Recommendation]:
    """A promotion's recommendations matching every filter, newest first."""
    query = sa.select(Recommendation).where(Recommendation.promotion_id == promotion_id)
    if revision is not None:
        query = query.where(Recommendation.revision == revision)
    if kind is not None:
        query = query.where(Recommendation.kind == kind)
    if status is not None:
        query = query.where(Recommendation.status == status)
    return session.scalars(query.order_by(Recommendation.id.desc())).all()


def open_up_to(
    session: Session, promotion_id: int, kind: str, revision: int
) -> Sequence[Recommendation]:
    """Open recommendations of `kind` for the promotion at `revision` or an earlier one, locked.

    PostgreSQL re-checks the status after waiting for a lock, so one a planner decided
    a moment ago is left out rather than superseded over their decision.
    """
    return session.scalars(
        sa.select(Recommendation)
        .where(
            Recommendation.promotion_id == promotion_id,
            Recommendation.kind == kind,
            Recommendation.revision <= revision,
            Recommendation.status == OPEN_STATUS,
        )
        .order_by(Recommendation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def lines(session: Session, recommendation_id: int) -> Sequence[RecommendationLine]:
    """A recommendation's lines in the order they were proposed."""
    return session.scalars(
        sa.select(RecommendationLine)
        .where(RecommendationLine.recommendation_id == recommendation_id)
        .order_by(RecommendationLine.id)
    ).all()


def lines_for(
    session: Session, recommendation_ids: Collection[int]
) -> dict[int, list[RecommendationLine]]:
    """The lines of several recommendations at once, by recommendation id."""
    grouped: dict[int, list[RecommendationLine]] = {rid: [] for rid in recommendation_ids}
    if not grouped:
        return grouped
    rows = session.scalars(
        sa.select(RecommendationLine)
        .where(RecommendationLine.recommendation_id.in_(grouped))
        .order_by(RecommendationLine.id)
    )
    for line in rows:
        grouped[line.recommendation_id].append(line)
    return grouped


def line_totals(session: Session, recommendation_id: int) -> tuple[int, float, float | None]:
    """Line count, units proposed and units decided (None before a decision)."""
    count, proposed, decided = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(RecommendationLine.quantity_proposed), 0.0),
            sa.func.sum(RecommendationLine.quantity_decided),
        ).where(RecommendationLine.recommendation_id == recommendation_id)
    ).one()
    return int(count), float(proposed), float(decided) if decided is not None else None


def insert_lines(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk insert lines (rows already carry recommendation_id)."""
    if rows:
        session.execute(sa.insert(RecommendationLine), list(rows))


def line_ids_among(session: Session, recommendation_id: int, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are lines of the recommendation."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(
        session.scalars(
            sa.select(RecommendationLine.id).where(
                RecommendationLine.recommendation_id == recommendation_id,
                RecommendationLine.id.in_(wanted),
            )
        )
    )


def decide_as_proposed(session: Session, recommendation_id: int) -> None:
    """Set every line's decided quantity to its proposed quantity."""
    session.execute(
        sa.update(RecommendationLine)
        .where(RecommendationLine.recommendation_id == recommendation_id)
        .values(quantity_decided=RecommendationLine.quantity_proposed)
        .execution_options(synchronize_session="fetch")
    )


def set_decided(session: Session, quantities: Mapping[int, float]) -> None:
    """Set the decided quantity of the given lines (line id -> units)."""
    for line in session.scalars(
        sa.select(RecommendationLine).where(RecommendationLine.id.in_(list(quantities)))
    ):
        line.quantity_decided = quantities[line.id]


def missing_ids(session: Session, model: type[Item] | type[Location], ids: set[int]) -> list[int]:
    """The ids in `ids` with no row in the items or locations table."""
    if not ids:
        return []
    found = set(session.scalars(sa.select(model.id).where(model.id.in_(list(ids)))))
    return sorted(ids - found)
