"""The console's two stories, in Chromium against a running server whose hours fly.

1. A finance approver signs in, finds a below-cost promotion in the inbox with
   what they need to judge it, approves it, and the promotion's timeline shows
   the decision.
2. The POS is down when a promotion launches; the operations admin retries the
   failed publication from the exception queue once it is back, and the
   promotion publishes, every price exactly once.

Each waits for its pages (the inbox, the exception queue, the promotion page):
until they are served the test skips, saying which one is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from e2e_data import (
    Api,
    approval_tasks,
    approve_everything_pending,
    drive_to,
    ok,
    pending_task_of,
    pos_back_up,
    pos_outage,
    pos_prices,
    status,
    submit_promotion,
    wait_for,
)
from e2e_support import Estate, WatchedPage, item_with, needs_pages, sign_in
from playwright.sync_api import expect

from promoflow.kit.roles import Role

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(420)]

# One business hour lasts 3 s: the finance approver has 72 s before the SLA, and a
# launch happens as soon as its gates pass.
SERVER_SETTINGS = {"seconds_per_business_hour": "3"}
LATER = "they land with the console's pages"


def _decided(api: Api, code: str, role: Role) -> dict[str, Any] | None:
    return next(
        (
            task
            for task in approval_tasks(api, code)
            if task["role"] == role and task["status"] == "approved"
        ),
        None,
    )


@needs_pages(
    "/approvals", "/promotions/E2E-FINANCE", reason="the inbox and the promotion page: " + LATER
)
def test_a_finance_approver_approves_from_the_inbox_and_the_timeline_shows_it(
    open_page: Callable[..., WatchedPage], estate: Estate, api: Api
) -> None:
    code = "E2E-FINANCE"
    # Five cents a unit: below cost, so finance must approve (and the category manager
    # for the depth, and pricing as always; they approve over the API).
    below_cost = {"mechanic": "fixed_price", "fixed_price": 0.05, "discount_percent": None}
    submit_promotion(
        api, code, estate.region, estate.skus[0:2], name="Clearance below cost", **below_cost
    )
    finance_task = wait_for(
        "the finance approval", lambda: pending_task_of(api, code, Role.FINANCE_APPROVER)
    )
    approve_everything_pending(api, code, but=Role.FINANCE_APPROVER)

    watched = open_page()
    sign_in(watched, estate.keys[Role.FINANCE_APPROVER], next_path="/approvals")
    inbox_item = item_with(watched, code)
    expect(inbox_item).to_be_visible()
    expect(inbox_item).to_contain_text("Clearance below cost")
    expect(inbox_item).to_contain_text("below unit cost")  # why finance is asked
    watched.screenshot("approvals", docs=True)
    comment = "below cost on purpose: clearing the old pack"
    inbox_item.get_by_label("Comment").fill(comment)
    inbox_item.get_by_role("button", name="Approve").click()

    decided = wait_for("finance's approval", lambda: _decided(api, code, Role.FINANCE_APPROVER))
    assert decided["id"] == finance_task["id"]
    assert (decided["decided_by"], decided["comment"]) == ("frank.finance", comment)
    wait_for(f"{code} approved", lambda: status(api, code) not in ("in_approval",))

    watched.page.goto(f"/promotions/{code}")
    # The timeline tells the decision: who, for which role, what, and why.
    timeline = watched.page.get_by_role("region", name="Timeline")
    decision = timeline.locator("li").filter(has_text="frank.finance").first
    expect(decision).to_contain_text(re.compile(r"finance.approver", re.IGNORECASE))
    expect(decision).to_contain_text(re.compile(r"approved?\b", re.IGNORECASE))
    expect(decision).to_contain_text(comment)
    decision.scroll_into_view_if_needed()
    watched.screenshot("promotion-timeline", docs=True)


def _publication_case(api: Api, code: str) -> dict[str, Any] | None:
    cases = ok(api(Role.OPERATIONS_ADMIN).get("/exceptions"))["items"]
    promotion_id = ok(api(Role.OPERATIONS_ADMIN).get(f"/promotions/{code}"))["id"]
    return next(
        (
            case
            for case in cases
            if case["promotion_id"] == promotion_id
            and case["kind"] == "channel_publication_error"
            and case["status"] == "open"
        ),
        None,
    )


def _published(api: Api, code: str) -> dict[str, Any] | None:
    rows = ok(api(Role.OPERATIONS_ADMIN).get(f"/promotions/{code}/publications"))["items"]
    return next((row for row in rows if row["status"] == "published"), None)


@needs_pages(
    "/cases",
    "/promotions/E2E-POS-DOWN",
    reason="the exception queue and the promotion page: " + LATER,
)
def test_an_operations_admin_retries_a_failed_publication_and_every_price_lands_once(
    open_page: Callable[..., WatchedPage], estate: Estate, api: Api
) -> None:
    code = "E2E-POS-DOWN"
    skus = estate.skus[2:4]
    pos_outage(estate.database_url)
    try:
        submit_promotion(api, code, estate.region, skus)
        drive_to(api, code, "on_hold")
        case = wait_for("the publication case", lambda: _publication_case(api, code))
    finally:
        pos_back_up(estate.database_url)

    watched = open_page()
    sign_in(watched, estate.keys[Role.OPERATIONS_ADMIN], next_path="/cases")
    listed = item_with(watched, case["title"])
    expect(listed).to_be_visible()
    watched.screenshot("exception-queue", docs=True)
    details = listed.locator(f"a[href='/cases/{case['id']}']")
    if details.count():  # the queue may open a case page holding the actions
        details.first.click()
        listed = watched.page.locator("main")
    reason = listed.get_by_label(re.compile("reason", re.IGNORECASE))
    if reason.count():
        reason.first.fill("POS is back up")
    listed.get_by_role("button", name=re.compile(r"^\s*retry", re.IGNORECASE)).first.click()

    publication = wait_for(f"{code} published after the retry", lambda: _published(api, code))
    wait_for(f"{code} live", lambda: status(api, code) == "live")
    prices = pos_prices(estate.database_url, code)
    expected = {(sku, store) for sku in skus for store in estate.stores}
    assert len(prices) == len(set(prices)), f"a price was applied twice: {sorted(prices)}"
    assert set(prices) == expected
    assert publication["item_count"] == len(expected)

    # The promotion's page shows it live and its POS publication done, with every price.
    watched.page.goto(f"/promotions/{code}")
    expect(watched.page.get_by_role("heading", level=1)).to_contain_text("live")
    publications = watched.page.get_by_role("region", name="Publications")
    pos = publications.locator("tr").filter(has_text="pos")
    expect(pos).to_contain_text("published")
    expect(pos).to_contain_text(str(len(expected)))
    watched.screenshot("promotion-published")
