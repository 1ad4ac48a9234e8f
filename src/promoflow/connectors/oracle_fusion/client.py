"""Oracle Fusion Cloud REST client: basic auth, limit/offset paging, q/finder/fields/orderBy.

Every request goes through the connection's Guard (`guarded_request`). Requests
opt into REST framework version 4 (`REST-Framework-Version`), which reads `q` as a
row-match expression (`and`, `or`, parentheses, quoted literals). A collection is
read from `offset` 0 asking for `limit` rows, and moved on by the `count` each
page holds: the server may serve fewer than asked (its `limit` says how many; Fusion
serves at most 499). Each page is checked whole (`mapping.collection_page`) before
the next is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import httpx

from promoflow.connectors import odata
from promoflow.connectors.http import guarded_request, json_body, json_object
from promoflow.connectors.oracle_fusion.mapping import collection_page
from promoflow.connectors.outbound import OutboundPolicy
from promoflow.connectors.resilience import Guard
from promoflow.kit.errors import InvalidInput

RESOURCES = "/fscmRestApi/resources/11.13.18.05"
FRAMEWORK_VERSION = "4"
ACTION_TYPE = "application/vnd.oracle.adf.action+json"


class SecretBasicAuth(httpx.Auth):
    """HTTP basic auth whose password is resolved per request, never kept on the object.

    Resolving per request also picks up a rotated password without a restart.
    """

    def __init__(self, username: str, resolve_password: Callable[[], str]) -> None:
        self.username = username
        self._resolve_password = resolve_password

    def __repr__(self) -> str:
        return f"SecretBasicAuth({self.username!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        basic = httpx.BasicAuth(self.username, self._resolve_password())
        yield from basic.auth_flow(request)


def quoted(field: str, value: str) -> str:
    """A row-match string literal; a quote inside a value is refused, not guessed at."""
    if "'" in value:
        raise InvalidInput(field, value, "Oracle row-match filters cannot carry a single quote")
    return f"'{value}'"


def any_of(attribute: str, values: Iterable[str]) -> str:
    """`(Attr = 'a' or Attr = 'b')`: the shared OData form with row-match `=` and quoting."""
    return odata.any_of(attribute, values, equals="=", quote=lambda v: quoted(attribute, v))


class OracleFusionClient:
    """The SCM and procurement resources of one Oracle Fusion Cloud pod."""

    def __init__(
        self,
        system: str,
        guard: Guard,
        *,
        base_url: str,
        auth: httpx.Auth,
        page_size: int,
        outbound: OutboundPolicy,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.system = system
        self.guard = guard
        self.resources = base_url.rstrip("/") + RESOURCES
        self.page_size = page_size
        self._http = outbound.http_client(
            system,
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "REST-Framework-Version": FRAMEWORK_VERSION},
        )

    def __repr__(self) -> str:
        return f"OracleFusionClient({self.resources!r})"

    def close(self) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        return f"{self.resources}/{path.lstrip('/')}"

    def get(self, operation: str, path: str, params: dict[str, str] | None = None) -> Any:
        response = guarded_request(
            self._http, self.guard, operation, "GET", self.url(path), params=params
        )
        return json_body(self.system, operation, response)

    def post(
        self,
        operation: str,
        path: str,
        body: dict[str, Any],
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        response = guarded_request(
            self._http,
            self.guard,
            operation,
            "POST",
            self.url(path),
            json=body,
            headers={"Content-Type": content_type},
        )
        return json_object(self.system, operation, response)

    def delete(self, operation: str, path: str) -> None:
        guarded_request(self._http, self.guard, operation, "DELETE", self.url(path))

    def collection(
        self, operation: str, path: str, params: dict[str, str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page of a collection, `page_size` rows at a time, fetched when asked for."""
        offset = 0
        while True:
            query = {
                **params,
                "onlyData": "true",
                "limit": str(self.page_size),
                "offset": str(offset),
            }
            if offset == 0:
                query["totalResults"] = "true"
            body = self.get(operation, path, query)
            rows, has_more = collection_page(self.system, body, limit=self.page_size, offset=offset)
            yield rows
            if not has_more:
                return
            offset += len(rows)  # the page's `count`, checked against its items
