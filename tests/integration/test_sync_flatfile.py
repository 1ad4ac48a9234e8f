"""A real connector end to end: a retailer's drop folder synced into inventory positions."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location
from promoflow.integration import connections as connection_commands
from promoflow.integration import deadletters
from promoflow.integration import service as connections
from promoflow.integration.sync import SyncRefused, sync
from promoflow.inventory.models import InventoryPosition

FOLDERS = ("inbox", "outbox", "archive", "rejected")


@pytest.fixture
def drop(sessions: sessionmaker[Session], tmp_path: Path) -> Path:
    for name in FOLDERS:
        (tmp_path / name).mkdir()
    with sessions.begin() as session:
        connections.add_connection(
            session,
            name="drop-folder",
            connector="flatfile",
            config={"root": str(tmp_path)},
            serves=["inventory"],
        )
    connection_commands.enable(sessions, "drop-folder", "olga.ops")
    return tmp_path


def _two_positions(sessions: sessionmaker[Session]) -> list[tuple[str, str, float]]:
    with sessions() as session:
        return [
            tuple(row)  # type: ignore[misc]
            for row in session.execute(
                sa.select(Item.sku, Location.code, InventoryPosition.on_hand)
                .join(Item, Item.id == InventoryPosition.item_id)
                .join(Location, Location.id == InventoryPosition.location_id)
                .order_by(Item.sku.desc(), Location.code)
                .limit(2)
            )
        ]


def test_a_dropped_file_updates_positions_and_is_archived_after_the_commit(
    sessions: sessionmaker[Session], drop: Path
) -> None:
    (a_sku, a_loc, _), (b_sku, b_loc, _) = _two_positions(sessions)
    (drop / "inbox" / "positions_20261127.csv").write_text(
        "sku,location_code,on_hand,on_order,in_transit,allocated,as_of\n"
        f"{a_sku},{a_loc},41,0,0,0,2026-11-27T06:00:00Z\n"
        f"{b_sku},{b_loc},17.5,4,0,0,2026-11-27T06:00:00Z\n"
    )
    result = sync(sessions, "drop-folder", "inventory")
    assert result.records == 2
    assert [q for _, _, q in _two_positions(sessions)] == [41.0, 17.5]
    assert [p.name for p in (drop / "archive").iterdir()] == ["positions_20261127.csv"]
    assert not list((drop / "inbox").iterdir())


def test_a_bad_file_is_rejected_quarantined_and_changes_nothing(
    sessions: sessionmaker[Session], drop: Path
) -> None:
    before = _two_positions(sessions)
    (a_sku, a_loc, _), _ = before
    (drop / "inbox" / "positions_20261128.csv").write_text(
        "sku,location_code,on_hand,as_of\n"
        f"{a_sku},{a_loc},41,2026-11-28T06:00:00Z\n"
        f"{a_sku},{a_loc},lots,2026-11-28T06:00:00Z\n"
    )
    with pytest.raises(SyncRefused, match="nothing of this sync applied") as refused:
        sync(sessions, "drop-folder", "inventory")
    assert "lots" in str(refused.value)
    assert _two_positions(sessions) == before
    assert (drop / "rejected" / "positions_20261128.csv").exists()
    with sessions() as session:
        letters = deadletters.list_dead_letters(session, source="drop-folder")
    assert letters and letters[0].kind == "quarantine" and "lots" in letters[0].reason
