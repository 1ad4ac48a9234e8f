"""Entity tags and If-Match: a change applies only to the version of a row the client saw.

A versioned row (`row_version`, bumped and checked by SQLAlchemy on every ORM UPDATE)
has a strong ETag naming its table, key and version. A command checks the client's
If-Match against it inside its own transaction, after the row lock it takes anyway,
so no change can slip in between the check and the write; and if one did through a
path without that lock, the UPDATE's `WHERE row_version = ...` refuses it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from promoflow.kit.errors import PreconditionFailed

ANY = "*"


def entity_tag(row: Any, *more: Any) -> str:
    """The strong ETag of a versioned ORM row; `more` adds what else its representation
    shows (a connection's live health), digested."""
    table = row.__tablename__
    key = "-".join(str(part) for part in sa.inspect(row).identity or ())
    tag = f"{table}.{key}.v{row.row_version}"
    if more:
        digest = hashlib.sha256(json.dumps(more, sort_keys=True, default=str).encode())
        tag += "." + digest.hexdigest()[:12]
    return f'"{tag}"'


@dataclass(frozen=True)
class Precondition:
    """An If-Match header: the entity tags (or `*`) a change is conditional on."""

    tags: tuple[str, ...]

    def holds_for(self, current: str) -> bool:
        """Strong comparison (RFC 9110 13.1.1): a weak tag never matches."""
        return ANY in self.tags or current in self.tags

    def check(self, current: str, what: str) -> None:
        """PreconditionFailed naming the current ETag unless the client saw this version."""
        if not self.holds_for(current):
            raise PreconditionFailed(
                f"{what} changed since you read it (If-Match {', '.join(self.tags)}; its "
                f"ETag is now {current}): read it again, check the change still applies, "
                "and send that ETag",
                etag=current,
            )


def check(precondition: Precondition | None, row: Any, what: str, *more: Any) -> None:
    """Check an optional If-Match against a row read (and locked) in this transaction."""
    if precondition is not None:
        precondition.check(entity_tag(row, *more), what)
