"""The request an action belongs to, so a command deep in the stack can say who asked.

The API's middleware opens a `RequestAudit` per request in a context variable;
the authentication dependency fills in the actor. The object is shared, not
copied, so what a dependency running on a worker thread writes into it is what
the command (and the middleware, after the response) reads.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from promoflow.audit.schemas import Actor

_current: ContextVar[RequestAudit | None] = ContextVar("promoflow_request_audit", default=None)


@dataclass
class RequestAudit:
    """What the audit knows about the request being served."""

    request_id: str
    method: str
    path: str
    route: str | None = None
    actor: Actor | None = None
    # Set once a command or the unit of work wrote this request's record.
    recorded: bool = False
    # The status a route answers on success (for the unit of work's record).
    success_status: int = 200
    # For the authorisation work: a refusal answered otherwise than 401/403 (a 404
    # hiding another banner's object) sets `denied`, and may say why.
    denied: bool = False
    denied_reason: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """`METHOD /route/{template}`, or the raw path before routing."""
        return f"{self.method} {self.route or self.path}"


def current() -> RequestAudit | None:
    """The request being served on this thread or task, if any."""
    return _current.get()


def begin(request_audit: RequestAudit) -> object:
    """Make `request_audit` current; returns the token `end` needs."""
    return _current.set(request_audit)


def end(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
