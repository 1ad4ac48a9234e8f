"""The drop folder: list, read and check files, and move them to archive/ or rejected/.

A file is read and checked whole before anything of it is returned, so a bad file
is refused whole: it moves to rejected/ next to a `.reason.txt` naming the file,
row, column and value, and MalformedPayload carries the same. File system calls run
under the connection's Guard (a network share can fail for a moment).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import polars as pl

from promoflow.connectors.ports import ConnectorUnavailable, MalformedPayload
from promoflow.connectors.resilience import Guard

from .schema import BadValue, FileKind

T = TypeVar("T")
FOLDERS = ("inbox", "outbox", "archive", "rejected")


@dataclass(frozen=True)
class Refusal:
    """Why a file is refused: where, and what."""

    file: str
    row: int | None  # 1 = the first row after the header
    column: str
    value: Any
    reason: str

    def message(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return (
            f"file {self.file}: {where}column {self.column!r}, value {self.value!r}: "
            f"{self.reason}; nothing of this file was applied"
        )


class DropFolder:
    """inbox/, outbox/, archive/ and rejected/ under one root."""

    def __init__(
        self, root: Path, *, system: str, guard: Guard, encoding: str, delimiter: str
    ) -> None:
        self.root = root
        self.system = system
        self.guard = guard
        # utf-8-sig reads files with or without the byte order mark spreadsheets write.
        self.encoding = "utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding
        self.delimiter = delimiter

    def folder(self, name: str) -> Path:
        return self.root / name

    def io(self, operation: str, fn: Callable[[], T]) -> T:
        """Run a file system call under the Guard; OSError is retryable."""

        def attempt() -> T:
            try:
                return fn()
            except OSError as error:
                raise ConnectorUnavailable(self.system, f"{operation}: {error}") from error

        return self.guard.call(operation, attempt)

    def check(self) -> str:
        def probe() -> str:
            missing = [name for name in FOLDERS if not self.folder(name).is_dir()]
            if missing:
                raise FileNotFoundError(
                    f"{self.root} lacks {', '.join(f'{m}/' for m in missing)}; "
                    "create them or point root at the drop folder"
                )
            marker = self.folder("outbox") / f".promoflow-check-{os.getpid()}"
            marker.write_text("ok", encoding="utf-8")
            marker.unlink()
            waiting = len([p for p in self.folder("inbox").iterdir() if p.is_file()])
            return f"{self.root}: folders present, outbox writable, {waiting} file(s) in inbox"

        return self.io("check drop folder", probe)

    def waiting(self, kind: FileKind, *, folder: str = "inbox") -> list[Path]:
        """Files of `kind` in `folder`, in name order."""
        return self.io(
            f"list {folder}",
            lambda: sorted(
                (p for p in self.folder(folder).iterdir() if p.is_file() and kind.matches(p.name)),
                key=lambda p: p.name,
            ),
        )

    def read(self, kind: FileKind, path: Path, *, reject: bool = True) -> list[dict[str, Any]]:
        """Every row of the file checked and typed; a bad file is refused whole."""
        frame = self.io(f"read {path.name}", lambda: self._frame(kind, path))
        if isinstance(frame, Refusal):
            self._refuse(path, frame, reject)
        refusal, rows = _check_rows(kind, path.name, frame)
        if refusal is not None:
            self._refuse(path, refusal, reject)
        return rows

    def _frame(self, kind: FileKind, path: Path) -> pl.DataFrame | Refusal:
        if path.suffix == ".parquet":
            try:
                return pl.read_parquet(path)
            except (pl.exceptions.PolarsError, OSError) as error:
                return Refusal(
                    path.name, None, "(file)", path.suffix, f"not readable Parquet: {error}"
                )
        raw = path.read_bytes()
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as error:
            excerpt = raw[max(error.start - 20, 0) : error.end + 20]
            return Refusal(
                path.name, None, "(encoding)", excerpt, f"not {self.encoding} at byte {error.start}"
            )
        try:
            return pl.read_csv(
                io.BytesIO(text.encode("utf-8")),
                separator=self.delimiter,
                infer_schema=False,
                truncate_ragged_lines=False,
            )
        except pl.exceptions.PolarsError as error:
            return Refusal(path.name, None, "(file)", path.suffix, f"not readable CSV: {error}")

    def _refuse(self, path: Path, refusal: Refusal, move: bool) -> NoReturn:
        message = refusal.message()
        if move:
            self.io(f"reject {path.name}", lambda: self._move_to_rejected(path, message))
        raise MalformedPayload(
            self.system,
            message,
            payload={
                "file": refusal.file,
                "row": refusal.row,
                "column": refusal.column,
                "value": None if refusal.value is None else str(refusal.value),
            },
            field=refusal.column,
            value=refusal.value,
        )

    def _move_to_rejected(self, path: Path, message: str) -> None:
        target = self.folder("rejected") / path.name
        os.replace(path, target)
        reason = target.with_name(target.name + ".reason.txt")
        reason.write_text(message + "\n", encoding="utf-8")

    def archive(self, paths: list[Path]) -> None:
        """Move applied files to archive/ (a same-name file there is replaced)."""
        archive = self.folder("archive")
        for path in paths:

            def move(path: Path = path) -> None:
                _move(path, archive)

            self.io(f"archive {path.name}", move)

    def write_atomically(self, target: Path, frame: pl.DataFrame) -> None:
        """Write a CSV so a reader sees the whole file or none: temp file, fsync, rename."""

        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp")
            try:
                with temporary.open("wb") as handle:
                    frame.write_csv(handle, separator=self.delimiter)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)

        self.io(f"write {target.name}", write)


def _move(path: Path, folder: Path) -> None:
    # A retried archive finds the file already moved: that is done, not an error.
    if path.exists():
        os.replace(path, folder / path.name)


def _check_rows(
    kind: FileKind, file_name: str, frame: pl.DataFrame
) -> tuple[Refusal | None, list[dict[str, Any]]]:
    present = set(frame.columns)
    for column in kind.columns:
        if column.required and column.name not in present:
            return Refusal(
                file_name,
                None,
                column.name,
                None,
                f"required column missing; the file has {', '.join(frame.columns) or 'none'}",
            ), []
    wanted = [c for c in kind.columns if c.name in present]
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for number, raw in enumerate(frame.select([c.name for c in wanted]).iter_rows(named=True), 1):
        row: dict[str, Any] = {}
        for column in kind.columns:
            value = raw.get(column.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if column.required:
                    return Refusal(file_name, number, column.name, value, "is required"), []
                row[column.name] = column.default
                continue
            try:
                row[column.name] = column.parse(value)
            except BadValue as error:
                return Refusal(file_name, number, column.name, value, str(error)), []
        key = tuple(row[name] for name in kind.key)
        if key in seen:
            return Refusal(
                file_name,
                number,
                "+".join(kind.key),
                "/".join(str(part) for part in key),
                f"duplicate key; row {seen[key]} has it too",
            ), []
        seen[key] = number
        rows.append(row)
    return None, rows
