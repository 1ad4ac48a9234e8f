"""Who is at the console: sign-in with what the API accepts, then a session cookie.

- **Sign in** with an API key (`promoflow auth keys create`) or an access token of
  the configured issuer: the same `Authenticator` as /api/v1 checks it, so the
  console signs in through the governed API's identities, roles and banners.
- **In development only**, a role picker signs in as any role for every banner
  (no credential), so a newcomer can try each role's console.
- The browser keeps a random token in an HttpOnly, SameSite=Strict cookie
  (Secure in production); identity/sessions.py keeps its hash. Every change
  (POST) must carry the session's form token (a hidden field, or htmx's
  X-CSRF-Token header), so another site cannot make a signed-in browser act.
"""

from __future__ import annotations

import hmac
import time
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from promoflow.api import deps
from promoflow.api.auth import CONSOLE_SESSION_COOKIE, Authenticator, verified_credentials
from promoflow.api.problems import Unauthenticated
from promoflow.audit import context as audit_context
from promoflow.audit.schemas import Actor as AuditActor
from promoflow.identity import sessions
from promoflow.identity.schemas import EVERY_BANNER, AuthMethod, Principal
from promoflow.identity.sessions import OpenedSession, SignedIn
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading, transaction
from promoflow.kit.errors import Forbidden, InvalidInput
from promoflow.kit.roles import Role

SESSION_COOKIE = CONSOLE_SESSION_COOKIE
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_LIFETIME = timedelta(hours=8)  # a working day; sign in again tomorrow
MAX_CREDENTIAL = 4096
MAX_NAME = 80


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sign_in_url(next_path: str) -> str:
    """The sign-in page, coming back to `next_path` (a local path only) afterwards."""
    return "/sign-in?next=" + quote(safe_next(next_path), safe="/")


def safe_next(next_path: str | None) -> str:
    """A local path to go to after signing in; anything else (another site) goes home."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return "/"
    if "\\" in next_path or len(next_path) > 512:
        return "/"
    return next_path


def from_this_site(request: Request) -> bool:
    """False when a browser says the form came from another site (its Origin header).

    The sign-in form has no session, hence no form token: this keeps another site
    from signing a browser in as someone else (login CSRF). A request without
    Origin (a non-browser client, an old browser) is let through.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _tell_audit(principal: Principal) -> None:
    holder = audit_context.current()
    if holder is not None:
        holder.actor = AuditActor(
            name=principal.name,
            role=principal.role,
            subject=principal.subject,
            banners=tuple(principal.banners.as_list()),
        )


async def offered_form_token(request: Request) -> str:
    """The form token a change carries: htmx's header, or the form's hidden field."""
    if request.method != "POST":
        return ""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()  # Starlette keeps it: the route's Form fields reuse it
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def signed_in(
    request: Request, form_token: Annotated[str, Depends(offered_form_token)]
) -> SignedIn:
    """The request's live session; SignInRequired (a redirect) when there is none."""
    token = request.cookies.get(SESSION_COOKIE, "")
    found = None
    if token:
        with reading(deps.read_sessions()) as session:
            found = sessions.resolve_session(session, token, now=utcnow())
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    request.state.principal = found.principal
    # The rate limiter keys this browser by its person from now on (api/ratelimit.py).
    verified_credentials.remember(token, found.principal, time.monotonic())
    _tell_audit(found.principal)
    if request.method == "POST":
        _check_form_token(form_token, found)
    return found


def _check_form_token(offered: str, found: SignedIn) -> None:
    if not offered or not hmac.compare_digest(offered, found.csrf_token):
        raise Forbidden(
            "this form is out of date or came from another site: reload the page and try again"
        )


SessionUser = Annotated[SignedIn, Depends(signed_in)]


def authenticate(request: Request, credential: str) -> Principal:
    """The principal of an API key or access token typed into the sign-in form."""
    credential = credential.strip()
    if not credential:
        raise InvalidInput("credential", "", "paste an API key or an access token")
    if len(credential) > MAX_CREDENTIAL:
        raise InvalidInput("credential", f"{len(credential)} characters", "too long")
    authenticator: Authenticator = request.app.state.authenticator
    try:
        if credential.count(".") == 2 and " " not in credential:
            return authenticator.bearer(credential)
        return authenticator.api_key(credential)
    except Unauthenticated:
        raise InvalidInput(
            "credential", "(hidden)", "not a valid API key or access token"
        ) from None


def picked(role: str, name: str) -> Principal:
    """The development role picker's principal: the role asked for, every banner."""
    if role not in {member.value for member in Role}:
        raise InvalidInput("role", role, "pick one of the listed roles")
    name = " ".join(name.split())[:MAX_NAME] or role.replace("_", " ").title()
    return Principal(
        name=name,
        role=Role(role),
        subject=f"dev:{name}",
        banners=EVERY_BANNER,
        method=AuthMethod.DEV_TOKEN,
        credential_id=None,
    )


def open_console_session(principal: Principal) -> OpenedSession:
    """Record the sign-in and return the token for the cookie."""
    with transaction(deps.command_sessions()) as session:
        return sessions.open_session(session, principal, now=utcnow(), lifetime=SESSION_LIFETIME)


def close_console_session(token: str) -> None:
    """End the browser's session (signing out)."""
    if token:
        with transaction(deps.command_sessions()) as session:
            sessions.end_session(session, token, now=utcnow())
