"""Banner scoping and segregation of duties at the API, as a user of one banner meets them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from access_support import OTHER, OWN, Objects, api_key, make_objects
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.runtime import get_runtime

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def objects(catalog: Any) -> Objects:
    return make_objects(catalog.skus[:2], "scope")


def _ids(response: Any, field: str = "id") -> set[Any]:
    assert response.status_code == 200, response.text
    return {row[field] for row in response.json()["items"]}


def _all_codes(client: TestClient, headers: dict[str, str]) -> set[str]:
    codes: set[str] = set()
    params: dict[str, Any] = {"limit": 500}
    while True:
        page = client.get("/api/v1/promotions", params=params, headers=headers)
        assert page.status_code == 200, page.text
        codes |= {row["code"] for row in page.json()["items"]}
        if page.json()["next_cursor"] is None:
            return codes
        params["cursor"] = page.json()["next_cursor"]


def test_lists_show_a_banner_user_only_their_banners_objects(
    client: TestClient, objects: Objects
) -> None:
    mine = api_key("finance_approver", [OWN])
    everyone = api_key("finance_approver", ["*"])

    codes = _all_codes(client, mine)
    assert objects.promotion[OWN] in codes and objects.promotion[OTHER] not in codes
    assert {objects.promotion[OWN], objects.promotion[OTHER]} <= _all_codes(client, everyone)

    queue = _ids(client.get("/api/v1/approvals", params={"limit": 500}, headers=mine))
    assert objects.task[OWN] in queue and objects.task[OTHER] not in queue

    cases = _ids(client.get("/api/v1/exceptions", params={"limit": 500}, headers=mine))
    assert objects.case[OWN] in cases
    assert objects.case[OTHER] not in cases
    assert objects.retailer_case not in cases  # the whole retailer's: every banner only
    all_cases = _ids(client.get("/api/v1/exceptions", params={"limit": 500}, headers=everyone))
    assert {objects.case[OWN], objects.case[OTHER], objects.retailer_case} <= all_cases


def test_another_banners_object_answers_exactly_as_a_missing_one(
    client: TestClient, objects: Objects
) -> None:
    mine = api_key("finance_approver", [OWN])
    other_code = objects.promotion[OTHER]
    hidden = client.get(f"/api/v1/promotions/{other_code}", headers=mine)
    missing = client.get("/api/v1/promotions/PRM-NOPE-0001", headers=mine)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.headers["content-type"] == missing.headers["content-type"]
    body, absent = hidden.json(), missing.json()
    assert {k: body[k] for k in ("type", "title", "status")} == {
        k: absent[k] for k in ("type", "title", "status")
    }
    assert body["detail"] == absent["detail"].replace("PRM-NOPE-0001", other_code)

    for path, missing_path in [
        (f"/api/v1/exceptions/{objects.case[OTHER]}", "/api/v1/exceptions/999999"),
        (
            f"/api/v1/recommendations/{objects.recommendation[OTHER]}",
            "/api/v1/recommendations/999999",
        ),
    ]:
        hidden, missing = client.get(path, headers=mine), client.get(missing_path, headers=mine)
        assert hidden.status_code == missing.status_code == 404, hidden.text
        assert hidden.json()["type"] == missing.json()["type"]
    # A ref no promotion could have is the route's own 422, as for every caller.
    too_long = client.get("/api/v1/promotions/" + "X" * 41, headers=mine)
    assert too_long.status_code == 422, too_long.text
    decision = client.post(
        f"/api/v1/approvals/{objects.task[OTHER]}/decision",
        json={"decision": "approve", "comment": ""},
        headers=mine,
    )
    assert decision.status_code == 404
    assert decision.json()["detail"] == f"approval task {objects.task[OTHER]} does not exist"


def test_a_hidden_object_is_audited_as_a_denial(client: TestClient, objects: Objects) -> None:
    request_id = f"scope-{uuid.uuid4().hex}"
    mine = api_key("merchandiser", [OWN])
    refused = client.get(
        f"/api/v1/promotions/{objects.promotion[OTHER]}/events",
        headers={**mine, "X-Request-ID": request_id},
    )
    assert refused.status_code == 404
    records = client.get(
        "/api/v1/audit",
        params={"request_id": request_id},
        headers=api_key("auditor", ["*"]),
    )
    assert records.status_code == 200, records.text
    (record,) = records.json()["items"]
    assert (record["outcome"], record["status"]) == ("denied", 404)
    assert record["reason"] == "object outside the caller's banners"
    assert record["banners"] == [OWN]


def test_a_banner_user_may_create_only_with_their_banners_stores(
    client: TestClient, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    from promoflow.catalog.models import Location

    with get_runtime().sessions() as session:
        other_store = session.scalar(
            sa.select(Location.code).where(Location.kind == "store", Location.banner == OTHER)
        )
        own_region = session.scalar(
            sa.select(Location.region).where(Location.kind == "store", Location.banner == OWN)
        )
    mine = api_key("merchandiser", [OWN])
    before = promotion_rows()
    refused = client.post(
        "/api/v1/promotions", json={**promotion_body, "locations": [other_store]}, headers=mine
    )
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["field"], error["value"]) == ("locations[0]", other_store)
    assert OTHER in error["message"]
    assert promotion_rows() == before

    by_region = client.post(
        "/api/v1/promotions",
        json={**promotion_body, "locations": [], "regions": [own_region]},
        headers=mine,
    )
    assert by_region.status_code == 201, by_region.text
    code = by_region.json()["code"]
    detail = client.get(f"/api/v1/promotions/{code}", headers=mine)
    assert detail.status_code == 200  # the region stood for the caller's stores only
    with get_runtime().sessions() as session:
        banners = set(
            session.scalars(
                sa.select(Location.banner).where(
                    Location.code.in_([row["code"] for row in detail.json()["locations"]])
                )
            )
        )
    assert banners == {OWN}


def _promotion(client: TestClient, body: dict[str, Any], headers: dict[str, str]) -> Any:
    created = client.post("/api/v1/promotions", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()


def test_whoever_revised_a_revision_may_not_approve_it(
    client: TestClient, promotion_body: dict[str, Any]
) -> None:
    from promoflow.approvals.models import ApprovalTask

    author = api_key("merchandiser", ["*"], name="mia.scope")
    reviser = api_key("operations_admin", ["*"], name="ada.reviser")
    colleague = api_key("operations_admin", ["*"], name="otto.colleague")
    promotion = _promotion(client, promotion_body, author)
    url = f"/api/v1/promotions/{promotion['id']}"
    tag = client.get(url, headers=reviser).headers["ETag"]
    revised = client.post(
        f"{url}/revisions", json={"discount_percent": 12}, headers={**reviser, "If-Match": tag}
    )
    assert revised.status_code == 201, revised.text
    with transaction(get_runtime().sessions) as session:
        task = ApprovalTask(
            promotion_id=promotion["id"],
            revision=revised.json()["revision"],
            role="operations_admin",
            assigned_role="operations_admin",
            sla_hours=8.0,
            due_at=utcnow(),
        )
        session.add(task)
        session.flush()
        task_id = task.id
    path = f"/api/v1/approvals/{task_id}/decision"
    refused = client.post(path, json={"decision": "approve", "comment": ""}, headers=reviser)
    assert refused.status_code == 403
    assert "may not approve the revision they made" in refused.json()["detail"]
    decided = client.post(path, json={"decision": "approve", "comment": ""}, headers=colleague)
    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by"] == "otto.colleague"


def test_the_author_of_a_revision_may_not_waive_its_gates(
    client: TestClient, promotion_body: dict[str, Any]
) -> None:
    from promoflow.promotions.models import Promotion

    author = api_key("operations_admin", ["*"], name="sam.author")
    promotion = _promotion(client, promotion_body, author)
    with transaction(get_runtime().sessions) as session:
        # At its launch gates, as the workflow leaves a promotion that waits for them.
        session.get(Promotion, promotion["id"]).status = "scheduled"
    path = f"/api/v1/promotions/{promotion['id']}/gates/inventory_coverage/waive"
    refused = client.post(path, json={"reason": "stock is on its way"}, headers=author)
    assert refused.status_code == 403
    assert "may not waive its gates" in refused.json()["detail"]
    other = api_key("operations_admin", ["*"], name="lee.other")
    waived = client.post(path, json={"reason": "stock is on its way"}, headers=other)
    assert waived.status_code == 200, waived.text
