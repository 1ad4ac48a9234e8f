"""Ranging, baseline demand and inventory positions, built one chunk of items at a time.

At benchmark sizes (2,000 stores x 50,000 SKUs) the item x location pairs run to
tens of millions, so nothing here holds more than one chunk of them in memory.
Chunks are items x every location, emitted in (item, location) order: the
tables' primary keys then grow at the end, which keeps inserts fast when the
indexes no longer fit in memory.
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
BASE_UNITS = 5.0
CHUNK_PAIRS = 250_000
SOURCE = "sandbox-wms"

FloatMatrix = npt.NDArray[np.float64]


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
class DistributionCentre:
    """A DC: ranges every item and holds stock for the locations it serves."""

    id: int
    code: str


@dataclass(frozen=True)
class EstateChunk:
    """Rows for one chunk of items, one frame per table."""

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

    def concatenated(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(item_index, location_index) arrays over every pair kept."""
        return np.concatenate(self.item_index), np.concatenate(self.location_index)

    def base_rates(self) -> npt.NDArray[np.float64]:
        """Base rate of every pair kept, in the order of `concatenated`."""
        return np.concatenate(self.base_rate)


@dataclass(frozen=True)
class Quantities:
    """Stock figures for a chunk: items x locations matrices."""

    on_hand: FloatMatrix
    on_order: FloatMatrix
    in_transit: FloatMatrix
    allocated: FloatMatrix


class EstateBuilder:
    """Ranges items into locations and sizes their stock from baseline demand."""

    def __init__(
        self,
        *,
        seed: int,
        items: ItemArrays,
        season_now: npt.NDArray[np.float64],
        selling: list[SellingLocation],
        dcs: list[DistributionCentre],
        as_of: datetime,
        keep_pairs: bool,
    ) -> None:
        self.seed = seed
        self.items = items
        self.season_now = season_now
        self.selling = selling
        self.dcs = dcs
        self.as_of = as_of
        self.pairs = RangedPairs() if keep_pairs else None
        self.carry = np.array([s.carry_fraction for s in selling])
        self.size = np.array([s.size for s in selling])
        # Which DC serves each selling location, as a 0/1 matrix for summing demand.
        self.served_by = np.zeros((len(selling), len(dcs)))
        self.served_by[np.arange(len(selling)), [s.dc_index for s in selling]] = 1.0
        ids = np.array([s.id for s in selling] + [d.id for d in dcs], dtype=np.int64)
        codes = np.array([s.code for s in selling] + [d.code for d in dcs])
        self.column_order = np.argsort(ids, kind="stable")
        self.location_ids = ids[self.column_order]
        self.location_codes = codes[self.column_order]

    def chunks(self) -> Iterator[EstateChunk]:
        """Every table's rows, a chunk of items (at every location) at a time."""
        n_items = len(self.items.ids)
        locations = len(self.selling) + len(self.dcs)
        per_chunk = max(1, CHUNK_PAIRS // locations)
        for chunk_index, start in enumerate(range(0, n_items, per_chunk)):
            yield self._chunk(chunk_index, np.arange(start, min(n_items, start + per_chunk)))

    def chunk_count(self) -> int:
        """How many chunks `chunks` yields (for progress)."""
        per_chunk = max(1, CHUNK_PAIRS // (len(self.selling) + len(self.dcs)))
        return -(-len(self.items.ids) // per_chunk)

    def _chunk(self, chunk_index: int, idx: npt.NDArray[np.int64]) -> EstateChunk:
        rng = stage_rng(self.seed, STAGE_RANGING, chunk_index)
        items, shape = self.items, (len(idx), len(self.selling))
        ranged = rng.random(shape) < self.carry[None, :]
        noise = rng.lognormal(0.0, 0.3, size=shape)
        base = np.round(BASE_UNITS * items.popularity[idx, None] * self.size[None, :] * noise, 3)
        weekly = np.where(ranged, base * self.season_now[items.category[idx]][:, None], 0.0)
        store = Quantities(
            on_hand=np.maximum(2.0, np.round(rng.uniform(2.0, 6.0, shape) * weekly)),
            on_order=np.round(_sometimes(rng, 0.3, 1.0, 2.0, shape) * weekly),
            in_transit=np.round(_sometimes(rng, 0.2, 0.5, 1.5, shape) * weekly),
            allocated=np.zeros(shape),
        )
        dc_weekly = weekly @ self.served_by
        dc_shape = dc_weekly.shape
        dc = Quantities(
            on_hand=np.round(rng.uniform(4.0, 8.0, dc_shape) * dc_weekly),
            on_order=np.round(_sometimes(rng, 0.5, 2.0, 4.0, dc_shape) * dc_weekly),
            in_transit=np.round(_sometimes(rng, 0.4, 1.0, 2.0, dc_shape) * dc_weekly),
            allocated=np.round(rng.uniform(0.0, 0.5, dc_shape) * dc_weekly),
        )
        if self.pairs is not None:
            rows, cols = np.nonzero(ranged)
            self.pairs.item_index.append(idx[rows])
            self.pairs.location_index.append(cols)
            self.pairs.base_rate.append(base[rows, cols])
        return self._frames(idx, ranged, base, store, dc)

    def _frames(
        self,
        idx: npt.NDArray[np.int64],
        ranged: npt.NDArray[np.bool_],
        base: FloatMatrix,
        store: Quantities,
        dc: Quantities,
    ) -> EstateChunk:
        order = self.column_order

        def joined(selling: FloatMatrix, dcs: FloatMatrix) -> FloatMatrix:
            return np.hstack([selling, dcs])[:, order]

        carried = joined(ranged.astype(float), np.ones((len(idx), len(self.dcs)))) > 0
        rows, cols = np.nonzero(carried)  # row-major: by item, then by location id
        selling = joined(np.ones(ranged.shape), np.zeros((len(idx), len(self.dcs))))[rows, cols]
        item_ids = self.items.ids[idx[rows]]
        location_ids = self.location_ids[cols]
        quantities = {
            name: joined(getattr(store, name), getattr(dc, name))[rows, cols]
            for name in ("on_hand", "on_order", "in_transit", "allocated")
        }
        as_of = pl.lit(self.as_of, dtype=pl.Datetime("us", "UTC"))
        ranging = pl.DataFrame({"item_id": item_ids, "location_id": location_ids})
        is_selling = selling > 0
        params = pl.DataFrame(
            {
                "item_id": item_ids[is_selling],
                "location_id": location_ids[is_selling],
                "base_rate": joined(base, np.zeros((len(idx), len(self.dcs))))[rows, cols][
                    is_selling
                ],
                "elasticity": self.items.elasticity[idx[rows]][is_selling],
            }
        )
        positions = pl.DataFrame(
            {"item_id": item_ids, "location_id": location_ids, **quantities}
        ).with_columns(as_of.alias("as_of"), pl.lit(SOURCE).alias("source"))
        stock = pl.DataFrame(
            {
                "sku": self.items.skus[idx[rows]],
                "location_code": self.location_codes[cols],
                **quantities,
            }
        ).with_columns(as_of.alias("updated_at"))
        return EstateChunk(ranging=ranging, demand_params=params, positions=positions, stock=stock)


def _sometimes(
    rng: np.random.Generator, share: float, low: float, high: float, shape: tuple[int, ...]
) -> FloatMatrix:
    """Weeks of demand on an open order (or in transit) for about `share` of positions."""
    return np.where(rng.random(shape) < share, rng.uniform(low, high, shape), 0.0)
