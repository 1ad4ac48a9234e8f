"""ETag on reads, If-None-Match (304) and If-Match on changes (412 stale, 428 missing)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


def _create(client: TestClient, auth: Auth, body: dict[str, Any]) -> str:
    created = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert created.status_code == 201, created.text
    return f"/api/v1/promotions/{created.json()['id']}"


def _read(client: TestClient, auth: Auth, url: str) -> tuple[dict[str, Any], str]:
    response = client.get(url, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def _revise(
    client: TestClient, auth: Auth, url: str, changes: dict[str, Any], tag: str | None
) -> Any:
    headers = auth("merchandiser") | ({"If-Match": tag} if tag is not None else {})
    return client.post(f"{url}/revisions", json=changes, headers=headers)


def _precondition_failed(response: Any, current: str) -> None:
    assert response.status_code == 412, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["etag"] == current == response.headers["ETag"]
    assert "changed since you read it" in problem["detail"] and current in problem["detail"]


def test_a_revision_changes_the_etag_and_its_answer_carries_the_new_one(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    url = _create(client, auth, promotion_body)
    _, tag = _read(client, auth, url)
    revised = _revise(client, auth, url, {"name": "Deeper cut"}, tag)
    assert revised.status_code == 201, revised.text
    after, now = _read(client, auth, url)
    assert after["name"] == "Deeper cut"
    assert now != tag and revised.headers["ETag"] == now


def test_two_clients_with_one_etag_the_second_change_is_412_and_not_written(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    url = _create(client, auth, promotion_body)
    _, seen_by_both = _read(client, auth, url)
    first = _revise(client, auth, url, {"name": "First edit"}, seen_by_both)
    assert first.status_code == 201, first.text
    second = _revise(
        client, auth, url, {"name": "Second edit", "discount_percent": 30}, seen_by_both
    )
    _precondition_failed(second, first.headers["ETag"])
    stored, tag = _read(client, auth, url)
    assert (stored["name"], float(stored["discount_percent"])) == ("First edit", 10.0)
    assert tag == first.headers["ETag"]
    # ...and the second client, having read again, can make its change.
    assert _revise(client, auth, url, {"name": "Second edit"}, tag).status_code == 201


def test_a_revision_or_an_edit_without_if_match_is_428_and_writes_nothing(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    url = _create(client, auth, promotion_body)
    _, tag = _read(client, auth, url)
    refused = _revise(client, auth, url, {"name": "Blind edit"}, None)
    assert refused.status_code == 428 and refused.headers["content-type"] == PROBLEM
    assert "If-Match" in refused.json()["detail"]
    stored, after = _read(client, auth, url)
    assert stored["name"] == promotion_body["name"] and after == tag

    edit = client.post(
        "/api/v1/recommendations/1/edit",
        json={"changes": {"1": 10}, "reason": "blind"},
        headers=auth("supply_chain_planner"),
    )
    assert edit.status_code == 428 and edit.headers["content-type"] == PROBLEM


def test_other_changes_take_if_match_optionally_and_refuse_a_stale_one(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    url = _create(client, auth, promotion_body)
    _, tag = _read(client, auth, url)
    _revise(client, auth, url, {"name": "Moved on"}, tag)
    _, current = _read(client, auth, url)
    stale = client.post(
        f"{url}/cancel",
        json={"reason": "not needed"},
        headers=auth("merchandiser") | {"If-Match": tag},
    )
    _precondition_failed(stale, current)
    assert _read(client, auth, url)[0]["status"] == "draft"
    cancelled = client.post(
        f"{url}/cancel",
        json={"reason": "not needed"},
        headers=auth("merchandiser") | {"If-Match": current},
    )
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.headers["ETag"] == _read(client, auth, url)[1] != current


def test_a_get_with_the_current_etag_in_if_none_match_is_304(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    url = _create(client, auth, promotion_body)
    _, tag = _read(client, auth, url)
    held = auth("auditor") | {"If-None-Match": tag}
    unchanged = client.get(url, headers=held)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["ETag"] == tag
    assert (
        client.get(url, headers=auth("auditor") | {"If-None-Match": f"W/{tag}"}).status_code == 304
    )
    _revise(client, auth, url, {"name": "Changed"}, tag)
    changed = client.get(url, headers=held)
    assert changed.status_code == 200 and changed.json()["name"] == "Changed"


def test_a_malformed_if_match_is_422_naming_it(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    url = _create(client, auth, promotion_body)
    response = _revise(client, auth, url, {"name": "x"}, "no-quotes")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "If-Match"


def _case(promotion_id: int) -> int:
    from promoflow.exceptions.models import ExceptionCase
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        case = ExceptionCase(
            kind="supplier_shortfall",
            severity="high",
            owner_role="supply_chain_planner",
            promotion_id=promotion_id,
            revision=1,
            title="Supplier short",
            linked={},
            allowed_actions=["retry", "waive"],
        )
        session.add(case)
        session.flush()
        return case.id


def test_an_exception_case_is_tagged_and_a_stale_action_is_refused(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    promotion_id = int(_create(client, auth, promotion_body).rsplit("/", 1)[1])
    url = f"/api/v1/exceptions/{_case(promotion_id)}"
    _, tag = _read(client, auth, url)
    planner = auth("supply_chain_planner")
    assert client.get(url, headers=auth("auditor") | {"If-None-Match": tag}).status_code == 304
    stale = client.post(
        f"{url}/actions", json={"action": "retry"}, headers=planner | {"If-Match": '"x"'}
    )
    _precondition_failed(stale, tag)
    assert _read(client, auth, url)[0]["status"] == "open"
    waived = client.post(
        f"{url}/actions",
        json={"action": "waive", "reason": "supplier confirmed"},
        headers=planner | {"If-Match": tag},
    )
    assert waived.status_code == 200, waived.text
    assert waived.headers["ETag"] == _read(client, auth, url)[1] != tag
    # A second operator acting on what they read before: 412, not a silent second action.
    again = client.post(
        f"{url}/actions", json={"action": "retry"}, headers=planner | {"If-Match": tag}
    )
    _precondition_failed(again, waived.headers["ETag"])


def test_a_dead_letter_discard_on_a_stale_etag_is_412_and_it_stays_open(
    client: TestClient, auth: Auth
) -> None:
    from promoflow.integration import deadletters
    from promoflow.runtime import get_runtime

    letter_id = deadletters.quarantine(
        get_runtime().sessions, source="etags", operation="test", payload={}, reason="bad"
    )
    url = f"/api/v1/dead-letters/{letter_id}"
    _, tag = _read(client, auth, url)
    admin = auth("operations_admin")
    made_up = '"dead_letters.0.v9"'
    stale = client.post(
        f"{url}/discard", json={"reason": "fixed"}, headers=admin | {"If-Match": made_up}
    )
    _precondition_failed(stale, tag)
    assert _read(client, auth, url)[0]["status"] == "open"
    done = client.post(
        f"{url}/discard", json={"reason": "fixed"}, headers=admin | {"If-Match": tag}
    )
    assert done.status_code == 200, done.text
    assert (
        done.json()["status"] == "discarded" and done.headers["ETag"] == _read(client, auth, url)[1]
    )


def test_a_connection_is_tagged_and_disabling_it_from_a_stale_read_is_412(
    client: TestClient, auth: Auth
) -> None:
    from promoflow.integration.models import Connection
    from promoflow.kit.clock import utcnow
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    name = f"etag-{uuid.uuid4().hex[:8]}"
    with transaction(get_runtime().sessions) as session:
        session.add(
            Connection(
                name=name,
                connector="flatfile",
                config={},
                serves=["inventory"],
                enabled=False,
                test_detail="",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    url = f"/api/v1/connections/{name}"
    _, tag = _read(client, auth, url)
    assert client.get(url, headers=auth("auditor") | {"If-None-Match": tag}).status_code == 304
    admin = auth("operations_admin")
    disabled = client.post(f"{url}/disable", headers=admin | {"If-Match": tag})
    assert disabled.status_code == 200, disabled.text
    assert disabled.headers["ETag"] != tag
    stale = client.post(f"{url}/disable", headers=admin | {"If-Match": tag})
    _precondition_failed(stale, disabled.headers["ETag"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/promotions/{ref}/revisions"),
        ("post", "/api/v1/recommendations/{recommendation_id}/edit"),
        ("post", "/api/v1/exceptions/{case_id}/actions"),
        ("post", "/api/v1/dead-letters/{letter_id}/discard"),
    ],
)
def test_the_document_declares_if_match_and_its_problems(
    client: TestClient, method: str, path: str
) -> None:
    operation = client.get("/openapi.json").json()["paths"][path][method]
    assert "If-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    for status in ("412", "428"):
        assert PROBLEM in operation["responses"][status]["content"]
    success = next(code for code in operation["responses"] if code.startswith("2"))
    assert "ETag" in operation["responses"][success]["headers"]


def test_the_document_declares_etag_and_304_on_reads(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/promotions/{ref}",
        "/api/v1/exceptions/{case_id}",
        "/api/v1/recommendations/{recommendation_id}",
        "/api/v1/connections/{name}",
        "/api/v1/dead-letters/{letter_id}",
    ):
        operation = paths[path]["get"]
        assert "304" in operation["responses"], path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert "If-None-Match" in {p["name"] for p in operation["parameters"]}, path
