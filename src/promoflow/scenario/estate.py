"""Ranging, baseline demand and inventory positions, built one chunk of stores at a time.

At benchmark sizes (2,000 stores x 50,000 SKUs) the item x location pairs run to
tens of millions, so nothing here holds more than one chunk of them in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from promoflow.scenario.master import stage_rng

STAGE_RANGING = 10
STAGE_DC = 11
BASE_UNITS = 5.0
CHUNK_PAIRS = 250_000
SOURCE = "sandbox-wms"


@dataclass(frozen=True)
class ItemArrays:
    """Per-item attributes the estate needs, aligned by item index."""

    ids: npt.NDArray[np.int64]
    skus: npt.NDArray[np.str_]
    category: npt.NDArray[np.int64]
    popularity: npt.NDArray[np.float64]
    elasticity: npt.NDArray[np.float64]


@dataclass(frozen=True)
class SellingLocation:
    """A store or the online node: where shoppers buy."""

    id: int
    code: str
    size: float
    dc_index: int
    carry_fraction: float


@dataclass(frozen=True)
class EstateChunk:
    """Rows for one chunk of locations, one frame per table."""

    ranging: pl.DataFrame
    demand_params: pl.DataFrame
    positions: pl.DataFrame
    stock: pl.DataFrame


@dataclass
class RangedPairs:
    """Ranged item x selling-location pairs with their base rate (kept for history)."""

    item_index: list[npt.NDArray[np.int64]] = field(default_factory=list)
    location_index: list[npt.NDArray[np.int64]] = field(default_factory=list)
    base_rate: list[npt.NDArray[np.float64]] = field(default_factory=list)

    def concatenated(self) -> tuple[npt.NDArray[np.int64], ...]:
        """(item_index, location_index) arrays over every pair kept."""
        return np.concatenate(self.item_index), np.concatenate(self.location_index)

    def base_rates(self) -> npt.NDArray[np.float64]:
        """Base rate of every pair kept, in the order of `concatenated`."""
        return np.concatenate(self.base_rate)


class EstateBuilder:
    """Ranges items into locations and sizes their stock from baseline demand."""

    def __init__(
        self,
        *,
        seed: int,
        items: ItemArrays,
        season_now: npt.NDArray[np.float64],
        dc_ids: list[int],
        dc_codes: list[str],
        as_of: datetime,
        keep_pairs: bool,
    ) -> None:
        self.seed = seed
        self.items = items
        self.season_now = season_now
        self.dc_ids = dc_ids
        self.dc_codes = dc_codes
        self.as_of = as_of
        self.pairs = RangedPairs() if keep_pairs else None
        # Weekly baseline demand each DC serves, per item: sizes DC stock.
        self.dc_weekly = np.zeros((len(dc_ids), len(items.ids)))

    def selling_chunks(self, locations: list[SellingLocation]) -> Iterator[EstateChunk]:
        """Chunks of ranging, demand parameters and positions for stores and the online node."""
        per_chunk = max(1, CHUNK_PAIRS // max(1, len(self.items.ids)))
        for start in range(0, len(locations), per_chunk):
            parts = [
                self._location(start + offset, location)
                for offset, location in enumerate(locations[start : start + per_chunk])
            ]
            yield EstateChunk(
                ranging=pl.concat([p.ranging for p in parts]),
                demand_params=pl.concat([p.demand_params for p in parts]),
                positions=pl.concat([p.positions for p in parts]),
                stock=pl.concat([p.stock for p in parts]),
            )

    def _location(self, index: int, location: SellingLocation) -> EstateChunk:
        rng = stage_rng(self.seed, STAGE_RANGING, index)
        items = self.items
        ranged = np.flatnonzero(rng.random(len(items.ids)) < location.carry_fraction)
        base = np.round(
            BASE_UNITS
            * items.popularity[ranged]
            * location.size
            * rng.lognormal(0.0, 0.3, size=len(ranged)),
            3,
        )
        weekly_now = base * self.season_now[items.category[ranged]]
        self.dc_weekly[location.dc_index, ranged] += weekly_now
        if self.pairs is not None:
            self.pairs.item_index.append(ranged)
            self.pairs.location_index.append(np.full(len(ranged), index))
            self.pairs.base_rate.append(base)
        cover = rng.uniform(2.0, 6.0, size=len(ranged))
        on_order = np.where(rng.random(len(ranged)) < 0.3, rng.uniform(1, 2, len(ranged)), 0)
        in_transit = np.where(rng.random(len(ranged)) < 0.2, rng.uniform(0.5, 1.5, len(ranged)), 0)
        return self._frames(
            ranged,
            location.id,
            location.code,
            base=base,
            on_hand=np.maximum(2.0, np.round(cover * weekly_now)),
            on_order=np.round(on_order * weekly_now),
            in_transit=np.round(in_transit * weekly_now),
            allocated=np.zeros(len(ranged)),
        )

    def dc_chunks(self) -> Iterator[EstateChunk]:
        """Ranging and positions at the DCs (every item; stock covers the stores they serve)."""
        n = len(self.items.ids)
        every_item = np.arange(n)
        for index, (dc_id, dc_code) in enumerate(zip(self.dc_ids, self.dc_codes, strict=True)):
            rng = stage_rng(self.seed, STAGE_DC, index)
            weekly = self.dc_weekly[index]
            chunk = self._frames(
                every_item,
                dc_id,
                dc_code,
                base=None,
                on_hand=np.round(rng.uniform(4.0, 8.0, n) * weekly),
                on_order=np.round(np.where(rng.random(n) < 0.5, rng.uniform(2, 4, n), 0) * weekly),
                in_transit=np.round(
                    np.where(rng.random(n) < 0.4, rng.uniform(1, 2, n), 0) * weekly
                ),
                allocated=np.round(rng.uniform(0.0, 0.5, n) * weekly),
            )
            yield chunk

    def _frames(
        self,
        ranged: npt.NDArray[np.int64],
        location_id: int,
        location_code: str,
        *,
        base: npt.NDArray[np.float64] | None,
        on_hand: npt.NDArray[np.float64],
        on_order: npt.NDArray[np.float64],
        in_transit: npt.NDArray[np.float64],
        allocated: npt.NDArray[np.float64],
    ) -> EstateChunk:
        item_ids = self.items.ids[ranged]
        location_ids = np.full(len(ranged), location_id, dtype=np.int64)
        as_of = pl.lit(self.as_of, dtype=pl.Datetime("us", "UTC"))
        quantities = {
            "on_hand": on_hand,
            "on_order": on_order,
            "in_transit": in_transit,
            "allocated": allocated,
        }
        ranging = pl.DataFrame({"item_id": item_ids, "location_id": location_ids})
        params = (
            pl.DataFrame(
                {
                    "item_id": item_ids,
                    "location_id": location_ids,
                    "base_rate": base,
                    "elasticity": self.items.elasticity[ranged],
                }
            )
            if base is not None
            else pl.DataFrame()
        )
        positions = pl.DataFrame({**ranging.to_dict(), **quantities}).with_columns(
            as_of.alias("as_of"), pl.lit(SOURCE).alias("source")
        )
        stock = pl.DataFrame(
            {"sku": self.items.skus[ranged], "location_code": location_code, **quantities}
        ).with_columns(as_of.alias("updated_at"))
        return EstateChunk(ranging=ranging, demand_params=params, positions=positions, stock=stock)
