"""The client-credentials token cache, against a token endpoint in an httpx.MockTransport.

No socket: what is tested is the cache and the errors, not HTTP itself.
"""

from __future__ import annotations

import httpx
import pytest

from promoflow.connectors.dynamics_bc.oauth import ClientCredentials, ClientCredentialsAuth
from promoflow.connectors.ports import ConnectorError, MalformedPayload

TOKEN_URL = "https://login.example/tenant/oauth2/v2.0/token"
SECRET = "the-client-secret-value"


class Endpoint:
    """Issues tokens (or the configured error) and accepts only the tokens it issued."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.token_answer: httpx.Response | None = None
        self.forms: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.forms.append(request.content.decode())
            if self.token_answer is not None:
                return self.token_answer
            self.issued.append(f"token-{len(self.issued) + 1}")
            return httpx.Response(
                200,
                json={"token_type": "Bearer", "expires_in": 3600, "access_token": self.issued[-1]},
            )
        bearer = request.headers.get("authorization", "")
        return httpx.Response(200 if bearer[7:] in self.issued[-1:] else 401, json={})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def client(endpoint: Endpoint, clock: Clock) -> tuple[httpx.Client, ClientCredentialsAuth]:
    auth = ClientCredentialsAuth(
        "bc-oauth",
        ClientCredentials(TOKEN_URL, "app-id", "https://api.example/.default", lambda: SECRET),
        clock=clock,
    )
    return httpx.Client(transport=httpx.MockTransport(endpoint), auth=auth), auth


def test_a_token_is_reused_until_shortly_before_it_expires() -> None:
    endpoint, clock = Endpoint(), Clock()
    http, _ = client(endpoint, clock)
    assert http.get("https://api.example/items").status_code == 200
    clock.now += 3600 - 61
    assert http.get("https://api.example/items").status_code == 200
    assert endpoint.issued == ["token-1"]
    clock.now += 2
    assert http.get("https://api.example/items").status_code == 200
    assert endpoint.issued == ["token-1", "token-2"]
    assert "grant_type=client_credentials" in endpoint.forms[0]


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (429, True), (400, False)])
def test_token_endpoint_errors_say_whether_to_retry(status: int, retryable: bool) -> None:
    endpoint, clock = Endpoint(), Clock()
    endpoint.token_answer = httpx.Response(
        status, json={"error": "invalid_client", "error_description": "AADSTS7000215"}
    )
    http, auth = client(endpoint, clock)
    with pytest.raises(ConnectorError) as failed:
        http.get("https://api.example/items")
    assert failed.value.retryable is retryable
    assert "app-id" in failed.value.message and SECRET not in failed.value.message
    assert SECRET not in repr(auth)


def test_a_token_answer_without_a_token_is_malformed() -> None:
    endpoint, clock = Endpoint(), Clock()
    endpoint.token_answer = httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3600})
    http, _ = client(endpoint, clock)
    with pytest.raises(MalformedPayload) as failed:
        http.get("https://api.example/items")
    assert (failed.value.field, failed.value.value) == ("access_token", None)
