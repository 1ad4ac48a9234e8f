"""The approval inbox: a role's pending tasks with the context to decide, single and bulk
decisions through the API's command, and the same permissions as the API.

One promotion is created and submitted over the API and runs its lifecycle workflow
to a finance approval (submitted with business hours of 30 s, so its SLA does not
lapse mid-test). The bulk tests open tasks on drafts through the approvals service,
as the queue API's tests do, to reach each refusal without waiting on a workflow.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.conftest import Catalog, auth, client  # noqa: F401 (the API's fixtures)
from web.approval_support import draft, open_tasks
from web.conftest import Console

Auth = Callable[[str], dict[str, str]]
HTMX = {"HX-Request": "true"}
DEADLINE_SECONDS = 90.0
FINANCE = "finance_approver"


def _api(api: TestClient, keys: Auth, path: str) -> Any:
    response = api.get(path, headers=keys("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def _tasks(api: TestClient, keys: Auth, promotion_id: int) -> list[dict[str, Any]]:
    return list(_api(api, keys, f"/api/v1/promotions/{promotion_id}/approvals")["items"])


@pytest.fixture(scope="module")
def submitted(client: TestClient, auth: Auth, catalog: Catalog) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A promotion priced below cost, created and submitted over the API, waiting for its
    finance approval (and pricing's and the category manager's)."""
    from promoflow.runtime import get_runtime

    start = date.today() + timedelta(days=480)
    body = {
        "name": "Console finance check", "mechanic": "fixed_price", "fixed_price": 0.05,
        "start_date": start.isoformat(), "end_date": (start + timedelta(days=6)).isoformat(),
        "channels": ["pos"], "items": catalog.skus[2:], "locations": catalog.stores,
    }  # fmt: skip
    created = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert created.status_code == 201, created.text
    promotion = created.json()
    runtime = get_runtime()
    with pytest.MonkeyPatch.context() as patch:
        # The workflow takes its business hour from the submission: 30 s, not the suite's 50 ms.
        patch.setattr(
            runtime,
            "settings",
            runtime.settings.model_copy(update={"seconds_per_business_hour": 30.0}),
        )
        response = client.post(
            f"/api/v1/promotions/{promotion['id']}/submit",
            json={"launch_lead_hours": 1000, "live_hours": 2},
            headers=auth("merchandiser"),
        )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (
        finance := [t for t in _tasks(client, auth, promotion["id"]) if t["role"] == FINANCE]
    ):
        status = _api(client, auth, f"/api/v1/promotions/{promotion['id']}")["status"]
        assert status not in ("rejected", "cancelled"), status
        assert time.monotonic() < deadline, (
            f"no finance approval after {DEADLINE_SECONDS}s ({status})"
        )
        time.sleep(0.1)
    yield {"id": promotion["id"], "code": promotion["code"], "task": finance[0]["id"]}
    client.post(
        f"/api/v1/promotions/{promotion['id']}/cancel",
        json={"reason": "console test over"},
        headers=auth("operations_admin"),
    )


@pytest.fixture
def bulk(catalog: Catalog) -> dict[str, Any]:
    """A finance task with pricing still to come, a finance task on the finance approver's
    own promotion (segregation of duties), and the pricing task."""
    mine, mine_code = draft(catalog, "mia.merch", 500 + uuid.uuid4().int % 200)
    finance, pricing = open_tasks(mine, FINANCE, "pricing_analyst")
    own, _ = draft(catalog, "finance_approver-tester", 500 + uuid.uuid4().int % 200)
    (own_finance,) = open_tasks(own, FINANCE)
    return {"promotion": mine, "code": mine_code, "finance": finance, "pricing": pricing,
            "own_finance": own_finance}  # fmt: skip


def test_the_finance_approver_sees_the_task_with_what_to_decide_on(
    console_for: Callable[[str], Console], submitted: dict[str, Any]
) -> None:
    page = console_for(FINANCE).get("/approvals")
    assert page.status_code == 200, page.text  # type: ignore[attr-defined]
    text = page.text  # type: ignore[attr-defined]
    row = text[text.index(f'<tr id="task-{submitted["task"]}">') :]
    row = row[: row.index("</tr>")]
    assert f'href="/promotions/{submitted["code"]}"' in row and "Console finance check" in row
    assert "fixed price" in row
    assert "below unit cost" in row  # why finance must approve
    assert "€" in row  # the margin impact, in the configured currency
    assert any(risk in row for risk in (">low<", ">medium<", ">high<", ">unknown<"))
    assert "due in" in row and "UTC" in row  # the SLA clock and the due time, zone named
    assert 'value="approve"' in row and 'value="reject"' in row
    assert f'name="task_id" value="{submitted["task"]}"' in row


def test_approving_with_a_comment_decides_the_task_as_the_api_shows(
    console_for: Callable[[str], Console],
    submitted: dict[str, Any],
    client: TestClient,  # noqa: F811
    auth: Auth,  # noqa: F811
) -> None:
    console = console_for(FINANCE)
    console.get("/approvals")
    answer = console.post(
        f"/approvals/{submitted['task']}/decision",
        {"decision": "approve", "comment": "Margin loss agreed with the buyer"},
        headers=HTMX,
    )
    assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    text = answer.text  # type: ignore[attr-defined]
    assert '<p class="notice">' in text and "approved</span> by finance_approver-tester" in text
    assert answer.headers["HX-Trigger"] == "approvals-changed"  # type: ignore[attr-defined]
    (task,) = [t for t in _tasks(client, auth, submitted["id"]) if t["id"] == submitted["task"]]
    assert (task["status"], task["decided_by"], task["comment"]) == (
        "approved",
        "finance_approver-tester",
        "Margin loss agreed with the buyer",
    )
    # A second decision is refused with the service's words, for the flash.
    again = console.post(
        f"/approvals/{submitted['task']}/decision",
        {"decision": "reject", "comment": "no"},
        headers=HTMX,
    )
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "is already approved by finance_approver-tester" in again.text  # type: ignore[attr-defined]
    assert 'class="alert"' in again.text  # type: ignore[attr-defined]


def test_a_merchandiser_sees_the_inbox_but_no_button_and_a_forged_decision_is_refused(
    console_for: Callable[[str], Console], bulk: dict[str, Any]
) -> None:
    console = console_for("merchandiser")
    page = console.get("/approvals")
    assert page.status_code == 200  # type: ignore[attr-defined]
    assert 'value="approve"' not in page.text and 'id="bulk"' not in page.text  # type: ignore[attr-defined]
    forged = console.post(
        f"/approvals/{bulk['finance']}/decision", {"decision": "approve"}, headers=HTMX
    )
    assert forged.status_code == 403  # type: ignore[attr-defined]
    assert "may not decide approval tasks" in forged.text  # type: ignore[attr-defined]
    for action in ("preview", "approve"):
        refused = console.post(f"/approvals/bulk/{action}", {"task_id": [str(bulk["finance"])]})
        assert refused.status_code == 403  # type: ignore[attr-defined]
    # Only an operations admin or an auditor looks at another role's queue.
    other = console.get("/approvals?role=finance_approver")
    assert other.status_code == 403  # type: ignore[attr-defined]
    assert "only auditor and operations_admin may pick" in other.text  # type: ignore[attr-defined]


def test_an_auditor_reads_the_finance_queue_without_deciding(
    console_for: Callable[[str], Console], bulk: dict[str, Any]
) -> None:
    console = console_for("auditor")
    text = console.get("/approvals?role=finance_approver").text  # type: ignore[attr-defined]
    assert f'<tr id="task-{bulk["finance"]}">' in text and bulk["code"] in text
    assert 'value="approve"' not in text and 'name="task_id"' not in text
    forged = console.post(f"/approvals/{bulk['finance']}/decision", {"decision": "approve"})
    assert forged.status_code == 403  # type: ignore[attr-defined]


def test_a_segregation_of_duties_refusal_comes_back_for_the_flash(
    console_for: Callable[[str], Console], bulk: dict[str, Any]
) -> None:
    console = console_for(FINANCE)
    console.get("/approvals")
    refused = console.post(
        f"/approvals/{bulk['own_finance']}/decision", {"decision": "approve"}, headers=HTMX
    )
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert 'class="alert"' in refused.text  # type: ignore[attr-defined]
    assert "may not approve their own promotion" in refused.text  # type: ignore[attr-defined]


def test_bulk_preview_lists_what_changes_and_every_refusal_with_its_reason(
    console_for: Callable[[str], Console], bulk: dict[str, Any]
) -> None:
    console = console_for(FINANCE)
    picked = [bulk["finance"], bulk["own_finance"], bulk["pricing"], 999_999_999]
    preview = console.post(
        "/approvals/bulk/preview", {"task_id": [str(i) for i in picked]}, headers=HTMX
    )
    assert preview.status_code == 200, preview.text  # type: ignore[attr-defined]
    text = preview.text  # type: ignore[attr-defined]
    assert "3 of the ticked tasks will not be approved" in text
    assert f"{bulk['code']} still waits for pricing analyst" in text  # what it unlocks
    assert "will be approved" in text and text.count(">refused<") == 3
    assert "requester finance_approver-tester may not approve their own promotion" in text
    assert "is assigned to pricing_analyst; role finance_approver may not decide it" in text
    assert "approval task 999999999 does not exist" in text
    assert "Approve 1</button>" in text
    assert f'name="task_id" value="{bulk["finance"]}"' in text
    assert f'name="task_id" value="{bulk["own_finance"]}"' not in text


def test_bulk_approval_decides_one_by_one_and_reports_each_outcome(
    console_for: Callable[[str], Console],
    bulk: dict[str, Any],
    client: TestClient,  # noqa: F811
    auth: Auth,  # noqa: F811
) -> None:
    console = console_for(FINANCE)
    console.get("/approvals")
    picked = [bulk["finance"], bulk["own_finance"]]  # a crafted list: the second is refused
    done = console.post(
        "/approvals/bulk/approve",
        {"task_id": [str(i) for i in picked], "comment": "batch of the week"},
        headers=HTMX,
    )
    assert done.status_code == 200, done.text  # type: ignore[attr-defined]
    text = done.text  # type: ignore[attr-defined]
    assert "1 of 2 approved" in text
    assert f'Task {bulk["finance"]}: <span class="badge ok">approved</span>' in text
    assert "may not approve their own promotion" in text
    assert done.headers["HX-Trigger"] == "approvals-changed"  # type: ignore[attr-defined]
    tasks = {t["id"]: t for t in _tasks(client, auth, bulk["promotion"])}
    assert (tasks[bulk["finance"]]["status"], tasks[bulk["finance"]]["comment"]) == (
        "approved",
        "batch of the week",
    )
    assert tasks[bulk["pricing"]]["status"] == "pending"


def test_the_rows_refresh_as_a_fragment_keeping_ticks_and_comments(
    console_for: Callable[[str], Console], bulk: dict[str, Any]
) -> None:
    console = console_for(FINANCE)
    rows = console.get("/approvals/rows?role=finance_approver")
    text = rows.text  # type: ignore[attr-defined]
    assert text.lstrip().startswith('<tbody id="approval-rows"') and "<html" not in text
    assert 'hx-trigger="every 15s, approvals-changed from:body"' in text
    assert f'id="pick-{bulk["finance"]}" hx-preserve' in text
    assert (
        f'id="comment-{bulk["finance"]}" name="comment" rows="2" maxlength="2000" hx-preserve'
        in text
    )


def test_pages_follow_the_cursor_and_a_cursor_is_bound_to_its_role(
    console_for: Callable[[str], Console], bulk: dict[str, Any]
) -> None:
    console = console_for("operations_admin")
    first = console.get("/approvals?role=finance_approver&limit=1").text  # type: ignore[attr-defined]
    assert first.count('<tr id="task-') == 1
    start = first.index('href="/approvals?role=finance_approver&amp;limit=1&amp;cursor=')
    link = first[start + 6 : first.index('"', start + 6)].replace("&amp;", "&")
    second = console.get(link).text  # type: ignore[attr-defined]
    assert second.count('<tr id="task-') == 1
    task = lambda page: page[page.index('<tr id="task-') :].split('"')[1]  # noqa: E731
    assert task(first) != task(second)
    cursor = link.split("cursor=")[1]
    other = console.get(f"/approvals?role=pricing_analyst&cursor={cursor}")
    assert other.status_code == 422  # type: ignore[attr-defined]
    assert "was made for other filters" in other.text  # type: ignore[attr-defined]


def test_bad_input_names_the_field_and_the_value(
    console_for: Callable[[str], Console], bulk: dict[str, Any]
) -> None:
    console = console_for(FINANCE)
    console.get("/approvals")
    cases = [
        (
            f"/approvals/{bulk['finance']}/decision",
            {"decision": "maybe"},
            "decision=&#39;maybe&#39;",
        ),
        ("/approvals/abc/decision", {"decision": "approve"}, "task_id=&#39;abc&#39;"),
        ("/approvals/bulk/preview", {"task_id": ["12x"]}, "task_id=&#39;12x&#39;"),
        ("/approvals/bulk/preview", {}, "select at least one task"),
    ]
    for path, form, named in cases:
        answer = console.post(path, form, headers=HTMX)
        assert answer.status_code == 422, (path, answer.text)  # type: ignore[attr-defined]
        assert named in answer.text, answer.text  # type: ignore[attr-defined]
    rejected = console.post(
        f"/approvals/{bulk['finance']}/decision", {"decision": "reject"}, headers=HTMX
    )
    assert rejected.status_code == 422  # type: ignore[attr-defined]
    assert "a rejection needs a comment" in rejected.text  # type: ignore[attr-defined]
    for query, named in (("limit=0", "limit=&#39;0&#39;"), ("role=boss", "role=&#39;boss&#39;")):
        answer = console.get(f"/approvals?{query}")
        assert answer.status_code == 422 and named in answer.text  # type: ignore[attr-defined]


def test_a_banner_users_inbox_and_decisions_stay_within_their_banners(
    console_for: Callable[[str], Console],
    catalog: Catalog,
) -> None:
    from access_support import OTHER, OWN, make_objects
    from access_support import api_key as banner_key

    objects = make_objects(catalog.skus[:2], "inbox")
    console = console_for("auditor")
    secret = banner_key(FINANCE, [OWN])["X-API-Key"]
    assert console.client.post("/sign-in", data={"credential": secret}).status_code == 303
    text = console.get("/approvals").text  # type: ignore[attr-defined]
    assert f'<tr id="task-{objects.task[OWN]}">' in text
    assert f'<tr id="task-{objects.task[OTHER]}">' not in text
    other = objects.task[OTHER]
    hidden = console.post(f"/approvals/{other}/decision", {"decision": "approve"}, headers=HTMX)
    assert hidden.status_code == 404  # type: ignore[attr-defined]
    preview = console.post("/approvals/bulk/preview", {"task_id": [str(other)]}, headers=HTMX)
    assert f"approval task {other} does not exist" in preview.text  # type: ignore[attr-defined]
