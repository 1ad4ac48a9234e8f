"""What the SDK's testing backend lacks of commercetools pricing, added in the vendor's shape.

Sources (the commercetools HTTP API reference, docs.commercetools.com):

- Price `key` (api/releases/2022-12-12, "Added key to Embedded Prices"): kept on the
  Price, unique per ProductVariant. The shipped `addPrice` drops it.
- 100 Embedded Prices per ProductVariant (api/limits; api/releases/2019-02-21 "Prices
  per product variant: lowered from 700 to 100"; merchant-center/prices). An update
  that leaves a variant with more is refused as a whole (one update request is applied
  entirely or not at all). The reference publishes the limit but, as far as we found,
  not the error code it answers with: here a 400 `InvalidOperation`.
- `priceMode` on Product (`Embedded` when unset, or `Standalone`;
  api/projects/standalone-prices): a Standalone product's variants are priced from
  Standalone Prices only, so embedded prices added to it never reach the shop.
- The Standalone Prices API (api/projects/standalone-prices): POST /standalone-prices
  with a StandalonePriceDraft (key, sku, value, country, customerGroup, channel,
  validFrom, validUntil, active), GET .../key={key}, query by `where`, DELETE
  .../key={key}?version=. A second price for the same SKU and scope (currency, country,
  customer group, channel) with an overlapping validity is a 400
  `OverlappingStandalonePriceValidity`; a taken key a 400 `DuplicateField`.
- Price selection (api/pricing-and-discounts-overview, "Price selection"): a price for
  the requested channel wins over one without a channel; within a level a price whose
  validity covers the moment wins over an undated one.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from commercetools.platform import models
from commercetools.platform.models._schemas.error import ErrorResponseSchema
from commercetools.platform.models._schemas.standalone_price import (
    StandalonePriceDraftSchema,
    StandalonePricePagedQueryResponseSchema,
    StandalonePriceSchema,
)
from commercetools.testing import BackendRepository
from commercetools.testing.abstract import BaseModel, ServiceBackend
from commercetools.testing.products import ProductsBackend
from commercetools.testing.utils import create_commercetools_response

EMBEDDED_PRICES_PER_VARIANT = 100


def _error(status: int, code: str, message: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = ErrorResponseSchema().dump(
        models.ErrorResponse(status_code=status, message=message, errors=[])
    )
    body["errors"] = [{"code": code, "message": message, **fields}]
    return body


def _variants(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not data:
        return []
    return [data["masterVariant"], *(data.get("variants") or [])]


def _add_price_keeping_key(backend: Any, obj: dict[str, Any], action: Any) -> dict[str, Any]:
    new: dict[str, Any] = ProductsBackend._actions["addPrice"](backend, obj, action)
    if action.price.key is not None:
        for data in (new["masterData"].get("current"), new["masterData"].get("staged")):
            for variant in _variants(data):
                if variant["sku"] == action.sku and variant.get("prices"):
                    variant["prices"][-1].setdefault("key", action.price.key)
    return new


def _over_limit(obj: dict[str, Any]) -> tuple[str, int] | None:
    for data in (obj["masterData"].get("current"), obj["masterData"].get("staged")):
        for variant in _variants(data):
            count = len(variant.get("prices") or [])
            if count > EMBEDDED_PRICES_PER_VARIANT:
                return str(variant["sku"]), count
    return None


def _apply_update_actions(
    backend: Any, obj: dict[str, Any], update: Any
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The shipped loop, refusing the whole update when a variant ends over the limit."""
    if update.version != obj["version"]:
        return None, backend._create_version_error_response(obj["version"])
    new = copy.deepcopy(obj)
    for action in update.actions:
        apply = backend._actions.get(action.action)
        if apply is None:
            return None, _error(400, "InvalidInput", f"unsupported action {action.action}")
        new = apply(backend, new, action)
    over = _over_limit(new)
    if over is not None:
        message = (
            f"A ProductVariant can have at most {EMBEDDED_PRICES_PER_VARIANT} prices; "
            f"SKU {over[0]} would have {over[1]}."
        )
        return None, _error(400, "InvalidOperation", message)
    if new != obj:
        backend.model.save(new)
        return new, None
    return obj, None


class StandalonePricesModel(BaseModel):
    _primary_type_name = "standalone-price"
    _resource_schema = StandalonePriceSchema
    _unique_values: ClassVar[list[str]] = ["key"]

    def _create_from_draft(
        self, draft: models.StandalonePriceDraft, id: str | None = None
    ) -> models.StandalonePrice:
        now = datetime.now(UTC)
        return models.StandalonePrice(
            id=id or str(uuid.uuid4()),
            version=1,
            created_at=now,
            last_modified_at=now,
            key=draft.key,
            sku=draft.sku,
            value=models.CentPrecisionMoney(
                cent_amount=draft.value.cent_amount,
                currency_code=draft.value.currency_code,
                fraction_digits=2,
            ),
            country=draft.country,
            customer_group=draft.customer_group,  # type: ignore[arg-type]
            channel=draft.channel,  # type: ignore[arg-type]
            valid_from=draft.valid_from,
            valid_until=draft.valid_until,
            active=True if draft.active is None else draft.active,
        )


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    start_a, end_a = a.get("validFrom") or "", a.get("validUntil") or "9999"
    start_b, end_b = b.get("validFrom") or "", b.get("validUntil") or "9999"
    return _at(start_a) < _at(end_b) and _at(start_b) < _at(end_a)


def _at(text: str) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    if text == "9999":
        return datetime.max.replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _scope(price: dict[str, Any]) -> tuple[Any, ...]:
    return (
        price["value"]["currencyCode"],
        price.get("country"),
        (price.get("customerGroup") or {}).get("id"),
        (price.get("channel") or {}).get("id"),
    )


class StandalonePricesBackend(ServiceBackend):
    service_path = "standalone-prices"
    model_class = StandalonePricesModel
    _schema_draft = StandalonePriceDraftSchema
    _schema_query_response = StandalonePricePagedQueryResponseSchema

    def urls(self) -> list[tuple[str, str, Callable[..., Any]]]:
        return [
            ("^$", "GET", self.query),
            ("^$", "POST", self.create),
            ("^key=(?P<key>[^/]+)$", "GET", self.get_by_key),
            ("^key=(?P<key>[^/]+)$", "DELETE", self.delete_by_key),
        ]

    def query(self, request: Any) -> Any:
        """`where`, `limit` (default 20, at most 500) and `offset`, as documented.

        The shipped server repeats the query string's values, so they are read once here.
        """
        where = list(dict.fromkeys(request.qs.get("where", [])))
        limit = min(int((request.qs.get("limit") or ["20"])[0]), 500)
        offset = int((request.qs.get("offset") or ["0"])[0])
        matches = self.model.query(where)
        page = matches[offset : offset + limit]
        body = {
            "count": len(page),
            "total": len(matches),
            "offset": offset,
            "limit": limit,
            "results": page,
        }
        return create_commercetools_response(request, json=body)

    def create(self, request: Any) -> Any:
        draft = self._schema_draft().loads(request.body)
        wanted = StandalonePriceSchema().dump(self.model._create_from_draft(draft))
        for held in self.model.objects.values():
            if held.get("key") and held["key"] == wanted.get("key"):
                body = _error(400, "DuplicateField", "key taken", field="key")
                return create_commercetools_response(request, json=body, status_code=400)
            same = held["sku"] == wanted["sku"] and _scope(held) == _scope(wanted)
            if same and _overlaps(held, wanted):
                body = _error(
                    400,
                    "OverlappingStandalonePriceValidity",
                    "Two standalone prices have overlapping validity periods.",
                    conflictingStandalonePrice={"typeId": "standalone-price", "id": held["id"]},
                )
                return create_commercetools_response(request, json=body, status_code=400)
        return super().create(request)

    def by_key(self, key: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.model.get_by_key(key)
        return found


def install(repository: BackendRepository) -> StandalonePricesBackend:
    """Put the vendor's pricing rules into the shipped backend; the Standalone Prices API."""
    products = repository.products
    products._actions = {**ProductsBackend._actions, "addPrice": _add_price_keeping_key}
    products._apply_update_actions = (  # type: ignore[method-assign]
        lambda obj, update: _apply_update_actions(products, obj, update)
    )
    return StandalonePricesBackend(repository._storage)


def select_price(prices: list[dict[str, Any]], channel_id: str, at: datetime) -> int | None:
    """The cent amount price selection picks for EUR at a channel and moment (None: no price)."""

    def valid(price: dict[str, Any]) -> bool:
        return price.get("active", True) and (
            _at(price.get("validFrom") or "") <= at < _at(price.get("validUntil") or "9999")
        )

    candidates = [p for p in prices if valid(p) and not p.get("country")]
    for level in (channel_id, None):
        matching = [p for p in candidates if (p.get("channel") or {}).get("id") == level]
        dated = [p for p in matching if p.get("validFrom") or p.get("validUntil")]
        chosen = dated or matching
        if chosen:
            return int(chosen[0]["value"]["centAmount"])
    return None
