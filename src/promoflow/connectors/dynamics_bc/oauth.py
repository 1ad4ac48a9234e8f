"""OAuth 2.0 client credentials for httpx: a bearer token cached until it expires.

Written by hand on purpose: what we need is small (one grant, one cache, one
refresh when the API answers 401) and `httpx.Auth` gives the hook for the 401
retry. MSAL would add its authority discovery round trips, which a local test
token endpoint would have to imitate, and Authlib's client refreshes only on
expiry, not on a 401 from a token the server revoked early.

The client secret is resolved through `resolve_secret` each time a token is
requested and is never kept; token endpoint errors name the client id and the
endpoint's own error code, never the secret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from promoflow.connectors.http import RETRYABLE_STATUS
from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable, MalformedPayload

# A token is renewed this long before it expires, so a request never leaves with
# a token that lapses in flight.
EXPIRY_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class ClientCredentials:
    """Where and as whom to ask for tokens (the secret stays a callable)."""

    token_url: str
    client_id: str
    scope: str
    resolve_secret: Callable[[], str]

    def __repr__(self) -> str:
        return f"ClientCredentials({self.token_url!r}, client_id={self.client_id!r})"


class ClientCredentialsAuth(httpx.Auth):
    """Adds `Authorization: Bearer`; fetches a token when none is cached, refreshes on 401."""

    requires_response_body = True

    def __init__(
        self, system: str, credentials: ClientCredentials, clock: Callable[[], float] = time.time
    ) -> None:
        self.system = system
        self.credentials = credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.tokens_issued = 0

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth({self.credentials!r})"

    def invalidate(self) -> None:
        """Forget the cached token (the API refused it)."""
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def _cached(self) -> str | None:
        with self._lock:
            if self._token and self._clock() < self._expires_at - EXPIRY_MARGIN_SECONDS:
                return self._token
            return None

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.credentials.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.credentials.client_id,
                "client_secret": self.credentials.resolve_secret(),
                "scope": self.credentials.scope,
            },
        )

    def _store(self, response: httpx.Response) -> str:
        if response.status_code >= 400:
            raise self._token_error(response)
        try:
            body = response.json()
        except ValueError:
            raise MalformedPayload(
                self.system,
                "token endpoint: the response is not JSON",
                payload={"body": response.text[:500]},
                field="body",
                value=response.text[:80],
            ) from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise MalformedPayload(
                self.system,
                "token endpoint: no access_token in the response",
                payload={k: v for k, v in (body or {}).items() if k != "access_token"},
                field="access_token",
                value=None,
            )
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            raise MalformedPayload(
                self.system,
                "token endpoint: expires_in is not a number",
                payload={k: v for k, v in body.items() if k != "access_token"},
                field="expires_in",
                value=body.get("expires_in"),
            ) from None
        with self._lock:
            self._token = token
            self._expires_at = self._clock() + lifetime
            self.tokens_issued += 1
        return token

    def _token_error(self, response: httpx.Response) -> ConnectorError:
        try:
            body = response.json()
            code = f"{body.get('error', '')}: {str(body.get('error_description', ''))[:200]}"
        except (ValueError, AttributeError):
            code = response.text[:200]
        message = (
            f"token endpoint {self.credentials.token_url} refused client_id "
            f"{self.credentials.client_id!r} (HTTP {response.status_code}): {code}"
        )
        if response.status_code == 503:
            return ConnectorUnavailable(self.system, message)
        retryable = response.status_code in RETRYABLE_STATUS
        if not retryable:
            message += "; check config.client_id and the secret config.client_secret refers to"
        return ConnectorError(self.system, message, retryable=retryable)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._cached()
        if token is None:
            token = self._store((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # The token was revoked or expired early: one fresh token, one more try.
            self.invalidate()
            token = self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
