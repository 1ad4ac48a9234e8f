"""What one promotion revision's plans read, gathered in one short read.

The maths lives in `promoflow.planning`; the allocation and replenishment plans run
it without a session (on SQLite any open transaction holds the writer lock), so
everything they need is read here first. Nothing here writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy.orm import Session

from promoflow.allocation import repository as repo
from promoflow.promotions.models import Promotion

KEY = ["item_id", "location_id"]
NO_FORECAST = "no-forecast"


def digest(*parts: pl.DataFrame | str) -> str:
    """sha256 over the frames' rows (sorted, as CSV) and the settings they were judged by."""
    hasher = hashlib.sha256()
    for part in parts:
        if isinstance(part, pl.DataFrame):
            text = part.sort(part.columns).write_csv() if part.height else ",".join(part.columns)
        else:
            text = part
        hasher.update(text.encode())
        hasher.update(b"\x1e")
    return hasher.hexdigest()


def model_version(forecast: pl.DataFrame) -> str:
    versions = sorted(set(forecast["model_version"].to_list()))
    return "+".join(versions)[:64] if versions else NO_FORECAST


@dataclass(frozen=True)
class PlanningInputs:
    """What one promotion revision's plans read, in one short read; planning needs no session.

    demand: forecast lines at the target stores with dc_id and the store's `available`;
    stores: location_id, code, dc_id, capacity_units, stock_units; items: item_id, sku,
    case_pack, supplier_id, unit_cost; dc_stock: item_id, dc_id, shippable (on hand −
    allocated), expected (+ in transit); dc_due: item_id, dc_id, on_order_due;
    suppliers: supplier_id, supplier_code, lead_time_days, weekly_capacity_units.
    """

    start: date
    demand: pl.DataFrame
    stores: pl.DataFrame
    items: pl.DataFrame
    dc_stock: pl.DataFrame
    dc_due: pl.DataFrame
    suppliers: pl.DataFrame
    codes: dict[int, str]

    @property
    def dc_ids(self) -> list[int]:
        return sorted({int(d) for d in self.stores["dc_id"].drop_nulls().to_list()})


def load_inputs(session: Session, promotion: Promotion) -> PlanningInputs:
    """Read everything the allocation and replenishment plans need (a handful of queries)."""
    forecast = repo.forecast_lines(session, promotion.id, promotion.revision)
    stores = repo.scope_stores(session, promotion.id)
    items = repo.scope_items(session, promotion.id)
    item_ids, store_ids = items["item_id"].to_list(), stores["location_id"].to_list()
    dc_ids = sorted({int(d) for d in stores["dc_id"].drop_nulls().to_list()})
    stock = _available(
        repo.positions(session, item_ids, store_ids),
        repo.on_order_due(session, item_ids, store_ids, promotion.start_date),
    )
    demand = (
        forecast.join(stores.select("location_id", "dc_id"), on="location_id", how="inner")
        .join(stock, on=KEY, how="left")
        .with_columns(pl.col("available").fill_null(0.0))
    )
    supplier_ids = items["supplier_id"].drop_nulls().unique().to_list()
    return PlanningInputs(
        start=promotion.start_date,
        demand=demand,
        stores=stores,
        items=items,
        dc_stock=_dc_available(items, dc_ids, repo.positions(session, item_ids, dc_ids)),
        dc_due=repo.on_order_due(session, item_ids, dc_ids, promotion.start_date).rename(
            {"location_id": "dc_id"}
        ),
        suppliers=repo.suppliers(session, supplier_ids),
        codes=repo.location_codes(session, [*store_ids, *dc_ids]),
    )


def _available(position: pl.DataFrame, due: pl.DataFrame) -> pl.DataFrame:
    """Per item x store: what the store has for the window (the launch gate's arithmetic)."""
    return position.join(due, on=KEY, how="full", coalesce=True).select(
        *KEY,
        (
            pl.col("on_hand").fill_null(0.0)
            + pl.col("in_transit").fill_null(0.0)
            + pl.col("on_order_due").fill_null(0.0)
            - pl.col("allocated").fill_null(0.0)
        )
        .clip(0.0)
        .alias("available"),
    )


def _dc_available(items: pl.DataFrame, dc_ids: list[int], position: pl.DataFrame) -> pl.DataFrame:
    """Per item x DC: units the DC can ship (on hand − allocated) and will have (+ in transit)."""
    grid = items.select("item_id").join(
        pl.DataFrame({"dc_id": dc_ids}, schema={"dc_id": pl.Int64}), how="cross"
    )
    dc = position.rename({"location_id": "dc_id"})
    return grid.join(dc, on=["item_id", "dc_id"], how="left").select(
        "item_id",
        "dc_id",
        (pl.col("on_hand").fill_null(0.0) - pl.col("allocated").fill_null(0.0))
        .clip(0.0)
        .alias("shippable"),
        (
            pl.col("on_hand").fill_null(0.0)
            + pl.col("in_transit").fill_null(0.0)
            - pl.col("allocated").fill_null(0.0)
        )
        .clip(0.0)
        .alias("expected"),
    )
