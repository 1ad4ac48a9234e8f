"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from promoflow.kit.errors import InvalidInput, PromoflowError
from promoflow.kit.logging import get_logger

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:promoflow:problem:"
# Where FastAPI found the error; dropped so a field reads as the client sent it.
_SOURCES = ("body", "query", "path", "header", "cookie")
_BODY = "body"

log = get_logger(__name__)


class Unauthenticated(PromoflowError):
    """No API key, or one the server does not know."""

    status = 401
    title = "Unauthenticated"


def problem_type(name: str) -> str:
    """A stable problem type URN from a class name (InvalidInput -> ...:invalid-input)."""
    return TYPE_PREFIX + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str,
    instance: str,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An application/problem+json response."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "items", 0)` -> `items[0]`; `("query", "limit")` -> `limit`."""
    parts = list(loc[1:]) if loc and loc[0] in _SOURCES else list(loc)
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or _BODY


def _json_value(value: Any) -> Any:
    try:
        return jsonable_encoder(value)
    except (TypeError, ValueError):
        return repr(value)


def _validation_entry(error: dict[str, Any]) -> dict[str, Any]:
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid":
        position = loc[-1] if loc else "?"
        reason = error.get("ctx", {}).get("error", "malformed")
        message = f"request body is not valid JSON (character {position}: {reason})"
        return {"field": _BODY, "value": None, "message": message}
    field = field_path(loc)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    # A whole-body error (a rule across fields) names its fields in the message;
    # echoing the entire request body back would only add noise.
    value = None if field == _BODY else _json_value(error.get("input"))
    return {"field": field, "value": value, "message": message}


def _describe(entry: dict[str, Any]) -> str:
    if entry["field"] == _BODY:
        return str(entry["message"])
    return f"{entry['field']}={entry['value']!r}: {entry['message']}"


async def _promoflow_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PromoflowError)
    errors = None
    if isinstance(exc, InvalidInput):
        errors = [{"field": exc.field, "value": _json_value(exc.value), "message": exc.reason}]
    headers = {"WWW-Authenticate": 'APIKey header="X-API-Key"'} if exc.status == 401 else None
    return problem_response(
        exc.status,
        exc.title,
        exc.message,
        type_=problem_type(type(exc).__name__),
        instance=request.url.path,
        errors=errors,
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_validation_entry(error) for error in exc.errors()]
    return problem_response(
        422,
        "Invalid input",
        "; ".join(_describe(entry) for entry in errors),
        type_=problem_type("InvalidInput"),
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        exc.status_code,
        str(exc.detail) if exc.status_code < 500 else "Server error",
        str(exc.detail) if exc.status_code < 500 else "the server could not complete the request",
        type_="about:blank",
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The trace goes to the log, never to the client.
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        500,
        "Internal error",
        "the server could not complete the request; the error has been logged",
        type_=problem_type("InternalError"),
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Render domain, validation, HTTP and unexpected errors as problem details."""
    app.add_exception_handler(PromoflowError, _promoflow_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
