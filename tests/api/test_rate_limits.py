"""Rate limits as a client meets them (issue 12, item 4).

The RateLimit and RateLimit-Policy fields follow draft-ietf-httpapi-ratelimit-headers-10
(section 3: `RateLimit-Policy: "name";q=<quota>;w=<window seconds>`; section 4:
`RateLimit: "name";r=<remaining>;t=<seconds to reset>`), Retry-After RFC 9110 section 10.2.3.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from promoflow.config import Settings

LIST = "/api/v1/promotions"
POLICY = re.compile(r'^"(?P<name>[^"]+)";q=(?P<q>\d+);w=(?P<w>\d+)$')
STATE = re.compile(r'^"(?P<name>[^"]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


def _fields(response: Any) -> tuple[dict[str, str], dict[str, str]]:
    policy = POLICY.match(response.headers["RateLimit-Policy"])
    state = STATE.match(response.headers["RateLimit"])
    assert policy and state, response.headers
    return policy.groupdict(), state.groupdict()


@pytest.fixture
def limited(api_settings: Settings, catalog: object) -> Iterator[Callable[..., TestClient]]:
    """`limited(**settings)`: a client of an app with those limits (on the running runtime)."""
    from promoflow.app import create_app

    opened: list[TestClient] = []

    def open_client(**limits: Any) -> TestClient:
        settings = api_settings.model_copy(update=limits)
        client = TestClient(create_app(settings, manage_runtime=False))
        opened.append(client.__enter__())
        return client

    yield open_client
    for client in opened:
        client.__exit__(None, None, None)


def test_a_client_over_its_budget_gets_429_and_is_let_in_after_the_window(
    limited: Callable[..., TestClient], auth: Callable[[str], dict[str, str]]
) -> None:
    client = limited(rate_limit_reads="3 per 2 seconds")
    headers = auth("merchandiser")
    for used in range(1, 4):
        answer = client.get(LIST, headers=headers)
        assert answer.status_code == 200, answer.text
        policy, state = _fields(answer)
        assert policy == {"name": "reads", "q": "3", "w": "2"}
        assert state["name"] == "reads" and int(state["r"]) == 3 - used

    refused = client.get(LIST, headers=headers)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:promoflow:problem:rate-limited"
    assert "retry after" in refused.json()["detail"]
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    policy, state = _fields(refused)
    assert policy["q"] == "3" and state["r"] == "0" and 0 <= int(state["t"]) <= 2

    time.sleep(retry_after + 0.1)
    again = client.get(LIST, headers=headers)
    assert again.status_code == 200, again.text


def test_two_clients_do_not_share_a_budget(
    limited: Callable[..., TestClient], auth: Callable[[str], dict[str, str]]
) -> None:
    client = limited(rate_limit_reads="2/minute")
    for _ in range(2):
        assert client.get(LIST, headers=auth("merchandiser")).status_code == 200
    assert client.get(LIST, headers=auth("merchandiser")).status_code == 429
    # Another identity (another key) has its whole budget still.
    other = client.get(LIST, headers=auth("pricing_analyst"))
    assert other.status_code == 200
    assert _fields(other)[1]["r"] == "1"


def test_writes_spend_a_stricter_budget_than_reads_and_a_route_may_have_its_own(
    limited: Callable[..., TestClient], auth: Callable[[str], dict[str, str]]
) -> None:
    client = limited(
        rate_limit_reads="100/minute",
        rate_limit_writes="50/minute",
        rate_limit_routes={"POST /api/v1/promotions": "1/minute"},
    )
    headers = auth("merchandiser")
    # A refused body (422) still spends the route's budget: nothing is written either way.
    first = client.post(LIST, headers=headers, json={})
    assert first.status_code == 422
    assert _fields(first)[0] == {"name": "POST /api/v1/promotions", "q": "1", "w": "60"}
    assert client.post(LIST, headers=headers, json={}).status_code == 429
    # Reads are a budget of their own and still open.
    read = client.get(LIST, headers=headers)
    assert read.status_code == 200
    assert _fields(read)[0]["name"] == "reads"


def test_a_caller_without_a_known_key_spends_its_address_budget(
    limited: Callable[..., TestClient],
) -> None:
    client = limited(rate_limit_anonymous="2/minute")
    # Inventing keys earns no fresh budget: an unknown key is no identity.
    for attempt in range(2):
        answer = client.get(LIST, headers={"X-API-Key": f"guess-{attempt}"})
        assert answer.status_code == 401
        assert _fields(answer)[0]["name"] == "anonymous"
    assert client.get(LIST, headers={"X-API-Key": "guess-3"}).status_code == 429
    # Probes are never limited.
    assert client.get("/healthz").status_code == 200


def test_an_oversized_body_is_still_refused_with_413(
    limited: Callable[..., TestClient], auth: Callable[[str], dict[str, str]]
) -> None:
    client = limited(max_request_bytes=2048)
    answer = client.post(
        LIST,
        headers={**auth("merchandiser"), "Content-Type": "application/json"},
        content=b'{"name": "' + b"x" * 4096 + b'"}',
    )
    assert answer.status_code == 413
    assert "RateLimit" in answer.headers  # it spent (and was told) its budget first


def test_a_route_limit_naming_no_route_stops_the_app_from_starting(
    api_settings: Settings,
) -> None:
    from promoflow.app import create_app

    settings = api_settings.model_copy(
        update={"rate_limit_routes": {"POST /api/v1/promotion": "1/minute"}}
    )
    with pytest.raises(ValueError, match=r"no route answers POST /api/v1/promotion;"):
        create_app(settings, manage_runtime=False)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rate_limit_reads", "lots", "rate_limit_reads: 'lots' is not one rate limit"),
        ("rate_limit_writes", "0/minute", "allows no request at all"),
        ("rate_limit_routes", {"FETCH /api/v1/x": "1/minute"}, "'FETCH /api/v1/x' is not a route"),
        ("rate_limit_storage", "mongodb://x", "rate_limit_storage"),
    ],
)
def test_a_mistyped_limit_setting_is_refused_naming_it(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings.model_validate({field: value})


def test_an_api_key_record_spends_its_own_budget_not_its_ip_address(
    limited: Callable[..., TestClient],
) -> None:
    """A verified record key is keyed by its principal; a made-up key by the IP address."""
    from promoflow.identity import service
    from promoflow.kit.clock import utcnow
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        issued = service.create_api_key(
            session,
            name="pos-bridge",
            role="integration_client",
            banners=["*"],
            days=30,
            created_by="ada.admin",
            now=utcnow(),
        )
    client = limited(rate_limit_reads="50/minute", rate_limit_anonymous="3/minute")
    mine = {"X-API-Key": issued.secret}
    # Its first call, not yet verified, spends one of the address's 3; the rest are its own.
    for _ in range(5):
        answer = client.get(LIST, headers=mine)
        assert answer.status_code == 200, answer.text
    assert _fields(answer)[0]["name"] == "reads"

    made_up = {"X-API-Key": "pfk_000000000000_" + "x" * 43}
    answers = [client.get(LIST, headers=made_up).status_code for _ in range(3)]
    assert answers == [401, 401, 429], "made-up keys must share the address's small budget"
