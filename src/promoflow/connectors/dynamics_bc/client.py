"""OData V4 client for the Business Central API: bearer auth, server-driven paging, queries.

Every request goes through the connection's Guard (`guarded_request`): retries
with backoff on 429/5xx, the circuit breaker, one status mapping. Paging follows
`@odata.nextLink` as the server hands it out (the page size is asked for with
`Prefer: odata.maxpagesize`, which the server may lower); every page is checked
before it is used (`mapping.collection_page`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from promoflow.connectors.dynamics_bc.mapping import collection_page
from promoflow.connectors.http import guarded_request, json_body, json_object
from promoflow.connectors.outbound import OutboundPolicy
from promoflow.connectors.resilience import Guard


class BusinessCentralClient:
    """One company of one environment, reached through the v2.0 and analytics API routes."""

    def __init__(
        self,
        system: str,
        guard: Guard,
        *,
        base_url: str,
        tenant_id: str,
        environment: str,
        company_id: str,
        ledger_api: str,
        auth: httpx.Auth,
        page_size: int,
        outbound: OutboundPolicy,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.system = system
        self.guard = guard
        base = base_url.rstrip("/")
        parts = urlsplit(base)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.api = f"{base}/v2.0/{tenant_id}/{environment}/api"
        self.company_id = company_id
        self.company_url = self.route_url("v2.0")
        self.ledger_url = self.route_url(ledger_api, "itemLedgerEntries")
        self.page_size = page_size
        self._http = outbound.http_client(
            system,
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "OData-Version": "4.0"},
        )

    def __repr__(self) -> str:
        return f"BusinessCentralClient({self.company_url!r})"

    def close(self) -> None:
        self._http.close()

    def entity_url(self, entity_set: str) -> str:
        return f"{self.company_url}/{entity_set}"

    def route_url(self, route: str, entity_set: str = "") -> str:
        """The company (or one of its entity sets) under an API route (`publisher/group/v1.0`)."""
        url = f"{self.api}/{route.strip('/')}/companies({self.company_id})"
        return f"{url}/{entity_set}" if entity_set else url

    def get(self, operation: str, url: str, params: dict[str, str] | None = None) -> Any:
        response = guarded_request(self._http, self.guard, operation, "GET", url, params=params)
        return json_body(self.system, operation, response)

    def post(self, operation: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = guarded_request(
            self._http,
            self.guard,
            operation,
            "POST",
            url,
            json=body,
            headers={"Content-Type": "application/json"},
        )
        return json_object(self.system, operation, response)

    def delete(self, operation: str, url: str) -> None:
        # The API reference lists If-Match as required on DELETE; "*" matches any version.
        guarded_request(self._http, self.guard, operation, "DELETE", url, headers={"If-Match": "*"})

    def pages(
        self, operation: str, url: str, params: dict[str, str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page of a collection in the server's order; the next is fetched when asked for."""
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        next_url: str | None = url
        first = True
        while next_url is not None:
            response = guarded_request(
                self._http,
                self.guard,
                operation,
                "GET",
                next_url,
                params=params if first else None,
                headers=headers,
            )
            body = json_body(self.system, operation, response)
            rows, next_url = collection_page(
                self.system, body, origin=self.origin, current_url=str(response.request.url)
            )
            first = False
            yield rows
