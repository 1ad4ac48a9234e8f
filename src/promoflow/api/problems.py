"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from promoflow.kit.errors import InvalidInput, PromoflowError
from promoflow.kit.logging import get_logger

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:promoflow:problem:"
# A refused value is echoed once, cut to this many characters: enough to recognise
# it, never the 10 MB a client sent.
ECHO_LIMIT = 80
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Where FastAPI found the error; dropped so a field reads as the client sent it.
_SOURCES = ("body", "query", "path", "header", "cookie")
_BODY = "body"

log = get_logger(__name__)


class Unauthenticated(PromoflowError):
    """No credentials, or ones the server does not accept; `challenge=` sets WWW-Authenticate."""

    status = 401
    title = "Unauthenticated"


class ProblemError(BaseModel):
    """One refused field: where it is, the start of what was sent, and what to do."""

    field: str = Field(description="e.g. items[0] or discount_percent; `body` for the whole body")
    value: Any = Field(
        default=None, description=f"the refused value, text cut to {ECHO_LIMIT} characters"
    )
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered."""

    type: str = Field(description="a URN naming the kind of problem, or about:blank")
    title: str
    status: int
    detail: str
    instance: str = Field(description="the path that was called")
    errors: list[ProblemError] | None = Field(
        default=None, description="for 422: each refused field"
    )
    etag: str | None = Field(default=None, description="for 412: the record's current ETag")


_MEANINGS = {
    401: "No credentials, or a bearer token or API key the server does not accept.",
    403: "The caller's role may not do this.",
    404: "No such promotion, task, case or other record.",
    409: "The record is not in a state where this can happen.",
    412: "If-Match names a version the record no longer has: `etag` (and the ETag header) "
    "is the current one; nothing was written.",
    413: "The request body is larger than the server accepts.",
    428: "This change needs If-Match (the ETag of the version it is based on).",
    422: "Refused input: `errors` names each field, the value and what to do; nothing is written.",
    429: "This client has spent its rate-limit budget; Retry-After says when to retry.",
    503: "Not ready or overloaded; try again later.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` declaring these statuses as application/problem+json."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {"description": _MEANINGS[status], "content": {PROBLEM_JSON: {"schema": schema}}}
        for status in statuses
    }


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
    etag: str | None = None,
) -> JSONResponse:
    """An application/problem+json response; any text or number in it is made encodable."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = list(errors)
    if etag is not None:
        body["etag"] = etag
    return JSONResponse(
        _encodable(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _encodable(value: Any) -> Any:
    # A lone surrogate cannot be written as UTF-8 and NaN is not JSON: either would
    # turn a 422 into a 500 with the connection dropped.
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(_encodable(key)): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value


def _cut(text: str) -> str:
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "…"


def echo(value: Any) -> Any:
    """A refused value as the answer shows it: JSON scalars as sent, text cut short."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        # Past 2^53 no JSON client reads an integer exactly, and past 4,300 digits
        # Python will not even print one.
        return value if abs(value) < 2**53 else _cut(f"{value:.3e}")
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return _cut(str(value))
    if isinstance(value, bytes):
        return _cut(value.decode("utf-8", "replace"))
    if isinstance(value, str):
        return _cut(_SURROGATE.sub("\ufffd", value))
    if isinstance(value, Mapping | list | tuple):
        return _cut(json.dumps(_encodable(value), default=str, ensure_ascii=False))
    return _cut(repr(value))


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


def _validation_entry(error: dict[str, Any]) -> dict[str, Any]:
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid":
        position = loc[-1] if loc else "?"
        reason = error.get("ctx", {}).get("error", "malformed")
        message = f"request body is not valid JSON (character {position}: {reason})"
        return {"field": _BODY, "value": None, "message": message}
    field = field_path(loc)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    # A missing field has no value, and a whole-body error (a rule across fields)
    # names its fields in the message: echoing the body would only add noise.
    silent = field == _BODY or error.get("type") == "missing"
    value = None if silent else echo(error.get("input"))
    return {"field": field, "value": value, "message": message}


def _describe(entry: dict[str, Any]) -> str:
    # The value is echoed once, in `errors`; the detail names the field and the rule.
    if entry["field"] == _BODY:
        return str(entry["message"])
    return f"{entry['field']}: {entry['message']}"


async def _promoflow_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PromoflowError)
    errors = None
    detail = exc.message
    if isinstance(exc, InvalidInput):
        errors = [{"field": exc.field, "value": echo(exc.value), "message": exc.reason}]
        detail = f"{exc.field}: {exc.reason}"
    challenge = exc.context.get("challenge", 'Bearer, APIKey header="X-API-Key"')
    headers = {"WWW-Authenticate": str(challenge)} if exc.status == 401 else None
    etag = exc.context.get("etag") if exc.status == 412 else None
    if etag is not None:
        headers = {"ETag": str(etag)}
    return problem_response(
        exc.status,
        exc.title,
        detail,
        # An object hidden from the caller answers with the type of one that is missing.
        type_=problem_type(getattr(exc, "answered_as", type(exc).__name__)),
        instance=request.url.path,
        errors=errors,
        headers=headers,
        etag=None if etag is None else str(etag),
    )


async def _lost_update(request: Request, exc: Exception) -> JSONResponse:
    # A versioned row's UPDATE matched no row: someone changed it since this request
    # read it, on a path that took no lock. Nothing of this request was written.
    assert isinstance(exc, StaleDataError)
    return problem_response(
        409,
        "Conflict",
        "the record changed while this request ran; nothing was written: read it again and retry",
        type_=problem_type("Conflict"),
        instance=request.url.path,
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
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405 and (methods := _methods_at(request)):
        headers["Allow"] = ", ".join(methods)
    return problem_response(
        exc.status_code,
        str(exc.detail) if exc.status_code < 500 else "Server error",
        str(exc.detail) if exc.status_code < 500 else "the server could not complete the request",
        type_="about:blank",
        instance=request.url.path,
        headers=headers or None,
    )


def _methods_at(request: Request) -> list[str]:
    # Starlette names only the methods of the first route that matched the path, and
    # GET and POST of one path are two routes: the document knows all of them.
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        regex, _, _ = compile_path(template)
        if regex.match(request.url.path):
            methods |= {method.upper() for method in item}
    return sorted(methods)


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
    app.add_exception_handler(StaleDataError, _lost_update)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.openapi = _with_problem_schema(app.openapi)  # type: ignore[method-assign]


def _with_problem_schema(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with the Problem schema the routes' error responses refer to."""

    def openapi() -> dict[str, Any]:
        document = build()  # FastAPI caches it, so this runs its body once
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if "Problem" not in schemas:
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
        return document

    return openapi
