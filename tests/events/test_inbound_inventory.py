"""Inbound position updates: set-based, one transaction and one event per batch, all or nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.connectors.ports import PositionRecord
from promoflow.events.inbound import apply_inventory_batches
from promoflow.events.models import Event
from promoflow.integration import deadletters
from promoflow.integration.models import DeadLetter
from promoflow.inventory.models import InventoryPosition
from promoflow.inventory.service import apply_positions
from promoflow.kit.errors import InvalidInput
from promoflow.runtime import get_runtime

AS_OF = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _scope(session: Session, items: int, stores: int) -> tuple[list[str], list[str]]:
    skus = list(session.scalars(sa.select(Item.sku).order_by(Item.id.desc()).limit(items)))
    codes = list(
        session.scalars(
            sa.select(Location.code)
            .where(Location.kind == "store")
            .order_by(Location.id)
            .limit(stores)
        )
    )
    return skus, codes


def _records(skus: list[str], codes: list[str], on_hand: float) -> list[PositionRecord]:
    return [
        PositionRecord(sku, code, on_hand, 5.0, 2.0, 1.0, AS_OF, "edi-846")
        for sku in skus
        for code in codes
    ]


def _positions(session: Session, source: str) -> dict[tuple[int, int], float]:
    rows = session.execute(
        sa.select(
            InventoryPosition.item_id, InventoryPosition.location_id, InventoryPosition.on_hand
        ).where(InventoryPosition.source == source)
    ).all()
    return {(i, loc): on_hand for i, loc, on_hand in rows}


def _changed_events(session: Session, source: str) -> list[Event]:
    return list(
        session.scalars(
            sa.select(Event).where(
                Event.type == "io.promoflow.inventory.positions.changed",
                Event.subject == f"inventory/{source}",
            )
        ).all()
    )


def test_a_batch_upserts_every_position_with_one_event(seeded: object, session: Session) -> None:
    skus, codes = _scope(session, 4, 3)
    assert apply_positions(session, _records(skus, codes, 10.0), "edi-846") == 12
    # The same item-locations again, some twice in one batch: the last record wins.
    again = [*_records(skus, codes, 20.0), _records(skus[:1], codes[:1], 7.0)[0]]
    assert apply_positions(session, again, "edi-846") == 13
    positions = _positions(session, "edi-846")
    assert len(positions) == 12
    assert sorted(positions.values()) == [7.0] + [20.0] * 11
    events = _changed_events(session, "edi-846")
    assert len(events) == 2
    assert events[1].data["count"] == 13 and len(events[1].data["item_ids"]) == 4


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("on_hand", -3.0, "cannot be negative"),
        ("allocated", float("nan"), "finite number"),
        ("sku", "NO-SUCH-SKU", "unknown item"),
        ("location_code", "NOWHERE", "unknown location"),
    ],
)
def test_a_bad_record_is_named_and_nothing_is_written(
    seeded: object, session: Session, field: str, value: object, reason: str
) -> None:
    skus, codes = _scope(session, 2, 3)
    records = _records(skus, codes, 10.0)
    records[4] = replace(records[4], **{field: value})
    with pytest.raises(InvalidInput, match=reason) as refused:
        apply_positions(session, records, "edi-846")
    assert refused.value.field == f"records[4].{field}"
    assert refused.value.value is value or refused.value.value == value
    assert _positions(session, "edi-846") == {}
    assert _changed_events(session, "edi-846") == []


def test_batches_apply_alone_and_a_bad_one_is_quarantined_then_replayed(seeded: object) -> None:
    rt = get_runtime()
    with rt.sessions() as session:
        skus, codes = _scope(session, 6, 5)
    records = _records(skus, codes, 30.0)  # 30 records, batches of 10
    records[13] = replace(records[13], on_hand=-1.0)
    try:
        result = apply_inventory_batches(rt.sessions, records, "flatfile-drop", batch_size=10)
        assert (result.applied, result.batches) == (20, 2)
        assert result.errors == [
            "batch from record 10: records[3].on_hand=-1.0: stock quantities cannot be negative"
        ]
        with rt.sessions() as session:
            assert len(_positions(session, "flatfile-drop")) == 20
            letter = session.get(DeadLetter, result.quarantined[0])
            assert letter is not None and letter.kind == "quarantine"
            assert len(letter.payload["records"]) == 10
        # The source fixes the record; the operator replays the stored batch.
        with rt.sessions() as session, session.begin():
            stored = session.get(DeadLetter, result.quarantined[0])
            assert stored is not None
            stored.payload = {
                **stored.payload,
                "records": [
                    {**r, "on_hand": max(r["on_hand"], 0.0)} for r in stored.payload["records"]
                ],
            }
        replayed = deadletters.replay(rt.sessions, result.quarantined[0], "oliver.ops")
        assert replayed.resolution_detail == "10 position(s) from flatfile-drop applied"
        with rt.sessions() as session:
            assert len(_positions(session, "flatfile-drop")) == 30
    finally:
        with rt.sessions() as session, session.begin():
            session.execute(
                sa.delete(InventoryPosition).where(InventoryPosition.source == "flatfile-drop")
            )
