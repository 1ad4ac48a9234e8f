"""The commercetools SDK's own testing backend, served over real HTTP on 127.0.0.1.

`commercetools.testing.server.Server` is the WSGI app the SDK ships; we serve it with
werkzeug in a thread and put three small things in front of or beside it:

- `removePrice`: the Products API's documented action (by priceId; staged=false
  removes from current and staged). The shipped backend lacks it and silently
  ignores unknown actions, which would make a revert look applied.
- a token gate: the shipped auth accepts any credentials (and mis-decodes Basic
  auth), so we check the client secret and answer like commercetools' auth
  service (401 invalid_client) when it is wrong.
- fault injection: answer chosen requests with an error status, like a throttled or
  unavailable API, to exercise retries and crashes half-way.
- the vendor's pricing rules and the Standalone Prices API (`ct_pricing_backend`):
  price keys kept, 100 embedded prices per variant, `priceMode`, price selection.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commercetools.platform import models
from commercetools.testing import BackendRepository
from commercetools.testing.products import _get_target_obj
from commercetools.testing.server import Server
from ct_pricing_backend import StandalonePricesBackend, install, select_price
from werkzeug.serving import make_server

from promoflow.connectors.commercetools.connector import CommercetoolsConnector

PROJECT = "unittest"  # the project the shipped backend seeds
CLIENT_ID = "promoflow-tests"
SECRET = "ct-Secret-9f2b7c41d0"
ConnectorFactory = Callable[..., CommercetoolsConnector]


def _remove_price(backend: Any, obj: dict[str, Any], action: Any) -> dict[str, Any]:
    new = copy.deepcopy(obj)
    staged = True if action.staged is None else action.staged
    targets = [_get_target_obj(new, True)] if staged else [_get_target_obj(new, False)]
    if not staged and new["masterData"].get("staged"):
        targets.append(new["masterData"]["staged"])
    for data in targets:
        for variant in [data["masterVariant"], *(data.get("variants") or [])]:
            variant["prices"] = [
                p for p in variant.get("prices") or [] if p["id"] != action.price_id
            ]
    return new


@dataclass
class Fault:
    method: str
    path: str  # regex on the path
    status: int
    times: int


@dataclass
class CommercetoolsStub:
    """The running server, its repository (for seeding and reading) and its knobs."""

    repository: BackendRepository
    url: str
    secret: str
    standalone: StandalonePricesBackend
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, method: str, path: str, status: int, times: int = 1) -> None:
        self.faults.append(Fault(method, path, status, times))

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.search(path, p))

    def product(self, key: str) -> models.Product:
        raw = self.repository.products.model.get_by_key(key)
        return models.Product.deserialize(raw)

    def prices(self, key: str, sku: str) -> list[models.Price]:
        data = self.product(key).master_data.current
        assert data is not None
        for variant in [data.master_variant, *(data.variants or [])]:
            if variant.sku == sku:
                return list(variant.prices or [])
        raise AssertionError(f"no SKU {sku}")

    def standalone_prices(self, sku: str) -> list[models.StandalonePrice]:
        held = self.standalone.model.objects.values()
        return [models.StandalonePrice.deserialize(p) for p in held if p["sku"] == sku]

    def set_price_mode(self, key: str, mode: str) -> None:
        """What the Set PriceMode update action does (kept out of the shipped backend)."""
        self.repository.products.model.get_by_key(key)["priceMode"] = mode

    def channel_id(self, key: str) -> str:
        objects = self.repository.channels.model.objects.values()
        return str(next(c["id"] for c in objects if c["key"] == key))

    def shop_price(self, sku: str, channel_key: str, at: datetime) -> int | None:
        """The cents the shop shows for `sku` at a store: Standalone products use only
        Standalone Prices, Embedded products only the variant's own prices."""
        product = next(
            p
            for p in self.repository.products.model.objects.values()
            if sku in {v["sku"] for v in _variant_dicts(p)}
        )
        if product.get("priceMode") == "Standalone":
            held = [p for p in self.standalone.model.objects.values() if p["sku"] == sku]
        else:
            held = next(v.get("prices") or [] for v in _variant_dicts(product) if v["sku"] == sku)
        return select_price(held, self.channel_id(channel_key), at)


def _variant_dicts(product: dict[str, Any]) -> list[dict[str, Any]]:
    data = product["masterData"]["current"] or product["masterData"]["staged"]
    return [data["masterVariant"], *(data.get("variants") or [])]


def _json_response(
    start_response: Callable[..., Any], status: int, body: dict[str, Any]
) -> list[bytes]:
    payload = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    start_response(f"{status} Error", headers)
    return [payload]


def _app(stub: CommercetoolsStub, server: Server) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        stub.requests.append((method, path))
        for fault in stub.faults:
            if fault.times > 0 and fault.method == method and re.search(fault.path, path):
                fault.times -= 1
                return _json_response(
                    start_response,
                    fault.status,
                    {"statusCode": fault.status, "message": "injected fault", "errors": []},
                )
        if path == "/oauth/token":
            auth = environ.get("HTTP_AUTHORIZATION", "")
            pair = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth else ":"
            client_id, _, secret = pair.partition(":")
            if client_id != CLIENT_ID or secret != stub.secret:
                message = "Please provide valid client credentials using HTTP Basic Authentication."
                return _json_response(
                    start_response,
                    401,
                    {
                        "statusCode": 401,
                        "message": message,
                        "errors": [{"code": "invalid_client", "message": message}],
                        "error": "invalid_client",
                        "error_description": message,
                    },
                )
        return server(environ, start_response)

    return app


def _request_once(create: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    def once(environ: dict[str, Any]) -> Any:
        request = create(environ)
        request.params = {}
        return request

    return once


def serve(secret: str) -> Iterator[CommercetoolsStub]:
    """Run the backend on 127.0.0.1 (URLs say `localhost`, the host name it answers to)."""
    server = Server()
    repository = server.repository
    # The shipped server puts the query string in the URL and again as params, so every
    # value arrives twice and `limit=500` fails to parse: send it once.
    server._create_request = _request_once(server._create_request)  # type: ignore[method-assign]
    standalone = install(repository)
    repository.products._actions["removePrice"] = _remove_price
    server.adapter.add_matcher(standalone._matcher)
    stub = CommercetoolsStub(repository, "", secret, standalone)
    httpd = make_server("127.0.0.1", 0, _app(stub, server), threaded=False)
    stub.url = f"http://localhost:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        httpd.shutdown()
        httpd.server_close()


def seed_estate(repository: BackendRepository) -> None:
    """Three store channels, two products with three SKUs and their regular EUR prices."""
    for key in ("S001", "S002", "WEB"):
        repository.channels.model.add(
            models.ChannelDraft(key=key, roles=[models.ChannelRoleEnum.PRODUCT_DISTRIBUTION])
        )

    def variant(sku: str, cents: int) -> models.ProductVariantDraft:
        money = models.Money(cent_amount=cents, currency_code="EUR")
        return models.ProductVariantDraft(sku=sku, prices=[models.PriceDraft(value=money)])

    product_type = models.ProductTypeResourceIdentifier(key="grocery")
    repository.products.model.add(
        models.ProductDraft(
            key="coffee",
            name={"en": "Coffee"},
            slug={"en": "coffee"},
            product_type=product_type,
            master_variant=variant("SKU-1", 499),
            variants=[variant("SKU-2", 899)],
            publish=True,
        )
    )
    repository.products.model.add(
        models.ProductDraft(
            key="tea",
            name={"en": "Tea"},
            slug={"en": "tea"},
            product_type=product_type,
            master_variant=variant("SKU-3", 299),
            publish=True,
        )
    )


def seed_stores(repository: BackendRepository, count: int) -> list[str]:
    """`count` more store channels, C001...: a chain."""
    keys = [f"C{number:03d}" for number in range(1, count + 1)]
    for key in keys:
        repository.channels.model.add(
            models.ChannelDraft(key=key, roles=[models.ChannelRoleEnum.PRODUCT_DISTRIBUTION])
        )
    return keys


def seed_product(repository: BackendRepository, key: str, sku: str, cents: int) -> None:
    """A published product with one variant and its regular EUR price (no channel)."""
    money = models.Money(cent_amount=cents, currency_code="EUR")
    repository.products.model.add(
        models.ProductDraft(
            key=key,
            name={"en": key},
            slug={"en": key},
            product_type=models.ProductTypeResourceIdentifier(key="grocery"),
            master_variant=models.ProductVariantDraft(
                sku=sku, prices=[models.PriceDraft(value=money)]
            ),
            publish=True,
        )
    )
