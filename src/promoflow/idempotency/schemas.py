"""What crosses the idempotency package's boundary: requests, claims, stored answers, errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from promoflow.kit.errors import Conflict, InvalidInput

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class KeyedRequest:
    """A request that carries a key: whose it is, the key, and the request's fingerprint."""

    caller: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Claim:
    """This request owns its key until it stores its answer or releases the key."""

    row_id: int
    request: KeyedRequest


@dataclass(frozen=True)
class StoredAnswer:
    """The first request's answer: status, the headers that matter, and the body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class IdempotencyKeyReused(InvalidInput):
    """The key was first sent with another request (method, path, query or body)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            HEADER,
            key,
            "this key was already used for another request (a different method, path, "
            "query or body); send a new key for a new request",
        )


class IdempotencyKeyInFlight(Conflict):
    """The first request with this key has not answered yet."""

    title = "Request in flight"

    def __init__(self, key: str, retry_after: int) -> None:
        super().__init__(
            f"a request with {HEADER} {key[:80]!r} is still being processed; retry after "
            f"{retry_after} s to get its answer",
            key=key,
        )
        self.retry_after = retry_after
