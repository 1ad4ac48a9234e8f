"""The demo's database set-up, small, as its own process (see test_first_hour.py).

It chooses the database the way `promoflow demo` does (`cli.demo._demo_settings`,
the demo migration branch), seeds the small retailer, submits one promotion and
waits until its approval tasks are open, opens one exception case, and stops. It
prints the promotion's code, its pending tasks and the case as one JSON line.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal

from promoflow.approvals import service as approvals_service
from promoflow.cli.demo import _demo_settings
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseAction, CaseKind, Severity
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.roles import Role
from promoflow.lifecycle import commands
from promoflow.migrate import upgrade
from promoflow.promotions.schemas import PromotionCreate
from promoflow.runtime import exit_process, open_database, start_runtime, stop_runtime
from promoflow.scenario import estate_actions, picking
from promoflow.scenario.generator import ScenarioSize, generate

CODE = "FIRST-HOUR-1"


def main() -> None:
    settings = _demo_settings(fresh=True)
    upgrade(open_database(settings).engine, demo=True)
    runtime = start_runtime(settings)
    generate(runtime.sessions, ScenarioSize.small(), seed=7)
    with runtime.sessions() as session:
        region = picking.regions(session)[0]
        skus = picking.promotable_skus(session, region=region, count=2)
    estate_actions.set_cover(runtime, skus, [region], weeks_of_cover=8.0)
    start = utcnow().date() + timedelta(weeks=10)
    created = commands.create_promotion(
        PromotionCreate(
            code=CODE,
            name="first hour fortnight",
            mechanic="percent_off",
            discount_percent=Decimal(20),
            start_date=start,
            end_date=start + timedelta(days=6),
            channels=["pos", "ecommerce"],
            items=skus,
            regions=[region],
        ),
        "mia.merch",
    )
    commands.submit_promotion(created.id, "mia.merch")
    deadline = time.monotonic() + 120
    tasks: list[dict[str, object]] = []
    while not tasks and time.monotonic() < deadline:
        time.sleep(0.2)
        with runtime.sessions() as session:
            tasks = [
                {"id": task.id, "role": task.assigned_role}
                for task in approvals_service.tasks_for_revision(session, created.id, 1)
            ]
    with transaction(runtime.sessions) as session:
        case = exceptions_service.open_case(
            session,
            kind=CaseKind.SUPPLIER_SHORTFALL,
            severity=Severity.HIGH,
            owner_role=Role.SUPPLY_CHAIN_PLANNER,
            title="supplier short on the first hour's items",
            detail="the supplier can ship 40 of 120 units before the start",
            promotion=commands.promotions_service.get_promotion(session, created.id),
            linked={"skus": skus},
            allowed_actions=[CaseAction.WAIVE, CaseAction.ESCALATE, CaseAction.REASSIGN],
            workflow_id=None,
        )
        case_id = case.id
    print(json.dumps({"code": CODE, "tasks": tasks, "case": case_id}))
    stop_runtime()
    exit_process(0)


if __name__ == "__main__":
    main()
