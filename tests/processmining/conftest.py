"""Process-mining fixtures: one promotion driven through the real lifecycle, exported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

LIFECYCLE_TESTS = str(Path(__file__).resolve().parents[1] / "lifecycle")
if LIFECYCLE_TESTS not in sys.path:
    sys.path.insert(0, LIFECYCLE_TESTS)

from lifecycle_support import (  # noqa: E402  (needs the path above)
    cases,
    desk_for,
    drive,
    make_planned,
    purchase_orders,
    recommendation,
    status_of,
    submit,
    wait_until,
)
from processmining_support import Run  # noqa: E402

from promoflow.kit.db import reading  # noqa: E402
from promoflow.processmining.builder import build_log  # noqa: E402
from promoflow.processmining.log import ObjectCentricLog  # noqa: E402
from promoflow.runtime import get_runtime  # noqa: E402

# The OCEL 2.0 JSON schema and XSD, copied unchanged (tests/fixtures/specs/PROVENANCE.tsv).
SPECS = Path(__file__).resolve().parents[1] / "fixtures" / "specs" / "ocel"


@pytest.fixture(scope="session")
def closed_run(seeded: object) -> Run:
    """Two well-stocked items: the promotion runs from draft to closed."""
    rt = get_runtime()
    planned = submit(make_planned(rt, items=2))
    status = drive(
        planned, lambda s: s in ("closed", "rejected", "cancelled"), desk=desk_for(planned)
    )
    assert status == "closed"
    return Run(planned, [])


@pytest.fixture(scope="session")
def replenished_run(seeded: object) -> Run:
    """An item with no stock anywhere: the promotion's replenishment raises purchase orders."""
    rt = get_runtime()
    planned = submit(make_planned(rt, items=1, weeks_of_cover=0.0, dc_units=0.0))
    try:
        # Late in a full run the small retailer's items are reused, in windows weeks
        # further out, and the queue holds other tests' workflows: give it time.
        wait_until(
            lambda: bool(purchase_orders(rt, planned.promotion_id)),
            "the purchase orders",
            desk=desk_for(planned),
            timeout=150.0,  # inside the suite's 180 s per test
        )
    except AssertionError as missing:
        status, reason = status_of(planned.promotion_id)
        found = recommendation(rt, planned.promotion_id, "replenishment")
        raised = (
            "no replenishment recommendation"
            if found is None
            else (f"replenishment {found[0].status}: {found[0].summary}")
        )
        opened = [(case.kind, case.detail) for case in cases(rt, planned.promotion_id)]
        raise AssertionError(
            f"{missing}; {planned.code} ({planned.skus}, {planned.region}) is {status}: "
            f"{reason}; {raised}; cases {opened}"
        ) from missing
    return Run(planned, [order.number for order in purchase_orders(rt, planned.promotion_id)])


@pytest.fixture(scope="session")
def log(closed_run: Run, replenished_run: Run) -> ObjectCentricLog:
    with reading(get_runtime().sessions) as session:
        return build_log(session)


@pytest.fixture(scope="session")
def specs() -> Path:
    return SPECS
