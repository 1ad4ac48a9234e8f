"""Master data of the seeded retailer: suppliers, items, stores, DCs, the online node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from promoflow.scenario.catalogue import (
    SUPPLIER_SUFFIXES,
    CategoryTemplate,
    category_template,
    region_name,
    supplier_brand,
)
from promoflow.scenario.demand import CategoryDemand

STAGE_SUPPLIERS = 1
STAGE_ITEMS = 2
STAGE_STORES = 3
ONLINE_REGION = "Online"
ECOMMERCE_CODE = "ECOM-01"
# The online node sells nationally, so it behaves like a few average stores.
ECOMMERCE_SIZE = 3.0


def stage_rng(seed: int, *stage: int) -> np.random.Generator:
    """An independent, reproducible random stream for one stage (and chunk) of generation."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stage])))


@dataclass(frozen=True)
class MasterData:
    """Everything about the retailer that does not depend on ranging or history."""

    suppliers: list[dict[str, Any]]
    items: pl.DataFrame
    categories: list[CategoryDemand]
    regions: list[str]
    dcs: list[dict[str, Any]]
    stores: pl.DataFrame
    ecommerce: dict[str, Any]


def build_master(
    *, seed: int, stores: int, regions: int, dcs: int, skus: int, categories: int, suppliers: int
) -> MasterData:
    """Build the retailer's master data deterministically from `seed`."""
    templates = [category_template(index) for index in range(categories)]
    category_suppliers = _category_suppliers(seed, categories, suppliers)
    region_names = [region_name(index) for index in range(regions)]
    return MasterData(
        suppliers=_suppliers(seed, suppliers, templates),
        items=_items(seed, skus, templates, category_suppliers),
        categories=_category_demand(seed, templates),
        regions=region_names,
        dcs=_dcs(dcs, region_names),
        stores=_stores(seed, stores, region_names, dcs, skus),
        ecommerce={
            "code": ECOMMERCE_CODE,
            "name": "Online Store",
            "kind": "ecommerce",
            "region": ONLINE_REGION,
            "banner": "FreshMart Online",
            "price_zone": "national",
            "capacity_units": 0.0,
            "attributes": {"format": "online"},
        },
    )


def _category_suppliers(seed: int, categories: int, suppliers: int) -> list[list[int]]:
    rng = stage_rng(seed, STAGE_SUPPLIERS, 1)
    result = []
    for index in range(categories):
        primary = index % suppliers
        others = [s for s in range(suppliers) if s != primary]
        extra = rng.choice(others, size=min(len(others), int(rng.integers(0, 3))), replace=False)
        result.append([primary, *(int(s) for s in extra)])
    return result


def _suppliers(seed: int, count: int, templates: list[CategoryTemplate]) -> list[dict[str, Any]]:
    rng = stage_rng(seed, STAGE_SUPPLIERS, 0)
    rows = []
    for index in range(count):
        department = templates[index].department if index < len(templates) else "Grocery"
        brand = supplier_brand(index)
        rows.append(
            {
                "code": f"SUP-{index + 1:03d}",
                "name": f"{brand} {SUPPLIER_SUFFIXES.get(department, 'Trading')}",
                "lead_time_days": int(rng.integers(3, 22)),
                "weekly_capacity_units": float(rng.integers(20, 200) * 1000),
                "on_time_rate": round(float(rng.uniform(0.85, 0.99)), 3),
                "fill_rate": round(float(rng.uniform(0.90, 0.995)), 3),
            }
        )
    return rows


def _category_demand(seed: int, templates: list[CategoryTemplate]) -> list[CategoryDemand]:
    rng = stage_rng(seed, STAGE_ITEMS, 0)
    return [
        CategoryDemand(
            category=t.name,
            elasticity=round(float(rng.uniform(*t.elasticity)), 3),
            summer_amplitude=t.summer,
            holiday_amplitude=t.holiday,
            wave_sin=round(float(rng.normal(0, 0.05)), 4),
            wave_cos=round(float(rng.normal(0, 0.05)), 4),
            cannibalisation=round(float(rng.uniform(0.05, 0.2)), 3),
            post_promotion_dip=round(float(rng.uniform(0.08, 0.2)), 3),
        )
        for t in templates
    ]


def _charm_price(raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Shelf prices end in 9: 2.37 -> 2.39, 10.02 -> 10.09.
    return np.asarray(np.round(np.floor(raw * 10) / 10 + 0.09, 2), dtype=np.float64)


def _items(
    seed: int, count: int, templates: list[CategoryTemplate], category_suppliers: list[list[int]]
) -> pl.DataFrame:
    per_category = np.full(len(templates), count // len(templates))
    per_category[: count % len(templates)] += 1
    columns: dict[str, list[Any]] = {
        key: [] for key in ("name", "subcategory", "category_index", "supplier_index", "size_index")
    }
    for index, (template, n) in enumerate(zip(templates, per_category, strict=True)):
        rng = stage_rng(seed, STAGE_ITEMS, 1, index)
        combos = [
            (sub, noun, adj, size_index, size)
            for sub, nouns in template.ranges
            for noun in nouns
            for adj in template.adjectives
            for size_index, size in enumerate(template.sizes)
        ]
        order = rng.permutation(len(combos))
        supplier_choice = rng.choice(category_suppliers[index], size=int(n))
        for k in range(int(n)):
            sub, noun, adj, size_index, size = combos[order[k % len(combos)]]
            supplier = int(supplier_choice[k])
            # Past the distinct combinations, the supplier's brand tells them apart.
            prefix = "" if k < len(combos) else f"{supplier_brand(supplier)} "
            columns["name"].append(f"{prefix}{adj} {noun} {size}")
            columns["subcategory"].append(sub)
            columns["category_index"].append(index)
            columns["supplier_index"].append(supplier)
            columns["size_index"].append(size_index)
    rng = stage_rng(seed, STAGE_ITEMS, 2)
    category_index = np.array(columns["category_index"], dtype=np.int64)
    low = np.array([templates[c].cost[0] for c in category_index])
    high = np.array([templates[c].cost[1] for c in category_index])
    unit_cost = np.round(
        np.exp(rng.uniform(np.log(low), np.log(high)))
        * (1 + 0.4 * np.array(columns["size_index"])),
        2,
    )
    regular_price = _charm_price(unit_cost * rng.uniform(1.3, 1.8, size=count))
    restricted = np.array(
        [
            templates[c].restricted or sub in templates[c].restricted_subcategories
            for c, sub in zip(category_index, columns["subcategory"], strict=True)
        ],
        dtype=bool,
    )
    status = np.full(count, "active", dtype=object)
    few = max(1, round(0.03 * count)) if count >= 20 else 0
    dropped = rng.choice(count, size=2 * few, replace=False) if few else np.array([], dtype=int)
    status[dropped[:few]] = "inactive"
    status[dropped[few:]] = "discontinued"
    volume = np.array([templates[c].volume for c in category_index])
    return pl.DataFrame(
        {
            "sku": [f"SKU-{n + 1:05d}" for n in range(count)],
            "name": columns["name"],
            "department": [templates[c].department for c in category_index],
            "category": [templates[c].name for c in category_index],
            "subcategory": columns["subcategory"],
            "brand": [supplier_brand(s) for s in columns["supplier_index"]],
            "supplier_index": columns["supplier_index"],
            "unit_cost": unit_cost,
            "regular_price": regular_price,
            "status": status.astype(str),
            "restricted": restricted,
            "promo_eligible": ~restricted,
            "case_pack": [templates[c].case_pack for c in category_index],
            "category_index": category_index,
            "popularity": np.round(volume * rng.lognormal(0.0, 0.6, size=count), 4),
            # Items differ a little from their category's sensitivity to price.
            "elasticity_offset": np.round(rng.normal(0.0, 0.15, size=count), 3),
        }
    )


def _dcs(count: int, regions: list[str]) -> list[dict[str, Any]]:
    rows = []
    for index in range(count):
        served = [r for i, r in enumerate(regions) if i % count == index] or [regions[0]]
        rows.append(
            {
                "code": f"DC-{index + 1:02d}",
                "name": f"{served[0]} Distribution Centre",
                "kind": "dc",
                "region": served[0],
                "banner": "",
                "price_zone": "national",
                "capacity_units": 5_000_000.0,
                "attributes": {"serves_regions": served},
            }
        )
    return rows


def _stores(seed: int, count: int, regions: list[str], dcs: int, skus: int) -> pl.DataFrame:
    rng = stage_rng(seed, STAGE_STORES, 0)
    region_index = rng.permutation(np.arange(count) % len(regions))
    size = np.round(rng.lognormal(0.0, 0.35, size=count), 3)
    express = size < np.quantile(size, 0.3)
    banner = np.where(express, "FreshMart Express", "FreshMart")
    codes = [f"ST-{n + 1:03d}" for n in range(count)]
    return pl.DataFrame(
        {
            "code": codes,
            "name": [
                f"{b} {regions[r]} {c[3:]}"
                for b, r, c in zip(banner, region_index, codes, strict=True)
            ],
            "kind": "store",
            "region": [regions[r] for r in region_index],
            "banner": banner,
            "price_zone": "national",
            "capacity_units": np.round(size * skus * 40.0),
            "attributes": [
                {"format": "express" if e else "supermarket", "sales_area_m2": int(1800 * s)}
                for e, s in zip(express, size, strict=True)
            ],
            "size_factor": size,
            "dc_index": region_index % dcs,
        }
    )
