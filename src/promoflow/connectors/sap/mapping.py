"""SAP S/4HANA OData V2 payloads <-> promoflow's canonical records.

Every function here is pure. Anything that cannot be mapped raises MalformedPayload
naming the field and value and carrying the raw payload, so a page is either mapped
whole or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from promoflow.connectors.ports import (
    ItemRecord,
    MalformedPayload,
    PositionRecord,
    PurchaseOrderAck,
    PurchaseOrderRequest,
)
from promoflow.connectors.sap.status import StatusRule
from promoflow.kit.errors import InvalidInput

SAP_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
ORDER_UNIT = "PC"


@dataclass(frozen=True)
class Page:
    """One answer of a collection read: its rows, `__count` if asked, `__next` if given."""

    rows: list[dict[str, Any]]
    count: int | None
    next_url: str | None


def collection_page(system: str, body: Any) -> Page:
    """The rows of an OData V2 JSON collection answer (`{"d": {"results": [...]}}`)."""
    d = body.get("d") if isinstance(body, dict) else None
    rows = d.get("results") if isinstance(d, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise MalformedPayload(
            system, "the answer is not an OData V2 collection", payload=body, field="d.results"
        )
    assert isinstance(d, dict)
    raw_count = d.get("__count")
    count: int | None = None
    if raw_count is not None:
        try:
            count = int(raw_count)
        except (TypeError, ValueError):
            raise MalformedPayload(
                system, "__count is not a number", payload=body, field="d.__count", value=raw_count
            ) from None
    next_url = d.get("__next")
    return Page(rows, count, str(next_url) if next_url else None)


def _missing(system: str, row: Mapping[str, Any], name: str) -> MalformedPayload:
    return MalformedPayload(
        system, f"{name} is missing or empty", payload=dict(row), field=name, value=row.get(name)
    )


def text_field(system: str, row: Mapping[str, Any], name: str) -> str:
    """A required, non-empty string field."""
    value = row.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _missing(system, row, name)
    return value.strip()


def decimal_field(system: str, row: Mapping[str, Any], name: str) -> Decimal:
    """An Edm.Decimal (V2 JSON sends decimals as strings, some servers as numbers)."""
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _missing(system, row, name)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise MalformedPayload(
            system, f"{name} is not a number", payload=dict(row), field=name, value=value
        ) from None
    if not number.is_finite():
        raise MalformedPayload(
            system, f"{name} is not a finite number", payload=dict(row), field=name, value=value
        )
    return number


def parse_sap_datetime(system: str, row: Mapping[str, Any], name: str) -> datetime | None:
    """An Edm.DateTime / DateTimeOffset in V2 JSON form `/Date(ms[+hhmm])/` (None if null)."""
    value = row.get(name)
    if value is None or value == "":
        return None
    match = SAP_DATE.match(str(value))
    if match is None:
        raise MalformedPayload(
            system, f"{name} is not an OData V2 date", payload=dict(row), field=name, value=value
        )
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
    return moment


def sap_date(day: date) -> str:
    """A date as V2 JSON sends an Edm.DateTime: midnight UTC in milliseconds."""
    epoch = datetime.combine(day, time(0), tzinfo=UTC).timestamp()
    return f"/Date({int(epoch * 1000)})/"


class PlantLocations:
    """Which of our location codes an SAP plant (or plant/storage location) stands for.

    Configured as `1010=DC01, 1020=ST002, 1030/0002=ST003`: a storage-location entry
    wins over its plant's entry. Plants not listed are not ours and are not read.
    """

    def __init__(self, setting: str) -> None:
        self.by_plant: dict[str, str] = {}
        self.by_storage: dict[tuple[str, str], str] = {}
        for entry in (e.strip() for e in setting.split(",")):
            if not entry:
                continue
            source, sep, code = (part.strip() for part in entry.partition("="))
            plant, _, storage = (part.strip() for part in source.partition("/"))
            if not sep or not code or not plant:
                raise InvalidInput(
                    "config.plant_locations",
                    entry,
                    "each entry is PLANT=LOCATION or PLANT/SLOC=LOC",
                )
            if storage:
                self.by_storage[(plant, storage)] = code
            else:
                self.by_plant[plant] = code
        if not self.by_plant and not self.by_storage:
            raise InvalidInput("config.plant_locations", setting, "maps no plant to a location")

    @property
    def plants(self) -> list[str]:
        return sorted(set(self.by_plant) | {plant for plant, _ in self.by_storage})

    def location(self, plant: str, storage_location: str) -> str | None:
        return self.by_storage.get((plant, storage_location)) or self.by_plant.get(plant)

    def plant_of(self, location_code: str) -> tuple[str, str]:
        """(plant, storage location or "") that receives goods for one of our locations."""
        for plant, code in self.by_plant.items():
            if code == location_code:
                return plant, ""
        for (plant, storage), code in self.by_storage.items():
            if code == location_code:
                return plant, storage
        raise InvalidInput(
            "location_code", location_code, "no SAP plant is mapped to it in plant_locations"
        )


@dataclass(frozen=True)
class StockTypes:
    """Which SAP stock types (InventoryStockType) count as on hand and as in transit."""

    on_hand: frozenset[str]
    in_transit: frozenset[str]

    @property
    def all(self) -> list[str]:
        return sorted(self.on_hand | self.in_transit)


def stock_positions(
    system: str,
    rows: Sequence[Mapping[str, Any]],
    plants: PlantLocations,
    types: StockTypes,
    as_of: datetime,
) -> dict[tuple[str, str], PositionRecord]:
    """A_MatlStkInAcctMod rows summed per (material, location); rows of other plants skipped."""
    on_hand: dict[tuple[str, str], Decimal] = {}
    in_transit: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        sku = text_field(system, row, "Material")
        plant = text_field(system, row, "Plant")
        stock_type = row.get("InventoryStockType")
        quantity = decimal_field(system, row, "MatlWrhsStkQtyInMatlBaseUnit")
        code = plants.location(plant, str(row.get("StorageLocation") or ""))
        if code is None:
            continue
        key = (sku, code)
        on_hand.setdefault(key, Decimal(0))
        in_transit.setdefault(key, Decimal(0))
        if stock_type in types.on_hand:
            on_hand[key] += quantity
        elif stock_type in types.in_transit:
            in_transit[key] += quantity
    return {
        key: PositionRecord(
            sku=key[0],
            location_code=key[1],
            on_hand=float(on_hand[key]),
            on_order=0.0,
            in_transit=float(in_transit[key]),
            allocated=0.0,
            as_of=as_of,
            source=system,
        )
        for key in on_hand
    }


def _results(system: str, row: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """An expanded navigation property's rows (`{"results": [...]}`), [] when not expanded."""
    value = row.get(name)
    if value is None:
        return []
    rows = value.get("results") if isinstance(value, dict) else value
    if not isinstance(rows, list):
        raise MalformedPayload(
            system, f"{name} is not an expanded collection", payload=dict(row), field=name
        )
    return rows


def _unit_cost(system: str, product: Mapping[str, Any], valuation_area: str) -> Decimal | None:
    rows = [
        r
        for r in _results(system, product, "to_Valuation")
        if not r.get("ValuationType")
        and (not valuation_area or r.get("ValuationArea") == valuation_area)
    ]
    if not rows:
        return None
    row = rows[0]
    # Price control "S" values stock at the standard price, "V" at the moving average.
    name = "MovingAveragePrice" if row.get("PriceDeterminationControl") == "V" else "StandardPrice"
    price = decimal_field(system, row, name)
    per = decimal_field(system, row, "PriceUnitQty") if row.get("PriceUnitQty") else Decimal(1)
    if per <= 0:
        raise MalformedPayload(
            system,
            "PriceUnitQty must be positive",
            payload=dict(row),
            field="PriceUnitQty",
            value=row.get("PriceUnitQty"),
        )
    return (price / per).quantize(Decimal("0.0001"))


def item_record(
    system: str,
    product: Mapping[str, Any],
    language: str,
    valuation_area: str,
    *,
    rule: StatusRule,
) -> ItemRecord:
    """One A_Product with its expanded to_Description and to_Valuation as an ItemRecord.

    Its status follows `rule`: a blocking cross-plant status from its validity date.
    """
    sku = text_field(system, product, "Product")
    descriptions = {
        str(r.get("Language", "")).upper(): str(r.get("ProductDescription") or "").strip()
        for r in _results(system, product, "to_Description")
    }
    name = descriptions.get(language.upper()) or next((d for d in descriptions.values() if d), "")
    if not name:
        raise MalformedPayload(
            system,
            f"product {sku} has no description (to_Description) to name it by",
            payload=dict(product),
            field="to_Description",
            value=descriptions or None,
        )
    valid_from = parse_sap_datetime(system, product, "CrossPlantStatusValidityDate")
    status = rule.status(product, valid_from.date() if valid_from else None)
    gtin = str(product.get("ProductStandardID") or "").strip() or None
    return ItemRecord(
        sku=sku,
        name=name,
        status=status,
        department=str(product.get("Division") or ""),
        category=str(product.get("ProductGroup") or ""),
        subcategory=str(product.get("ProductHierarchy") or ""),
        brand=str(product.get("Brand") or ""),
        unit_cost=_unit_cost(system, product, valuation_area),
        gtin=gtin,
        source=system,
    )


@dataclass(frozen=True)
class PurchasingSettings:
    company_code: str
    purchasing_organization: str
    purchasing_group: str
    order_type: str


def purchase_order_payload(
    order: PurchaseOrderRequest,
    reference: str,
    plant: str,
    storage: str,
    settings: PurchasingSettings,
) -> dict[str, Any]:
    """A_PurchaseOrder with its items and schedule lines for one deep insert."""
    if not order.lines:
        raise InvalidInput("order.lines", [], "a purchase order needs at least one line")
    items = []
    for index, (sku, quantity) in enumerate(order.lines, start=1):
        if quantity <= 0:
            raise InvalidInput(f"order.lines[{index - 1}].quantity", quantity, "must be positive")
        item: dict[str, Any] = {
            "PurchaseOrderItem": str(index * 10),
            "Material": sku,
            "Plant": plant,
            "OrderQuantity": str(quantity),
            "PurchaseOrderQuantityUnit": ORDER_UNIT,
            "to_ScheduleLine": {
                "results": [
                    {
                        "ScheduleLine": "1",
                        "ScheduleLineDeliveryDate": sap_date(order.due),
                        "ScheduleLineOrderQuantity": str(quantity),
                    }
                ]
            },
        }
        if storage:
            item["StorageLocation"] = storage
        items.append(item)
    return {
        "CompanyCode": settings.company_code,
        "PurchaseOrderType": settings.order_type,
        "PurchasingOrganization": settings.purchasing_organization,
        "PurchasingGroup": settings.purchasing_group,
        "Supplier": order.supplier_code,
        "CorrespncInternalReference": order.number,
        "CorrespncExternalReference": reference,
        "to_PurchaseOrderItem": {"results": items},
    }


def acknowledgement(system: str, order: Mapping[str, Any]) -> PurchaseOrderAck | None:
    """What the supplier confirmed for one A_PurchaseOrder (items and schedule lines expanded).

    API_PURCHASEORDER_PROCESS_SRV carries no supplier confirmation document; the
    schedule lines' committed quantity is what it shows. None: nothing confirmed yet.
    """
    number = text_field(system, order, "CorrespncInternalReference")
    items = _results(system, order, "to_PurchaseOrderItem")
    if order.get("PurchasingDocumentDeletionCode") or (
        items and all(i.get("PurchasingDocumentDeletionCode") for i in items)
    ):
        return PurchaseOrderAck(number=number, status="rejected")
    confirmed: list[tuple[str, float]] = []
    complete = bool(items)
    for item in items:
        ordered = decimal_field(system, item, "OrderQuantity")
        committed = sum(
            (
                decimal_field(system, line, "ScheduleLineCommittedQuantity")
                for line in _results(system, item, "to_ScheduleLine")
                if line.get("ScheduleLineCommittedQuantity") not in (None, "")
            ),
            Decimal(0),
        )
        if committed > 0:
            confirmed.append((text_field(system, item, "Material"), float(committed)))
        complete = complete and committed >= ordered
    if not confirmed:
        return None
    return PurchaseOrderAck(
        number=number,
        status="acknowledged" if complete else "partial",
        confirmed=tuple(confirmed),
        acknowledged_at=parse_sap_datetime(system, order, "LastChangeDateTime"),
    )
