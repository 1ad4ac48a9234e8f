"""A worker for the planning crash test: it runs (or recovers) one promotion's workflow.

Usage: python planning_crash_worker.py PROMOTION_ID submit|recover
Its desk approves and confirms store tasks but leaves recommendations to the test,
so the workflow waits for a planner. The database and executor id come from
PROMOFLOW_* environment variables; a second run with the same executor id recovers
what the first one left pending.
"""

from __future__ import annotations

import sys
import time

from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion
from promoflow.runtime import start_runtime
from promoflow.scenario.desk import Desk, PromotionScript


def main() -> None:
    promotion_id, mode = int(sys.argv[1]), sys.argv[2]
    runtime = start_runtime()
    with runtime.sessions() as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        code = promotion.code
    if mode == "submit":
        commands.submit_promotion(
            promotion_id, "mia.merch", launch_lead_hours=0, live_hours=100_000
        )
    script = PromotionScript(code, on_recommendation=lambda _: None)
    desk = Desk({code: script}, think_hours=0.0)
    print("worker ready", flush=True)
    while True:  # the test kills this process
        desk.tick()
        time.sleep(0.05)


if __name__ == "__main__":
    main()
