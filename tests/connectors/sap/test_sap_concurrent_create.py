"""Two workers submit the same purchase order to SAP at one instant: one order is created.

API_PURCHASEORDER_PROCESS_SRV takes no idempotency key and enforces no unique
reference (CorrespncExternalReference is free text), so the connector's look-up
before the create cannot stop a second worker that looks up at the same moment.
The claim the port takes in our database before the call does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from purchase_order_race import enable_connection, race
from sap_support import PASSWORD, PASSWORD_ENV, MockSap, connector, settings_for
from sqlalchemy.engine import Engine

from promoflow.connectors.ports import PurchaseOrderRequest

pytestmark = pytest.mark.slow


def test_two_workers_with_one_key_create_one_purchase_order_and_get_its_number(
    mock: MockSap, private_engine: Callable[[str], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = private_engine("sap_po_race")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    enable_connection(engine, "sap-race", "sap-s4hana", settings_for(mock))
    # Both look-ups take 0.8 s, so both workers are past them before either creates.
    mock.faults(
        {"match": "CorrespncExternalReference", "method": "GET", "delayMs": 800, "times": 2}
    )
    order = PurchaseOrderRequest(
        "PO-RACE-1", "17300001", "ST02", date(2026, 3, 2), (("TG11", 24.0), ("TG12", 6.0))
    )

    answers = race(engine, "T-race-r1-RP1", order, {PASSWORD_ENV: PASSWORD})

    assert [a.get("error") for a in answers] == [None, None]
    first, second = (a["number"] for a in answers)
    assert first == second
    creates = [
        e for e in mock.requests() if e["method"] == "POST" and "A_PurchaseOrder" in e["url"]
    ]
    assert len(creates) == 1
    held = (
        connector(mock, "sap-race-check", monkeypatch)
        ._service("API_PURCHASEORDER_PROCESS_SRV")
        .get_json(
            "count orders",
            "A_PurchaseOrder",
            {"$filter": "CorrespncInternalReference eq 'PO-RACE-1'", "$select": "PurchaseOrder"},
        )
    )
    assert [row["PurchaseOrder"] for row in held["d"]["results"]] == [first]
