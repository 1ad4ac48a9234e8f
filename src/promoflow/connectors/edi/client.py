"""The EDI connector's client: the drop-folder transport of one trading partner, and the
state kept beside it.

EDI has no API to call: exchanging files in agreed folders is the protocol, so this
transport plays the part the HTTP client plays for the other connectors, every
operation under the connection's Guard.

Partners (or their VAN/AS2 gateway — we speak no AS2 ourselves) put interchanges
in `inbox/` and pick ours up from `outbox/`. Every write is a temporary dot-file
renamed into place, so a partner never reads half a file and must ignore
dot-files. The `state/` folder holds the control-number counter and the ledger
of what each idempotency key sent; it is ours alone.

File-system errors that can pass (EIO on a network share, a stale handle, a
timeout) are raised as retryable ConnectorUnavailable so the Guard retries them;
a missing folder or a permission error needs a person and is not retried.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable
from promoflow.connectors.resilience import Guard

T = TypeVar("T")
TRANSIENT = {errno.EIO, errno.EAGAIN, errno.ETIMEDOUT, errno.ESTALE, errno.EINTR, errno.EBUSY}


@dataclass(frozen=True)
class InboundFile:
    """A file waiting in the inbox: its name, content and size when read."""

    name: str
    text: str


class DropFolders:
    """inbox/outbox/archive/rejected/state for one partner, every operation under the Guard."""

    def __init__(self, system: str, guard: Guard, folders: dict[str, Path]) -> None:
        self.system = system
        self.guard = guard
        self.inbox = folders["inbox"]
        self.outbox = folders["outbox"]
        self.archive = folders["archive"]
        self.rejected = folders["rejected"]
        self.state = folders["state"]

    def _io(self, operation: str, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return fn()
            except OSError as error:
                retryable = error.errno in TRANSIENT
                cls = ConnectorUnavailable if retryable else ConnectorError
                raise cls(self.system, f"{operation}: {error}", retryable=retryable) from error

        return self.guard.call(operation, attempt)

    def check(self) -> str:
        """Every folder exists and takes a file; the detail names them."""
        for name, folder in self.named().items():
            if not folder.is_dir():
                raise ConnectorError(
                    self.system,
                    f"{name} folder {folder} does not exist: create it",
                    retryable=False,
                )
            probe = folder / f".promoflow-probe-{os.getpid()}"
            try:
                probe.write_text("probe", encoding="ascii")
                probe.unlink()
            except OSError as error:
                raise ConnectorError(
                    self.system, f"{name} folder {folder} is not writable: {error}", retryable=False
                ) from None
        return ", ".join(f"{k}={v}" for k, v in self.named().items())

    def named(self) -> dict[str, Path]:
        return {
            "inbox": self.inbox,
            "outbox": self.outbox,
            "archive": self.archive,
            "rejected": self.rejected,
            "state": self.state,
        }

    def pending(self) -> list[InboundFile]:
        """Files waiting in the inbox, oldest first (dot-files are writes still in progress)."""

        def read() -> list[InboundFile]:
            paths = [p for p in self.inbox.iterdir() if p.is_file() and not p.name.startswith(".")]
            paths.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
            # latin-1 maps every byte, so a stray byte reaches the parser (and is named) instead
            # of failing the whole inbox with a UnicodeDecodeError.
            return [InboundFile(p.name, p.read_text(encoding="latin-1")) for p in paths]

        return self._io("read inbox", read)

    def archive_file(self, name: str) -> None:
        """Move a processed inbound file to archive/."""
        self._io("archive", lambda: self._move(self.inbox / name, self.archive / name))

    def reject_file(self, name: str, reason: str) -> None:
        """Move a malformed inbound file to rejected/, with `<name>.reason.txt` beside it."""

        def reject() -> None:
            _write_atomic(self.rejected / f"{name}.reason.txt", reason + "\n")
            self._move(self.inbox / name, self.rejected / name)

        self._io("reject", reject)

    def write_outbound(self, name: str, content: str) -> None:
        """Place an interchange in the outbox atomically (same name, same bytes on a retry)."""
        self._io("write outbox", lambda: _write_atomic(self.outbox / name, content))

    @staticmethod
    def _move(source: Path, target: Path) -> None:
        if target.exists():  # a file of the same name was archived before: keep both
            target = target.with_name(
                f"{target.stem}.{os.getpid()}.{source.stat().st_mtime_ns}{target.suffix}"
            )
        os.replace(source, target)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise counter and ledger updates across threads and processes (flock)."""
        handle = self._io("lock state", lambda: (self.state / ".lock").open("a"))
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def next_control_number(self) -> int:
        """The next interchange control number (1..999999999, then wraps); call under `locked()`."""
        path = self.state / "control-number"

        def bump() -> int:
            current = int(path.read_text(encoding="ascii").strip() or 0) if path.exists() else 0
            number = current % 999_999_999 + 1
            _write_atomic(path, f"{number}\n")
            return number

        return self._io("control number", bump)

    def ledger_entry(self, kind: str, key_digest: str) -> dict[str, Any] | None:
        path = self.state / "sent" / kind / f"{key_digest}.json"

        def read() -> dict[str, Any] | None:
            if not path.exists():
                return None
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded

        return self._io("read ledger", read)

    def write_ledger(self, kind: str, key_digest: str, entry: dict[str, Any]) -> None:
        path = self.state / "sent" / kind / f"{key_digest}.json"

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, json.dumps(entry, sort_keys=True, indent=1))

        self._io("write ledger", write)


def _write_atomic(path: Path, content: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="latin-1", newline="") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
