"""Two workers submit the same purchase order to Oracle Fusion at one instant.

The connector looks the order up (submitted, then draft) and creates a draft only
when it finds none; two workers looking up at the same moment both create. The
claim the port takes in our database before the call leaves one creator, and the
other worker answers with that creator's order number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from local_server import serve
from oracle_fake import PASSWORD, OracleFusionFake
from oracle_support import SECRET_ENV, seeded_fake, settings_for
from purchase_order_race import enable_connection, race
from sqlalchemy.engine import Engine

from promoflow.connectors.ports import PurchaseOrderRequest

pytestmark = pytest.mark.slow


@pytest.fixture
def fake() -> OracleFusionFake:
    return seeded_fake()


@pytest.fixture
def base_url(fake: OracleFusionFake) -> Iterator[str]:
    with serve(fake.app()) as url:
        yield url


def test_two_workers_with_one_key_create_one_purchase_order_and_get_its_number(
    fake: OracleFusionFake,
    base_url: str,
    private_engine: Callable[[str], Engine],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = private_engine("oracle_po_race")
    monkeypatch.setenv(SECRET_ENV, PASSWORD)
    enable_connection(engine, "oracle-race", "oracle-fusion", settings_for(base_url))
    # The draft look-ups take 0.8 s, so both workers are past them before either creates.
    fake.delay("/draftPurchaseOrders", "GET", 0.8, times=2)
    order = PurchaseOrderRequest(
        "PF-RACE-1", "Lee Supplies", "STORE01", date(2026, 12, 4), (("RTL-1001", 48.0),)
    )

    answers = race(engine, "T-race-r1-RP1", order, {SECRET_ENV: PASSWORD})

    assert [a.get("error") for a in answers] == [None, None]
    assert [a["number"] for a in answers] == ["PF-RACE-1", "PF-RACE-1"]
    creates = [
        r
        for r in fake.requests
        if r.method == "POST" and r.url.path.endswith("/draftPurchaseOrders")
    ]
    assert len(creates) == 1
    assert [po["OrderNumber"] for po in fake.purchase_orders] == ["PF-RACE-1"]
    assert fake.drafts == []
