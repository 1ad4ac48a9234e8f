"""Exporting promotion prices to outbox/, the connection check and discovery."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from flatfile_support import FlatFileFactory, names

from promoflow.connectors.flatfile.connector import FlatFileConnector
from promoflow.connectors.framework import discover
from promoflow.connectors.ports import (
    ConnectorUnavailable,
    MalformedPayload,
    PriceChange,
    PricePublisher,
)

CHANGES = [
    PriceChange(
        "SKU-1", "S001", "pos", Decimal("3.99"), Decimal("4.99"), date(2026, 3, 3), date(2026, 3, 9)
    ),
    PriceChange(
        "SKU-2", "S002", "pos", Decimal("0.50"), Decimal("1.49"), date(2026, 3, 3), date(2026, 3, 9)
    ),
]


def outbox_rows(drop: Path, name: str) -> list[dict[str, str]]:
    return pl.read_csv(drop / "outbox" / name, infer_schema=False).to_dicts()


def test_publish_writes_one_file_per_key_with_every_change(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    connector = flatfile()
    assert isinstance(connector, PricePublisher)

    receipt = connector.publish_prices("promo-7/rev 1:pos", CHANGES)

    assert (receipt.accepted, receipt.duplicate) == (2, False)
    assert names(drop / "outbox") == [receipt.external_ref]
    assert receipt.external_ref.startswith("promo_prices_promo-7-rev-1-pos_")
    rows = outbox_rows(drop, receipt.external_ref)
    assert rows[0] == {
        "key": "promo-7/rev 1:pos",
        "action": "publish",
        "sku": "SKU-1",
        "location_code": "S001",
        "channel": "pos",
        "price": "3.99",
        "regular_price": "4.99",
        "start": "2026-03-03",
        "end": "2026-03-09",
    }
    assert rows[1]["price"] == "0.50"


def test_a_repeated_key_returns_the_first_receipt_even_after_the_file_was_collected(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    first = flatfile().publish_prices("promo-7", CHANGES)
    (drop / "outbox" / first.external_ref).unlink()  # the POS picked it up

    again = flatfile().publish_prices("promo-7", [*CHANGES, CHANGES[0]])

    assert again.duplicate is True
    assert (again.accepted, again.external_ref) == (first.accepted, first.external_ref)
    assert names(drop / "outbox") == []


def test_revert_writes_a_withdrawal_of_what_the_key_published_once(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    connector = flatfile()
    connector.publish_prices("promo-7", CHANGES)

    receipt = connector.revert_prices("promo-7")
    again = connector.revert_prices("promo-7")
    nothing = connector.revert_prices("promo-never")

    assert (receipt.accepted, again.duplicate, nothing.accepted) == (2, True, 0)
    assert receipt.external_ref.startswith("promo_prices_revert_promo-7_")
    rows = outbox_rows(drop, receipt.external_ref)
    assert {r["action"] for r in rows} == {"revert"}
    assert [(r["sku"], r["price"]) for r in rows] == [("SKU-1", "3.99"), ("SKU-2", "0.50")]


def test_a_bad_change_writes_no_file_and_names_field_and_value(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    bad = PriceChange(
        "SKU-3", "S001", "pos", Decimal("-1"), Decimal("2"), date(2026, 3, 3), date(2026, 3, 9)
    )

    with pytest.raises(MalformedPayload) as raised:
        flatfile().publish_prices("promo-8", [*CHANGES, bad])

    assert (raised.value.field, raised.value.value) == ("changes[2].price", Decimal("-1"))
    assert names(drop / "outbox") == []


def test_a_write_that_fails_half_way_leaves_no_file_behind(
    drop: Path, flatfile: FlatFileFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_write(self: pl.DataFrame, handle: object, **_kw: object) -> None:
        handle.write(b"key,action,sku\npromo-9,publish,SK")  # type: ignore[attr-defined]
        raise OSError("No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_csv", broken_write)

    with pytest.raises(ConnectorUnavailable) as raised:
        flatfile().publish_prices("promo-9", CHANGES)

    assert "No space left" in raised.value.message
    assert list((drop / "outbox").iterdir()) == []
    monkeypatch.undo()
    assert flatfile().publish_prices("promo-9", CHANGES).duplicate is False


def test_the_connection_check_needs_the_four_folders(drop: Path, flatfile: FlatFileFactory) -> None:
    (drop / "inbox" / "items_1.csv").write_text("sku,name\n")
    ok = flatfile().check_connection()
    (drop / "rejected").rmdir()
    failing = flatfile().check_connection()

    assert ok.ok and "1 file(s) in inbox" in ok.detail
    assert not failing.ok and "rejected/" in failing.detail


def test_the_entry_point_loads_the_connector() -> None:
    assert discover()["flatfile"].cls is FlatFileConnector
