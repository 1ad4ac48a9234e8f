"""Item units of measure in the Business Central fake.

Business Central keeps an item's units in table 5404 "Item Unit of Measure"
(`Item No.`, `Code`, `Qty. per Unit of Measure`; Microsoft's base application
reference). The standard API v2.0 does not publish it, so a company publishes it
through its own API page: here `api/contoso/inventory/v1.0/.../itemUnitsOfMeasure`
with `itemNo`, `code`, `qtyPerUnitOfMeasure` (fixtures/bc_item_units_of_measure_page.json).

A purchase line that names no unit gets the item card's Purch. Unit of Measure
(Microsoft Learn, "Qty. per Unit of Measure Field, Purchase Line Table"); a unit
the item does not have is refused with Business Central's "cannot be found in the
related table" validation error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from bc_fake import BusinessCentralFake

UNITS_ROUTE = "contoso/inventory/v1.0"


def line_unit(
    fake: BusinessCentralFake, item: dict[str, Any], line: dict[str, Any]
) -> str | JSONResponse:
    """The unit a new purchase line gets, or the error Business Central answers."""
    number = item["number"]
    unit = line.get("unitOfMeasureCode") or fake.purchase_units.get(
        number, item["baseUnitOfMeasureCode"]
    )
    known = {row["code"] for row in fake.item_units if row["itemNo"] == number}
    if unit != item["baseUnitOfMeasureCode"] and unit not in known:
        return JSONResponse(
            {
                "error": {
                    "code": "Internal_RecordNotFound",
                    "message": f"The field Unit of Measure Code of table Purchase Line contains "
                    f"a value ({unit}) that cannot be found in the related table (Item Unit "
                    "of Measure).  CorrelationId:  8f1d6a3e-0000-4000-8000-000000000000.",
                }
            },
            status_code=400,
        )
    return str(unit)
