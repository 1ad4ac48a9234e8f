"""Export the event log for process-mining tools: OCEL 2.0 (JSON, SQLite, XML) and XES.

A file is written beside its destination under a temporary name and renamed into
place once complete, so a failed export leaves nothing behind and never a half file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from promoflow.kit.errors import InvalidInput
from promoflow.processmining.builder import build_log
from promoflow.processmining.log import ObjectCentricLog
from promoflow.processmining.ocel_json import write_json
from promoflow.processmining.ocel_sqlite import write_sqlite
from promoflow.processmining.ocel_xml import write_xml
from promoflow.processmining.xes import write_xes

OCEL_FORMATS = ("json", "sqlite", "xml")


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    events: int
    objects: int
    traces: int = 0


def parse_moment(field: str, text: str) -> datetime:
    """An ISO 8601 time with its offset (or a date, meaning its midnight UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            field,
            text,
            "not an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T08:00:00+00:00",
        ) from None
    if moment.tzinfo is None:
        if len(text) > len("2026-12-01"):
            raise InvalidInput(field, text, "give a time zone offset, e.g. +00:00")
        return moment.replace(tzinfo=UTC)
    return moment


def check_format(fmt: str) -> None:
    """InvalidInput unless `fmt` is an OCEL 2.0 format promoflow writes."""
    if fmt not in OCEL_FORMATS:
        choices = ", ".join(OCEL_FORMATS)
        raise InvalidInput("format", fmt, f"unknown OCEL format; choose one of {choices}")


def check_window(since: datetime | None, until: datetime | None) -> None:
    """InvalidInput unless the window [since, until) holds some time."""
    if since is not None and until is not None and since >= until:
        raise InvalidInput("until", until.isoformat(), f"must be after --since {since.isoformat()}")


def export_ocel(
    session: Session,
    fmt: str,
    output: Path,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ExportSummary:
    """Write the object-centric log in `fmt` (json, sqlite or xml) to `output`."""
    check_format(fmt)
    check_window(since, until)
    with _Staged(output) as staged:
        log = build_log(session, since, until)
        if fmt == "sqlite":
            write_sqlite(log, staged.path)
        else:
            staged.write_text(write_json if fmt == "json" else write_xml, log)
    return ExportSummary(output, log.event_count, log.object_count)


def export_xes(
    session: Session,
    output: Path,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ExportSummary:
    """Write one XES trace per promotion revision to `output`."""
    check_window(since, until)
    with _Staged(output) as staged:
        log = build_log(session, since, until)
        staged.write_text(write_xes, log)
    keys = log.events.get_column("revision_key").drop_nulls()
    return ExportSummary(output, keys.len(), log.object_count, keys.n_unique())


class _Staged:
    """A temporary file beside `output`, renamed onto it only when the block succeeds."""

    def __init__(self, output: Path) -> None:
        self.output = output
        if output.is_dir():
            raise InvalidInput("output", str(output), "is a folder; give a file name")
        if not output.parent.is_dir():
            raise InvalidInput("output", str(output), f"folder {output.parent} does not exist")
        try:
            handle, name = tempfile.mkstemp(
                prefix=f".{output.name}.", suffix=".partial", dir=output.parent
            )
        except OSError as error:
            raise InvalidInput(
                "output", str(output), f"cannot write there ({error.strerror})"
            ) from None
        os.close(handle)
        self.path = Path(name)

    def __enter__(self) -> _Staged:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            os.replace(self.path, self.output)
        else:
            self.path.unlink(missing_ok=True)

    def write_text(
        self, writer: Callable[[ObjectCentricLog, IO[str]], None], log: ObjectCentricLog
    ) -> None:
        with self.path.open("w", encoding="utf-8", newline="\n") as handle:
            writer(log, handle)
