"""`promoflow catalog`: the same catalogue the API reads, at a terminal (issue 12, item 6)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from promoflow.cli.main import app
from promoflow.runtime import get_runtime

runner = CliRunner()


def _first(query: sa.Select[tuple[str, ...]]) -> tuple[str, ...]:
    with get_runtime().sessions() as session:
        return tuple(session.execute(query.limit(1)).one())


def test_items_by_sku_prefix_as_json(seeded: object) -> None:
    from promoflow.catalog.models import Item

    sku, category = _first(sa.select(Item.sku, Item.category).order_by(Item.id))
    result = runner.invoke(app, ["catalog", "items", "--sku-prefix", sku, "--json"])
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)
    assert [row["sku"] for row in page["items"]] == [sku]
    assert page["items"][0]["category"] == category


def test_items_say_how_to_reach_the_next_page(seeded: object) -> None:
    result = runner.invoke(app, ["catalog", "items", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "next page: --offset 3" in result.output


def test_locations_by_kind(seeded: object) -> None:
    from promoflow.catalog.models import Location

    (dc,) = _first(sa.select(Location.code).where(Location.kind == "dc").order_by(Location.code))
    result = runner.invoke(app, ["catalog", "locations", "--kind", "dc", "--json"])
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)
    assert dc in [row["code"] for row in page["items"]]
    assert {row["kind"] for row in page["items"]} == {"dc"}


def test_suppliers_list_their_codes(seeded: object) -> None:
    from promoflow.catalog.models import Supplier

    (code,) = _first(sa.select(Supplier.code).order_by(Supplier.code))
    result = runner.invoke(app, ["catalog", "suppliers"])
    assert result.exit_code == 0, result.output
    assert code in result.output


def test_eligibility_explains_a_restricted_item(seeded: object) -> None:
    from promoflow.catalog.models import Item, Location

    (sku,) = _first(sa.select(Item.sku).where(Item.restricted.is_(True)).order_by(Item.id))
    (store,) = _first(sa.select(Location.code).where(Location.kind == "store"))
    result = runner.invoke(app, ["catalog", "eligibility", sku, store])
    assert result.exit_code == 0, result.output
    assert f"{sku} cannot be promoted at {store}" in result.output
    assert "item_restricted" in result.output


def test_bad_filters_are_clear_errors_naming_the_option(seeded: object) -> None:
    wrong_kind = runner.invoke(app, ["catalog", "locations", "--kind", "warehouse"])
    assert wrong_kind.exit_code == 2
    assert "kind='warehouse'" in wrong_kind.output and "store, dc, ecommerce" in wrong_kind.output
    too_many = runner.invoke(app, ["catalog", "items", "--limit", "100000"])
    assert too_many.exit_code == 2 and "--limit=100000" in too_many.output
    unknown = runner.invoke(app, ["catalog", "eligibility", "NO-SUCH-SKU", "S1"])
    assert unknown.exit_code == 2 and "NO-SUCH-SKU" in unknown.output
