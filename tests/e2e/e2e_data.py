"""Data for the browser scenarios, made over the running server's API with API keys.

Promotions are created and submitted as a merchandiser would through the API;
the approvals, store confirmations and gate waivers the scenario does not watch
are given by the people whose role it is, over the API too. Only the outage is
written to the database directly: the sandbox's fault injection is read on every
call, by design, so a test can break the POS while the server talks to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from promoflow.kit.roles import Role

T = TypeVar("T")
Api = Callable[[Role], httpx.Client]


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of an answer that must have `status`; else fail with the problem."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} answered "
        f"{response.status_code}: {response.text}"
    )
    return response.json()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 90.0) -> T:
    """Poll `probe` until it returns something; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s (last: {last!r})")


def submit_promotion(api: Api, code: str, region: str, skus: list[str], **terms: Any) -> None:
    """Create a draft over the API as the merchandiser and submit it to launch at once."""
    start = date.today() + timedelta(days=14)
    body: dict[str, Any] = {
        "code": code,
        "name": f"Browser test {code}",
        "mechanic": "percent_off",
        "discount_percent": 10,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=6)).isoformat(),
        "channels": ["pos"],
        "items": skus,
        "regions": [region],
        **terms,
    }
    merchandiser = api(Role.MERCHANDISER)
    body = {name: value for name, value in body.items() if value is not None}
    ok(merchandiser.post("/promotions", json=body), 201)
    # Launch as soon as the gates allow, and stay live for the rest of the module.
    timing = {"launch_lead_hours": 0, "live_hours": 10_000}
    ok(merchandiser.post(f"/promotions/{code}/submit", json=timing), 202)


def status(api: Api, code: str) -> str:
    return str(ok(api(Role.OPERATIONS_ADMIN).get(f"/promotions/{code}"))["status"])


def approval_tasks(api: Api, code: str) -> list[dict[str, Any]]:
    return list(ok(api(Role.OPERATIONS_ADMIN).get(f"/promotions/{code}/approvals"))["items"])


def pending_task_of(api: Api, code: str, role: Role) -> dict[str, Any] | None:
    """The promotion's pending approval task assigned to `role`, once it exists."""
    return next(
        (
            task
            for task in approval_tasks(api, code)
            if task["status"] == "pending" and task["assigned_role"] == role
        ),
        None,
    )


def approve_everything_pending(api: Api, code: str, *, but: Role | None = None) -> None:
    """Each pending approval (`but` one role's) decided by its assigned role's person."""
    for task in approval_tasks(api, code):
        if task["status"] == "pending" and task["assigned_role"] != but:
            approver = api(Role(task["assigned_role"]))
            decision = {"decision": "approve", "comment": "fine by me"}
            ok(approver.post(f"/approvals/{task['id']}/decision", json=decision))


def clear_the_launch(api: Api, code: str) -> None:
    """Stores confirm readiness; a gate still failing is waived by the operations admin."""
    api(Role.STORE_OPERATIONS).post(f"/promotions/{code}/store-tasks/confirm", json={})
    admin = api(Role.OPERATIONS_ADMIN)
    for gate in ok(admin.get(f"/promotions/{code}/gates"))["items"]:
        if gate["status"] == "fail":
            reason = {"reason": "stock counted by hand for the browser test"}
            admin.post(f"/promotions/{code}/gates/{gate['gate']}/waive", json=reason)


def drive_to(api: Api, code: str, wanted: str, timeout: float = 120.0) -> None:
    """Let the other people act until the promotion reaches `wanted`."""

    def reached() -> bool:
        now = status(api, code)
        if now == "in_approval":
            approve_everything_pending(api, code)
        elif now == "scheduled":
            clear_the_launch(api, code)
        return now == wanted

    wait_for(f"{code} to reach {wanted}", reached, timeout)


def pos_outage(database_url: str, hours: float = 2.0) -> None:
    """The POS pricing API of the sandbox is down from now for `hours`."""
    from promoflow.connectors.sandbox import faults
    from promoflow.kit.db import make_engine

    engine = make_engine(database_url)
    try:
        now = datetime.now(UTC)
        window = (now - timedelta(seconds=1), now + timedelta(hours=hours))
        faults.set_faults(sessionmaker(bind=engine), "sandbox-pos", outages=[window])
    finally:
        engine.dispose()


def pos_back_up(database_url: str) -> None:
    from promoflow.connectors.sandbox import faults
    from promoflow.kit.db import make_engine

    engine = make_engine(database_url)
    try:
        faults.clear_faults(sessionmaker(bind=engine), "sandbox-pos")
    finally:
        engine.dispose()


def pos_prices(database_url: str, code: str) -> list[tuple[str, str]]:
    """(sku, store) of every price the sandbox POS applied for the promotion: its receipts."""
    from promoflow.connectors.sandbox.models import SandboxChannelPrice
    from promoflow.kit.db import make_engine

    engine = make_engine(database_url)
    try:
        with sessionmaker(bind=engine)() as session:
            rows = session.execute(
                sa.select(SandboxChannelPrice.sku, SandboxChannelPrice.location_code).where(
                    SandboxChannelPrice.system == "sandbox-pos",
                    SandboxChannelPrice.publication_key.like(f"{code}-r%"),
                )
            ).all()
    finally:
        engine.dispose()
    return [(sku, store) for sku, store in rows]
