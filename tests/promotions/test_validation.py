"""Every validation rule, firing and not firing, on a hand-made catalogue.

Items: SKU-OK (cost 2.00, regular 4.00) and one item per master-data problem;
stores ST-1..ST-3 in price zone "national", every item ranged everywhere, one
regular price per item on pos and ecommerce. Today is 2026-11-02.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import BACKEND, rolled_back_session
from promoflow.catalog.models import Item, Location, Price, Ranging
from promoflow.promotions.models import (
    Promotion,
    PromotionItem,
    PromotionLocation,
    ValidationFinding,
)
from promoflow.promotions.validation import RULES, validate_promotion

TODAY = date(2026, 11, 2)
START, END = date(2026, 11, 16), date(2026, 11, 29)
ITEMS = {  # sku: (status, restricted, promo_eligible)
    "SKU-OK": ("active", False, True),
    "SKU-INACT": ("inactive", False, True),
    "SKU-DISC": ("discontinued", False, True),
    "SKU-RESTR": ("active", True, True),
    "SKU-NOELIG": ("active", False, False),
    "SKU-OK2": ("active", False, True),
}


@pytest.fixture(scope="module")
def engine(private_engine: Callable[[str], Engine]) -> Engine:
    """A migrated database of this module's own (see `private_engine`)."""
    return private_engine("validation")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    yield from rolled_back_session(engine)


@pytest.fixture
def catalogue(session: Session) -> dict[str, Any]:
    items = {
        sku: Item(
            sku=sku,
            name=sku,
            department="grocery",
            category="snacks",
            subcategory="x",
            unit_cost=Decimal("2.00"),
            regular_price=Decimal("4.00"),
            status=status,
            restricted=restricted,
            promo_eligible=eligible,
            attributes={},
        )
        for sku, (status, restricted, eligible) in ITEMS.items()
    }
    stores = {
        code: Location(code=code, name=code, kind="store", region="north", attributes={})
        for code in ("ST-1", "ST-2", "ST-3")
    }
    session.add_all([*items.values(), *stores.values()])
    session.flush()
    for item in items.values():
        for store in stores.values():
            session.add(Ranging(item_id=item.id, location_id=store.id))
        for channel in ("pos", "ecommerce"):
            session.add(
                Price(
                    item_id=item.id,
                    channel=channel,
                    price_zone="national",
                    amount=Decimal("4.00"),
                    effective_from=date(2026, 1, 1),
                )
            )
    session.flush()
    return {"items": items, "stores": stores}


def _promotion(
    session: Session,
    catalogue: dict[str, Any],
    skus: list[str],
    *,
    prices: dict[str, str] | None = None,
    code: str = "PRM-V1",
    status: str = "draft",
    **fields: Any,
) -> Promotion:
    """A draft promotion over `skus` at every store; promo price 3.00 unless `prices` says.

    Drafts reserve nothing, so the promotions of one test never overlap by accident.
    """
    values: dict[str, Any] = {
        "name": "Deal",
        "requested_by": "mia",
        "mechanic": "percent_off",
        "discount_percent": Decimal(25),
        "start_date": START,
        "end_date": END,
        "channels": ["pos", "ecommerce"],
        "timing": {},
    }
    values.update(fields)
    promotion = Promotion(code=code, status=status, **values)
    session.add(promotion)
    session.flush()
    for sku in skus:
        price = Decimal((prices or {}).get(sku, "3.00"))
        session.add(
            PromotionItem(
                promotion_id=promotion.id, item_id=catalogue["items"][sku].id, promo_price=price
            )
        )
    for store in catalogue["stores"].values():
        session.add(PromotionLocation(promotion_id=promotion.id, location_id=store.id))
    session.flush()
    return promotion


def _rules(findings: list[ValidationFinding]) -> list[tuple[str, str, str | None]]:
    return [(f.rule, f.severity, f.item_sku) for f in findings]


def test_a_clean_promotion_has_no_findings(session: Session, catalogue: dict[str, Any]) -> None:
    promotion = _promotion(session, catalogue, ["SKU-OK", "SKU-OK2"])
    assert validate_promotion(session, promotion, today=TODAY) == []


@pytest.mark.parametrize(
    ("sku", "message"),
    [
        ("SKU-INACT", "SKU-INACT is inactive (rule item_inactive); reactivate it or remove it"),
        (
            "SKU-DISC",
            "SKU-DISC is discontinued (rule item_discontinued); remove it from the promotion",
        ),
        ("SKU-RESTR", "SKU-RESTR is restricted and may not be discounted (rule item_restricted)"),
        ("SKU-NOELIG", "SKU-NOELIG is not promotion-eligible (rule item_not_eligible)"),
    ],
)
def test_item_master_rules_block_the_item_only(
    session: Session, catalogue: dict[str, Any], sku: str, message: str
) -> None:
    promotion = _promotion(session, catalogue, ["SKU-OK", sku])
    [finding] = validate_promotion(session, promotion, today=TODAY)
    assert (finding.severity, finding.item_sku) == ("blocking", sku)
    assert finding.message.startswith(message)
    assert finding.revision == promotion.revision


def test_unranged_item_is_one_finding_listing_the_stores(
    session: Session, catalogue: dict[str, Any]
) -> None:
    item = catalogue["items"]["SKU-OK"]
    gone = [catalogue["stores"][code].id for code in ("ST-2", "ST-3")]
    session.execute(
        sa.delete(Ranging).where(Ranging.item_id == item.id, Ranging.location_id.in_(gone))
    )
    promotion = _promotion(session, catalogue, ["SKU-OK", "SKU-OK2"])
    [finding] = validate_promotion(session, promotion, today=TODAY)
    assert (finding.rule, finding.item_sku, finding.location_code) == (
        "item_not_ranged",
        "SKU-OK",
        "ST-2",
    )
    assert finding.message == (
        "SKU-OK is not ranged at 2 of 3 target locations: ST-2, ST-3 (rule item_not_ranged); "
        "range it there or remove those locations"
    )
    assert finding.details == {"count": 2, "total": 3, "locations": ["ST-2", "ST-3"]}


@pytest.mark.parametrize(
    ("status", "start", "fires"),
    [
        ("approved", date(2026, 11, 25), True),
        ("live", date(2026, 11, 6), True),
        ("draft", date(2026, 11, 25), False),  # drafts reserve nothing
        ("cancelled", date(2026, 11, 25), False),
        ("approved", date(2026, 11, 30), False),  # starts the day after ours ends
    ],
)
def test_overlapping_promotion(
    session: Session, catalogue: dict[str, Any], status: str, start: date, fires: bool
) -> None:
    other = _promotion(
        session,
        catalogue,
        ["SKU-OK"],
        code="PRM-OTHER",
        status=status,
        start_date=start,
        end_date=start + timedelta(days=10),
    )
    promotion = _promotion(session, catalogue, ["SKU-OK", "SKU-OK2"])
    findings = validate_promotion(session, promotion, today=TODAY)
    if not fires:
        assert findings == []
        return
    [finding] = findings
    assert (finding.rule, finding.severity, finding.item_sku) == (
        "overlapping_promotion",
        "blocking",
        "SKU-OK",
    )
    assert finding.message.startswith(
        "SKU-OK is already on promotion PRM-OTHER at ST-1, ST-2, ST-3 in these dates"
    )
    assert finding.details["other_promotion"] == other.code


def test_promo_price_below_cost_is_a_warning_with_details(
    session: Session, catalogue: dict[str, Any]
) -> None:
    promotion = _promotion(
        session, catalogue, ["SKU-OK", "SKU-OK2"], prices={"SKU-OK": "1.50", "SKU-OK2": "2.00"}
    )
    [finding] = validate_promotion(session, promotion, today=TODAY)
    assert _rules([finding]) == [("price_below_cost", "warning", "SKU-OK")]
    assert "SKU-OK promo price 1.50 is below unit cost 2.00" in finding.message
    assert finding.details == {"promo_price": 1.5, "unit_cost": 2.0, "margin_per_unit": -0.5}


def test_regular_price_differing_by_channel_blocks_a_two_channel_promotion(
    session: Session, catalogue: dict[str, Any]
) -> None:
    web = session.scalars(
        sa.select(Price).where(
            Price.item_id == catalogue["items"]["SKU-OK2"].id, Price.channel == "ecommerce"
        )
    ).one()
    web.amount = Decimal("4.20")
    both = _promotion(session, catalogue, ["SKU-OK", "SKU-OK2"])
    [finding] = validate_promotion(session, both, today=TODAY)
    assert _rules([finding]) == [("channel_price_mismatch", "blocking", "SKU-OK2")]
    assert finding.message.startswith(
        "SKU-OK2 regular price differs between channels (national: ecommerce 4.20 vs pos 4.00)"
    )
    store_only = _promotion(session, catalogue, ["SKU-OK2"], code="PRM-V2", channels=["pos"])
    assert validate_promotion(session, store_only, today=TODAY) == []


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 1), date(2026, 11, 10), [("start_date_in_past", "blocking", None)]),
        (TODAY, date(2026, 11, 10), []),
        (START, START + timedelta(days=56), [("window_too_long", "warning", None)]),
        (START, START + timedelta(days=55), []),  # exactly 8 weeks
    ],
)
def test_dates(
    session: Session,
    catalogue: dict[str, Any],
    start: date,
    end: date,
    expected: list[tuple[str, str, None]],
) -> None:
    promotion = _promotion(
        session, catalogue, ["SKU-OK", "SKU-OK2"], start_date=start, end_date=end
    )
    assert _rules(validate_promotion(session, promotion, today=TODAY)) == expected


def test_start_in_the_past_message_names_both_dates(
    session: Session, catalogue: dict[str, Any]
) -> None:
    promotion = _promotion(session, catalogue, ["SKU-OK", "SKU-OK2"], start_date=date(2026, 10, 30))
    [finding] = validate_promotion(session, promotion, today=TODAY)
    assert finding.message == (
        "start_date 2026-10-30 is before today 2026-11-02 (rule start_date_in_past); "
        "choose a later start"
    )


@pytest.mark.parametrize(("price", "fires"), [("1.00", True), ("1.20", False)])
def test_discount_deeper_than_70_percent_is_a_warning(
    session: Session, catalogue: dict[str, Any], price: str, fires: bool
) -> None:
    # Cost is 2.00, so a deep price is also below cost; only the depth rule is checked here.
    promotion = _promotion(session, catalogue, ["SKU-OK", "SKU-OK2"], prices={"SKU-OK": price})
    deep = [
        f
        for f in validate_promotion(session, promotion, today=TODAY)
        if f.rule == "discount_too_deep"
    ]
    assert _rules(deep) == ([("discount_too_deep", "warning", "SKU-OK")] if fires else [])
    if fires:
        assert deep[0].message.startswith("SKU-OK is 75.0 % off, over 70 %")


@pytest.mark.parametrize(("buy", "get", "fires"), [(1, 2, True), (2, 2, False), (2, 1, False)])
def test_multi_buy_may_not_give_more_than_it_sells(
    session: Session, catalogue: dict[str, Any], buy: int, get: int, fires: bool
) -> None:
    promotion = _promotion(
        session,
        catalogue,
        ["SKU-OK", "SKU-OK2"],
        mechanic="multi_buy",
        discount_percent=None,
        buy_quantity=buy,
        get_quantity=get,
    )
    expected = [("multi_buy_get_exceeds_buy", "blocking", None)] if fires else []
    assert _rules(validate_promotion(session, promotion, today=TODAY)) == expected


def test_bundle_needs_two_items_and_a_real_discount(
    session: Session, catalogue: dict[str, Any]
) -> None:
    single = _promotion(
        session,
        catalogue,
        ["SKU-OK"],
        mechanic="bundle",
        discount_percent=None,
        bundle_price=Decimal("3.00"),
    )
    assert _rules(validate_promotion(session, single, today=TODAY)) == [
        ("bundle_too_few_items", "blocking", None)
    ]
    dear = _promotion(
        session,
        catalogue,
        ["SKU-OK", "SKU-OK2"],
        code="PRM-V2",
        mechanic="bundle",
        discount_percent=None,
        bundle_price=Decimal("8.00"),
    )
    [finding] = validate_promotion(session, dear, today=TODAY)
    assert finding.message.startswith(
        "bundle price 8.00 is not below the regular 8.00 (rule not_a_discount)"
    )
    fair = _promotion(
        session,
        catalogue,
        ["SKU-OK", "SKU-OK2"],
        code="PRM-V3",
        mechanic="bundle",
        discount_percent=None,
        bundle_price=Decimal("7.00"),
    )
    assert validate_promotion(session, fair, today=TODAY) == []


def test_fixed_price_not_below_regular_is_not_a_discount(
    session: Session, catalogue: dict[str, Any]
) -> None:
    promotion = _promotion(
        session,
        catalogue,
        ["SKU-OK", "SKU-OK2"],
        mechanic="fixed_price",
        discount_percent=None,
        fixed_price=Decimal("4.00"),
        prices={"SKU-OK": "4.00", "SKU-OK2": "3.50"},
    )
    [finding] = validate_promotion(session, promotion, today=TODAY)
    assert _rules([finding]) == [("not_a_discount", "blocking", "SKU-OK")]
    assert finding.message.startswith("SKU-OK fixed price 4.00 is not below the regular 4.00")


def test_revalidating_replaces_the_revision_findings(
    session: Session, catalogue: dict[str, Any]
) -> None:
    promotion = _promotion(session, catalogue, ["SKU-OK", "SKU-DISC"])
    validate_promotion(session, promotion, today=TODAY)
    validate_promotion(session, promotion, today=TODAY)
    stored = session.scalars(sa.select(ValidationFinding)).all()
    assert [f.rule for f in stored] == ["item_discontinued"]


def test_every_rule_has_a_stable_name() -> None:
    assert len(set(RULES)) == len(RULES) == 14


@pytest.mark.slow
def test_thousand_skus_by_thousand_stores_validate_in_seconds(session: Session) -> None:
    """1M item-locations, set-based: two problems found among them, quickly."""
    conn = session.connection()
    if (
        BACKEND == "postgresql"
        and conn.execute(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    ):
        # Skip the per-row foreign-key triggers while loading 1M fixture rows (15 s -> 3 s);
        # the setting ends with the test's transaction, which is rolled back.
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    conn.execute(
        sa.insert(Item),
        [
            {
                "sku": f"SKU-{i:05d}",
                "name": "x",
                "department": "d",
                "category": "c",
                "subcategory": "s",
                "unit_cost": Decimal("2.00"),
                "regular_price": Decimal("4.00"),
                "attributes": {},
            }
            for i in range(1000)
        ],
    )
    conn.execute(
        sa.insert(Location),
        [
            {"code": f"ST-{j:04d}", "name": "s", "kind": "store", "region": "r", "attributes": {}}
            for j in range(1000)
        ],
    )
    promotion = Promotion(
        code="PRM-BIG",
        name="Big",
        requested_by="m",
        mechanic="percent_off",
        discount_percent=Decimal(25),
        start_date=START,
        end_date=END,
        channels=["pos"],
        timing={},
        status="submitted",
    )
    session.add(promotion)
    session.flush()
    # Set-based fixtures: the cross joins run inside the database.
    conn.execute(
        sa.text(
            "INSERT INTO ranging (item_id, location_id) SELECT i.id, l.id "
            "FROM items i CROSS JOIN locations l "
            "WHERE NOT (i.sku = 'SKU-00017' AND l.code = 'ST-0004')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO promotion_items (promotion_id, item_id, promo_price) "
            "SELECT :p, id, 3.00 FROM items"
        ),
        {"p": promotion.id},
    )
    conn.execute(
        sa.text(
            "INSERT INTO promotion_locations (promotion_id, location_id) "
            "SELECT :p, id FROM locations"
        ),
        {"p": promotion.id},
    )
    conn.execute(sa.text("UPDATE items SET status = 'discontinued' WHERE sku = 'SKU-00999'"))
    if BACKEND == "postgresql":
        conn.execute(sa.text("ANALYZE"))
    started = time.perf_counter()
    findings = validate_promotion(session, promotion, today=TODAY)
    elapsed = time.perf_counter() - started
    assert sorted((f.rule, f.item_sku, f.location_code) for f in findings) == [
        ("item_discontinued", "SKU-00999", None),
        ("item_not_ranged", "SKU-00017", "ST-0004"),
    ]
    assert elapsed < 5.0, f"validation of 1M item-locations took {elapsed:.1f} s"
