"""OData V2 `$batch` bodies: multipart/mixed requests with changesets, and their answers.

Written by hand on the standard library's MIME parser: the Python OData V2 clients
(pyodata) bring their own `requests` session and metadata model, while every call
here must go through httpx and the connection's Guard. The format follows the OData
V2 batch specification (section 2.2.7.6) as SAP Gateway implements it: each part is
`application/http` with `Content-Transfer-Encoding: binary`; a changeset is a nested
multipart whose requests succeed or fail together.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

CRLF = "\r\n"


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a batch; `changeset` groups writes that must apply together."""

    method: str
    path: str
    body: Any = None
    changeset: int | None = None


@dataclass(frozen=True)
class BatchResponse:
    status: int
    headers: dict[str, str]
    body: Any
    text: str = field(repr=False, default="")


def _request_part(request: BatchRequest, content_id: int | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{request.method} {request.path} HTTP/1.1", "Accept: application/json"]
    payload = ""
    if request.body is not None:
        payload = json.dumps(request.body, separators=(",", ":"))
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload.encode())}"]
    lines += ["", payload]
    return CRLF.join(lines)


def encode_batch(requests: list[BatchRequest]) -> tuple[str, bytes]:
    """(content type, body) for a batch; consecutive requests of one changeset share it."""
    boundary = f"batch_{uuid.uuid4().hex}"
    parts: list[str] = []
    index = 0
    while index < len(requests):
        request = requests[index]
        if request.changeset is None:
            parts.append(_request_part(request, None))
            index += 1
            continue
        changeset_boundary = f"changeset_{uuid.uuid4().hex}"
        members: list[str] = []
        while index < len(requests) and requests[index].changeset == request.changeset:
            members.append(_request_part(requests[index], len(members) + 1))
            index += 1
        inner = "".join(f"--{changeset_boundary}{CRLF}{m}{CRLF}" for m in members)
        parts.append(
            f"Content-Type: multipart/mixed; boundary={changeset_boundary}{CRLF}{CRLF}"
            f"{inner}--{changeset_boundary}--{CRLF}"
        )
    body = "".join(f"--{boundary}{CRLF}{p}{CRLF}" for p in parts) + f"--{boundary}--{CRLF}"
    return f"multipart/mixed; boundary={boundary}", body.encode("utf-8")


def _http_response(part: Message) -> BatchResponse:
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8") if isinstance(raw, bytes) else str(part.get_payload())
    head, _, body_text = text.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.strip().split("\n")
    pieces = status_line.split(" ", 2)
    if len(pieces) < 2 or not pieces[1].isdigit():
        raise ValueError(f"batch part without an HTTP status line: {status_line[:80]!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body_text = body_text.strip()
    body: Any = None
    if body_text and "json" in headers.get("content-type", ""):
        body = json.loads(body_text)
    return BatchResponse(int(pieces[1]), headers, body, body_text)


def decode_batch(content_type: str, content: bytes) -> list[BatchResponse]:
    """The answers in request order; a changeset's answers are flattened in its place.

    Raises ValueError when the body is not a multipart batch answer.
    """
    message = message_from_bytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + content
    )
    if not message.is_multipart():
        raise ValueError(f"not a multipart batch answer (content type {content_type!r})")
    answers: list[BatchResponse] = []
    for part in message.get_payload():
        assert isinstance(part, Message)
        if part.is_multipart():
            for member in part.get_payload():
                assert isinstance(member, Message)
                answers.append(_http_response(member))
        else:
            answers.append(_http_response(part))
    return answers
