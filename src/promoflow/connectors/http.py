"""HTTP calls to external systems through the connection's Guard, with one error mapping.

Every REST or OData adapter sends its requests through `guarded_request`, so that
status codes mean the same everywhere: 408, 425, 429 and 5xx are retryable
(`ConnectorError`; 503 and connection failures `ConnectorUnavailable`), other 4xx
are not (the request itself is wrong; retrying gets the same answer), and a body
that is not the JSON promised is a `MalformedPayload`. An error's message quotes the
vendor's own code, message and target (`vendor_errors`), or an excerpt of a body of
no known shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable, MalformedPayload
from promoflow.connectors.resilience import Guard
from promoflow.connectors.vendor_errors import describe

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def status_error(
    system: str,
    operation: str,
    status: int,
    body: str | bytes | Mapping[str, Any],
    where: str = "",
) -> ConnectorError:
    """The ConnectorError for an error status: the vendor's error read from its body.

    `status` is the HTTP status of the response, never a field of the body (which
    may lack one). Any client can use this; `raise_for_status` does for httpx.
    """
    source = f" from {where}" if where else ""
    message = f"{operation}: HTTP {status}{source}: {describe(body)}"
    if status == 503:
        return ConnectorUnavailable(system, message)
    return ConnectorError(system, message, retryable=status in RETRYABLE_STATUS)


def raise_for_status(system: str, operation: str, response: httpx.Response) -> None:
    """Turn an HTTP error status into the ConnectorError that says whether to retry."""
    if response.status_code < 400:
        return
    raise status_error(
        system, operation, response.status_code, response.text, response.request.url.path
    )


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
