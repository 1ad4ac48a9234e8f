"""Integrations: installed connectors, connections with health and circuit, dead letters.

The whole retailer's (as GET /api/v1/connections): a person scoped to some banners
is refused, as the API refuses them. Replay and discard go through the same
dead-letter commands as POST /dead-letters/{letter_id}/replay and /discard, and
answer 2xx so the audit trail records them as it records the API's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from promoflow.api import deps
from promoflow.api.deps import IdPath
from promoflow.api.v1.integration import SEES_SETTINGS
from promoflow.identity.sessions import SignedIn
from promoflow.integration import deadletters
from promoflow.integration import service as connections
from promoflow.integration import sync as _sync  # noqa: F401  (registers the sync replayer)
from promoflow.integration.schemas import DEAD_LETTER_KINDS, DEAD_LETTER_STATUSES
from promoflow.kit.bounds import Text
from promoflow.kit.db import reading
from promoflow.kit.errors import InvalidInput
from promoflow.web.access import ConnectionsReader, Mirror, allowed
from promoflow.web.templating import render

router = APIRouter()

REPLAY = "POST /dead-letters/{letter_id}/replay"
DISCARD = "POST /dead-letters/{letter_id}/discard"
LETTERS_SHOWN = 50
ANY = "any"
REASON = Text(2000, min_length=1, lines=True)
Replayer = Annotated[SignedIn, Mirror(REPLAY)]
Discarder = Annotated[SignedIn, Mirror(DISCARD)]


def _choice(field: str, value: str, choices: tuple[str, ...]) -> str:
    value = value.strip()
    if value and value not in choices:
        raise InvalidInput(field, value, f"must be one of {', '.join(choices)}")
    return value


def letter_filters(status: str = "open", kind: str = "", source: str = "") -> dict[str, str]:
    """The dead letters' filters from the URL (status open by default, `any` for all)."""
    source = source.strip()
    if len(source) > 80:
        raise InvalidInput("source", source[:80], "at most 80 characters")
    return {
        "status": _choice("status", status, (*DEAD_LETTER_STATUSES, ANY)) or "open",
        "kind": _choice("kind", kind, DEAD_LETTER_KINDS),
        "source": source,
    }


def _timed(view: Any, *fields: str) -> dict[str, Any]:
    """The view with its ISO moments as datetimes, for `when()` (the person's zone)."""
    return {
        **view,
        **{name: datetime.fromisoformat(view[name]) for name in fields if view.get(name)},
    }


LetterFilters = Annotated[dict[str, str], Depends(letter_filters)]


def _letters(request: Request, user: SignedIn, filters: dict[str, str]) -> dict[str, Any]:
    with reading(deps.read_sessions()) as session:
        letters = deadletters.list_dead_letters(
            session,
            status=None if filters["status"] == ANY else filters["status"],
            kind=filters["kind"] or None,
            source=filters["source"] or None,
            limit=LETTERS_SHOWN,
        )
        views = [_timed(deadletters.as_dict(letter), "created_at") for letter in letters]
    return {
        "user": user,
        "letters": views,
        "letter_filters": filters,
        "statuses": (*DEAD_LETTER_STATUSES, ANY),
        "kinds": DEAD_LETTER_KINDS,
        "shown": LETTERS_SHOWN,
        "may_replay": allowed(request, user.principal, REPLAY),
        "may_discard": allowed(request, user.principal, DISCARD),
    }


def _page_values(request: Request, user: SignedIn, filters: dict[str, str]) -> dict[str, Any]:
    with reading(deps.read_sessions()) as session:
        rows = [
            {**row, "health": _timed(dict(row["health"]), "last_success_at", "last_failure_at")}
            for row in connections.list_connections(session)
        ]
    sees_settings = user.principal.role in SEES_SETTINGS
    return {
        "connectors": connections.list_installed(),
        "connections": rows,
        "sees_settings": sees_settings,
        **_letters(request, user, filters),
    }


@router.get("/integrations")
def integrations(request: Request, user: ConnectionsReader, filters: LetterFilters) -> Response:
    """Connectors, connections with their health and circuit, and the dead letters."""
    return render(
        request,
        "integrations.html",
        section="Integrations",
        notice="",
        **_page_values(request, user, filters),
    )


def _answer(request: Request, user: SignedIn, notice: str) -> Response:
    """The dead letters again (htmx), or the whole page, with what was done."""
    filters = letter_filters()
    if request.headers.get("HX-Request"):
        values = _letters(request, user, filters)
        return render(request, "integrations_letters.html", notice=notice, **values)
    values = _page_values(request, user, filters)
    return render(request, "integrations.html", section="Integrations", notice=notice, **values)


@router.post("/integrations/dead-letters/{letter_id}/replay")
def replay(request: Request, user: Replayer, letter_id: IdPath) -> Response:
    """Apply the letter again through its operation (409 when it cannot be)."""
    letter = deadletters.replay(deps.command_sessions(), letter_id, user.principal.name)
    return _answer(request, user, f"Dead letter {letter.id} replayed: {letter.resolution_detail}")


@router.post("/integrations/dead-letters/{letter_id}/discard")
def discard(
    request: Request,
    user: Discarder,
    letter_id: IdPath,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Close the letter without applying it; the reason is kept."""
    try:
        reason = REASON.validate(reason.strip())
    except ValueError as error:
        raise InvalidInput("reason", reason[:80], f"say why it is discarded: {error}") from None
    letter = deadletters.discard(deps.command_sessions(), letter_id, user.principal.name, reason)
    return _answer(request, user, f"Dead letter {letter.id} discarded.")
