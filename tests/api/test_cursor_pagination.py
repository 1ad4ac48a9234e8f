"""Every list pages by cursor: each row once, inserts mid-way neither repeat nor skip one,
and a limit past the maximum, a garbled cursor or one used with other filters is a 422."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from promoflow.kit.bounds import MAX_PAGE

Auth = Callable[[str], dict[str, str]]
AUDITOR = "auditor"


def _walk(
    client: TestClient, headers: dict[str, str], path: str, params: dict[str, Any], limit: int
) -> list[Any]:
    """Every row of a list, page by page, each page's cursor checked against its Link."""
    seen: list[Any] = []
    cursor: str | None = None
    for _ in range(1000):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        seen.extend(_identity(item) for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            return seen
        assert response.headers["link"].endswith('; rel="next"')
        assert f"cursor={cursor}" in response.headers["link"]
    raise AssertionError(f"{path} never reached its last page")


def _identity(item: dict[str, Any]) -> Any:
    for name in ("sequence", "id", "slug", "name", "sku", "code"):
        if name in item:
            if name == "sku" and "location_code" in item:
                return (item["sku"], item["location_code"])
            return item[name]
    return item["id"]


def _add_cases(promotion_id: int, count: int) -> list[int]:
    from promoflow.exceptions.models import ExceptionCase
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        cases = [
            ExceptionCase(
                kind="supplier_shortfall",
                severity="high",
                owner_role="supply_chain_planner",
                promotion_id=promotion_id,
                revision=1,
                title=f"Short {n}",
                linked={},
                allowed_actions=["retry", "waive"],
            )
            for n in range(count)
        ]
        session.add_all(cases)
        session.flush()
        return [case.id for case in cases]


def _add_letters(source: str, count: int) -> None:
    from promoflow.integration import deadletters
    from promoflow.runtime import get_runtime

    for n in range(count):
        deadletters.quarantine(
            get_runtime().sessions, source=source, operation="test", payload={"n": n}, reason="bad"
        )


def _add_connections(prefix: str, count: int) -> None:
    from promoflow.integration.models import Connection
    from promoflow.kit.clock import utcnow
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        for n in range(count):
            session.add(
                Connection(
                    name=f"{prefix}-{n}",
                    connector="flatfile",
                    config={},
                    serves=["inventory"],
                    enabled=False,
                    test_detail="",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )


@pytest.fixture
def listed(client: TestClient, auth: Auth, promotion_body: dict[str, Any]) -> dict[str, Any]:
    """Rows in every list worth paging: promotions, cases, dead letters, connections."""
    ids = [
        client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser")).json()[
            "id"
        ]
        for _ in range(3)
    ]
    tag = uuid.uuid4().hex[:8]
    _add_cases(ids[0], 4)
    _add_letters(f"paging-{tag}", 4)
    _add_connections(f"paging-{tag}", 3)
    return {"promotion": ids[0], "source": f"paging-{tag}"}


def _routes(listed: dict[str, Any], catalog: Any) -> list[tuple[str, dict[str, Any]]]:
    promotion = listed["promotion"]
    return [
        ("/api/v1/promotions", {"status": "draft"}),
        ("/api/v1/exceptions", {"promotion_id": promotion}),
        ("/api/v1/approvals", {"role": "finance_approver"}),
        ("/api/v1/models", {}),
        ("/api/v1/connectors", {}),
        ("/api/v1/connections", {}),
        ("/api/v1/dead-letters", {"source": listed["source"]}),
        ("/api/v1/audit", {"actor": "merchandiser-tester"}),
        ("/api/v1/catalog/items", {"sku_prefix": catalog.skus[0][:-1]}),
        ("/api/v1/catalog/locations", {"kind": "dc"}),
        ("/api/v1/catalog/suppliers", {}),
        ("/api/v1/catalog/ranging", {"sku": catalog.skus[0]}),
        (f"/api/v1/promotions/{promotion}/events", {}),
        (f"/api/v1/promotions/{promotion}/findings", {}),
        (f"/api/v1/promotions/{promotion}/gates", {}),
        (f"/api/v1/promotions/{promotion}/approvals", {}),
        (f"/api/v1/promotions/{promotion}/publications", {}),
        (f"/api/v1/promotions/{promotion}/recommendations", {}),
    ]


def test_paging_with_a_small_limit_visits_every_row_of_every_list_once(
    client: TestClient, auth: Auth, listed: dict[str, Any], catalog: Any
) -> None:
    headers = auth("operations_admin")  # the one role that reads every list, audit included
    walked_lists = 0
    for path, params in _routes(listed, catalog):
        whole = client.get(path, params={**params, "limit": MAX_PAGE}, headers=headers).json()
        if whole["next_cursor"] is not None:
            continue  # longer than one page: the small-limit walk below would be slow
        walked_lists += 1
        expected = [_identity(item) for item in whole["items"]]
        walked = _walk(client, headers, path, params, limit=2)
        assert walked == expected, path
        assert len(set(map(str, walked))) == len(walked), f"{path} repeated a row"
        if "total" in whole:
            assert whole["total"] == len(expected), path
    assert walked_lists >= len(_routes(listed, catalog)) - 2  # the audit log may be long


def test_the_lists_being_paged_really_hold_rows(
    client: TestClient, auth: Auth, listed: dict[str, Any]
) -> None:
    # Without this the walk above could pass on empty lists.
    headers = auth("operations_admin")
    for path, params, least in [
        ("/api/v1/exceptions", {"promotion_id": listed["promotion"]}, 4),
        ("/api/v1/dead-letters", {"source": listed["source"]}, 4),
        ("/api/v1/connections", {}, 3),
        (f"/api/v1/promotions/{listed['promotion']}/events", {}, 1),
    ]:
        assert len(_walk(client, headers, path, params, limit=1)) >= least, path


def test_rows_inserted_while_paging_neither_repeat_nor_skip_a_row(
    client: TestClient, auth: Auth, listed: dict[str, Any], promotion_body: dict[str, Any]
) -> None:
    headers = auth(AUDITOR)
    # Oldest first: a promotion created mid-way shows up on a later page, once.
    first = client.get("/api/v1/promotions", params={"limit": 2}, headers=headers).json()
    before = [row["id"] for row in first["items"]]
    added = client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser"))
    rest = _walk_from(client, headers, "/api/v1/promotions", {}, first["next_cursor"])
    assert not set(before) & set(rest)
    assert rest.count(added.json()["id"]) == 1
    assert rest == sorted(rest) and before == sorted(before) and before[-1] < rest[0]

    # Newest first: a case opened mid-way is above the cursor, so it neither repeats a
    # row nor pushes one off the next page (as an offset would have).
    promotion = listed["promotion"]
    params = {"promotion_id": promotion}
    listing = client.get("/api/v1/exceptions", params=params, headers=headers).json()
    whole = [row["id"] for row in listing["items"]]
    page = client.get("/api/v1/exceptions", params={**params, "limit": 2}, headers=headers).json()
    newer = _add_cases(promotion, 2)
    rest = _walk_from(client, headers, "/api/v1/exceptions", params, page["next_cursor"])
    assert [row["id"] for row in page["items"]] + rest == whole
    assert not set(newer) & set(rest)


def _walk_from(
    client: TestClient, headers: dict[str, str], path: str, params: dict[str, Any], cursor: str
) -> list[Any]:
    seen: list[Any] = []
    next_cursor: str | None = cursor
    while next_cursor:
        query = {**params, "limit": 2, "cursor": next_cursor}
        body = client.get(path, params=query, headers=headers).json()
        seen.extend(row["id"] for row in body["items"])
        next_cursor = body["next_cursor"]
    return seen


def _refused_field(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    return dict(error)


@pytest.mark.parametrize("path", ["/api/v1/promotions", "/api/v1/connections", "/api/v1/audit"])
def test_a_limit_past_the_maximum_is_422_naming_limit(
    client: TestClient, auth: Auth, path: str
) -> None:
    response = client.get(path, params={"limit": MAX_PAGE + 1}, headers=auth("operations_admin"))
    assert _refused_field(response)["field"] == "limit"


def test_a_garbled_or_tampered_cursor_is_422_naming_cursor(
    client: TestClient, auth: Auth, listed: dict[str, Any]
) -> None:
    headers = auth(AUDITOR)
    cursor = client.get("/api/v1/promotions", params={"limit": 1}, headers=headers).json()[
        "next_cursor"
    ]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    for bad in (flipped, "not-a-cursor", cursor[: len(cursor) // 2]):
        response = client.get("/api/v1/promotions", params={"cursor": bad}, headers=headers)
        error = _refused_field(response)
        assert error["field"] == "cursor" and "next_cursor" in error["message"]


def test_a_cursor_used_with_other_filters_or_another_list_is_422(
    client: TestClient, auth: Auth, listed: dict[str, Any]
) -> None:
    headers = auth(AUDITOR)
    cursor = client.get(
        "/api/v1/promotions", params={"status": "draft", "limit": 1}, headers=headers
    ).json()["next_cursor"]
    assert cursor is not None
    for path, params in [
        ("/api/v1/promotions", {"status": "cancelled"}),
        ("/api/v1/promotions", {}),
        ("/api/v1/exceptions", {"status": "draft"}),
    ]:
        response = client.get(path, params={**params, "cursor": cursor}, headers=headers)
        error = _refused_field(response)
        assert error["field"] == "cursor" and "other filters" in error["message"]
    # ...while a different page size is fine: limit is not a filter.
    same = client.get(
        "/api/v1/promotions",
        params={"status": "draft", "limit": 5, "cursor": cursor},
        headers=headers,
    )
    assert same.status_code == 200


def test_an_offset_from_an_old_client_is_refused_not_ignored(
    client: TestClient, auth: Auth
) -> None:
    response = client.get("/api/v1/promotions", params={"offset": 10}, headers=auth(AUDITOR))
    error = _refused_field(response)
    assert error["field"] == "offset" and "cursor" in error["message"]
