"""The commercetools HTTP API through the official SDK, every call under the connection's Guard.

Three things sit under the SDK on purpose:

- A transport adapter maps statuses before the SDK sees them. The SDK's request
  builders return None for statuses they do not list (429, 504), the same None they
  return for 404, so a throttled "does this key exist?" would read as "no" and we
  would write twice; and they fail decoding a non-JSON 502. Here 408/425/429/5xx are
  retryable ConnectorErrors, as in `connectors.http`. It also sets a timeout (the SDK
  sends none) and turns off urllib3's own retries, so the Guard owns retrying.
  It refuses, before sending, any request (token calls and redirects included) to a
  host the server's settings do not allow (`connectors.outbound`).
- A token store per connection instead of the SDK's per-thread global one.
- requests-oauthlib logs the token request's headers and body (the client secret)
  and the token at DEBUG; those records are dropped.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from commercetools import CommercetoolsError
from commercetools.platform import models
from commercetools.platform.client import Client
from commercetools.platform.client.by_project_key_request_builder import (
    ByProjectKeyRequestBuilder,
)
from commercetools.utils import BaseTokenSaver
from oauthlib.oauth2 import (  # type: ignore[import-untyped]  # no stubs published
    InsecureTransportError,
    OAuth2Error,
)
from requests.adapters import HTTPAdapter
from urllib3.util import parse_url

from promoflow.connectors.http import RETRYABLE_STATUS, status_error
from promoflow.connectors.outbound import OutboundPolicy
from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable
from promoflow.connectors.resilience import Guard
from promoflow.kit.sequences import chunked

from .journal import JOURNAL_CONTAINER

T = TypeVar("T")
# commercetools' default page size; asking for no more keys than this per query means
# one page always holds every match, with no paging (each SKU and channel key is unique).
QUERY_CHUNK = 20
CHANNEL_PAGE = 500  # the most one query returns (api/limits, Queries)


class _DropOAuthDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


logging.getLogger("requests_oauthlib.oauth2_session").addFilter(_DropOAuthDebug())


class _StatusMappingAdapter(HTTPAdapter):
    def __init__(self, system: str, timeout: float, outbound: OutboundPolicy) -> None:
        super().__init__(max_retries=0)
        self._system = system
        self._timeout = timeout
        self._outbound = outbound
        self.last_status = threading.local()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self._outbound.check_host(self._system, parse_url(request.url or "").host)
        kwargs["timeout"] = kwargs.get("timeout") or self._timeout
        where = f"{request.method} {request.path_url.split('?')[0]}"
        try:
            response = super().send(request, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise ConnectorUnavailable(self._system, f"{where}: {error}") from error
        # The SDK's error carries the body's `statusCode`, which a gateway's or
        # proxy's error body lacks (it read "HTTP None"): keep the real status.
        self.last_status.value = response.status_code
        if response.status_code in RETRYABLE_STATUS:
            message = f"{where}: HTTP {response.status_code}: {response.text[:300]}"
            if response.status_code == 503:
                raise ConnectorUnavailable(self._system, message)
            raise ConnectorError(self._system, message, retryable=True)
        return response


class _TokenStore(BaseTokenSaver):
    def __init__(self) -> None:
        self._tokens: dict[str, Any] = {}

    def get_token(self, client_id: str, scopes: list[str]) -> Any:
        return self._tokens.get(f"{client_id}:{';'.join(scopes)}")

    def add_token(self, client_id: str, scopes: list[str], token: Any) -> None:
        self._tokens[f"{client_id}:{';'.join(scopes)}"] = token


@dataclass(frozen=True)
class Endpoint:
    project_key: str
    api_url: str
    auth_url: str
    client_id: str
    scopes: tuple[str, ...]
    secret_reference: str
    timeout_seconds: float


def quoted(values: Iterable[str]) -> str:
    # Predicate string literals are JSON strings; json.dumps escapes quotes and backslashes.
    return ", ".join(json.dumps(value) for value in values)


class CommercetoolsClient:
    """The few commercetools calls the connector makes, each retried under the Guard."""

    def __init__(
        self,
        endpoint: Endpoint,
        secret: Callable[[], str],
        guard: Guard,
        system: str,
        outbound: OutboundPolicy,
    ) -> None:
        self.endpoint = endpoint
        self._outbound = outbound
        self._secret = secret
        self._guard = guard
        self._system = system
        self._tokens = _TokenStore()
        self._project: ByProjectKeyRequestBuilder | None = None
        self._adapter: _StatusMappingAdapter | None = None

    def __repr__(self) -> str:
        return f"CommercetoolsClient({self.endpoint!r})"

    def _api(self) -> ByProjectKeyRequestBuilder:
        if self._project is None:
            adapter = _StatusMappingAdapter(
                self._system, self.endpoint.timeout_seconds, self._outbound
            )
            client = Client(  # type: ignore[no-untyped-call]
                client_id=self.endpoint.client_id,
                client_secret=self._secret(),
                scope=list(self.endpoint.scopes),
                url=self.endpoint.api_url,
                token_url=self.endpoint.auth_url,
                token_saver=self._tokens,
                http_adapter=adapter,
            )
            self._project = client.with_project_key(self.endpoint.project_key)
            self._adapter = adapter
        return self._project

    def call(self, operation: str, fn: Callable[[ByProjectKeyRequestBuilder], T]) -> T:
        """Run `fn` against the project under the Guard, with commercetools' errors mapped."""

        def attempt() -> T:
            try:
                return fn(self._api())
            except CommercetoolsError as error:
                raise self._translate(operation, error) from None
            except requests.RequestException as error:
                # Raised outside the adapter, e.g. a body cut off while it is read.
                raise ConnectorUnavailable(self._system, f"{operation}: {error}") from error
            except InsecureTransportError:
                raise ConnectorError(
                    self._system,
                    f"{operation}: auth_url {self.endpoint.auth_url!r} is not https; "
                    "commercetools tokens are only requested over TLS",
                    retryable=False,
                ) from None
            except OAuth2Error as error:
                self._project = None
                raise ConnectorError(
                    self._system,
                    f"{operation}: {self.endpoint.auth_url} refused client "
                    f"{self.endpoint.client_id!r} ({error.error}); check client_id, the "
                    f"secret behind {self.endpoint.secret_reference} and the scopes",
                    retryable=False,
                ) from None

        return self._guard.call(operation, attempt)

    def _translate(self, operation: str, error: CommercetoolsError) -> ConnectorError:
        status = getattr(error.response, "status_code", None)
        if not status and self._adapter is not None:
            status = getattr(self._adapter.last_status, "value", None)
        body = {"statusCode": status, "message": str(error), "errors": list(error.errors or [])}
        message = status_error(self._system, operation, int(status or 0), body).message
        if status == 401:
            # An expired or revoked token: forget the client so the retry fetches a new one.
            self._project = None
            return ConnectorError(self._system, message, retryable=True)
        # 409 is a concurrent modification: the retry re-reads the version.
        return ConnectorError(self._system, message, retryable=status in (409, 500))

    def project(self) -> models.Project:
        def read(api: ByProjectKeyRequestBuilder) -> models.Project:
            project = api.get()
            if project is None:
                raise ConnectorError(
                    self._system,
                    f"project {self.endpoint.project_key!r} not found at {self.endpoint.api_url}",
                    retryable=False,
                )
            return project

        return self.call("read project", read)

    def journal(self, key: str, container: str = JOURNAL_CONTAINER) -> models.CustomObject | None:
        return self.call(
            f"read {container}",
            lambda api: api.custom_objects().with_container_and_key(container, key).get(),
        )

    def save_journal(
        self, key: str, value: dict[str, Any], container: str = JOURNAL_CONTAINER
    ) -> models.CustomObject:
        """Create or overwrite a journal entry.

        Without a version: every write for a key carries the same plan, and the price
        writes themselves are checked per scope, so a lost race overwrites like with like.
        """
        draft = models.CustomObjectDraft(container=container, key=key, value=value)

        def save(api: ByProjectKeyRequestBuilder) -> models.CustomObject:
            saved = api.custom_objects().post(draft)
            if saved is None:
                raise ConnectorError(self._system, "save publication journal: no answer")
            return saved

        return self.call(f"save {container}", save)

    def channel_ids(self, keys: Iterable[str]) -> dict[str, str]:
        """Channel id by key for the keys that exist."""
        found: dict[str, str] = {}
        for chunk in chunked(sorted(set(keys)), QUERY_CHUNK):
            where = f"key in ({quoted(chunk)})"

            def find(
                api: ByProjectKeyRequestBuilder, where: str = where
            ) -> models.ChannelPagedQueryResponse | None:
                return api.channels().get(where=[where])

            page = self.call("find channels", find)
            for channel in page.results if page else []:
                if channel.key:
                    found[channel.key] = channel.id
        return found

    def store_channel_ids(self) -> set[str]:
        """The ids of every channel with the ProductDistribution role (the stores prices
        can be scoped to), page by page."""
        found: set[str] = set()
        offset = 0
        while True:

            def page_of(
                api: ByProjectKeyRequestBuilder, offset: int = offset
            ) -> models.ChannelPagedQueryResponse | None:
                return api.channels().get(limit=CHANNEL_PAGE, offset=offset)

            page = self.call("list channels", page_of)
            results = page.results if page else []
            found |= {
                c.id for c in results if models.ChannelRoleEnum.PRODUCT_DISTRIBUTION in c.roles
            }
            if len(results) < CHANNEL_PAGE:
                return found
            offset += CHANNEL_PAGE

    def products_for_skus(self, skus: Iterable[str]) -> list[models.Product]:
        """The published products holding any of the SKUs."""
        products: dict[str, models.Product] = {}
        for chunk in chunked(sorted(set(skus)), QUERY_CHUNK):
            listed = quoted(chunk)
            where = (
                f"masterData(current(masterVariant(sku in ({listed})) "
                f"or variants(sku in ({listed}))))"
            )

            def find_products(
                api: ByProjectKeyRequestBuilder, where: str = where
            ) -> models.ProductPagedQueryResponse | None:
                return api.products().get(where=[where])

            page = self.call("find products by SKU", find_products)
            for product in page.results if page else []:
                products[product.id] = product
        return list(products.values())

    def update_product(
        self,
        operation: str,
        product_id: str,
        actions_for: Callable[[models.Product], list[models.ProductUpdateAction]],
    ) -> int:
        """Read the product, send the actions `actions_for` returns (if any); count them.

        Reading inside the attempt means a retry after a concurrent modification (409)
        computes its actions from the version it sends.
        """

        def update(api: ByProjectKeyRequestBuilder) -> int:
            product = api.products().with_id(product_id).get()
            if product is None:
                raise ConnectorError(
                    self._system, f"{operation}: product {product_id} is gone", retryable=False
                )
            actions = actions_for(product)
            if actions:
                api.products().with_id(product_id).post(
                    models.ProductUpdate(version=product.version, actions=actions)
                )
            return len(actions)

        return self.call(operation, update)
