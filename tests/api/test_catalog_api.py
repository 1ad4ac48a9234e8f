"""The catalogue over the API (issue 12, item 6): a client finds a valid SKU, store or
supplier, and learns whether an item may be promoted somewhere, without the database.

Expectations are read from the seeded retailer's tables directly, so each test checks
what the route answers against what the catalogue holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
CATALOG = "/api/v1/catalog"


def _get(client: TestClient, auth: Auth, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{CATALOG}{path}", params=params, headers=auth("merchandiser"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_items_are_filtered_by_category_status_and_sku_prefix(
    client: TestClient, auth: Auth, seeded: object
) -> None:
    from promoflow.catalog.models import Item

    item = first_where(Item, Item.status == "active", Item.promo_eligible.is_(True))
    page = _get(client, auth, "/items", category=item.category, status="active", limit=500)
    assert page["total"] == len(page["items"]) > 0
    assert {row["category"] for row in page["items"]} == {item.category}
    assert {row["status"] for row in page["items"]} == {"active"}
    skus = [row["sku"] for row in page["items"]]
    assert skus == sorted(skus) and item.sku in skus

    found = _get(client, auth, "/items", sku_prefix=item.sku)
    assert [row["sku"] for row in found["items"]] == [item.sku]
    row = found["items"][0]
    assert (row["department"], row["subcategory"]) == (item.department, item.subcategory)
    assert row["regular_price"] == {"amount": str(item.regular_price), "currency": "EUR"}
    assert row["unit_cost"] == {"amount": str(item.unit_cost), "currency": "EUR"}
    assert row["promotable"] is True


def test_a_sku_prefix_is_matched_literally(client: TestClient, auth: Auth, seeded: object) -> None:
    """`_` and `%` are LIKE's wildcards on both backends; a prefix must not be one."""
    assert _get(client, auth, "/items", sku_prefix="%")["total"] == 0
    assert _get(client, auth, "/items", sku_prefix="_")["total"] == 0


def test_an_unknown_status_is_refused_naming_the_field(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{CATALOG}/items?status=retired", headers=auth("merchandiser"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "status"


def test_restricted_and_discontinued_items_say_they_are_not_promotable(
    client: TestClient, auth: Auth, seeded: object
) -> None:
    from promoflow.catalog.models import Item

    restricted = first_where(Item, Item.restricted.is_(True))
    row = _get(client, auth, f"/items/{restricted.sku}")
    assert (row["restricted"], row["promo_eligible"], row["promotable"]) == (True, False, False)
    discontinued = _get(client, auth, "/items", status="discontinued")
    assert discontinued["total"] > 0
    assert not any(r["promotable"] for r in discontinued["items"])


def test_an_unknown_sku_is_a_problem_naming_it(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{CATALOG}/items/NO-SUCH-SKU", headers=auth("auditor"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "NO-SUCH-SKU" in response.json()["detail"]


def test_locations_are_filtered_by_kind_region_and_banner(
    client: TestClient, auth: Auth, seeded: object
) -> None:
    from promoflow.catalog.models import Location

    store = first_where(Location, Location.kind == "store", Location.banner != "")
    page = _get(
        client,
        auth,
        "/locations",
        kind="store",
        region=store.region,
        banner=store.banner,
        limit=500,
    )
    assert store.code in [row["code"] for row in page["items"]]
    assert {(r["kind"], r["region"], r["banner"]) for r in page["items"]} == {
        ("store", store.region, store.banner)
    }
    dcs = _get(client, auth, "/locations", kind="dc")
    assert dcs["total"] > 0 and {row["kind"] for row in dcs["items"]} == {"dc"}


def test_suppliers_are_listed_with_their_record(
    client: TestClient, auth: Auth, seeded: object
) -> None:
    from promoflow.catalog.models import Supplier

    page = _get(client, auth, "/suppliers", limit=2)
    with_total = _count(Supplier)
    assert page["total"] == with_total and len(page["items"]) == min(2, with_total)
    assert set(page["items"][0]) >= {"code", "name", "lead_time_days", "on_time_rate"}


def test_ranging_answers_which_items_a_store_carries(
    client: TestClient, auth: Auth, seeded: object
) -> None:
    from promoflow.catalog.models import Location, Ranging

    store = first_where(Location, Location.kind == "store")
    carried = _count(Ranging, Ranging.location_id == store.id)
    page = _get(client, auth, "/ranging", location=store.code, limit=500)
    assert page["total"] == carried > 0
    assert {row["location_code"] for row in page["items"]} == {store.code}
    sku = page["items"][0]["sku"]
    assert store.code in [
        r["location_code"] for r in _get(client, auth, "/ranging", sku=sku)["items"]
    ]


def test_eligibility_says_yes_for_a_ranged_promotable_item(
    client: TestClient, auth: Auth, seeded: object
) -> None:
    sku, store = _ranged_pair(promotable=True)
    answer = _get(client, auth, "/eligibility", sku=sku, location=store)
    assert answer == {"sku": sku, "location_code": store, "eligible": True, "reasons": []}


def test_eligibility_names_every_rule_an_item_breaks(
    client: TestClient, auth: Auth, seeded: object
) -> None:
    from promoflow.catalog.models import Item, Location, Ranging

    restricted = first_where(Item, Item.restricted.is_(True))
    ranged_at = sa.select(Ranging.location_id).where(Ranging.item_id == restricted.id)
    elsewhere = first_where(Location, Location.kind == "store", Location.id.not_in(ranged_at))
    answer = _get(client, auth, "/eligibility", sku=restricted.sku, location=elsewhere.code)
    assert answer["eligible"] is False
    rules = [reason["rule"] for reason in answer["reasons"]]
    assert rules == ["item_restricted", "item_not_eligible", "item_not_ranged"]
    assert elsewhere.code in answer["reasons"][-1]["message"]


def test_eligibility_rules_are_the_ones_validation_applies() -> None:
    """A merchandiser checking a SKU here sees the rule a submitted promotion would break."""
    from promoflow.catalog.eligibility import RULES
    from promoflow.promotions.validation import RULES as VALIDATION_RULES

    assert set(RULES) <= set(VALIDATION_RULES)


@pytest.mark.parametrize(
    ("params", "named"), [({"sku": "NOPE", "location": "S001"}, "NOPE"), ({"location": "X"}, "")]
)
def test_eligibility_of_something_unknown_is_refused(
    client: TestClient, auth: Auth, seeded: object, params: dict[str, str], named: str
) -> None:
    response = client.get(f"{CATALOG}/eligibility", params=params, headers=auth("auditor"))
    assert response.status_code == (404 if named else 422)
    assert response.headers["content-type"] == "application/problem+json"
    if named:
        assert named in response.json()["detail"]
    else:
        assert response.json()["errors"][0]["field"] == "sku"


def test_control_characters_in_a_filter_are_refused_not_sent_to_the_database(
    client: TestClient, auth: Auth
) -> None:
    response = client.get(
        f"{CATALOG}/items", params={"category": "a\x00b"}, headers=auth("auditor")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "category"


def test_every_catalogue_route_needs_a_key(client: TestClient) -> None:
    for path in ("/items", "/locations", "/suppliers", "/ranging"):
        assert client.get(f"{CATALOG}{path}").status_code == 401


def first_where(model: Any, *where: Any) -> Any:
    """The first row of `model` (by id) matching `where`, detached for reading."""
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        row = session.scalars(sa.select(model).where(*where).order_by(model.id).limit(1)).one()
        session.expunge(row)
        return row


def _count(model: Any, *where: Any) -> int:
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def _ranged_pair(*, promotable: bool) -> tuple[str, str]:
    from promoflow.catalog.models import Item, Location, Ranging
    from promoflow.runtime import get_runtime

    query = (
        sa.select(Item.sku, Location.code)
        .join(Ranging, Ranging.item_id == Item.id)
        .join(Location, Location.id == Ranging.location_id)
        .where(
            Item.status == "active",
            Item.restricted.is_(not promotable),
            Item.promo_eligible.is_(promotable),
        )
        .order_by(Item.sku, Location.code)
        .limit(1)
    )
    with get_runtime().sessions() as session:
        row = session.execute(query).one()
    return str(row[0]), str(row[1])
