"""Purchase orders in the right unit, and acknowledgements read back in base units.

The fake keeps the chairs (1900-S) bought by the box of 4 (item card Purch. Unit of
Measure = BOX, table 5404 rows in fixtures/bc_item_units_of_measure_page.json):
a line that names no unit would be read by Business Central as boxes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from bc_fake import CLIENT_SECRET, BusinessCentralFake
from bc_support import SECRET_ENV, connector, seeded_fake
from bc_units import UNITS_ROUTE
from local_server import serve

from promoflow.connectors.ports import ConnectorError, MalformedPayload, PurchaseOrderRequest
from promoflow.connectors.resilience import reset_breakers
from promoflow.kit.errors import InvalidInput


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake() -> BusinessCentralFake:
    return seeded_fake()


@pytest.fixture
def base_url(fake: BusinessCentralFake) -> Iterator[str]:
    with serve(fake.app()) as url:
        yield url


def order(*lines: tuple[str, float], number: str = "PO-PF-0100") -> PurchaseOrderRequest:
    return PurchaseOrderRequest(number, "20000", "BLUE", date(2026, 12, 4), tuple(lines))


def ordered(fake: BusinessCentralFake) -> list[tuple[str, str, float]]:
    return [
        (line["lineObjectNumber"], line["unitOfMeasureCode"], line["quantity"])
        for po in fake.purchase_orders
        for line in po["purchaseOrderLines"]
    ]


def test_a_case_bought_item_is_ordered_in_its_base_unit_by_default(
    fake: BusinessCentralFake, base_url: str
) -> None:
    """24 chairs are 24 PCS, not 24 boxes (96 chairs) as a line without a unit would be."""
    connector(base_url, "bc-uom-base").submit_purchase_order("k", order(("1900-S", 24.0)))
    assert ordered(fake) == [("1900-S", "PCS", 24.0)]


def test_ordering_in_a_declared_unit_converts_through_the_items_units(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-uom-box", purchase_unit="BOX", units_api=UNITS_ROUTE)
    bc.submit_purchase_order("k", order(("1900-S", 24.0)))
    assert ordered(fake) == [("1900-S", "BOX", 6.0)]
    # Released, the box line is confirmed as the 24 chairs promoflow counts in.
    fake.purchase_orders[0]["status"] = "Open"
    (ack,) = bc.acknowledgements(["PO-PF-0100"])
    assert ack.confirmed == (("1900-S", 24.0),)


def test_a_quantity_that_is_not_whole_boxes_is_refused_before_sending(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-uom-part", purchase_unit="BOX", units_api=UNITS_ROUTE)
    with pytest.raises(InvalidInput) as refused:
        bc.submit_purchase_order("k", order(("1900-S", 30.0)))
    assert refused.value.field == "order.lines[1900-S].quantity" and "BOX" in str(refused.value)
    assert fake.purchase_orders == []


def test_an_item_without_the_declared_unit_is_a_clear_error(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-uom-none", purchase_unit="BOX", units_api=UNITS_ROUTE)
    with pytest.raises(ConnectorError) as refused:
        bc.submit_purchase_order("k", order(("1896-S", 2.0)))
    assert not refused.value.retryable
    assert "1896-S" in refused.value.message and "'BOX'" in refused.value.message
    assert fake.purchase_orders == []


def test_an_acknowledged_line_in_another_unit_without_units_api_is_an_error(
    fake: BusinessCentralFake, base_url: str
) -> None:
    """The buyer changed the line to boxes in Business Central: no silent wrong quantity."""
    bc = connector(base_url, "bc-uom-ack")
    bc.submit_purchase_order("k", order(("1900-S", 24.0)))
    fake.purchase_orders[0]["status"] = "Open"
    fake.purchase_orders[0]["purchaseOrderLines"][0].update(
        {"unitOfMeasureCode": "BOX", "quantity": 6}
    )
    with pytest.raises(MalformedPayload) as refused:
        bc.acknowledgements(["PO-PF-0100"])
    assert (refused.value.field, refused.value.value) == ("unitOfMeasureCode", "BOX")
    with_units = connector(base_url, "bc-uom-ack2", units_api=UNITS_ROUTE)
    (ack,) = with_units.acknowledgements(["PO-PF-0100"])
    assert ack.confirmed == (("1900-S", 24.0),)


def test_an_order_in_review_as_the_api_sends_it_does_not_fail_the_poll(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-in-review")
    bc.submit_purchase_order("k1", order(("1896-S", 1.0), number="PO-PF-0101"))
    bc.submit_purchase_order("k2", order(("1896-S", 2.0), number="PO-PF-0102"))
    fake.purchase_orders[0]["status"] = "In_x0020_Review"
    fake.purchase_orders[1]["status"] = "Open"
    (ack,) = bc.acknowledgements(["PO-PF-0101", "PO-PF-0102"])
    assert ack.number == "PO-PF-0102"
    cancelled = bc.cancel_purchase_order("c", "PO-PF-0101")
    assert cancelled.outcome == "cancelled"
