"""Odoo's error answers (JSON-2 and JSON-RPC) as ConnectorErrors that say whether to retry.

JSON-2 answers an error with a 4xx/5xx status and a JSON body: the error object
`{name, message, arguments, context, debug}` the reference documents, or a bare
JSON string (what its dispatcher sends for a `UserError` or an HTTP exception).
JSON-RPC answers HTTP 200 with `{"error": {code, message, data: {name, message,
arguments, context, debug}}}`: `code` 200 for a server-side exception, 100 for an
expired session, 404 for an unknown route.

An authentication failure (`odoo.exceptions.AccessDenied`, `Invalid apikey`) is
never retried and its message never carries the server's text, which may quote
what was sent. Every other message is cut short and has the secret scrubbed out;
`debug` (a server traceback) is never shown.
"""

from __future__ import annotations

from typing import Any

import httpx

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
AUTH_STATUS = frozenset({401, 403})
AUTH_NAMES = frozenset({"odoo.exceptions.AccessDenied", "werkzeug.exceptions.Unauthorized"})
# Transaction conflicts Odoo already retried itself before giving up: worth another go.
RETRYABLE_NAMES = frozenset(
    {
        "odoo.exceptions.ConcurrencyError",
        "psycopg2.errors.SerializationFailure",
        "psycopg2.errors.LockNotAvailable",
        "psycopg2.errors.DeadlockDetected",
        "psycopg2.OperationalError",
    }
)
# The request itself is wrong (access rights, validation, a bad argument): same answer again.
REQUEST_ERROR_PREFIXES = ("odoo.exceptions.", "werkzeug.exceptions.")
REQUEST_ERROR_BUILTINS = frozenset({"ValueError", "TypeError", "KeyError", "AttributeError"})
MESSAGE_EXCERPT = 300


def scrub(text: str, secret: str | None) -> str:
    """`text` cut short, with the secret (if it appears at all) masked."""
    if secret:
        text = text.replace(secret, "***")
    return text[:MESSAGE_EXCERPT].replace("\n", " ")


def authentication_refused(system: str, operation: str, how: str) -> ConnectorError:
    """Never retried: the same credentials are refused again, and a lockout may follow."""
    return ConnectorError(
        system,
        f"{operation}: Odoo refused the credentials ({how}); check the API key or password "
        "the connection's `api_key` reference points to, and the user and database",
        retryable=False,
    )


def _is_request_error(name: str) -> bool:
    return name.startswith(REQUEST_ERROR_PREFIXES) or name in REQUEST_ERROR_BUILTINS


def json2_error(
    system: str, operation: str, response: httpx.Response, secret: str | None
) -> ConnectorError:
    """The ConnectorError for a JSON-2 answer with an error status."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    name, message = "", ""
    if isinstance(body, dict):
        name = str(body.get("name") or "")
        message = str(body.get("message") or "")
    elif isinstance(body, str):
        message = body
    if status in AUTH_STATUS and (status == 401 or name in AUTH_NAMES):
        return authentication_refused(system, operation, f"HTTP {status}")
    text = scrub(f"{name + ': ' if name else ''}{message}", secret)
    detail = f"{operation}: HTTP {status} from {response.request.url.path}: {text}"
    if status == 503:
        return ConnectorUnavailable(system, detail)
    retryable = status in RETRYABLE_STATUS or name in RETRYABLE_NAMES
    return ConnectorError(system, detail, retryable=retryable)


def jsonrpc_error(system: str, operation: str, error: Any, secret: str | None) -> ConnectorError:
    """The ConnectorError for a JSON-RPC `error` member."""
    if not isinstance(error, dict):
        return ConnectorError(
            system, f"{operation}: JSON-RPC error {scrub(repr(error), secret)}", retryable=False
        )
    data = error.get("data")
    if not isinstance(data, dict):
        data = {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or error.get("message") or "")
    code = error.get("code")
    if name in AUTH_NAMES:
        return authentication_refused(system, operation, name.rsplit(".", 1)[-1])
    detail = f"{operation}: JSON-RPC error {code} {name}: {scrub(message, secret)}"
    if name in RETRYABLE_NAMES:
        return ConnectorError(system, detail, retryable=True)
    if code in (100, 404) or _is_request_error(name):
        return ConnectorError(system, detail, retryable=False)
    # Any other server-side exception is what JSON-2 would answer with HTTP 500.
    return ConnectorError(system, detail, retryable=True)
