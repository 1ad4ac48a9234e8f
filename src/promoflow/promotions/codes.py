"""A promotion's code: the client's, or the next generated one, never one already taken.

The unique index on `promotions.code` is the arbiter. Two creates at the same instant
on PostgreSQL (READ COMMITTED) can draw the same generated code: the second insert
waits for the first, fails on the index, and draws again inside its own savepoint, so
both creates succeed with different codes. On SQLite the write lock serialises them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from promoflow.kit.errors import Conflict, InvalidInput
from promoflow.promotions import repository
from promoflow.promotions.models import Promotion

# Each retry means another create committed the code in between; a handful is plenty.
ATTEMPTS = 5
CODE_LENGTH = 40  # promotions.code is String(40)


def insert_with_code(
    session: Session, build: Callable[[str], Promotion], chosen: str | None
) -> Promotion:
    """Insert `build(code)` under `chosen`, or under the next free generated code."""
    for _ in range(ATTEMPTS):
        code = chosen or _generated(session)
        if repository.get_by_code(session, code) is not None:
            if chosen:
                raise _taken(chosen)
            continue
        promotion = build(code)
        try:
            with session.begin_nested():
                session.add(promotion)
                session.flush()
        except IntegrityError:
            # Another transaction committed this code after our look-up; anything
            # else the insert broke is not ours to explain here.
            if repository.get_by_code(session, code) is None:
                raise
            if chosen:
                raise _taken(chosen) from None
            continue
        return promotion
    raise Conflict(
        f"no free promotion code after {ATTEMPTS} attempts while other promotions were being "
        "created; retry, or give a code"
    )


def _generated(session: Session) -> str:
    code = repository.next_code(session)
    if len(code) > CODE_LENGTH:
        raise Conflict(
            f"the next generated code would be longer than {CODE_LENGTH} characters (a code "
            f"near {code[:20]}... is in use); give a code"
        )
    return code


def _taken(code: str) -> InvalidInput:
    return InvalidInput("code", code, "a promotion with this code already exists")
