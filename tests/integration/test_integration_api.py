"""Connections and dead letters over the API: who may do what, and secrets never shown."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from integration_support import SCRIPT, SECRET_ENV, SECRET_VALUE, as_role, position_row
from sqlalchemy.orm import Session, sessionmaker

from promoflow.integration.sync import SyncRefused, sync

BODY = {
    "name": "erp-api",
    "connector": "scripted-erp",
    "config": {
        "base_url": "https://erp.example.test",
        "user": "promoflow",
        "password": f"env:{SECRET_ENV}",
    },
    "serves": ["inventory"],
}


def test_connectors_are_listed_with_their_config_schema(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    found = {
        c["slug"]: c
        for c in api.get("/api/v1/connectors", headers=as_role("auditor")).json()["items"]
    }
    scripted = found["scripted-erp"]
    assert scripted["capabilities"] == ["inventory", "item_master", "sales_feed"]
    assert {f["name"]: f["secret"] for f in scripted["config"]}["password"] is True


def test_only_an_admin_adds_and_enables_and_the_secret_is_never_returned(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    refused = api.post("/api/v1/connections", json=BODY, headers=as_role("merchandiser"))
    assert refused.status_code == 403
    created = api.post("/api/v1/connections", json=BODY, headers=as_role("operations_admin"))
    assert created.status_code == 201, created.text
    assert created.json()["enabled"] is False
    enabled = api.post(
        "/api/v1/connections/erp-api/enable", headers=as_role("operations_admin")
    ).json()
    assert enabled["enabled"] is True and enabled["last_test"]["ok"] is True
    listed = api.get("/api/v1/connections", headers=as_role("auditor")).text
    assert f"env:{SECRET_ENV}" in listed and SECRET_VALUE not in listed
    # A merchandiser sees the health on the command view, not the settings.
    seen = api.get("/api/v1/connections", headers=as_role("merchandiser")).json()["items"]
    assert "health" in seen[0] and "config" not in seen[0]


def test_a_pasted_secret_gets_a_422_that_does_not_echo_it(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    body: dict[str, Any] = {**BODY, "config": {**BODY["config"], "password": SECRET_VALUE}}
    response = api.post("/api/v1/connections", json=body, headers=as_role("operations_admin"))
    assert response.status_code == 422
    assert "config.password" in response.text and SECRET_VALUE not in response.text


def test_health_shows_the_circuit_and_error_rate_after_failures(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    api.post("/api/v1/connections", json=BODY, headers=as_role("operations_admin"))
    api.post("/api/v1/connections/erp-api/enable", headers=as_role("operations_admin"))
    SCRIPT.pages, SCRIPT.down = [[position_row("X", "Y", 1)]], True
    with pytest.raises(SyncRefused):
        sync(sessions, "erp-api", "inventory")
    health = api.get("/api/v1/connections/erp-api", headers=as_role("auditor")).json()["health"]
    assert health["error_rate"] > 0 and "connection refused" in health["last_error"]
    assert health["circuit_state"] in {"closed", "open"}


def test_dead_letters_are_listed_replayed_by_an_operator_and_discarded_by_an_admin(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    api.post("/api/v1/connections", json=BODY, headers=as_role("operations_admin"))
    api.post("/api/v1/connections/erp-api/enable", headers=as_role("operations_admin"))
    SCRIPT.pages = [[position_row("NO-SUCH", "NOWHERE", 1)]]
    with pytest.raises(SyncRefused):
        sync(sessions, "erp-api", "inventory")
    letters = api.get(
        "/api/v1/dead-letters", params={"source": "erp-api"}, headers=as_role("auditor")
    ).json()["items"]
    assert letters[0]["kind"] == "quarantine" and "unknown item" in letters[0]["reason"]
    letter_id = letters[0]["id"]
    not_replayable = api.post(
        f"/api/v1/dead-letters/{letter_id}/replay", headers=as_role("integration_client")
    )
    assert not_replayable.status_code == 409  # a malformed page is fixed at the source
    forbidden = api.post(
        f"/api/v1/dead-letters/{letter_id}/discard",
        json={"reason": "ERP fixed the material"},
        headers=as_role("integration_client"),
    )
    assert forbidden.status_code == 403
    discarded = api.post(
        f"/api/v1/dead-letters/{letter_id}/discard",
        json={"reason": "ERP fixed the material"},
        headers=as_role("operations_admin"),
    ).json()
    assert (
        discarded["status"] == "discarded" and discarded["resolved_by"] == "operations_admin-tester"
    )


def test_a_sync_is_queued_on_the_connections_rate_limited_queue_and_applies(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    from dbos import DBOS

    from promoflow.catalog.models import Item, Location
    from promoflow.inventory.models import InventoryPosition

    with sessions() as session:
        sku, code = session.execute(
            sa.select(Item.sku, Location.code)
            .join(InventoryPosition, InventoryPosition.item_id == Item.id)
            .join(Location, Location.id == InventoryPosition.location_id)
            .limit(1)
        ).one()
    body = {**BODY, "rate_limit_per_second": 2.0}
    api.post("/api/v1/connections", json=body, headers=as_role("operations_admin"))
    api.post("/api/v1/connections/erp-api/enable", headers=as_role("operations_admin"))
    SCRIPT.pages = [[position_row(sku, code, 77)]]
    refused = api.post(
        "/api/v1/connections/erp-api/sync",
        json={"capability": "inventory"},
        headers=as_role("merchandiser"),
    )
    assert refused.status_code == 403
    queued = api.post(
        "/api/v1/connections/erp-api/sync",
        json={"capability": "inventory"},
        headers=as_role("integration_client"),
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["queue"] == "connector-erp-api"
    result = DBOS.retrieve_workflow(queued.json()["workflow_id"]).get_result()
    assert result["records"] == 1
    queue = DBOS.retrieve_queue("connector-erp-api")
    assert queue is not None and queue.limiter == {"limit": 2, "period": 1.0}
    with sessions() as session:
        on_hand = session.scalar(
            sa.select(InventoryPosition.on_hand)
            .join(Item, Item.id == InventoryPosition.item_id)
            .join(Location, Location.id == InventoryPosition.location_id)
            .where(Item.sku == sku, Location.code == code)
        )
    assert on_hand == 77
