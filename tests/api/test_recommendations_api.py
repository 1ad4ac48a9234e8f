"""A planner decides a recommendation over the API; the workflow applies the decision."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from web.recommendation_support import every_allocation_reviewed as reviewed_by_a_planner
from web.recommendation_support import scheduled, stock, until

if TYPE_CHECKING:
    from tests.api.conftest import Catalog

Auth = Callable[[str], dict[str, str]]
DC = "DC-01"  # the small retailer's only DC


@pytest.fixture
def every_allocation_reviewed(runtime: object, tmp_path: Path) -> Iterator[None]:
    """The bundled policies, except that no allocation applies without a planner."""
    with reviewed_by_a_planner(tmp_path):
        yield


def _dc_on_hand(sku: str) -> float:
    import sqlalchemy as sa

    from promoflow.catalog.models import Item, Location
    from promoflow.inventory.models import InventoryPosition
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        return float(
            session.scalar(
                sa.select(InventoryPosition.on_hand)
                .join(Item, Item.id == InventoryPosition.item_id)
                .join(Location, Location.id == InventoryPosition.location_id)
                .where(Item.sku == sku, Location.code == DC)
            )
            or 0.0
        )


def _get(client: TestClient, auth: Auth, path: str) -> Any:
    response = client.get(path, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_planner_edits_an_allocation_over_the_api_and_a_merchandiser_may_not(
    client: TestClient,
    auth: Auth,
    catalog: Catalog,
    every_allocation_reviewed: None,
) -> None:
    skus = catalog.skus[:2]
    stock(skus, catalog.stores, dc_units=400.0)
    start = date.today() + timedelta(days=260)
    created = client.post(
        "/api/v1/promotions",
        json={
            "name": "API allocation review",
            "mechanic": "percent_off",
            "discount_percent": 15,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=6)).isoformat(),
            "channels": ["pos"],
            "items": skus,
            "locations": catalog.stores,
        },
        headers=auth("merchandiser"),
    )
    assert created.status_code == 201, created.text
    promotion_id = created.json()["id"]
    submitted = client.post(
        f"/api/v1/promotions/{promotion_id}/submit",
        json={"launch_lead_hours": 1000, "live_hours": 2},
        headers=auth("merchandiser"),
    )
    assert submitted.status_code == 202, submitted.text
    scheduled(client, promotion_id)

    listing = f"/api/v1/promotions/{promotion_id}/recommendations?kind=allocation&status=proposed"
    proposal = until("the allocation", lambda: _get(client, auth, listing)["items"])[0]
    assert proposal["threshold"]["decision"] == "review"
    assert proposal["lines"] and proposal["model_version"] and len(proposal["inputs_hash"]) == 64
    url = f"/api/v1/recommendations/{proposal['id']}"
    assert _get(client, auth, url)["status"] == "proposed"

    refused = client.post(f"{url}/accept", json={}, headers=auth("merchandiser"))
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (
        "'merchandiser' may not decide allocation and replenishment recommendations"
        in (refused.json()["detail"])
    )
    assert _get(client, auth, url)["status"] == "proposed"

    line = proposal["lines"][0]
    pack = line["details"]["case_pack"]
    planner = {
        **auth("supply_chain_planner"),
        "If-Match": client.get(url, headers=auth("auditor")).headers["ETag"],
    }
    odd = client.post(
        f"{url}/edit",
        json={"changes": {str(line["id"]): pack + 1}, "reason": "half-size shelf"},
        headers=planner,
    )
    assert odd.status_code == 422 and f"cases of {pack}" in odd.json()["detail"]

    fewer = line["quantity_proposed"] - pack
    edited = client.post(
        f"{url}/edit",
        json={"changes": {str(line["id"]): fewer}, "reason": "half-size shelf"},
        headers=planner,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["status"], body["decided_by"], body["decided_role"]) == (
        "edited",
        "supply_chain_planner-tester",
        "supply_chain_planner",
    )
    decided = {ln["id"]: ln["quantity_decided"] for ln in body["lines"]}
    assert decided[line["id"]] == fewer

    events = f"/api/v1/promotions/{promotion_id}/events?limit=500"
    until(
        "the allocation to be applied",
        lambda: any(
            e["type"] == "io.promoflow.recommendation.applied"
            for e in _get(client, auth, events)["items"]
        ),
    )
    for sku in skus:
        shipped = sum(ln["quantity_decided"] for ln in body["lines"] if ln["details"]["sku"] == sku)
        assert _dc_on_hand(sku) == 400.0 - shipped

    again = client.post(
        f"{url}/reject", json={"reason": "too late"}, headers=auth("supply_chain_planner")
    )
    assert again.status_code == 409  # decided once, for good
    cancelled = client.post(
        f"/api/v1/promotions/{promotion_id}/cancel",
        json={"reason": "test over"},
        headers=auth("operations_admin"),
    )
    assert cancelled.status_code == 202, cancelled.text


def test_an_unknown_recommendation_is_404(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/recommendations/999999/reject",
        json={"reason": "no"},
        headers=auth("supply_chain_planner"),
    )
    assert response.status_code == 404
    assert "999999" in response.json()["detail"]
