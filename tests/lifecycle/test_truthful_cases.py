"""Cases say what happened: a store-readiness block is filed as one, for store operations."""

from __future__ import annotations

from collections.abc import Callable

from lifecycle_support import Planned, cases, desk_for, drive, status_of, submit, wait_until

from promoflow.lifecycle import commands
from promoflow.runtime import Runtime


def test_stores_not_ready_at_launch_open_a_store_readiness_case_that_clears_when_they_confirm(
    rt: Runtime, plan_promotion: Callable[..., Planned], done: Callable[[str], bool]
) -> None:
    planned = submit(plan_promotion(items=2))
    desk = desk_for(planned, stores_confirm=False)
    wait_until(lambda: bool(cases(rt, planned.promotion_id)), "the launch-day case", desk=desk)
    (case,) = cases(rt, planned.promotion_id)
    assert (case.kind, case.owner_role, case.status) == (
        "store_readiness",
        "store_operations",
        "open",
    )
    assert case.title == "launch blocked by store_readiness"
    assert "confirm their readiness tasks" in case.detail
    assert "store_readiness" in status_of(planned.promotion_id)[1]

    commands.confirm_store_tasks(planned.promotion_id, None, "sam.stores")
    assert drive(planned, done, desk=desk) == "closed"
    (case,) = cases(rt, planned.promotion_id)
    assert (case.status, case.resolution) == ("resolved", "cleared")
