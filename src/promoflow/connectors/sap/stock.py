"""Reading A_MatlStkInAcctMod (API_MATERIAL_STOCK_SRV) into positions.

SAP keeps one row per material, plant, storage location, batch, special stock and
stock type; a position is their sum per material and our location. A full read
goes plant by plant, ordered by material, so all rows of one position arrive
together: each page yields the positions it completed and carries its last,
possibly unfinished, material into the next, never holding more than one page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from promoflow.connectors.odata import any_of
from promoflow.connectors.ports import PositionRecord
from promoflow.connectors.sap.batch import BatchRequest
from promoflow.connectors.sap.client import ODataService, Query
from promoflow.connectors.sap.mapping import (
    PlantLocations,
    StockTypes,
    collection_page,
    stock_positions,
)
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

ENTITY_SET = "A_MatlStkInAcctMod"
FIELDS = (
    "Material",
    "Plant",
    "StorageLocation",
    "InventoryStockType",
    "MatlWrhsStkQtyInMatlBaseUnit",
)
# A $filter naming 40 materials stays well under SAP Gateway's URL length limit.
MATERIALS_PER_PART = 40
PARTS_PER_BATCH = 20


class StockReader:
    def __init__(self, service: ODataService, plants: PlantLocations, types: StockTypes) -> None:
        self.service = service
        self.system = service.system
        self.plants = plants
        self.types = types

    def _scope_filter(self, plants: Sequence[str]) -> str:
        return f"{any_of('Plant', plants)} and {any_of('InventoryStockType', self.types.all)}"

    def _plants_for(self, location_codes: Sequence[str]) -> list[str]:
        return sorted({self.plants.plant_of(code)[0] for code in location_codes})

    def fetch(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """Positions for skus x locations in one $batch of reads; no stock row means zero."""
        if not skus or not location_codes:
            return []
        scope = self._scope_filter(self._plants_for(location_codes))
        queries = [
            Query(
                ENTITY_SET,
                filter=f"{any_of('Material', skus[i : i + MATERIALS_PER_PART])} and {scope}",
                select=FIELDS,
            )
            for i in range(0, len(skus), MATERIALS_PER_PART)
        ]
        rows: list[dict[str, Any]] = []
        for start in range(0, len(queries), PARTS_PER_BATCH):
            group = queries[start : start + PARTS_PER_BATCH]
            top = max(self.service.page_size, 1000)
            answers = self.service.batch(
                "read stock", [BatchRequest("GET", q.path(top=top, skip=0)) for q in group]
            )
            for query, answer in zip(group, answers, strict=True):
                page = collection_page(self.system, answer.body)
                if page.count is not None and page.count > len(page.rows):
                    # More rows than one part carries: read this scope page by page.
                    rows.extend(
                        row for p in self.service.read_pages("read stock", query) for row in p.rows
                    )
                else:
                    rows.extend(page.rows)
        as_of = utcnow()
        found = stock_positions(self.system, rows, self.plants, self.types, as_of)
        wanted = set(location_codes)
        return [
            found.get((sku, code))
            or PositionRecord(sku, code, 0.0, 0.0, 0.0, 0.0, as_of, self.system)
            for sku in dict.fromkeys(skus)
            for code in dict.fromkeys(location_codes)
            if code in wanted
        ]

    def stream(self, location_codes: Sequence[str] | None) -> Iterator[list[PositionRecord]]:
        """Every position of the mapped plants (or of some locations), one page at a time.

        One read per plant: `Plant eq` with the stock types is a simple filter SAP
        answers from its stock index, and a plant's rows ordered by material keep
        each position's rows together.
        """
        plants = self.plants.plants if location_codes is None else self._plants_for(location_codes)
        if not plants:
            raise InvalidInput("location_codes", location_codes, "names no mapped location")
        wanted = None if location_codes is None else set(location_codes)
        for plant in plants:
            yield from self._stream_plant(plant, wanted)

    def _stream_plant(self, plant: str, wanted: set[str] | None) -> Iterator[list[PositionRecord]]:
        query = Query(
            ENTITY_SET,
            filter=self._scope_filter([plant]),
            select=FIELDS,
            orderby=("Material", "StorageLocation"),
        )
        carried: list[dict[str, Any]] = []
        for page in self.service.read_pages("read stock", query):
            rows = carried + page.rows
            if not rows:
                continue
            # The last material may go on in the next page: hold its rows back.
            last = rows[-1].get("Material")
            cut = len(rows)
            while cut > 0 and rows[cut - 1].get("Material") == last:
                cut -= 1
            complete, carried = rows[:cut], rows[cut:]
            positions = self._positions(complete, wanted)
            if positions:
                yield positions
        if carried:
            positions = self._positions(carried, wanted)
            if positions:
                yield positions

    def _positions(
        self, rows: list[dict[str, Any]], wanted: set[str] | None
    ) -> list[PositionRecord]:
        found = stock_positions(self.system, rows, self.plants, self.types, utcnow())
        return [p for p in found.values() if wanted is None or p.location_code in wanted]
