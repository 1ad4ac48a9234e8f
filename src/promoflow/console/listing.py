"""The Promotions list (search with keyset pages) and the Calendar (rows x ISO weeks)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from promoflow.console import repository
from promoflow.console.context import depths, readiness
from promoflow.console.schemas import (
    CalendarBy,
    CalendarCell,
    CalendarEntry,
    CalendarRow,
    CalendarView,
    PromotionRow,
    SearchFilters,
    SearchPage,
)
from promoflow.console.today import check_now
from promoflow.identity.schemas import BannerScope
from promoflow.kit.bounds import MAX_PAGE
from promoflow.kit.errors import InvalidInput
from promoflow.promotions.states import STATES

MAX_WEEKS = 53
MAX_TEXT = 200


def encode_cursor(start: date, promotion_id: int) -> str:
    """The cursor of the page after the row launching on `start` with this id."""
    return f"{start.isoformat()}.{promotion_id}"


def decode_cursor(cursor: str) -> tuple[date, int]:
    """The (launch date, id) a cursor holds; InvalidInput naming `cursor` otherwise."""
    try:
        day, _, number = cursor.partition(".")
        return date.fromisoformat(day), int(number)
    except ValueError:
        raise InvalidInput(
            "cursor", cursor, "not a cursor of this list: pass back a page's next_cursor"
        ) from None


def _check(filters: SearchFilters, limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", limit, f"give 1 to {MAX_PAGE}")
    if filters.state is not None and filters.state not in STATES:
        raise InvalidInput("state", filters.state, f"known states: {', '.join(STATES)}")
    low, high = filters.launch_from, filters.launch_to
    if low is not None and high is not None and low > high:
        raise InvalidInput("launch_to", high.isoformat(), f"is before launch_from {low}")
    if filters.text is not None and len(filters.text) > MAX_TEXT:
        raise InvalidInput("text", filters.text[:40], f"at most {MAX_TEXT} characters")


def search_promotions(
    session: Session,
    banners: BannerScope,
    filters: SearchFilters,
    cursor: str | None,
    limit: int,
    *,
    now: datetime,
) -> SearchPage:
    """One page of promotions matching every filter, by launch date then id."""
    check_now(now)
    _check(filters, limit)
    conditions = repository.search_conditions(
        state=filters.state,
        category=filters.category,
        region=filters.region,
        banner=filters.banner,
        launch_from=filters.launch_from,
        launch_to=filters.launch_to,
        risky=filters.at_risk,
        text=(filters.text or "").strip() or None,
    )
    after = decode_cursor(cursor) if cursor else None
    found = repository.search(session, banners, conditions, after, limit + 1, now)
    page, more = found[:limit], len(found) > limit
    ids = [promotion.id for promotion, *_ in page]
    categories, regions = _labels(session, ids)
    deepest = depths(session, ids)
    rows = [
        PromotionRow(
            promotion_id=promotion.id,
            code=promotion.code,
            name=promotion.name,
            state=promotion.status,
            mechanic=promotion.mechanic,
            depth=deepest.get(promotion.id),
            start_date=promotion.start_date,
            end_date=promotion.end_date,
            categories=categories.get(promotion.id, []),
            regions=regions.get(promotion.id, []),
            readiness=readiness(bool(evaluated), bool(failing)),
            at_risk=bool(risky),
        )
        for promotion, evaluated, failing, risky in page
    ]
    last = rows[-1] if rows else None
    next_cursor = encode_cursor(last.start_date, last.promotion_id) if more and last else None
    return SearchPage(rows=rows, next_cursor=next_cursor)


def _labels(
    session: Session, promotion_ids: Collection[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    if not promotion_ids:
        return {}, {}
    categories: dict[int, list[str]] = defaultdict(list)
    regions: dict[int, list[str]] = defaultdict(list)
    by_category, by_region = repository.labels(session, promotion_ids)
    for pid, category in by_category:
        categories[int(pid)].append(category)
    for pid, region in by_region:
        regions[int(pid)].append(region)
    return (
        {pid: sorted(names) for pid, names in categories.items()},
        {pid: sorted(names) for pid, names in regions.items()},
    )


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def calendar(
    session: Session,
    banners: BannerScope,
    start: date,
    weeks: int,
    by: CalendarBy | str = CalendarBy.CATEGORY,
) -> CalendarView:
    """Categories (or regions) x the ISO weeks from `start`'s: the promotions active
    each week, rejected and cancelled ones left out.

    Two promotions overlap when they share a row and a week and an item or a category
    (an item has one category, so a shared category covers a shared item).
    """
    if by not in tuple(CalendarBy):
        raise InvalidInput("by", by, "give category or region")
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput("weeks", weeks, f"give 1 to {MAX_WEEKS}")
    monday = start - timedelta(days=start.weekday())
    starts = [monday + timedelta(weeks=n) for n in range(weeks)]
    found = repository.calendar(session, banners, monday, starts[-1] + timedelta(days=6))
    categories, regions = _labels(session, [promotion.id for promotion, *_ in found])
    keys = categories if by == CalendarBy.CATEGORY else regions
    grid: dict[str, list[list[tuple[CalendarEntry, set[str]]]]] = {}
    for promotion, evaluated, failing in found:
        entry = CalendarEntry(
            promotion_id=promotion.id,
            code=promotion.code,
            name=promotion.name,
            state=promotion.status,
            readiness=readiness(bool(evaluated), bool(failing)),
            start_date=promotion.start_date,
            end_date=promotion.end_date,
            overlap=False,
        )
        shared = set(categories.get(promotion.id, []))
        for key in keys.get(promotion.id, []) or ["(none)"]:
            row = grid.setdefault(key, [[] for _ in starts])
            for index, week in enumerate(starts):
                if promotion.start_date <= week + timedelta(days=6) and promotion.end_date >= week:
                    row[index].append((entry, shared))
    return CalendarView(
        by=CalendarBy(by),
        weeks=[_iso_week(week) for week in starts],
        week_starts=starts,
        rows=[
            CalendarRow(
                key=key, cells=[_cell(_iso_week(w), c) for w, c in zip(starts, cells, strict=True)]
            )
            for key, cells in sorted(grid.items())
        ],
    )


def _cell(week: str, entries: list[tuple[CalendarEntry, set[str]]]) -> CalendarCell:
    marked = [
        entry.model_copy(
            update={
                "overlap": any(other is not entry and shared & theirs for other, theirs in entries)
            }
        )
        for entry, shared in entries
    ]
    return CalendarCell(week=week, entries=marked, overlap=any(e.overlap for e in marked))
