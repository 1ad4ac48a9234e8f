"""An issuer's signing keys (JWKS), cached, refreshed when they age or rotate.

A token naming a `kid` the cache does not hold is how rotation shows: the set is
fetched again, but at most once per `min_refetch_seconds`, so a stream of tokens
with made-up kids cannot turn the server into a flood of requests to the issuer.
Only RS256 and ES256 signing keys are kept: a symmetric (`oct`) key in a JWKS is
never used, so a token signed with HS256 "using the public key" finds no key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from promoflow.kit.errors import Unavailable
from promoflow.kit.logging import get_logger

log = get_logger(__name__)

ALGORITHMS = ("RS256", "ES256")
MAX_JWKS_BYTES = 1_000_000


class KeySource(Protocol):
    """Where a trusted issuer's public keys come from."""

    def key_for(self, kid: str | None) -> PyJWK | None:
        """The signing key named `kid` (or the only key, for a token without one)."""
        ...


def usable_keys(document: Any) -> dict[str, PyJWK]:
    """The RS256/ES256 signing keys of a JWKS document, by kid (unusable ones skipped)."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the JWKS document has no 'keys' list")
    keys: dict[str, PyJWK] = {}
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in {"RSA", "EC"}:
            continue
        try:
            key = PyJWK(entry)
        except PyJWTError:
            continue
        if key.algorithm_name in ALGORITHMS:
            keys[str(entry.get("kid") or f"#{position}")] = key
    return keys


class StaticKeys:
    """Keys known in advance (the development issuer's own public key)."""

    def __init__(self, keys: dict[str, PyJWK]) -> None:
        self._keys = keys

    def key_for(self, kid: str | None) -> PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)


def fetch_jwks(url: str, timeout: float = 5.0) -> dict[str, PyJWK]:
    """GET a JWKS (no redirects, at most 1 MB) and keep its usable keys."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        response = client.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    if len(response.content) > MAX_JWKS_BYTES:
        raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
    return usable_keys(response.json())


class JwksCache:
    """The keys at a JWKS URL: fetched on first use, again after `max_age_seconds`
    or for an unknown kid, never more often than every `min_refetch_seconds`."""

    def __init__(
        self,
        url: str,
        *,
        max_age_seconds: float,
        min_refetch_seconds: float,
        fetch: Callable[[str], dict[str, PyJWK]] = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._max_age = max_age_seconds
        self._min_refetch = min_refetch_seconds
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = 0.0
        self._tried_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key_for(self, kid: str | None) -> PyJWK | None:
        with self._lock:
            now = self._clock()
            stale = self._keys is None or now - self._fetched_at >= self._max_age
            if stale or (kid is not None and kid not in (self._keys or {})):
                self._refresh(now)
            if self._keys is None:
                # Never fetched: the issuer is down or misconfigured, not the token bad.
                raise Unavailable("the identity provider's signing keys could not be fetched")
            return StaticKeys(self._keys).key_for(kid)

    def _refresh(self, now: float) -> None:
        if self._tried_at is not None and now - self._tried_at < self._min_refetch:
            return
        self._tried_at = now
        self.fetches += 1
        try:
            self._keys = self._fetch(self.url)
            self._fetched_at = now
        except (httpx.HTTPError, ValueError) as error:
            # Keep the keys we had: a blip at the issuer must not sign everyone out.
            log.warning("jwks_fetch_failed", url=self.url, error=str(error)[:200])
