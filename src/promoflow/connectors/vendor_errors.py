"""Error bodies of the systems we call, read into code, message and target.

An operator reading a failed call wants the vendor's own error code and message
and the field it blames, not 300 characters of JSON. The shapes read here are the
published ones:

- OData V4 (Business Central; OData JSON Format 4.01, "Error Response"):
  `{"error": {"code", "message", "target"?, "details"?: [{code, message, target}]}}`.
- OData V2 (SAP Gateway; OData V2 JSON Format, "Error Response"):
  `{"error": {"code", "message": {"lang", "value"}, "innererror"?: {"errordetails":
  [{code, message, target, severity}]}}}`.
- Oracle REST framework (Fusion's "Error Detail" object): `{"type", "title",
  "detail", "o:errorCode", "o:errorPath"?, "o:errorDetails"?: [...]}`.
- commercetools (docs.commercetools.com/api/errors, ErrorResponse):
  `{"statusCode", "message", "errors": [{code, message, field?, action?}]}`; and
  its AuthErrorResponse / any OAuth 2.0 token endpoint (RFC 6749 section 5.2):
  `{"error": "invalid_client", "error_description"}`.

A body of none of these shapes gives None; the caller then quotes an excerpt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EXCERPT = 300
MAX_DETAILS = 5


@dataclass(frozen=True)
class VendorError:
    """One error as the vendor reported it; `details` are the further errors it listed."""

    code: str
    message: str
    target: str = ""
    details: tuple[VendorError, ...] = ()

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}" if self.code else self.message
        # SAP and Oracle repeat the top error among the details, there with its target.
        same = [d for d in self.details if (d.code, d.message) == (self.code, self.message)]
        target = self.target or next((d.target for d in same if d.target), "")
        if target:
            text += f" (target {target})"
        extra = [str(d) for d in self.details if d not in same]
        if extra:
            text += "; " + "; ".join(extra[:MAX_DETAILS])
            if len(extra) > MAX_DETAILS:
                text += f"; and {len(extra) - MAX_DETAILS} more"
        return text


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)


def _odata(error: Mapping[str, Any]) -> VendorError | None:
    message = error.get("message")
    if isinstance(message, Mapping):  # OData V2: {"lang": "en", "value": "..."}
        message = message.get("value")
    if not isinstance(message, str) or "code" not in error:
        return None
    raw = error.get("details")
    inner = error.get("innererror")
    if raw is None and isinstance(inner, Mapping):
        raw = inner.get("errordetails")
    details = tuple(
        d for d in (_odata(item) for item in raw or () if isinstance(item, Mapping)) if d
    )
    return VendorError(_str(error.get("code")), message.strip(), _str(error.get("target")), details)


def _oracle(body: Mapping[str, Any]) -> VendorError:
    title, detail = _str(body.get("title")), _str(body.get("detail"))
    message = f"{title}: {detail}" if title and detail and detail != title else detail or title
    details = tuple(
        VendorError(
            _str(item.get("o:errorCode")),
            _str(item.get("detail")) or _str(item.get("title")),
            _str(item.get("o:errorPath")),
        )
        for item in body.get("o:errorDetails") or ()
        if isinstance(item, Mapping)
    )
    code, path = _str(body.get("o:errorCode")), _str(body.get("o:errorPath"))
    # The details usually repeat the error itself (its detail, often with its path).
    same = [d for d in details if (d.code, d.message) == (code, detail)]
    path = path or next((d.target for d in same if d.target), "")
    return VendorError(code, message, path, tuple(d for d in details if d not in same))


def _commercetools_item(item: Mapping[str, Any]) -> VendorError:
    action = item.get("action")
    target = _str(item.get("field"))
    if not target and isinstance(action, Mapping):
        target = f"action {_str(action.get('action'))}".strip()
    return VendorError(_str(item.get("code")), _str(item.get("message")), target)


def _commercetools(body: Mapping[str, Any]) -> VendorError:
    items = [_commercetools_item(i) for i in body.get("errors") or () if isinstance(i, Mapping)]
    if not items:
        return VendorError(_str(body.get("error")), _str(body.get("message")))
    first, rest = items[0], tuple(items[1:])
    return VendorError(first.code, first.message or _str(body.get("message")), first.target, rest)


def parse_error(body: Any) -> VendorError | None:
    """The error a JSON body (text, bytes or already decoded) reports, or None."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if isinstance(error, Mapping):
        return _odata(error)
    if "o:errorCode" in body or ("title" in body and "detail" in body):
        return _oracle(body)
    if isinstance(body.get("errors"), list) and "message" in body:
        return _commercetools(body)
    if isinstance(error, str):  # OAuth 2.0 token endpoint
        return VendorError(error, _str(body.get("error_description")) or error)
    return None


def describe(body: str | bytes | Mapping[str, Any]) -> str:
    """What to quote from an error body: the parsed error, else a one-line excerpt.

    `body` is the text, or what a client library already decoded from it (the
    commercetools SDK hands over its `errors`).
    """
    parsed = parse_error(body)
    if parsed is not None and (parsed.code or parsed.message):
        return str(parsed)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    excerpt = " ".join(text[:EXCERPT].split())
    return excerpt or "(empty body)"
