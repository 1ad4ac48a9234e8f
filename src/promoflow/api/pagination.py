"""Cursor pagination of every list route: `limit`, an opaque `cursor`, `next_cursor` and Link.

A cursor holds the sort key of the last row of the page it came with (see
kit/keyset.py) and a digest of the route and filters it was made for, so the next
page asks the database for the rows after that row, and a cursor used with other
filters is refused (422 naming `cursor`) rather than silently paging another list.

The cursor is checksummed, not signed: a client that forges one can only choose
where a list it may already read starts, with the filters it already sends, so a
server secret would guard nothing; the checksum catches a cursor cut short,
mistyped or edited by hand.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel

from promoflow.api.deps import OMITTABLE
from promoflow.api.routing import route_template
from promoflow.api.schemas import CursorPage, Page
from promoflow.kit.bounds import MAX_PAGE
from promoflow.kit.errors import InvalidInput
from promoflow.kit.keyset import SortKey, rows_after

Row = TypeVar("Row")
Model = TypeVar("Model", bound=BaseModel)
DEFAULT_PAGE = 100
# Long enough for a sort key of a few codes and a timestamp, far below any URL limit.
MAX_CURSOR = 512
_CHECK = 16  # hex digits of the checksum and of the filters' digest
_PAGING = frozenset({"limit", "cursor"})


def _tagged(value: int | str | datetime) -> list[Any]:
    if isinstance(value, bool):  # a bool is an int to Python; no sort key holds one
        raise TypeError("a sort key holds no booleans")
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, str):
        return ["s", value]
    return ["t", value.isoformat()]


def _untagged(item: Any) -> int | str | datetime:
    match item:
        case ["i", int() as number] if not isinstance(number, bool):
            return number
        case ["s", str() as text]:
            return text
        case ["t", str() as moment]:
            stamp = datetime.fromisoformat(moment)
            if stamp.tzinfo is None:
                raise ValueError("a time without its offset")
            return stamp
    raise ValueError(f"an unreadable sort key value {item!r}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:_CHECK]


def encode_cursor(key: SortKey, binding: str) -> str:
    """The opaque cursor of the page after the row whose sort key is `key`."""
    payload = json.dumps([binding, [_tagged(value) for value in key]], separators=(",", ":"))
    token = f"{payload}{_digest(payload)}".encode()
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode()


def decode_cursor(cursor: str, binding: str) -> SortKey:
    """The sort key a cursor holds; InvalidInput naming `cursor` when it is not one of ours
    or was made for other filters."""
    try:
        token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        payload, check = token[:-_CHECK], token[-_CHECK:]
        if len(token) <= _CHECK or _digest(payload) != check:
            raise ValueError("checksum")
        made_for, values = json.loads(payload)
        key = tuple(_untagged(item) for item in values)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput(
            "cursor", cursor, "is not a cursor this list gave out; pass next_cursor unchanged"
        ) from None
    if made_for != binding or not key:
        raise InvalidInput(
            "cursor",
            cursor,
            "was made for other filters: page with the filters it came with, "
            "or drop the cursor to start again",
        )
    return key


def filters_binding(request: Request) -> str:
    """A digest of the route, its path parameters and its filters (every query parameter
    but limit and cursor): what a cursor is valid for."""
    template = route_template(request.scope)
    filters = sorted((k, v) for k, v in request.query_params.multi_items() if k not in _PAGING)
    path = sorted((k, str(v)) for k, v in request.path_params.items())
    return _digest(json.dumps([template, path, filters]))


@dataclass(frozen=True)
class PageParams:
    """The page a list route was asked for, and how to answer it."""

    limit: int
    after: SortKey | None
    binding: str
    request: Request
    response: Response
    cursor: str | None = None

    def position(self, *types: type) -> tuple[Any, ...] | None:
        """The sort key the cursor holds, checked to be of these types (None: first page)."""
        if self.after is None:
            return None
        if len(self.after) != len(types) or not all(
            isinstance(value, kind) and not isinstance(value, bool)
            for value, kind in zip(self.after, types, strict=True)
        ):
            raise InvalidInput("cursor", self.cursor, "is not a cursor this list gave out")
        return self.after

    def after_id(self) -> int | None:
        """The id the cursor holds, for a list ordered by id (None: first page)."""
        key = self.position(int)
        return None if key is None else int(key[0])

    def after_code(self) -> str | None:
        """The code the cursor holds, for a list ordered by a code or name (None: first page)."""
        key = self.position(str)
        return None if key is None else str(key[0])

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than the page, to learn whether another page follows."""
        return self.limit + 1

    def slice(
        self, rows: Sequence[Row], key: Callable[[Row], SortKey], *, descending: bool = False
    ) -> list[Row]:
        """From a list a service returned whole and ordered by `key`: this page's rows and
        the next one's first (what `fetch` would have returned)."""
        if self.after is not None and rows:
            self.position(*(type(value) for value in key(rows[0])))  # a key of this list's shape
        return rows_after(rows, key, self.after, descending=descending)[: self.fetch]

    def cut(
        self, rows: Sequence[Row], key: Callable[[Row], SortKey]
    ) -> tuple[list[Row], str | None]:
        """This page's rows of the `fetch` asked for, and the next page's cursor (None at
        the end); the Link header points at the next page."""
        shown = list(rows[: self.limit])
        if len(rows) <= self.limit or not shown:
            return shown, None
        next_cursor = encode_cursor(key(shown[-1]), self.binding)
        next_url = self.request.url.include_query_params(cursor=next_cursor)
        self.response.headers["Link"] = f'<{next_url}>; rel="next"'
        return shown, next_cursor

    def of(
        self,
        model: type[Model],
        rows: Sequence[Row],
        total: int,
        key: Callable[[Row], SortKey],
    ) -> Page[Model]:
        """A Page of `model` from the rows fetched for it (ORM rows, dicts or models)."""
        shown, next_cursor = self.cut(rows, key)
        items = [model.model_validate(row) for row in shown]
        return Page[Model](items=items, total=total, limit=self.limit, next_cursor=next_cursor)

    def without_total(
        self, model: type[Model], rows: Sequence[Row], key: Callable[[Row], SortKey]
    ) -> CursorPage[Model]:
        """The same, for a list whose total would cost a count of its own."""
        shown, next_cursor = self.cut(rows, key)
        items = [model.model_validate(row) for row in shown]
        return CursorPage[Model](items=items, limit=self.limit, next_cursor=next_cursor)


def page_params(
    request: Request,
    response: Response,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description=f"rows per page, at most {MAX_PAGE}")
    ] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="next_cursor of the previous page, unchanged; omit for the first page",
        ),
        OMITTABLE,
    ] = None,
) -> PageParams:
    """The `limit` and `cursor` query parameters of every list route."""
    if "offset" in request.query_params:  # a client written for the old pages
        raise InvalidInput(
            "offset",
            request.query_params["offset"],
            "lists page by cursor now: drop offset and pass each page's next_cursor as cursor",
        )
    binding = filters_binding(request)
    after = decode_cursor(cursor, binding) if cursor is not None else None
    return PageParams(limit, after, binding, request, response, cursor)


Pagination = Annotated[PageParams, Depends(page_params)]
