"""What a role may not do, it neither sees nor gets done, in a real browser.

A merchandiser signed in through the form finds no Approve button on the approvals
page, and a decision forged with the session's own cookie and form token is
refused with 403, leaving the task pending. The approvals page lands with the
inbox; until then /approvals answers 404 and these tests skip, saying so.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_data import Api, pending_task_of, submit_promotion, wait_for
from e2e_support import Estate, WatchedPage, form_token, needs_pages, sign_in

from promoflow.kit.roles import Role

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.timeout(300),
    needs_pages("/approvals", reason="the approvals page lands with the inbox"),
]

CODE = "E2E-ACCESS"


@pytest.fixture(scope="module")
def waiting_task(estate: Estate, api: Api) -> int:
    """A promotion waiting for the pricing analyst (in real business hours: it will wait)."""
    submit_promotion(api, CODE, estate.region, estate.skus[:2])
    task = wait_for(
        "the pricing analyst's task", lambda: pending_task_of(api, CODE, Role.PRICING_ANALYST)
    )
    return int(task["id"])


def _merchandiser_on_approvals(
    open_page: Callable[..., WatchedPage], estate: Estate
) -> WatchedPage:
    watched = open_page()
    sign_in(watched, estate.keys[Role.MERCHANDISER], next_path="/approvals")
    watched.page.wait_for_load_state("networkidle")
    assert watched.page.url.endswith("/approvals"), watched.page.url
    return watched


def test_a_merchandiser_sees_no_approve_button(
    waiting_task: int, open_page: Callable[..., WatchedPage], estate: Estate
) -> None:
    watched = _merchandiser_on_approvals(open_page, estate)
    assert watched.page.locator("h1").count() >= 1
    approve = watched.page.get_by_role("button", name="Approve")
    assert approve.count() == 0, "a merchandiser is offered an Approve button"
    watched.screenshot("approvals-merchandiser")


def test_a_forged_decision_with_the_session_is_refused_and_changes_nothing(
    waiting_task: int, open_page: Callable[..., WatchedPage], estate: Estate, api: Api
) -> None:
    watched = _merchandiser_on_approvals(open_page, estate)
    token = form_token(watched)
    # The browser's own request context: the session cookie goes with it.
    forged = watched.page.context.request.post(
        f"/approvals/{waiting_task}/decision",
        form={"decision": "approve", "comment": "forged", "csrf_token": token},
        headers={"X-CSRF-Token": token},
        max_redirects=0,
    )
    assert forged.status == 403, f"forged decision answered {forged.status}: {forged.text()}"
    assert "merchandiser" in forged.text()  # the refusal names the role it refused
    task = pending_task_of(api, CODE, Role.PRICING_ANALYST)
    assert task is not None and task["id"] == waiting_task, "the forged decision changed the task"
