"""Chaos (c): an ERP returns malformed and partial pages.

The sync refuses the run with a clear error naming the field and value, the bad
page is quarantined with its reason, and no position changes, not even those of
the good pages before it. A system that stays down ends as a dead letter that a
replay applies once it is back.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from integration_support import SCRIPT, SECRET_ENV, position_row
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location
from promoflow.integration import connections as connection_commands
from promoflow.integration import deadletters
from promoflow.integration import service as connections
from promoflow.integration.models import DeadLetter
from promoflow.integration.sync import SyncRefused, sync
from promoflow.inventory.models import InventoryPosition


@pytest.fixture
def erp(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        connections.add_connection(
            session,
            name="erp-chaos",
            connector="scripted-erp",
            config={
                "base_url": "https://erp.example.test",
                "user": "promoflow",
                "password": f"env:{SECRET_ENV}",
            },
            serves=["inventory"],
        )
    connection_commands.enable(sessions, "erp-chaos", "olga.ops")
    return "erp-chaos"


def _positions(sessions: sessionmaker[Session], limit: int = 6) -> list[tuple[str, str, float]]:
    with sessions() as session:
        return [
            (sku, code, on_hand)
            for sku, code, on_hand in session.execute(
                sa.select(Item.sku, Location.code, InventoryPosition.on_hand)
                .join(Item, Item.id == InventoryPosition.item_id)
                .join(Location, Location.id == InventoryPosition.location_id)
                .order_by(Item.sku, Location.code)
                .limit(limit)
            )
        ]


def _snapshot(sessions: sessionmaker[Session]) -> dict[tuple[int, int], tuple[float, str]]:
    with sessions() as session:
        return {
            (p.item_id, p.location_id): (p.on_hand, p.source)
            for p in session.scalars(sa.select(InventoryPosition))
        }


def _letters(sessions: sessionmaker[Session], source: str) -> list[DeadLetter]:
    with sessions() as session:
        return list(deadletters.list_dead_letters(session, source=source, status=None))


def test_a_good_sync_applies_every_page(sessions: sessionmaker[Session], erp: str) -> None:
    known = _positions(sessions)
    SCRIPT.pages = [
        [position_row(sku, code, on_hand + 5) for sku, code, on_hand in known[:3]],
        [position_row(sku, code, on_hand + 5) for sku, code, on_hand in known[3:]],
    ]
    result = sync(sessions, erp, "inventory")
    assert (result.pages, result.records) == (2, len(known))
    assert _positions(sessions) == [(s, c, q + 5) for s, c, q in known]


def test_a_malformed_page_is_quarantined_and_nothing_of_the_run_applies(
    sessions: sessionmaker[Session], erp: str
) -> None:
    known = _positions(sessions)
    before = _snapshot(sessions)
    SCRIPT.pages = [
        [position_row(sku, code, 999) for sku, code, _ in known[:3]],  # good, applied first
        [position_row(known[3][0], known[3][1], "12,5 PC")],  # not a number
    ]
    with pytest.raises(SyncRefused) as refused:
        sync(sessions, erp, "inventory")
    assert "page 2 refused, nothing of this sync applied" in str(refused.value)
    assert refused.value.context["field"] == "rows[0].Quantity"
    assert refused.value.context["value"] == "12,5 PC"
    assert _snapshot(sessions) == before  # the good first page was rolled back too
    letter = _letters(sessions, erp)[0]
    assert (letter.kind, letter.status) == ("quarantine", "open")
    assert "'rows[0].Quantity'" in letter.reason and "12,5 PC" in letter.reason
    assert letter.payload["rows"][0]["Quantity"] == "12,5 PC"  # the page is kept whole


def test_a_page_naming_an_unknown_item_is_quarantined_whole(
    sessions: sessionmaker[Session], erp: str
) -> None:
    known = _positions(sessions, 2)
    before = _snapshot(sessions)
    SCRIPT.pages = [
        [position_row(known[0][0], known[0][1], 4), position_row("NO-SUCH-SKU", known[1][1], 4)]
    ]
    with pytest.raises(SyncRefused, match="NO-SUCH-SKU"):
        sync(sessions, erp, "inventory")
    assert _snapshot(sessions) == before
    letter = _letters(sessions, erp)[0]
    assert letter.kind == "quarantine" and "unknown item" in letter.reason
    assert [row["sku"] for row in letter.payload["rows"]] == [known[0][0], "NO-SUCH-SKU"]


def test_a_system_that_stays_down_becomes_a_dead_letter_replayed_once_back(
    sessions: sessionmaker[Session], erp: str
) -> None:
    known = _positions(sessions, 2)
    SCRIPT.pages = [[position_row(sku, code, 321) for sku, code, _ in known]]
    SCRIPT.down = True
    with pytest.raises(SyncRefused, match="failed after retries, nothing applied"):
        sync(sessions, erp, "inventory")
    assert SCRIPT.calls == 4  # the Guard's attempts, then it gave up
    letter = _letters(sessions, erp)[0]
    assert (letter.kind, letter.operation) == ("dead_letter", "connectors.sync")
    assert [q for _, _, q in _positions(sessions, 2)] != [321, 321]

    SCRIPT.down = False
    replayed = deadletters.replay(sessions, letter.id, "olga.ops")
    assert replayed.status == "replayed" and "2 records in 1 pages" in replayed.resolution_detail
    assert [q for _, _, q in _positions(sessions, 2)] == [321, 321]
    with pytest.raises(Exception, match="already replayed"):
        deadletters.replay(sessions, letter.id, "olga.ops")
