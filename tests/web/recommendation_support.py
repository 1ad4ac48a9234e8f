"""A promotion brought, through its real workflow, to an allocation that waits for a planner.

Shared by the console's tests and tests/api/test_recommendations_api.py: the bundled
policies with auto-apply off, stock in the stores and the DC, approvals
given by each task's role until the promotion is scheduled.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from api.conftest import Catalog, api_key

DEADLINE_SECONDS = 60.0
DC = "DC-01"  # the small retailer's only DC


def auth(role: str) -> dict[str, str]:
    return {"X-API-Key": api_key(role)}


@dataclass(frozen=True)
class Proposal:
    """A scheduled promotion's allocation, proposed and waiting for a planner."""

    promotion_id: int
    code: str
    id: int
    lines: list[dict[str, Any]]


@contextmanager
def every_allocation_reviewed(policy_dir: Path) -> Iterator[None]:
    """The bundled policies, except that no allocation applies without a planner."""
    from promoflow.allocation.policy import BUNDLED_POLICY
    from promoflow.runtime import get_runtime

    for policy in BUNDLED_POLICY.parent.glob("*.yaml"):
        shutil.copy(policy, policy_dir / policy.name)
    planning = yaml.safe_load(BUNDLED_POLICY.read_text())
    planning["allocation"]["auto_apply"]["max_units"] = 0.0
    (policy_dir / "planning.yaml").write_text(yaml.safe_dump(planning))
    rt = get_runtime()
    saved = rt.settings
    rt.settings = saved.model_copy(update={"policy_dir": policy_dir})
    try:
        yield
    finally:
        rt.settings = saved


def stock(skus: list[str], stores: list[str], dc_units: float) -> None:
    """Empty shelves in the stores; `dc_units` of each item in the DC."""
    from promoflow.connectors.sandbox import wms
    from promoflow.inventory import service as inventory_service
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    rt = get_runtime()
    records = [
        wms.set_stock(rt.sessions, sku, code, on_hand=units, on_order=0.0, in_transit=0.0)
        for sku in skus
        for code, units in [*((store, 0.0) for store in stores), (DC, dc_units)]
    ]
    with transaction(rt.sessions) as session:
        inventory_service.apply_positions(session, records, "sandbox-wms")


def read(client: TestClient, path: str) -> Any:
    response = client.get(path, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def until(what: str, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (found := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def scheduled(client: TestClient, promotion_id: int) -> None:
    """Approve every task with its assigned role's key until the promotion is scheduled."""

    def step() -> bool:
        url = f"/api/v1/promotions/{promotion_id}"
        if read(client, url)["status"] == "scheduled":
            return True
        for task in read(client, f"{url}/approvals")["items"]:
            if task["status"] == "pending":
                client.post(
                    f"/api/v1/approvals/{task['id']}/decision",
                    json={"decision": "approve", "comment": "ok"},
                    headers=auth(task["assigned_role"]),
                )
        return False

    until("approval", step)


def proposed_allocation(
    client: TestClient,
    catalog: Catalog,
    name: str,
    days_ahead: int,
    stores: list[str] | None = None,
) -> Proposal:
    """A 15 %-off promotion on two items in `stores` (the catalogue's two by default),
    scheduled; its allocation proposed.

    Call it inside `every_allocation_reviewed`, so that the allocation waits for a planner.
    """
    skus, stores = catalog.skus[:2], stores or catalog.stores
    stock(skus, stores, dc_units=400.0)
    start = date.today() + timedelta(days=days_ahead)
    created = client.post(
        "/api/v1/promotions",
        json={
            "name": name,
            "mechanic": "percent_off",
            "discount_percent": 15,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=6)).isoformat(),
            "channels": ["pos"],
            "items": skus,
            "locations": stores,
        },
        headers=auth("merchandiser"),
    )
    assert created.status_code == 201, created.text
    promotion_id, code = created.json()["id"], created.json()["code"]
    submitted = client.post(
        f"/api/v1/promotions/{promotion_id}/submit",
        json={"launch_lead_hours": 1000, "live_hours": 2},
        headers=auth("merchandiser"),
    )
    assert submitted.status_code == 202, submitted.text
    scheduled(client, promotion_id)
    listing = f"/api/v1/promotions/{promotion_id}/recommendations?kind=allocation&status=proposed"
    found = until("the allocation", lambda: read(client, listing)["items"])[0]
    return Proposal(promotion_id, code, found["id"], found["lines"])


def cancel(client: TestClient, proposal: Proposal) -> None:
    """Cancel the promotion, so that it holds no stock or workflow past its test."""
    cancelled = client.post(
        f"/api/v1/promotions/{proposal.promotion_id}/cancel",
        json={"reason": "test over"},
        headers=auth("operations_admin"),
    )
    assert cancelled.status_code == 202, cancelled.text
