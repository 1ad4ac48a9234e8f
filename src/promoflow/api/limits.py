"""What every request must be before a route parses it.

- Its body is at most `max_request_bytes` (413 otherwise), whether announced by
  Content-Length (refused before a byte is read) or streamed in chunks (refused
  as soon as the count passes the limit): the server never holds more.
- A JSON body means one thing. `json.loads`, which FastAPI parses with, takes a
  key given twice (the last one wins, so `"discount_percent": 20,
  "discount_percent": 99` made a 99 % promotion), NaN and Infinity, 1e400 (read
  as infinity), and strings holding NUL or a lone surrogate, which no database
  stores. Each is refused here with a 422 naming the field, for every route.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import Message as MimeHeader
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoflow.api.problems import echo, problem_response, problem_type
from promoflow.config import Settings

MAX_DEPTH = 32  # objects and arrays inside each other; no body of ours nests past 4
_MAX_INT_DIGITS = 4000  # Python refuses to read an integer of more than 4,300 digits


@dataclass(frozen=True)
class _Unreadable:
    """A number json.loads would read as something else: NaN, infinity, a huge integer."""

    text: str


@dataclass
class JsonRefusal(Exception):
    """Why a JSON body is refused, naming the field (`body` when it is the whole)."""

    field: str
    value: Any
    message: str


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise JsonRefusal(key, None, f"key {key!r} is given twice in one object; send it once")
        seen.add(key)
    return dict(pairs)


def _float(text: str) -> float | _Unreadable:
    number = float(text)
    return number if math.isfinite(number) else _Unreadable(text)


def _int(text: str) -> int | _Unreadable:
    return int(text) if len(text) <= _MAX_INT_DIGITS else _Unreadable(text[:20] + "...")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds NUL (U+0000), which no field accepts"
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "holds a lone surrogate (\\ud800-\\udfff escape), which is not a character"
    return None


def _check(document: Any) -> None:
    """Walk the parsed body: refuse unreadable numbers, NUL, lone surrogates, deep nesting."""
    stack: list[tuple[str, Any, int]] = [("body", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, _Unreadable):
            raise JsonRefusal(path, value.text, "is not a finite number a field could hold")
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                raise JsonRefusal(path, value, problem)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise JsonRefusal(path, None, f"nests objects or arrays deeper than {MAX_DEPTH}")
        if isinstance(value, dict):
            for key, item in value.items():
                problem = _text_problem(key)
                if problem:
                    raise JsonRefusal(path, key, f"has a key that {problem}")
                where = key if path == "body" else f"{path}.{key}"
                stack.append((where, item, depth + 1))
        else:
            where = "" if path == "body" else path
            stack.extend((f"{where}[{index}]", item, depth + 1) for index, item in enumerate(value))


def check_json(body: bytes) -> None:
    """Raise JsonRefusal unless `body` is JSON that reads one way only."""
    try:
        document = json.loads(
            body,
            object_pairs_hook=_unique_keys,
            parse_constant=_Unreadable,
            parse_float=_float,
            parse_int=_int,
        )
    except json.JSONDecodeError as error:
        message = f"request body is not valid JSON (character {error.pos}: {error.msg})"
        raise JsonRefusal("body", None, message) from None
    except UnicodeDecodeError:
        raise JsonRefusal("body", None, "request body is not UTF-8 text") from None
    except RecursionError:
        message = f"request body nests objects or arrays deeper than {MAX_DEPTH}"
        raise JsonRefusal("body", None, message) from None
    _check(document)


def _is_json(content_type: str | None) -> bool:
    # As FastAPI decides whether to parse a body as JSON.
    if not content_type:
        return True
    header = MimeHeader()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class RequestLimits:
    """ASGI middleware: a body over the size limit is 413, ambiguous JSON is 422."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            await self._too_large(scope, receive, send)
            return
        if body and _is_json(headers.get("content-type")):
            try:
                check_json(body)
            except JsonRefusal as refusal:
                await self._refuse(refusal, scope, receive, send)
                return
        await self.app(scope, replay_body(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the route sees what arrived
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        response = problem_response(
            413,
            "Content too large",
            f"the request body is over {limit} bytes; send at most {limit} bytes",
            type_=problem_type("ContentTooLarge"),
            instance=scope.get("path", ""),
            # The rest of the body is never read, so the connection cannot carry another request.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    async def _refuse(
        self, refusal: JsonRefusal, scope: Scope, receive: Receive, send: Send
    ) -> None:
        entry = {"field": refusal.field, "value": echo(refusal.value), "message": refusal.message}
        detail = (
            refusal.message if refusal.field == "body" else f"{refusal.field}: {refusal.message}"
        )
        response = problem_response(
            422,
            "Invalid input",
            detail,
            type_=problem_type("InvalidInput"),
            instance=scope.get("path", ""),
            errors=[entry],
        )
        await response(scope, receive, send)


def replay_body(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A receive that hands the route the body already read, then the client's own messages."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def install_request_limits(app: FastAPI, settings: Settings) -> None:
    """Check every request's size and JSON before any route parses it."""
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_request_bytes)
