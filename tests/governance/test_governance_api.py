"""Read-only API: the model registry and a promotion's recommendations, behind API keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from governance_support import DATA_HASH, backtest_document, seeded_retailer, unique_tag

from promoflow.forecasting import registry
from promoflow.kit.db import transaction
from promoflow.recommendations import service as recommendations
from promoflow.runtime import get_runtime

Auth = Callable[[str], dict[str, str]]


@pytest.fixture(scope="module")
def models(runtime: object) -> tuple[str, list[str]]:
    """A kind of our own with a champion and a candidate, in the runtime database."""
    kind = f"api{unique_tag().lower()}"
    versions = [f"{kind}-1", f"{kind}-2"]
    with transaction(get_runtime().sessions) as session:
        for version, figure in zip(versions, (0.40, 0.35), strict=True):
            registry.register_candidate(
                session, version=version, backtest=backtest_document(figure), data_hash=DATA_HASH,
                training_start="2024-07-07", training_end="2026-06-28", features=["lag_1"],
                kind=kind, notes="API test",
            )  # fmt: skip
        registry.promote(
            session, versions[0], approved_by="pat", role="supply_chain_planner", reason="first"
        )
    return kind, versions


@pytest.fixture(scope="module")
def promotion(seeded: object) -> dict[str, Any]:
    """A promotion at revision 2 with an old, a superseded and an open recommendation."""
    with transaction(get_runtime().sessions) as session:
        retailer = seeded_retailer(session, unique_tag())
        line = {"item_id": retailer.items[0], "location_id": retailer.stores[0],
                "source_id": retailer.dc, "quantity": 12.0}  # fmt: skip
        ids = [
            recommendations.propose(
                session, promotion_id=retailer.promotion.id, revision=revision,
                kind="allocation", model_version=f"alloc-{n}", inputs_hash="e" * 64,
                lines=[line], threshold={"decision": "review"},
            ).id
            for n, revision in enumerate((1, 2, 2))
        ]  # fmt: skip
        return {"code": retailer.promotion.code, "id": retailer.promotion.id, "ids": ids}


def test_models_need_an_api_key(client: TestClient) -> None:
    response = client.get("/api/v1/models")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_list_models_of_a_kind(
    client: TestClient, auth: Auth, models: tuple[str, list[str]]
) -> None:
    kind, versions = models
    response = client.get("/api/v1/models", params={"kind": kind}, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 2
    assert [m["version"] for m in page["items"]] == [versions[1], versions[0]]
    assert [m["status"] for m in page["items"]] == ["candidate", "champion"]
    champions = client.get(
        "/api/v1/models", params={"kind": kind, "status": "champion"}, headers=auth("merchandiser")
    ).json()
    assert [m["version"] for m in champions["items"]] == [versions[0]]


def test_read_one_model(client: TestClient, auth: Auth, models: tuple[str, list[str]]) -> None:
    _, versions = models
    response = client.get(f"/api/v1/models/{versions[0]}", headers=auth("auditor"))
    assert response.status_code == 200, response.text
    model = response.json()
    assert (model["status"], model["approved_by"], model["approver_role"]) == (
        "champion",
        "pat",
        "supply_chain_planner",
    )
    assert (model["backtest_cutoff"], model["backtest_horizon"]) == ("2026-06-28", 8)
    assert model["backtest_metrics"]["models"][0]["wape_promo"] == 0.40
    assert model["data_hash"] == DATA_HASH
    assert model["notes"] == "API test"


def test_unknown_model_is_a_404_problem(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/models/no-such-model", headers=auth("auditor"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "no-such-model is not registered" in response.json()["detail"]


def test_unknown_status_is_a_422_problem(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/models", params={"status": "best"}, headers=auth("auditor"))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == ("status", "best")
    assert "must be one of candidate, champion, retired" in response.json()["detail"]


def test_recommendations_of_the_current_revision_with_lines(
    client: TestClient, auth: Auth, promotion: dict[str, Any]
) -> None:
    old, superseded, current = promotion["ids"]
    url = f"/api/v1/promotions/{promotion['code']}/recommendations"
    response = client.get(url, headers=auth("supply_chain_planner"))
    assert response.status_code == 200, response.text
    page = response.json()
    assert [r["id"] for r in page["items"]] == [current, superseded]
    assert [r["status"] for r in page["items"]] == ["proposed", "superseded"]
    newest = page["items"][0]
    assert (newest["model_version"], newest["inputs_hash"], newest["threshold"]) == (
        "alloc-2",
        "e" * 64,
        {"decision": "review"},
    )
    [line] = newest["lines"]
    assert (line["quantity_proposed"], line["quantity_decided"]) == (12.0, None)
    earlier = client.get(url, params={"revision": 1}, headers=auth("auditor")).json()
    assert [r["id"] for r in earlier["items"]] == [old]
    by_id = client.get(
        f"/api/v1/promotions/{promotion['id']}/recommendations",
        params={"status": "proposed"},
        headers=auth("auditor"),
    ).json()
    assert [r["id"] for r in by_id["items"]] == [current]


def test_recommendations_filters_are_checked(
    client: TestClient, auth: Auth, promotion: dict[str, Any]
) -> None:
    url = f"/api/v1/promotions/{promotion['code']}/recommendations"
    response = client.get(url, params={"kind": "markdown"}, headers=auth("auditor"))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == ("kind", "markdown")
    missing = client.get("/api/v1/promotions/NO-SUCH/recommendations", headers=auth("auditor"))
    assert missing.status_code == 404
