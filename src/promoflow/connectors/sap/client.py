"""An OData V2 client for one SAP S/4HANA service, every call through the connection's Guard.

What it does the way SAP Gateway expects:
- basic authentication and `sap-client` on every request;
- the CSRF handshake: a token is fetched with `X-CSRF-Token: Fetch` on a GET of the
  service root, then sent with the session cookies on every modifying request; a
  403 "CSRF token validation failed" (the session expired) fetches a new one once;
- reads page by page: client paging with `$top`/`$skip` and `$inlinecount=allpages`,
  following `__next` when the server pages itself; a page shorter than the count
  promises, or a count that changes mid-read, is a MalformedPayload;
- `$batch`: many reads, or a changeset of writes, in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from promoflow.connectors.http import (
    RETRYABLE_STATUS,
    guarded_request,
    json_body,
    raise_for_status,
)
from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable, MalformedPayload
from promoflow.connectors.resilience import Guard
from promoflow.connectors.sap.batch import BatchRequest, BatchResponse, decode_batch, encode_batch
from promoflow.connectors.sap.mapping import Page, collection_page
from promoflow.connectors.vendor_errors import describe

# The SAP API Business Hub services the connector calls (OData V2, under base_url).
PRODUCTS = "API_PRODUCT_SRV"
STOCK = "API_MATERIAL_STOCK_SRV"
PURCHASE_ORDERS = "API_PURCHASEORDER_PROCESS_SRV"
SERVICES = (PRODUCTS, STOCK, PURCHASE_ORDERS)
CSRF_HEADER = "X-CSRF-Token"
JSON = {"Accept": "application/json"}


@dataclass(frozen=True)
class Query:
    """A collection read: entity set and system query options."""

    entity_set: str
    filter: str = ""
    select: tuple[str, ...] = ()
    expand: tuple[str, ...] = ()
    orderby: tuple[str, ...] = ()

    def params(self) -> dict[str, str]:
        options = {"$inlinecount": "allpages", "$format": "json"}
        if self.filter:
            options["$filter"] = self.filter
        if self.select:
            options["$select"] = ",".join(self.select)
        if self.expand:
            options["$expand"] = ",".join(self.expand)
        if self.orderby:
            options["$orderby"] = ",".join(self.orderby)
        return options

    def path(self, top: int, skip: int) -> str:
        """The request path with options, as a $batch part needs it (encoded)."""
        options = self.params()
        options.update({"$top": str(top), "$skip": str(skip)})
        return f"{self.entity_set}?{httpx.QueryParams(options)}"


def _csrf_rejected(response: httpx.Response) -> bool:
    return response.status_code == 403 and (
        response.headers.get(CSRF_HEADER, "").lower() == "required"
        or "csrf token validation failed" in response.text.lower()
    )


class ODataService:
    """One OData V2 service (e.g. API_PRODUCT_SRV) of one S/4HANA system."""

    def __init__(
        self,
        http: httpx.Client,
        guard: Guard,
        service: str,
        *,
        page_size: int,
    ) -> None:
        self.http = http
        self.guard = guard
        self.system = guard.name
        self.root = f"{service}/"
        self.page_size = page_size
        self._token: str | None = None

    def get_json(self, operation: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = guarded_request(
            self.http, self.guard, operation, "GET", self.root + path, params=params, headers=JSON
        )
        return json_body(self.system, operation, response)

    def read_pages(self, operation: str, query: Query) -> Iterator[Page]:
        """Every row of a query, one server answer at a time; verified against `__count`.

        A page is checked before it is yielded, so a partial page never reaches
        the caller: it raises MalformedPayload instead.
        """
        skip = 0
        total: int | None = None
        while True:
            params = query.params()
            if self.page_size > 0:
                params.update({"$top": str(self.page_size), "$skip": str(skip)})
            body = self.get_json(operation, query.entity_set, params)
            received = 0
            while True:  # one client page, which the server may split with __next links
                page = collection_page(self.system, body)
                total = self._check_count(query, page, total)
                received += len(page.rows)
                if not page.next_url:
                    self._check_complete(operation, query, skip, received, total)
                yield page
                if not page.next_url:
                    break
                body = self._follow(operation, page.next_url)
            skip += received
            if self.page_size <= 0 or skip >= total or received == 0:
                return

    def _check_complete(
        self, operation: str, query: Query, skip: int, received: int, total: int
    ) -> None:
        expected = total - skip if self.page_size <= 0 else min(self.page_size, total - skip)
        if received < expected:
            raise MalformedPayload(
                self.system,
                f"{operation}: a partial page: {received} rows at offset {skip} where "
                f"__count={total} promises {expected}",
                payload={"entity_set": query.entity_set, "skip": skip, "received": received},
                field="d.results",
                value=received,
            )

    def _follow(self, operation: str, next_url: str) -> Any:
        url = httpx.URL(next_url)
        base = self.http.base_url
        if url.is_absolute_url and (url.host, url.port) != (base.host, base.port):
            raise MalformedPayload(
                self.system,
                f"{operation}: __next points to another host",
                field="d.__next",
                value=next_url,
            )
        target = str(url.copy_with(query=None)) if url.is_absolute_url else self.root + url.path
        # httpx replaces a URL's query with the client's params (sap-client), so the
        # link's options are passed as params to be merged with them.
        response = guarded_request(
            self.http, self.guard, operation, "GET", target, params=url.params, headers=JSON
        )
        return json_body(self.system, operation, response)

    def _check_count(self, query: Query, page: Page, total: int | None) -> int:
        if page.count is None:
            if total is None:
                raise MalformedPayload(
                    self.system,
                    f"{query.entity_set}: the answer has no __count to check pages against",
                    payload={"entity_set": query.entity_set},
                    field="d.__count",
                )
            return total
        if total is not None and page.count != total:
            raise MalformedPayload(
                self.system,
                f"{query.entity_set}: __count changed from {total} to {page.count} during the "
                "read; the pages are inconsistent",
                payload={"entity_set": query.entity_set},
                field="d.__count",
                value=page.count,
            )
        return page.count

    def csrf_token(self, operation: str, *, renew: bool = False) -> str:
        """The session's CSRF token (fetched with the session cookie on first use)."""
        if self._token is None or renew:
            response = guarded_request(
                self.http,
                self.guard,
                f"{operation}: fetch CSRF token",
                "GET",
                self.root,
                headers={**JSON, CSRF_HEADER: "Fetch"},
            )
            token = response.headers.get(CSRF_HEADER)
            if not token or token.lower() == "required":
                raise ConnectorError(
                    self.system,
                    f"{operation}: the service gave no CSRF token on fetch",
                    retryable=False,
                )
            self._token = token
        return self._token

    def modify(
        self, operation: str, method: str, path: str, *, content: bytes, content_type: str
    ) -> httpx.Response:
        """A modifying request with the CSRF token; a rejected token is renewed once."""
        self.csrf_token(operation)
        return self.guard.call(
            operation, lambda: self._modify_once(operation, method, path, content, content_type)
        )

    def _modify_once(
        self, operation: str, method: str, path: str, content: bytes, content_type: str
    ) -> httpx.Response:
        response = self._send_with_token(operation, method, path, content, content_type)
        if _csrf_rejected(response):
            # The session behind the token expired: fetch a new one, resend once.
            self._token = None
            fetched = self.http.get(self.root, headers={**JSON, CSRF_HEADER: "Fetch"})
            raise_for_status(self.system, f"{operation}: fetch CSRF token", fetched)
            self._token = fetched.headers.get(CSRF_HEADER)
            response = self._send_with_token(operation, method, path, content, content_type)
        raise_for_status(self.system, operation, response)
        return response

    def _send_with_token(
        self, operation: str, method: str, path: str, content: bytes, content_type: str
    ) -> httpx.Response:
        try:
            return self.http.request(
                method,
                self.root + path,
                content=content,
                headers={**JSON, "Content-Type": content_type, CSRF_HEADER: self._token or ""},
            )
        except httpx.TransportError as error:
            raise ConnectorUnavailable(self.system, f"{operation}: {error}") from error

    def batch(self, operation: str, requests: list[BatchRequest]) -> list[BatchResponse]:
        """Send requests in one `$batch`; every answer must succeed or the call raises.

        A part that failed with 429 or 5xx retries the whole batch: reads are
        idempotent, and a failed changeset was rolled back by the server.
        """
        content_type, body = encode_batch(requests)
        self.csrf_token(operation)

        def send() -> list[BatchResponse]:
            response = self._modify_once(operation, "POST", "$batch", body, content_type)
            return self._answers(operation, response, len(requests))

        return self.guard.call(operation, send)

    def _answers(
        self, operation: str, response: httpx.Response, expected: int
    ) -> list[BatchResponse]:
        try:
            answers = decode_batch(response.headers.get("content-type", ""), response.content)
        except ValueError as error:
            raise MalformedPayload(
                self.system,
                f"{operation}: {error}",
                payload={"body": response.text[:2000]},
                field="$batch",
                value=response.headers.get("content-type"),
            ) from None
        for answer in answers:
            if answer.status >= 400:
                # A failed changeset answers once, in place of all its requests.
                raise ConnectorError(
                    self.system,
                    f"{operation}: a $batch part failed with HTTP {answer.status}: "
                    f"{describe(answer.text)}",
                    retryable=answer.status in RETRYABLE_STATUS,
                )
        if len(answers) != expected:
            raise MalformedPayload(
                self.system,
                f"{operation}: $batch answered {len(answers)} parts for {expected} requests",
                payload={"body": response.text[:2000]},
                field="$batch",
                value=len(answers),
            )
        return answers
