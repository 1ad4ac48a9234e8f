"""HTTP calls to external systems through the connection's Guard, with one error mapping.

Every REST or OData adapter sends its requests through `guarded_request`, so that
status codes mean the same everywhere: 408, 425, 429 and 5xx are retryable
(`ConnectorError`; 503 and connection failures `ConnectorUnavailable`), other 4xx
are not (the request itself is wrong; retrying gets the same answer), and a body
that is not the JSON promised is a `MalformedPayload`.
"""

from __future__ import annotations

from typing import Any

import httpx

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable, MalformedPayload
from promoflow.connectors.resilience import Guard

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
BODY_EXCERPT = 300


def raise_for_status(system: str, operation: str, response: httpx.Response) -> None:
    """Turn an HTTP error status into the ConnectorError that says whether to retry."""
    if response.status_code < 400:
        return
    excerpt = response.text[:BODY_EXCERPT].replace("\n", " ")
    message = (
        f"{operation}: HTTP {response.status_code} from {response.request.url.path}: {excerpt}"
    )
    if response.status_code == 503:
        raise ConnectorUnavailable(system, message)
    raise ConnectorError(system, message, retryable=response.status_code in RETRYABLE_STATUS)


def json_body(system: str, operation: str, response: httpx.Response) -> Any:
    """The response's JSON, or MalformedPayload keeping the start of what came instead."""
    try:
        return response.json()
    except ValueError:
        raise MalformedPayload(
            system,
            f"{operation}: the response is not JSON",
            payload={"body": response.text[:2000]},
            field="body",
            value=response.text[:80],
        ) from None


def json_object(system: str, operation: str, response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object (an entity, a created record), or MalformedPayload."""
    body = json_body(system, operation, response)
    if not isinstance(body, dict):
        raise MalformedPayload(
            system,
            f"{operation}: the answer is not a JSON object",
            payload=body,
            field="body",
            value=type(body).__name__,
        )
    return body


def guarded_request(
    client: httpx.Client,
    guard: Guard,
    operation: str,
    method: str,
    url: str,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request with retries and the circuit breaker; error statuses raise."""

    def send() -> httpx.Response:
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as error:
            raise ConnectorUnavailable(guard.name, f"{operation}: {error}") from error
        raise_for_status(guard.name, operation, response)
        return response

    return guard.call(operation, send)
