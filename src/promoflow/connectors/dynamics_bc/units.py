"""Item units of measure: our quantities are in each item's base unit, Business Central's
purchase lines in whatever unit the line carries.

A purchase line created without `unitOfMeasureCode` takes the item card's
Purch. Unit of Measure (Microsoft Learn, "Qty. per Unit of Measure Field,
Purchase Line Table"), so 24 chairs bought by the box of 4 became 24 boxes. Every
line we create names its unit, and every line we read is converted to the base
unit through the item's units of measure: table 5404 "Item Unit of Measure"
(`Item No.`, `Code`, `Qty. per Unit of Measure` = base units in one such unit;
Microsoft's base application reference). The standard v2.0 API does not publish
that table; the connection names the API route of a page that does
(`itemUnitsOfMeasure` with `itemNo`, `code`, `qtyPerUnitOfMeasure`). Without it
only base units are known, and a line in another unit is an error, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from promoflow.connectors.odata import bad, decimal, text
from promoflow.connectors.ports import ConnectorError
from promoflow.kit.errors import InvalidInput

UNIT_FIELDS = "itemNo,code,qtyPerUnitOfMeasure"


@dataclass(frozen=True)
class ItemUnits:
    """Each item's base unit and how many base units its other units hold."""

    base: dict[str, str] = field(default_factory=dict)
    sizes: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    def size(self, sku: str, unit: str) -> Decimal | None:
        """Base units in one `unit` of `sku`; None when Business Central lists no such unit."""
        if unit and unit == self.base.get(sku):
            return Decimal(1)
        return self.sizes.get((sku, unit))


def item_units(
    system: str, items: Sequence[Mapping[str, Any]], units: Sequence[Mapping[str, Any]]
) -> ItemUnits:
    """From `item` rows (number, baseUnitOfMeasureCode) and itemUnitsOfMeasure rows."""
    base = {
        text(system, row, "number"): text(system, row, "baseUnitOfMeasureCode") for row in items
    }
    sizes: dict[tuple[str, str], Decimal] = {}
    for row in units:
        size = decimal(system, row, "qtyPerUnitOfMeasure")
        if size <= 0:
            raise bad(
                system, "a unit must hold a positive quantity", row, "qtyPerUnitOfMeasure", size
            )
        sizes[(text(system, row, "itemNo"), text(system, row, "code"))] = size
    return ItemUnits(base, sizes)


def order_quantity(
    system: str, units: ItemUnits, sku: str, quantity: float, unit: str
) -> tuple[str, float]:
    """(unit code, quantity in that unit) for a line of `quantity` base units of `sku`.

    `unit` blank means the item's base unit. A unit the item does not have, or a
    quantity that is not a whole number of that unit, is refused.
    """
    if sku not in units.base:
        raise ConnectorError(
            system,
            f"item {sku!r} is not in the Business Central company; create it there or "
            "correct the order line",
            retryable=False,
        )
    code = unit or units.base[sku]
    size = units.size(sku, code)
    if size is None:
        raise ConnectorError(
            system,
            f"item {sku!r} has no unit of measure {code!r} in Business Central (Item Units "
            "of Measure); add it there, or correct purchase_unit or units_api",
            retryable=False,
        )
    in_unit = Decimal(str(quantity)) / size
    if in_unit != in_unit.to_integral_value():
        raise InvalidInput(
            f"order.lines[{sku}].quantity",
            quantity,
            f"is not a whole number of {code} ({size.normalize()} each)",
        )
    return code, float(in_unit)


def base_quantity(
    system: str, units: ItemUnits, order: Mapping[str, Any], line: Mapping[str, Any]
) -> float:
    """A purchase line's quantity in the item's base unit, through its unitOfMeasureCode."""
    sku = text(system, line, "lineObjectNumber")
    quantity = decimal(system, line, "quantity")
    code = text(system, line, "unitOfMeasureCode")
    size = units.size(sku, code)
    if size is None:
        raise bad(
            system,
            f"order {order.get('number')!r}: the line for item {sku!r} is in a unit Business "
            "Central lists no size for (Item Units of Measure; see units_api)",
            line,
            "unitOfMeasureCode",
            code,
        )
    return float(quantity * size)
