"""Every amount the API answers with names its currency (issue 13, deliverable 4).

Requests send plain numbers in the deployment's currency; answers carry each
amount as {"amount": "1.50", "currency": "USD"}, the currency being the
app's PROMOFLOW_CURRENCY. A second app on the same runtime is configured in USD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from promoflow.config import Settings

if TYPE_CHECKING:
    from tests.api.conftest import Catalog

Auth = Callable[[str], dict[str, str]]
# Properties that hold money: prices, costs, margins, funding, amounts off.
MONEY_NAME = re.compile(r"(price|cost|margin_impact|revenue|funding_per_unit|amount)$")


@pytest.fixture(scope="module")
def usd_client(api_settings: Settings, catalog: Catalog) -> Iterator[TestClient]:
    """An app configured with PROMOFLOW_CURRENCY=USD, on the already running runtime."""
    from promoflow.app import create_app

    settings = Settings.model_validate({**api_settings.model_dump(), "currency": "usd"})
    with TestClient(create_app(settings, manage_runtime=False)) as test_client:
        yield test_client


def test_item_prices_carry_the_configured_currency(
    client: TestClient, usd_client: TestClient, auth: Auth, catalog: Catalog
) -> None:
    sku = catalog.skus[0]
    price = str(catalog.regular_prices[sku])

    in_euros = client.get(f"/api/v1/catalog/items/{sku}", headers=auth("auditor")).json()
    in_dollars = usd_client.get(f"/api/v1/catalog/items/{sku}", headers=auth("auditor")).json()
    page = usd_client.get(
        "/api/v1/catalog/items", params={"sku_prefix": sku}, headers=auth("auditor")
    ).json()

    assert in_euros["regular_price"] == {"amount": price, "currency": "EUR"}
    assert in_dollars["regular_price"] == {"amount": price, "currency": "USD"}
    assert in_dollars["unit_cost"]["currency"] == "USD"
    assert re.fullmatch(r"[0-9]+\.[0-9]{2}", in_dollars["unit_cost"]["amount"])
    assert page["items"][0]["regular_price"] == {"amount": price, "currency": "USD"}


def test_a_promotion_takes_plain_numbers_and_answers_amounts_with_the_currency(
    usd_client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    body = {
        **promotion_body,
        "mechanic": "fixed_price",
        "discount_percent": None,
        "fixed_price": 1.5,
        "vendor_funding_per_unit": 0.25,
    }

    created = usd_client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert created.status_code == 201, created.text
    detail = usd_client.get(created.headers["Location"], headers=auth("auditor")).json()

    assert detail["fixed_price"] == {"amount": "1.50", "currency": "USD"}
    assert detail["vendor_funding_per_unit"] == {"amount": "0.25", "currency": "USD"}
    assert detail["discount_amount"] is None and detail["bundle_price"] is None
    for item in detail["items"]:
        assert item["promo_price"] == {"amount": "1.50", "currency": "USD"}
        assert item["regular_price"]["currency"] == "USD"


def _request_schemas(document: dict[str, Any]) -> set[str]:
    named: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            body = json.dumps(operation.get("requestBody", {}))
            named.update(re.findall(r"#/components/schemas/([\w.-]+)", body))
    return named


def test_the_document_describes_answers_as_amounts_and_requests_as_numbers(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    requests = _request_schemas(document)
    answered, sent = [], []
    for name, schema in schemas.items():
        for field, spec in schema.get("properties", {}).items():
            if name == "MoneyAmount" or not MONEY_NAME.search(field):
                continue
            text = json.dumps(spec)
            if name in requests:
                sent.append(field)
                assert '"type": "number"' in text, (name, field, spec)
                assert "PROMOFLOW_CURRENCY" in spec["description"], (name, field)
            else:
                answered.append(f"{name}.{field}")
                assert "#/components/schemas/MoneyAmount" in text, (name, field, spec)
                assert '"number"' not in text, (name, field, spec)

    assert {
        "ItemView.regular_price",
        "ItemView.unit_cost",
        "ApprovalQueueItem.margin_impact",
    } < set(answered)
    assert {"PromotionDetail.fixed_price", "ScopeItemOut.promo_price"} < set(answered)
    assert "vendor_funding_per_unit" in sent
    amount = schemas["MoneyAmount"]
    assert amount["required"] == ["amount", "currency"]
    assert amount["properties"]["amount"]["type"] == "string"
    assert amount["properties"]["currency"]["pattern"] == "^[A-Z]{3}$"
