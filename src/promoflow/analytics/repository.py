"""Every query the process analytics run: the event log and the promotions it is about."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any, cast

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.analytics.schemas import AnalyticsFilter
from promoflow.catalog.models import Item, Location
from promoflow.events.log import TYPE_PREFIX
from promoflow.events.models import Event
from promoflow.inventory.models import WeeklySales
from promoflow.promotions.models import Promotion, PromotionLocation

# The event families a promotion's process is made of (integration and catalogue
# events carry no promotion and are left out by the promotion_id condition anyway).
PROCESS_FAMILIES = (
    "promotion.",
    "approval.",
    "gate.",
    "publication.",
    "exception.",
    "store_tasks.",
    "recommendation.",
    "purchase_order.",
    "forecast.",
    "sell_through.",
)
# The families whose `data` members the analytics read (states, roles, gates, cases).
MEMBER_FAMILIES = ("promotion.", "approval.", "gate.", "exception.")
FETCH_ROWS = 100_000
EVENT_COLUMNS = ("sequence", "time", "type", "actor", "promotion_id", "data")
EMPTY_EVENTS: dict[str, pl.DataType] = {
    "sequence": pl.Int64(),
    "time": pl.Datetime("us", "UTC"),
    "type": pl.String(),
    "actor": pl.String(),
    "promotion_id": pl.Int64(),
    "data": pl.String(),
}
PROMOTION_SCHEMA: dict[str, pl.DataType] = {
    "promotion_id": pl.Int64(),
    "code": pl.String(),
    "category": pl.String(),
    "mechanic": pl.String(),
    "timing": pl.String(),
}


def _promotion_ids(selection: AnalyticsFilter) -> sa.Select[int]:
    query = sa.select(Promotion.id)
    if selection.category is not None:
        query = query.where(Promotion.category == selection.category)
    if selection.mechanic is not None:
        query = query.where(Promotion.mechanic == selection.mechanic)
    if selection.region is not None or selection.banner is not None:
        scoped = (
            sa.select(PromotionLocation.promotion_id)
            .join(Location, Location.id == PromotionLocation.location_id)
            .where(
                *([Location.region == selection.region] if selection.region is not None else []),
                *([Location.banner == selection.banner] if selection.banner is not None else []),
            )
        )
        query = query.where(Promotion.id.in_(scoped))
    return query


def _has_scope_filter(selection: AnalyticsFilter) -> bool:
    return any(
        value is not None
        for value in (selection.category, selection.mechanic, selection.region, selection.banner)
    )


def process_events(session: Session, selection: AnalyticsFilter) -> pl.DataFrame:
    """Every process event of the selected promotions, in log order, `data` as JSON text."""
    query = sa.select(
        Event.sequence,
        # As the driver gives it: the ORM type's per-row conversion costs seconds here.
        sa.type_coerce(Event.time, sa.String),
        Event.type,
        Event.actor,
        Event.promotion_id,
        # As text, and only where the analytics read a member (the rest take their
        # revision from the event before): Polars parses it far faster than json.loads.
        sa.case(
            (
                sa.or_(*(Event.type.startswith(TYPE_PREFIX + f) for f in MEMBER_FAMILIES)),
                sa.cast(Event.data, sa.Text),
            ),
            else_=sa.null(),
        ),
    ).where(Event.promotion_id.is_not(None))
    if _has_scope_filter(selection):
        query = query.where(Event.promotion_id.in_(_promotion_ids(selection)))
    # Plain driver rows (no Row objects, no per-row type processing), with the
    # collector paused: its passes over a million fresh tuples free nothing and cost
    # about a third of the load (as in cli/main.py's imports).
    was_collecting = gc.isenabled()
    gc.disable()
    try:
        events = _fetch_events(session, query)
    finally:
        if was_collecting:
            gc.enable()
    # The families are told apart here: a prefix test per column beats ten LIKEs per row.
    families = [TYPE_PREFIX + family for family in PROCESS_FAMILIES]
    return events.filter(pl.any_horizontal(pl.col("type").str.starts_with(f) for f in families))


def _fetch_events(session: Session, query: sa.Select[Any]) -> pl.DataFrame:
    """The query's event rows, in log order, as Polars reads them (times aware UTC)."""
    connection = session.connection()
    compiled = query.order_by(Event.sequence).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    values = compiled.construct_params()
    parameters: Any = (
        tuple(values[name] for name in compiled.positiontup or ())
        if compiled.positional
        else values
    )
    # A server-side (named) cursor on PostgreSQL: the rows stream in batches rather
    # than arriving all at once; SQLite's cursor steps through the file as it is read.
    driver = connection.connection
    cursor = (
        driver.cursor(name="promoflow_analytics_events")
        if connection.dialect.name == "postgresql"
        else driver.cursor()
    )
    try:
        cursor.execute(str(compiled), parameters)
        frames = []
        while rows := cursor.fetchmany(FETCH_ROWS):
            columns = zip(*rows, strict=True)
            frames.append(
                pl.DataFrame(
                    {
                        name: list(values)
                        for name, values in zip(EVENT_COLUMNS, columns, strict=True)
                    },
                    strict=False,
                )
            )
    finally:
        cursor.close()
    if not frames:
        return pl.DataFrame(schema=EMPTY_EVENTS)
    return _utc_times(pl.concat(frames, how="vertical_relaxed"))


def _utc_times(events: pl.DataFrame) -> pl.DataFrame:
    """`time` as aware UTC: SQLite hands back naive UTC text, PostgreSQL aware datetimes."""
    time = pl.col("time")
    if events.schema["time"] == pl.String():
        return events.with_columns(
            time.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        )
    return events.with_columns(time.dt.convert_time_zone("UTC").dt.cast_time_unit("us"))


def promotions(session: Session, selection: AnalyticsFilter) -> pl.DataFrame:
    """The selected promotions' code, category, mechanic and lifecycle timing (JSON text)."""
    query = sa.select(
        Promotion.id,
        Promotion.code,
        Promotion.category,
        Promotion.mechanic,
        sa.cast(Promotion.timing, sa.Text),
    )
    if _has_scope_filter(selection):
        query = query.where(Promotion.id.in_(_promotion_ids(selection)))
    rows = session.execute(query.order_by(Promotion.id)).all()
    return pl.DataFrame(rows, schema=PROMOTION_SCHEMA, orient="row")


def known_values(session: Session) -> dict[str, set[str]]:
    """The categories, regions and banners a filter may name (those that exist)."""
    categories = [
        *session.scalars(sa.select(Promotion.category).distinct()).all(),
        *session.scalars(sa.select(Item.category).distinct()).all(),
    ]
    regions = session.scalars(sa.select(Location.region).distinct()).all()
    banners = session.scalars(sa.select(Location.banner).distinct()).all()
    return {
        "category": {value for value in categories if value},
        "region": {value for value in regions if value},
        "banner": {value for value in banners if value},
    }


# The scorecard's events beyond the process log: forecast scores, calls to channels, case
# resolutions, the connections' syncs and dead letters, with their whole `data` (JSON text).
SCORECARD_TYPES = (
    "forecast.accuracy_recorded",
    "promotion.analysed",
    "publication.attempted",
    "exception.resolved",
    "integration.sync.completed",
    "integration.dead_letter.recorded",
    "integration.quarantine.recorded",
)
IDENTITY_CHUNK = 1_000


def scorecard_events(session: Session, selection: AnalyticsFilter) -> pl.DataFrame:
    """The selected promotions' forecast scores and channel calls, and every connection's."""
    query = sa.select(
        Event.sequence,
        sa.type_coerce(Event.time, sa.String),
        Event.type,
        Event.actor,
        Event.promotion_id,
        sa.cast(Event.data, sa.Text),
    ).where(Event.type.in_([TYPE_PREFIX + name for name in SCORECARD_TYPES]))
    if _has_scope_filter(selection):
        # Connections serve every promotion: no filter on the promotions narrows them.
        query = query.where(
            sa.or_(Event.promotion_id.is_(None), Event.promotion_id.in_(_promotion_ids(selection)))
        )
    # Typed by its columns; the fetch takes any row shape.
    return _fetch_events(session, cast("sa.Select[Any]", query))


def event_identities(session: Session, sequences: list[int]) -> dict[int, dict[str, Any]]:
    """Each logged event's id, type, time and actor, by its sequence number."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(sequences), IDENTITY_CHUNK):
        chunk = sequences[start : start + IDENTITY_CHUNK]
        rows = session.execute(
            sa.select(Event.sequence, Event.id, Event.type, Event.time, Event.actor).where(
                Event.sequence.in_(chunk)
            )
        ).all()
        for sequence, event_id, kind, time, actor in rows:
            found[sequence] = {
                "sequence": sequence,
                "id": event_id,
                "type": kind.removeprefix(TYPE_PREFIX),
                "time": time.isoformat(),
                "actor": actor,
            }
    return found


STOCKOUT_SCHEMA: dict[str, pl.DataType] = {
    "time": pl.Datetime("us", "UTC"),
    "group": pl.String(),
    "case": pl.String(),
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
}
IN_PROMOTION, OUTSIDE = "in promotion", "outside promotions"


def stockout_weeks(session: Session, selection: AnalyticsFilter) -> pl.DataFrame:
    """Per item, week and whether it was on promotion: the sales history's store-weeks
    (denominator) and those that stocked out (numerator), over the selected scope."""
    stocked_out = sa.func.sum(sa.case((WeeklySales.stockout, 1), else_=0))
    query = (
        sa.select(
            WeeklySales.week,
            WeeklySales.on_promo,
            Item.sku,
            stocked_out,
            sa.func.count(),
        )
        .join(Item, Item.id == WeeklySales.item_id)
        .join(Location, Location.id == WeeklySales.location_id)
        .group_by(WeeklySales.week, WeeklySales.on_promo, Item.sku)
    )
    if selection.category is not None:
        query = query.where(Item.category == selection.category)
    if selection.region is not None:
        query = query.where(Location.region == selection.region)
    if selection.banner is not None:
        query = query.where(Location.banner == selection.banner)
    if selection.mechanic is not None:
        # Weeks outside promotions have no mechanic: the filter narrows the others.
        query = query.where(
            sa.or_(WeeklySales.on_promo.is_(False), WeeklySales.mechanic == selection.mechanic)
        )
    if selection.since is not None:
        query = query.where(WeeklySales.week >= selection.since.date())
    if selection.until is not None:
        query = query.where(WeeklySales.week < selection.until.date())
    rows = [
        (
            datetime.combine(week, clock_time.min, tzinfo=UTC),
            IN_PROMOTION if on_promo else OUTSIDE,
            sku,
            float(out or 0),
            float(weeks),
        )
        for week, on_promo, sku, out, weeks in session.execute(query).all()
    ]
    return pl.DataFrame(rows, schema=STOCKOUT_SCHEMA, orient="row")
