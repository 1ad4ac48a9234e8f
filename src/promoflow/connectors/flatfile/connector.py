"""Flat files: a drop folder of CSV and Parquet files (docs/connectors/flatfile.md).

Inbound, files are read in name order and checked whole before any row is returned.
The streams (`stream_items`, `stream_positions`) are the sync path and treat one
pass as one run: once the caller has taken in every page, the run's files are
marked taken, and they move to archive/ when the caller calls `acknowledge()`
(the sync does, after its transaction committed). A caller that stops early, a
refused file, an error thrown into the stream, or a crash before the commit leaves
every unrefused file in inbox/ for the next run. The list ports (`fetch_positions`,
`sales`, `changed_items`) are queries over inbox/ and archive/ and move nothing but
refused files.

Outbound, a key's promotion prices become one CSV in outbox/, written atomically
(temp file + rename); a copy in archive/sent/ is the receipt, so a repeated key
returns the first receipt even after the receiving system has taken the file away.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.ports import (
    ItemRecord,
    MalformedPayload,
    PositionRecord,
    PriceChange,
    PublicationReceipt,
    SalesRecord,
)

from . import diagnostics, mapping
from .client import DropFolder
from .manifest import MANIFEST
from .schema import ITEMS, POSITIONS, SALES, FileKind
from .settings import FlatFileSettings


class FlatFileConnector:
    """A drop folder: items, positions and sales in; promotion prices out."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.system = context.name
        self._taken: list[Path] = []
        read = FlatFileSettings.read(config)
        self.page_size = read.page_size
        self.folder = DropFolder(
            read.root,
            system=self.system,
            guard=context.guard,
            encoding=read.encoding,
            delimiter=read.delimiter,
        )

    def check_connection(self) -> ConnectionCheck:
        """The four folders exist and outbox/ takes a file."""
        return timed_check(self.folder.check)

    # --- streams: the sync path --------------------------------------------------------

    def _stream(self, kind: FileKind, *, archive: bool) -> Iterator[tuple[Path, list[Any]]]:
        """(file, page of rows) in name order; archives the run's files once it is taken in."""
        done: list[Path] = []
        for path in self.folder.waiting(kind):
            rows = self.folder.read(kind, path)
            for start in range(0, len(rows), self.page_size):
                yield path, rows[start : start + self.page_size]
            done.append(path)
        # Reached only when the caller asked for the page after the last one.
        if archive:
            self._taken.extend(done)

    def acknowledge(self) -> None:
        """The caller stored every page it took: archive the files of completed runs."""
        taken, self._taken = self._taken, []
        self.folder.archive(taken)

    def stream_items(self, since: datetime | None) -> Iterator[Sequence[ItemRecord]]:
        """Pages of items from inbox/items_* files (`since` is not used: every file is new)."""
        for path, rows in self._stream(ITEMS, archive=True):
            yield [mapping.item(row, f"{self.system}:{path.name}") for row in rows]

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        """Pages of positions from inbox/positions_* files.

        Filtered to some locations, the files stay in inbox/: the rest of them was not taken.
        """
        wanted = set(location_codes) if location_codes is not None else None
        for path, rows in self._stream(POSITIONS, archive=wanted is None):
            page = [
                mapping.position(row, f"{self.system}:{path.name}")
                for row in rows
                if wanted is None or row["location_code"] in wanted
            ]
            if page:
                yield page

    # --- queries ------------------------------------------------------------------------

    def _rows(self, kind: FileKind) -> Iterator[tuple[Path, dict[str, Any]]]:
        """Rows of every file of `kind` in archive/ then inbox/ (bad inbox files refused)."""
        for folder in ("archive", "inbox"):
            for path in self.folder.waiting(kind, folder=folder):
                for row in self.folder.read(kind, path, reject=folder == "inbox"):
                    yield path, row

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """The latest position (by as_of) per SKU x location in scope."""
        sku_set, location_set = set(skus), set(location_codes)
        latest: dict[tuple[str, str], PositionRecord] = {}
        for path, row in self._rows(POSITIONS):
            if row["sku"] not in sku_set or row["location_code"] not in location_set:
                continue
            record = mapping.position(row, f"{self.system}:{path.name}")
            key = (record.sku, record.location_code)
            if key not in latest or record.as_of >= latest[key].as_of:
                latest[key] = record
        return sorted(latest.values(), key=lambda r: (r.sku, r.location_code))

    def sales(
        self, skus: list[str], location_codes: list[str], start: date, end: date
    ) -> list[SalesRecord]:
        """Sales in scope between start and end (inclusive); a later file's row wins."""
        sku_set, location_set = set(skus), set(location_codes)
        found: dict[tuple[str, str, date], SalesRecord] = {}
        for _path, row in self._rows(SALES):
            if (
                row["sku"] in sku_set
                and row["location_code"] in location_set
                and start <= row["day"] <= end
            ):
                found[(row["sku"], row["location_code"], row["day"])] = mapping.sale(row)
        return sorted(found.values(), key=lambda r: (r.day, r.sku, r.location_code))

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        """Items from files modified at or after `since` (None = all), later files winning."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        items: dict[str, dict[str, object]] = {}
        for path, row in self._rows(ITEMS):
            if since is not None and _modified(path) < since:
                continue
            record = mapping.item(row, f"{self.system}:{path.name}")
            items[record.sku] = dict(record.__dict__)
        return list(items.values())

    # --- price publication ---------------------------------------------------------------

    def publish_prices(self, key: str, changes: list[PriceChange]) -> PublicationReceipt:
        """Write outbox/promo_prices_<key>.csv once per key; a repeated key returns its receipt."""
        return self._export(key, "publish", changes)

    def revert_prices(self, key: str) -> PublicationReceipt:
        """Write outbox/promo_prices_revert_<key>.csv withdrawing what the key published."""
        published = self._sent(mapping.export_name("publish", key))
        if published is None:
            return PublicationReceipt(key, self.system, 0, "")
        changes = [_change(row) for row in published.iter_rows(named=True)]
        return self._export(key, "revert", changes)

    def _sent(self, name: str) -> pl.DataFrame | None:
        copy = self.folder.folder("archive") / "sent" / name
        if not copy.is_file():
            return None
        return self.folder.io(
            f"read {name}",
            lambda: pl.read_csv(copy, separator=self.folder.delimiter, infer_schema=False),
        )

    def _export(self, key: str, action: str, changes: Sequence[PriceChange]) -> PublicationReceipt:
        name = mapping.export_name(action, key)
        sent = self._sent(name)
        if sent is not None:
            return PublicationReceipt(key, self.system, sent.height, name, duplicate=True)
        _check_changes(self.system, changes)
        frame = mapping.export_frame(key, action, changes)
        # outbox/ first, then the receipt copy: a crash between them rewrites the same file
        # under the same name, which the receiving system can recognise.
        self.folder.write_atomically(self.folder.folder("outbox") / name, frame)
        self.folder.write_atomically(self.folder.folder("archive") / "sent" / name, frame)
        return PublicationReceipt(key, self.system, frame.height, name)


def _check_changes(system: str, changes: Sequence[PriceChange]) -> None:
    for index, change in enumerate(changes):
        for field, value in (("price", change.price), ("regular_price", change.regular_price)):
            if not value.is_finite() or value < 0:
                raise MalformedPayload(
                    system,
                    f"changes[{index}].{field}={value}: must be a number >= 0 (SKU {change.sku})",
                    payload=change,
                    field=f"changes[{index}].{field}",
                    value=value,
                )
        if change.end < change.start:
            raise MalformedPayload(
                system,
                f"changes[{index}].end={change.end}: before its start {change.start} "
                f"(SKU {change.sku})",
                payload=change,
                field=f"changes[{index}].end",
                value=change.end,
            )


def _change(row: dict[str, Any]) -> PriceChange:
    return PriceChange(
        sku=row["sku"],
        location_code=row["location_code"],
        channel=row["channel"],
        price=Decimal(row["price"]),
        regular_price=Decimal(row["regular_price"]),
        start=date.fromisoformat(row["start"]),
        end=date.fromisoformat(row["end"]),
    )


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
