"""The Promotions list (filters, keyset pages) and the Calendar (rows x weeks, overlaps)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from console_support import ALPHA, BETA, NOW, TODAY, World
from sqlalchemy.orm import Session

from promoflow.console.schemas import CalendarBy, Readiness, SearchFilters
from promoflow.console.service import calendar, search_promotions
from promoflow.gates.schemas import Gate
from promoflow.identity.schemas import EVERY_BANNER
from promoflow.kit.errors import InvalidInput
from promoflow.promotions.states import PromotionState


def _codes(session: Session, filters: SearchFilters, banners: object = EVERY_BANNER) -> list[str]:
    page = search_promotions(session, banners, filters, None, 100, now=NOW)  # type: ignore[arg-type]
    return [row.code for row in page.rows]


def test_filters_combine(session: Session, world: World) -> None:
    north_cola = world.promotion({"COLA": "1.50"}, ("A-N1",), name="Cola north")
    world.gate_round(north_cola, {Gate.STORE_READINESS: 0.5})
    south_cola = world.promotion({"COLA": "1.50"}, ("A-S1",), name="Cola south")
    north_chips = world.promotion({"CHIPS": "2.00"}, ("A-N1",), name="Chips north")
    later = world.promotion(
        {"COLA": "1.40"}, ("A-N1",), start=TODAY + timedelta(days=40), name="Cola later"
    )
    beta = world.promotion(
        {"COLA": "1.50"}, ("B-N1",), name="Cola Beta", status=PromotionState.LIVE
    )
    every = [north_cola, south_cola, north_chips, later, beta]

    # By launch date, then id: `later` launches last.
    assert _codes(session, SearchFilters()) == [p.code for p in (*every[:3], beta, later)]
    cola = SearchFilters(category="Soft Drinks")
    assert set(_codes(session, cola)) == {north_cola.code, south_cola.code, later.code, beta.code}
    north = set(_codes(session, SearchFilters(category="Soft Drinks", region="North")))
    assert north == {north_cola.code, later.code, beta.code}
    assert _codes(session, SearchFilters(category="Soft Drinks", banner="Beta")) == [beta.code]
    window = SearchFilters(region="North", launch_from=TODAY, launch_to=TODAY + timedelta(days=7))
    assert set(_codes(session, window)) == {north_cola.code, north_chips.code, beta.code}
    assert _codes(session, SearchFilters(region="North", at_risk=True)) == [north_cola.code]
    assert north_cola.code not in _codes(session, SearchFilters(at_risk=False))
    assert _codes(session, SearchFilters(text="SOUTH")) == [south_cola.code]
    assert _codes(session, SearchFilters(text=north_chips.code.lower())) == [north_chips.code]
    assert _codes(session, SearchFilters(state=PromotionState.LIVE, region="North")) == [beta.code]
    assert _codes(session, SearchFilters(text="50%")) == []  # a wildcard is a character


def test_a_row_carries_what_the_list_shows(session: Session, world: World) -> None:
    promotion = world.promotion({"COLA": "1.50", "CHIPS": "2.00"}, ("A-N1", "A-S1"))
    world.gate_round(promotion, {Gate.STORE_READINESS: 0.5})
    world.gate_round(promotion)

    (row,) = search_promotions(session, EVERY_BANNER, SearchFilters(), None, 10, now=NOW).rows

    assert row.code == promotion.code and row.mechanic == "fixed_price"
    assert row.categories == ["Snacks", "Soft Drinks"] and row.regions == ["North", "South"]
    assert row.depth == pytest.approx(0.3333)  # chips at 2.00 against 3.00
    assert row.readiness == Readiness.ALL_PASSED and not row.at_risk


def test_another_banners_promotion_never_appears(session: Session, world: World) -> None:
    mine = world.promotion({"COLA": "1.50"}, ("A-N1",))
    theirs = world.promotion({"COLA": "1.50"}, ("B-N1",))
    mixed = world.promotion({"COLA": "1.50"}, ("A-N1", "B-N1"))

    assert _codes(session, SearchFilters(), ALPHA) == [mine.code]
    assert _codes(session, SearchFilters(), BETA) == [theirs.code]
    assert set(_codes(session, SearchFilters())) == {mine.code, theirs.code, mixed.code}
    grid = calendar(session, ALPHA, TODAY, 2, CalendarBy.REGION)
    shown = {e.code for row in grid.rows for cell in row.cells for e in cell.entries}
    assert shown == {mine.code}


def test_pages_neither_repeat_nor_skip_a_row_when_rows_arrive_between_them(
    session: Session, world: World
) -> None:
    made = [
        world.promotion({"COLA": "1.50"}, start=TODAY + timedelta(days=n % 4)) for n in range(9)
    ]
    first = search_promotions(session, EVERY_BANNER, SearchFilters(), None, 4, now=NOW)
    # A promotion launching before the cursor arrives: it belongs to a page already read.
    world.promotion({"COLA": "1.50"}, start=TODAY)
    seen = [row.code for row in first.rows]
    cursor = first.next_cursor
    while cursor:
        page = search_promotions(session, EVERY_BANNER, SearchFilters(), cursor, 4, now=NOW)
        seen += [row.code for row in page.rows]
        cursor = page.next_cursor
    ordered = sorted(made, key=lambda p: (p.start_date, p.id))
    assert seen == [p.code for p in ordered]


def test_bad_search_input_is_refused_naming_the_field(session: Session) -> None:
    cases = [
        (SearchFilters(state="sleeping"), None, 10, "state"),
        (
            SearchFilters(launch_from=TODAY, launch_to=TODAY - timedelta(days=1)),
            None,
            10,
            "launch_to",
        ),
        (SearchFilters(), "not-a-cursor", 10, "cursor"),
        (SearchFilters(), None, 0, "limit"),
    ]
    for filters, cursor, limit, field in cases:
        with pytest.raises(InvalidInput) as refused:
            search_promotions(session, EVERY_BANNER, filters, cursor, limit, now=NOW)
        assert refused.value.field == field


def test_the_calendar_puts_promotions_in_their_weeks_with_readiness_and_overlaps(
    session: Session, world: World
) -> None:
    # TODAY is Monday 2 November 2026 (ISO week 45).
    cola = world.promotion({"COLA": "1.50"}, ("A-N1",), start=TODAY + timedelta(days=3), days=7)
    world.gate_round(cola, {Gate.STORE_READINESS: 0.5})
    lemon = world.promotion({"LEMON": "1.00"}, ("A-S1",), start=TODAY + timedelta(days=7), days=3)
    world.gate_round(lemon)
    chips = world.promotion({"CHIPS": "2.00"}, ("A-N1",), start=TODAY + timedelta(days=14), days=2)
    world.promotion({"CHIPS": "2.00"}, status=PromotionState.CANCELLED)

    by_category = calendar(session, EVERY_BANNER, TODAY + timedelta(days=2), 3)

    assert by_category.weeks == ["2026-W45", "2026-W46", "2026-W47"]
    assert by_category.week_starts[0] == TODAY
    rows = {row.key: row for row in by_category.rows}
    assert set(rows) == {"Soft Drinks", "Snacks"}
    drinks = rows["Soft Drinks"].cells
    assert [[e.code for e in cell.entries] for cell in drinks] == [
        [cola.code],
        [cola.code, lemon.code],
        [],
    ]
    assert [cell.overlap for cell in drinks] == [False, True, False]
    assert drinks[0].entries[0].readiness == Readiness.SOME_FAILING
    assert drinks[1].entries[1].readiness == Readiness.ALL_PASSED
    assert [[e.code for e in c.entries] for c in rows["Snacks"].cells] == [[], [], [chips.code]]
    assert rows["Snacks"].cells[2].entries[0].readiness == Readiness.NOT_EVALUATED

    # By region, cola (North) and lemon (South) no longer share a row.
    by_region = {r.key: r for r in calendar(session, EVERY_BANNER, TODAY, 3, "region").rows}
    assert not any(cell.overlap for row in by_region.values() for cell in row.cells)
    assert [e.code for e in by_region["South"].cells[1].entries] == [lemon.code]


def test_bad_calendar_input_is_refused_naming_the_field(session: Session) -> None:
    with pytest.raises(InvalidInput) as by:
        calendar(session, EVERY_BANNER, TODAY, 4, "supplier")
    assert by.value.field == "by"
    with pytest.raises(InvalidInput) as weeks:
        calendar(session, EVERY_BANNER, TODAY, 0)
    assert weeks.value.field == "weeks"


def test_a_purchase_order_unacknowledged_past_its_due_time_puts_a_promotion_at_risk(
    session: Session, world: World
) -> None:
    waiting = world.promotion({"COLA": "1.50"})
    world.purchase_order(waiting, "PO-1", ack_due=NOW + timedelta(hours=1))

    assert _codes(session, SearchFilters(at_risk=True)) == []
    later = search_promotions(
        session, EVERY_BANNER, SearchFilters(at_risk=True), None, 10, now=NOW + timedelta(hours=2)
    )
    assert [(row.code, row.at_risk) for row in later.rows] == [(waiting.code, True)]
