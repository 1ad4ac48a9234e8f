"""Domain errors. Services raise these; the API and CLI render them."""

from __future__ import annotations

from typing import Any


class PromoflowError(Exception):
    """Base of every error a user may see; `status` is the HTTP rendering."""

    status: int = 400
    title: str = "Request failed"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class InvalidInput(PromoflowError):
    """Bad input: names the field and the value that was refused."""

    status = 422
    title = "Invalid input"

    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(f"{field}={value!r}: {reason}", field=field, value=value)
        self.field = field
        self.value = value
        self.reason = reason


class NotFound(PromoflowError):
    status = 404
    title = "Not found"


class OutOfScope(NotFound):
    """An object outside the caller's banners: answered exactly as one that does not exist.

    Raise it with the message and context the missing object's NotFound would carry, so
    a caller guessing ids cannot tell the two apart; only the audit trail (which
    records it as a denial) and the server's log know the difference.
    """

    answered_as = "NotFound"  # the problem type it is rendered with


class Conflict(PromoflowError):
    status = 409
    title = "Conflict"


class Forbidden(PromoflowError):
    status = 403
    title = "Forbidden"


class PreconditionFailed(PromoflowError):
    """If-Match named a version the resource no longer has; `etag=` is the current one."""

    status = 412
    title = "Precondition failed"


class PreconditionRequired(PromoflowError):
    """A change that could silently overwrite someone's edit came without If-Match."""

    status = 428
    title = "Precondition required"


class AccessDenied(Forbidden):
    """The access policy refused the route: the caller's role lacks its permission, or a
    route about the whole retailer was called by a caller scoped to some banners."""


class Unavailable(PromoflowError):
    """Something the request needs did not answer; nothing was changed, so it may be retried."""

    status = 503
    title = "Service unavailable"


class PolicyError(PromoflowError):
    """A policy file that cannot be loaded; names the file, field and value."""

    status = 422
    title = "Invalid policy"
