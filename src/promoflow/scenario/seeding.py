"""Writes the generated retailer into the database, table by table, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Price, Ranging, Supplier
from promoflow.connectors.sandbox.models import SandboxStock
from promoflow.inventory.models import InventoryPosition, WeeklySales
from promoflow.kit.clock import utcnow
from promoflow.scenario import repository
from promoflow.scenario.bulk import write_frame
from promoflow.scenario.demand import seasonal_index
from promoflow.scenario.estate import (
    DistributionCentre,
    EstateBuilder,
    EstateChunk,
    ItemArrays,
    SellingLocation,
)
from promoflow.scenario.events import HistoricalEvent, plan_category_events
from promoflow.scenario.history import CategoryPairs, HistoryInputs, simulate_category
from promoflow.scenario.master import ECOMMERCE_SIZE, MasterData
from promoflow.scenario.models import ScenarioDemandParams, ScenarioPromotionTruth

Progress = Callable[[str, float], None]
ECOMMERCE_CARRY = 0.8


@dataclass
class SeedCounts:
    """What was written, for the summary."""

    ranged_pairs: int = 0
    positions: int = 0
    sales_rows: int = 0
    promoted_rows: int = 0
    stockout_rows: int = 0
    promotion_events: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Seeder:
    """Writes master data, estate and history for one generation."""

    def __init__(
        self,
        session: Session,
        master: MasterData,
        *,
        seed: int,
        today: date,
        calendar: list[date],
        with_history: bool,
        progress: Progress,
    ) -> None:
        self.session = session
        self.connection = session.connection()
        self.master = master
        self.seed = seed
        self.today = today
        self.calendar = calendar
        self.with_history = with_history
        self.progress = progress
        self.counts = SeedCounts()

    def run(self) -> SeedCounts:
        """Write everything; returns the counts."""
        items = self._master_data()
        self.progress("ranging and inventory", 0.05)
        estate = self._estate(items)
        if self.with_history:
            self._history(items, estate)
        return self.counts

    def _write(self, model: Any, frame: pl.DataFrame) -> int:
        return write_frame(self.connection, model.__table__, frame)

    def _master_data(self) -> ItemArrays:
        master, session = self.master, self.session
        repository.insert_suppliers(session, master.suppliers)
        supplier_ids = repository.id_map(session, Supplier)
        supplier_by_index = [supplier_ids[s["code"]] for s in master.suppliers]
        frame = master.items
        rows = frame.select(
            "sku",
            "name",
            "department",
            "category",
            "subcategory",
            "brand",
            "status",
            "restricted",
            "promo_eligible",
            "case_pack",
        ).to_dicts()
        for row, supplier, cost, price in zip(
            rows,
            frame["supplier_index"],
            frame["unit_cost"],
            frame["regular_price"],
            strict=True,
        ):
            row["supplier_id"] = supplier_by_index[supplier]
            row["unit_cost"] = Decimal(f"{cost:.2f}")
            row["regular_price"] = Decimal(f"{price:.2f}")
            row["attributes"] = {}
        repository.insert_items(session, rows)
        item_ids = repository.id_map(session, Item)
        self._locations()
        repository.insert_category_params(session, [vars(c) for c in master.categories])
        ids = np.array([item_ids[sku] for sku in frame["sku"]], dtype=np.int64)
        self._prices(ids, frame["regular_price"].to_numpy())
        category_elasticity = np.array([c.elasticity for c in master.categories])
        category = frame["category_index"].to_numpy()
        elasticity = category_elasticity[category] + frame["elasticity_offset"].to_numpy()
        return ItemArrays(
            ids=ids,
            skus=frame["sku"].to_numpy().astype(str),
            category=category,
            popularity=frame["popularity"].to_numpy(),
            elasticity=np.round(np.clip(elasticity, -3.2, -1.2), 3),
        )

    def _locations(self) -> None:
        master, session = self.master, self.session
        repository.insert_locations(session, master.dcs)
        dc_ids = repository.id_map(session, Location)
        dc_by_index = [dc_ids[d["code"]] for d in master.dcs]
        stores = master.stores.select(
            "code",
            "name",
            "kind",
            "region",
            "banner",
            "price_zone",
            "capacity_units",
            "attributes",
        ).to_dicts()
        for row, dc in zip(stores, master.stores["dc_index"], strict=True):
            row["serving_dc_id"] = dc_by_index[dc]
        online = {**master.ecommerce, "serving_dc_id": dc_by_index[0]}
        repository.insert_locations(session, [*stores, online])

    def _prices(self, item_ids: np.ndarray, regular: np.ndarray) -> None:
        frame = pl.DataFrame(
            {
                "item_id": np.concatenate([item_ids, item_ids]),
                "channel": ["pos"] * len(item_ids) + ["ecommerce"] * len(item_ids),
                "price_zone": "national",
                "amount": np.concatenate([regular, regular]),
                "kind": "regular",
                "effective_from": self.calendar[0],
            }
        )
        self._write(Price, frame)

    def _estate(self, items: ItemArrays) -> EstateBuilder:
        master = self.master
        location_ids = repository.id_map(self.session, Location)
        monday = np.array([self.today - timedelta(days=self.today.weekday())], "datetime64[D]")
        season_now = np.array([float(seasonal_index(monday, c)[0]) for c in master.categories])
        builder = EstateBuilder(
            seed=self.seed,
            items=items,
            season_now=season_now,
            selling=self.selling_locations(location_ids),
            dcs=[DistributionCentre(location_ids[d["code"]], d["code"]) for d in master.dcs],
            # Stock counted early on `today`, never in the future of a live run.
            as_of=min(datetime.combine(self.today, time(6, 0), tzinfo=UTC), utcnow()),
            keep_pairs=self.with_history,
        )
        end = 0.35 if self.with_history else 0.95
        total = builder.chunk_count()
        for done, chunk in enumerate(builder.chunks(), start=1):
            self._write_chunk(chunk)
            self.progress("ranging and inventory", 0.05 + (end - 0.05) * done / total)
        return builder

    def selling_locations(self, location_ids: dict[str, int]) -> list[SellingLocation]:
        """Stores (bigger ones carry more of the range) followed by the online node."""
        stores = self.master.stores
        size = stores["size_factor"].to_numpy()
        rank = np.argsort(np.argsort(size)) / max(1, len(size) - 1)
        result = [
            SellingLocation(location_ids[code], code, float(s), int(dc), 0.85 + 0.10 * float(r))
            for code, s, dc, r in zip(stores["code"], size, stores["dc_index"], rank, strict=True)
        ]
        online = self.master.ecommerce["code"]
        result.append(
            SellingLocation(location_ids[online], online, ECOMMERCE_SIZE, 0, ECOMMERCE_CARRY)
        )
        return result

    def _write_chunk(self, chunk: EstateChunk) -> None:
        self.counts.ranged_pairs += self._write(Ranging, chunk.ranging)
        self._write(ScenarioDemandParams, chunk.demand_params)
        self.counts.positions += self._write(InventoryPosition, chunk.positions)
        self._write(SandboxStock, chunk.stock)

    def _history(self, items: ItemArrays, estate: EstateBuilder) -> None:
        assert estate.pairs is not None  # kept because with_history is set
        master = self.master
        frame = master.items
        regular = frame["regular_price"].to_numpy()
        eligible = (frame["status"] == "active").to_numpy() & frame["promo_eligible"].to_numpy()
        events = [
            plan_category_events(
                seed=self.seed,
                category_index=index,
                category=profile.category,
                eligible_items=np.flatnonzero(eligible & (items.category == index)),
                regular_price=regular,
                regions=master.regions,
                calendar=self.calendar,
            )
            for index, profile in enumerate(master.categories)
        ]
        event_ids = self._write_events([e for per_category in events for e in per_category])
        location_ids = repository.id_map(self.session, Location)
        selling = self.selling_locations(location_ids)
        regions = dict(zip(master.stores["code"], master.stores["region"], strict=True))
        inputs = HistoryInputs(
            seed=self.seed,
            calendar=self.calendar,
            item_ids=items.ids,
            regular_price=regular,
            location_ids=np.array([s.id for s in selling], dtype=np.int64),
            location_region=np.array([regions.get(s.code, "Online") for s in selling]),
        )
        pair_items, pair_locations = estate.pairs.concatenated()
        base = estate.pairs.base_rates()
        pair_category = items.category[pair_items]
        for index, profile in enumerate(master.categories):
            mine = np.flatnonzero(pair_category == index)
            order = mine[np.lexsort((pair_locations[mine], pair_items[mine]))]
            pairs = CategoryPairs(
                item_index=pair_items[order],
                location_index=pair_locations[order],
                base_rate=base[order],
                elasticity=items.elasticity[pair_items[order]],
            )
            history = simulate_category(inputs, index, profile, pairs, events[index], event_ids)
            self._write_history(history.sales, history.truth)
            share = (index + 1) / len(master.categories)
            self.progress("sales history", 0.35 + 0.63 * share)

    def _write_events(self, events: list[HistoricalEvent]) -> dict[str, int]:
        if events:
            rows = [e.row(self.calendar) for e in events]
            repository.insert_promotion_events(self.session, rows)
        self.counts.promotion_events = len(events)
        return repository.promotion_event_ids(self.session)

    def _write_history(self, sales: pl.DataFrame, truth: pl.DataFrame) -> None:
        self.counts.sales_rows += self._write(WeeklySales, sales)
        self.counts.promoted_rows += int(sales["on_promo"].sum())
        self.counts.stockout_rows += int(sales["stockout"].sum())
        self._write(ScenarioPromotionTruth, truth)
