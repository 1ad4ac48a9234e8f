"""Conditional requests (RFC 9110 section 13): ETag on reads, If-None-Match, If-Match on changes.

Every mutable resource's read answers with a strong ETag (its row's version, see
kit/preconditions.py) and 304 when If-None-Match already names it. Every change to
one accepts If-Match: the command compares it inside its own transaction, after
the row lock, and a stale one is a 412 naming the current ETag with nothing written.

`NEEDS_IF_MATCH` lists the changes that refuse to run without If-Match (428): those
where a lost update silently overwrites another person's edit, namely revising a
promotion's terms and editing a recommendation's quantities. The other changes are
state transitions the services already serialise (a second decision on a task is a
409 naming who decided), so If-Match there is optional.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from promoflow.api.deps import OMITTABLE
from promoflow.api.problems import problem_responses
from promoflow.api.routing import route_template
from promoflow.kit.errors import InvalidInput, PreconditionRequired
from promoflow.kit.preconditions import ANY, Precondition

# "METHOD path template" of each change that needs If-Match: the one list (see above).
NEEDS_IF_MATCH = frozenset(
    {
        "POST /api/v1/promotions/{ref}/revisions",
        "POST /api/v1/recommendations/{recommendation_id}/edit",
    }
)
MAX_HEADER = 2000
# An entity tag: optionally weak, then quoted printable characters except `"`.
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
_TAG = re.compile(_ENTITY_TAG)
# The header as the document declares it: `*`, or entity tags separated by commas.
TAG_LIST = rf"^(?:\*|{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*)$"
_ETAG_HEADER = {
    "ETag": {
        "description": "the resource's strong entity tag; send it as If-Match to change it",
        "schema": {"type": "string"},
    }
}


def _tags(field: str, value: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in value.split(","))
    if items == (ANY,):
        return items
    if not items or not all(_TAG.fullmatch(item) for item in items):
        raise InvalidInput(
            field,
            value,
            'must be * or entity tags as the ETag header gave them, quotes included, e.g. "…"',
        )
    return items


def if_match(
    request: Request,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=MAX_HEADER,
            pattern=TAG_LIST,
            description=(
                "the ETag the change is based on; a stale one is a 412. Required (428 "
                "without it) to revise a promotion and to edit a recommendation"
            ),
        ),
        OMITTABLE,
    ] = None,
) -> Precondition | None:
    """The change's If-Match, or 428 when its route is in NEEDS_IF_MATCH and it has none."""
    if if_match is None:
        if f"{request.method} {route_template(request.scope)}" in NEEDS_IF_MATCH:
            raise PreconditionRequired(
                "this change needs If-Match, so that it cannot overwrite an edit made since "
                "you read the resource: GET it, and send its ETag header as If-Match"
            )
        return None
    return Precondition(_tags("If-Match", if_match))


def if_none_match(
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            max_length=MAX_HEADER,
            pattern=TAG_LIST,
            description="ETags the client holds; 304 Not Modified when one is current",
        ),
        OMITTABLE,
    ] = None,
) -> tuple[str, ...] | None:
    """The read's If-None-Match entity tags (None without the header)."""
    return None if if_none_match is None else _tags("If-None-Match", if_none_match)


IfMatch = Annotated[Precondition | None, Depends(if_match)]
IfNoneMatch = Annotated[tuple[str, ...] | None, Depends(if_none_match)]


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def tagged(response: Response, tag: str, held: tuple[str, ...] | None = None) -> Response | None:
    """Put the ETag on the answer; a 304 to send instead when the client holds it already
    (weak comparison, as RFC 9110 13.1.2 asks for If-None-Match)."""
    response.headers["ETag"] = tag
    if held is not None and (ANY in held or _opaque(tag) in {_opaque(h) for h in held}):
        return Response(status_code=304, headers={"ETag": tag})
    return None


def read_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a read of a mutable resource: ETag, 304 and these problems."""
    return {
        200: {"headers": _ETAG_HEADER},
        304: {"description": "Not modified: If-None-Match names the current ETag"},
        **problem_responses(*statuses),
    }


def change_responses(status: int, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a change to a mutable resource answering `status`: the new
    ETag, 412 (stale If-Match), 428 (If-Match missing where needed) and these problems."""
    return {status: {"headers": _ETAG_HEADER}, **problem_responses(412, 428, *statuses)}
