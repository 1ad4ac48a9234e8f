"""Importing items, positions and sales from the drop folder: pages, archive, refusals."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from flatfile_support import FlatFileFactory, names

from promoflow.connectors.ports import (
    InventorySource,
    ItemMaster,
    ItemStream,
    MalformedPayload,
    PositionRecord,
    PositionStream,
    SalesFeed,
)

POSITIONS_A = """sku,location_code,on_hand,on_order,in_transit,allocated,as_of
SKU-1,S001,12,0,6,1,2026-03-01T06:00:00Z
SKU-2,S001,3.5,,,,2026-03-01T06:00:00+01:00
SKU-1,S002,0,24,0,0,2026-03-01T06:00:00
"""
POSITIONS_B = """sku,location_code,on_hand,as_of
SKU-1,S001,10,2026-03-02T06:00:00Z
"""


def drain(stream: Iterator[Sequence[PositionRecord]], into: list[PositionRecord]) -> None:
    for page in stream:
        into.extend(page)


def put(drop: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = drop / "inbox" / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_connector_implements_its_ports(flatfile: FlatFileFactory) -> None:
    connector = flatfile()
    for port in (ItemStream, ItemMaster, PositionStream, InventorySource, SalesFeed):
        assert isinstance(connector, port)


def test_items_are_typed_with_defaults_and_their_source(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(
        drop,
        "items_20260301.csv",
        "sku,name,status,category,unit_cost,regular_price,case_pack,gtin,extra\n"
        "SKU-1,Coffee 500 g,,Coffee,3.10,4.99,6,04012345678901,ignored\n"
        "SKU-2,Tea 20 bags,DISCONTINUED,Tea,,1.49,,,\n",
    )

    connector = flatfile(page_size=10)
    pages = list(connector.stream_items(None))
    assert names(drop / "archive") == []  # taken, not yet stored by the caller
    connector.acknowledge()

    assert len(pages) == 1
    coffee, tea = pages[0]
    assert (coffee.sku, coffee.name, coffee.status, coffee.category) == (
        "SKU-1",
        "Coffee 500 g",
        "active",
        "Coffee",
    )
    assert (coffee.unit_cost, coffee.regular_price, coffee.case_pack) == (
        Decimal("3.10"),
        Decimal("4.99"),
        6,
    )
    assert coffee.gtin == "04012345678901"
    assert coffee.source.endswith(":items_20260301.csv")
    assert (tea.status, tea.unit_cost, tea.regular_price) == ("discontinued", None, Decimal("1.49"))
    assert names(drop / "archive") == ["items_20260301.csv"]


def test_files_come_in_name_order_page_by_page_and_archive_once_stored(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(drop, "positions_20260302.csv", POSITIONS_B)
    put(drop, "positions_20260301.csv", POSITIONS_A)
    connector = flatfile(page_size=2)
    stream = connector.stream_positions()

    pages = [next(stream), next(stream), next(stream)]
    # Every page is out, but the caller has not asked past the last: nothing archived yet.
    assert names(drop / "inbox") == ["positions_20260301.csv", "positions_20260302.csv"]
    with pytest.raises(StopIteration):
        next(stream)

    assert [len(p) for p in pages] == [2, 1, 1]
    assert [(r.sku, r.location_code, r.on_hand) for r in pages[0]] == [
        ("SKU-1", "S001", 12.0),
        ("SKU-2", "S001", 3.5),
    ]
    assert pages[0][1].as_of == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert pages[1][0].as_of == datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # no offset: UTC
    assert (pages[0][1].on_order, pages[0][1].allocated) == (0.0, 0.0)
    assert pages[2][0].on_hand == 10.0
    # Every page taken, but only the caller's acknowledge (after its commit) archives.
    assert names(drop / "archive") == []
    connector.acknowledge()
    assert names(drop / "inbox") == []
    assert names(drop / "archive") == ["positions_20260301.csv", "positions_20260302.csv"]


def test_a_caller_that_stops_early_leaves_every_file_for_the_next_run(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(drop, "positions_20260301.csv", POSITIONS_A)
    stream = flatfile(page_size=2).stream_positions()
    next(stream)
    stream.close()  # e.g. the sync's transaction failed on this page

    assert names(drop / "inbox") == ["positions_20260301.csv"]
    assert names(drop / "archive") == []
    again = [r for page in flatfile().stream_positions() for r in page]
    assert len(again) == 3


def test_parquet_files_are_read_with_the_same_rules(drop: Path, flatfile: FlatFileFactory) -> None:
    pl.DataFrame(
        {
            "sku": ["SKU-9"],
            "location_code": ["DC1"],
            "on_hand": [120],
            "in_transit": [12.5],
            "as_of": [datetime(2026, 3, 1, 6, 0, tzinfo=UTC)],
        }
    ).write_parquet(drop / "inbox" / "positions_20260301.parquet")

    (record,) = next(flatfile().stream_positions())

    assert (record.sku, record.location_code, record.on_hand, record.in_transit) == (
        "SKU-9",
        "DC1",
        120.0,
        12.5,
    )
    assert record.as_of == datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


BAD_FILES = [
    (
        "sku,location_code,on_hand\nSKU-1,S001,4\n",
        None,
        "as_of",
        None,
    ),
    (
        "sku,location_code,on_hand,as_of\nSKU-1,S001,4,2026-03-01\nSKU-2,S001,four,2026-03-01\n",
        2,
        "on_hand",
        "four",
    ),
    (
        "sku,location_code,on_hand,as_of\nSKU-1,S001,4,2026-03-01\nSKU-1,S001,5,2026-03-01\n",
        2,
        "sku+location_code",
        "SKU-1/S001",
    ),
    (
        "sku,location_code,on_hand,as_of\nSKU-1,S001,4,01/03/2026\n",
        1,
        "as_of",
        "01/03/2026",
    ),
    (
        "sku,location_code,on_hand,on_order,as_of\nSKU-1,S001,4,-2,2026-03-01\n",
        1,
        "on_order",
        "-2",
    ),
]


@pytest.mark.parametrize(
    ("text", "row", "column", "value"),
    BAD_FILES,
    ids=["missing-column", "non-numeric", "duplicate-key", "unknown-date", "negative-on-order"],
)
def test_a_bad_file_is_refused_whole_and_moved_to_rejected_with_its_reason(
    drop: Path,
    flatfile: FlatFileFactory,
    text: str,
    row: int | None,
    column: str,
    value: str | None,
) -> None:
    put(drop, "positions_20260301.csv", POSITIONS_A)
    put(drop, "positions_20260302.csv", text)
    put(drop, "positions_20260303.csv", POSITIONS_B)
    taken: list[PositionRecord] = []

    with pytest.raises(MalformedPayload) as raised:
        drain(flatfile().stream_positions(), taken)

    error = raised.value
    assert (error.field, error.value) == (column, value)
    assert error.payload["file"] == "positions_20260302.csv"
    assert error.payload["row"] == row
    assert "positions_20260302.csv" in error.message and repr(column) in error.message
    if row is not None:
        assert f"row {row}," in error.message
    assert [r.sku for r in taken] == ["SKU-1", "SKU-2", "SKU-1"]  # only the first file
    assert names(drop / "rejected") == [
        "positions_20260302.csv",
        "positions_20260302.csv.reason.txt",
    ]
    reason = (drop / "rejected" / "positions_20260302.csv.reason.txt").read_text()
    assert error.message in reason
    # The run was refused: the good files wait in inbox/ for the next one.
    assert names(drop / "inbox") == ["positions_20260301.csv", "positions_20260303.csv"]
    assert names(drop / "archive") == []


def test_the_configured_encoding_is_used_and_a_wrong_one_refuses_the_file(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(drop, "items_1.csv", "sku;name\nSKU-1;Café crème\n", encoding="latin-1")

    with pytest.raises(MalformedPayload) as raised:
        list(flatfile(delimiter=";").stream_items(None))
    put(drop, "items_2.csv", "sku;name\nSKU-1;Café crème\n", encoding="latin-1")
    (page,) = list(flatfile(delimiter=";", encoding="latin-1").stream_items(None))

    assert raised.value.field == "(encoding)"
    assert "utf-8" in raised.value.message
    assert page[0].name == "Café crème"


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(drop, "items_1.csv", "\ufeffsku,name\nSKU-1,Coffee\n")

    (page,) = list(flatfile().stream_items(None))

    assert page[0].sku == "SKU-1"


def test_positions_for_some_locations_only_leave_the_files_in_inbox(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(drop, "positions_20260301.csv", POSITIONS_A)

    records = [r for page in flatfile().stream_positions(["S002"]) for r in page]

    assert [(r.sku, r.location_code) for r in records] == [("SKU-1", "S002")]
    assert names(drop / "inbox") == ["positions_20260301.csv"]


def test_fetch_positions_returns_the_latest_snapshot_in_scope(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(drop, "positions_20260301.csv", POSITIONS_A)
    connector = flatfile()
    list(connector.stream_positions())
    connector.acknowledge()  # archived
    put(drop, "positions_20260302.csv", POSITIONS_B)

    records = connector.fetch_positions(["SKU-1"], ["S001", "S002"])

    assert [(r.location_code, r.on_hand) for r in records] == [("S001", 10.0), ("S002", 0.0)]
    assert names(drop / "inbox") == ["positions_20260302.csv"]


def test_sales_are_filtered_by_scope_and_dates_with_exact_revenue(
    drop: Path, flatfile: FlatFileFactory
) -> None:
    put(
        drop,
        "sales_20260302.csv",
        "sku,location_code,day,units,revenue\n"
        "SKU-1,S001,2026-03-01,4,19.96\n"
        "SKU-1,S001,2026-03-02,-1,-4.99\n"
        "SKU-1,S002,2026-03-02,2,9.98\n"
        "SKU-2,S001,2026-03-02,1,1.49\n",
    )

    records = flatfile().sales(["SKU-1"], ["S001"], date(2026, 3, 2), date(2026, 3, 8))

    assert [(r.day, r.units, r.revenue) for r in records] == [
        (date(2026, 3, 2), -1.0, Decimal("-4.99"))
    ]


def test_changed_items_reads_files_changed_since(drop: Path, flatfile: FlatFileFactory) -> None:
    old = put(drop, "items_1.csv", "sku,name\nSKU-1,Coffee\n")
    put(drop, "items_2.csv", "sku,name\nSKU-2,Tea\n")
    os.utime(old, (1_700_000_000, 1_700_000_000))  # 2023-11-14

    since = flatfile().changed_items(datetime(2024, 1, 1, tzinfo=UTC))
    everything = flatfile().changed_items(None)

    assert [i["sku"] for i in since] == ["SKU-2"]
    assert sorted(str(i["sku"]) for i in everything) == ["SKU-1", "SKU-2"]
