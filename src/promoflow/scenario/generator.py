"""A realistic, seeded retailer: master data, stock, two years of sales, ground truth.

`generate` is deterministic for a seed and a `today`, and leaves a database that
already has items alone (so the demo can run twice on the same file).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput
from promoflow.scenario import repository
from promoflow.scenario.bulk import bulk_session
from promoflow.scenario.events import history_calendar
from promoflow.scenario.master import build_master
from promoflow.scenario.models import ScenarioRun
from promoflow.scenario.seeding import Seeder

BULK_TABLES = [
    "prices",
    "ranging",
    "inventory_positions",
    "scenario_demand_params",
    "weekly_sales",
    "scenario_promotion_truth",
]
MAX_STORES = 2_000
MAX_SKUS = 50_000


@dataclass(frozen=True)
class ScenarioSize:
    """How big the retailer is; history can be left out for master-data benchmarks."""

    stores: int = 50
    regions: int = 5
    dcs: int = 2
    skus: int = 500
    categories: int = 20
    suppliers: int = 20
    history_weeks: int = 104
    with_history: bool = True

    def __post_init__(self) -> None:
        limits = {
            "stores": (1, MAX_STORES),
            "regions": (1, self.stores),
            "dcs": (1, max(1, self.regions)),
            "skus": (1, MAX_SKUS),
            "categories": (1, self.skus),
            "suppliers": (1, 10_000),
            "history_weeks": (1, 520),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidInput(name, value, f"must be between {low} and {high}")

    @classmethod
    def small(cls) -> ScenarioSize:
        """10 stores, 2 regions, 1 DC, 60 SKUs in 6 categories, 4 suppliers, 104 weeks."""
        return cls(stores=10, regions=2, dcs=1, skus=60, categories=6, suppliers=4)

    @classmethod
    def default(cls) -> ScenarioSize:
        """50 stores in 5 regions, 2 DCs, 500 SKUs in 20 categories, 20 suppliers."""
        return cls()


@dataclass(frozen=True)
class ScenarioSummary:
    """What the database holds after (or without) a generation."""

    stores: int
    dcs: int
    skus: int
    suppliers: int
    sales_rows: int
    positions: int
    history_start: date  # first and last Monday of the history window (empty if sales_rows=0)
    history_end: date
    today: date
    regions: int = 0
    categories: int = 0
    ecommerce_nodes: int = 0
    ranged_pairs: int = 0
    promotion_events: int = 0
    promoted_share: float = 0.0
    stockout_share: float = 0.0
    seed: int | None = None
    seconds: float = 0.0
    created: bool = False

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScenarioSummary:
        """Inverse of `as_json`."""
        values = dict(data)
        for name in ("history_start", "history_end", "today"):
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def generate(
    sessions: sessionmaker[Session],
    size: ScenarioSize,
    seed: int = 42,
    today: date | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> ScenarioSummary:
    """Seed the retailer unless items already exist; returns a summary either way."""
    report = progress or _silent
    with transaction(sessions) as session:
        if repository.has_items(session):
            summary = existing_summary(session)
            report("already seeded", 1.0)
            return summary
    started = time.perf_counter()
    today = today or utcnow().date()
    calendar = history_calendar(today, size.history_weeks)
    report("master data", 0.0)
    master = build_master(
        seed=seed,
        stores=size.stores,
        regions=size.regions,
        dcs=size.dcs,
        skus=size.skus,
        categories=size.categories,
        suppliers=size.suppliers,
    )
    with transaction(sessions) as session:
        with bulk_session(session.connection(), BULK_TABLES):
            seeder = Seeder(
                session,
                master,
                seed=seed,
                today=today,
                calendar=calendar,
                with_history=size.with_history,
                progress=report,
            )
            counts = seeder.run()
        sales = max(1, counts.sales_rows)
        summary = ScenarioSummary(
            stores=size.stores,
            dcs=size.dcs,
            skus=size.skus,
            suppliers=size.suppliers,
            sales_rows=counts.sales_rows,
            positions=counts.positions,
            history_start=calendar[0],
            history_end=calendar[-1],
            today=today,
            regions=size.regions,
            categories=size.categories,
            ecommerce_nodes=1,
            ranged_pairs=counts.ranged_pairs,
            promotion_events=counts.promotion_events,
            promoted_share=round(counts.promoted_rows / sales, 4),
            stockout_share=round(counts.stockout_rows / sales, 4),
            seed=seed,
            seconds=round(time.perf_counter() - started, 2),
            created=True,
        )
        session.add(
            ScenarioRun(
                seed=seed,
                size=asdict(size),
                today=today,
                history_start=summary.history_start,
                history_end=summary.history_end,
                summary=summary.as_json(),
            )
        )
    report("done", 1.0)
    return summary


def existing_summary(session: Session) -> ScenarioSummary:
    """Summary of what the database already holds (from the recorded run, else counted)."""
    run = repository.latest_run(session)
    if run is not None:
        recorded = ScenarioSummary.from_json(run.summary)
        return ScenarioSummary.from_json({**recorded.as_json(), "created": False, "seconds": 0.0})
    counts = repository.count_rows(session)
    today = utcnow().date()
    first, last = repository.sales_history_span(session)
    return ScenarioSummary(
        stores=counts["stores"],
        dcs=counts["dcs"],
        skus=counts["skus"],
        suppliers=counts["suppliers"],
        sales_rows=counts["sales_rows"],
        positions=counts["positions"],
        history_start=first or today,
        history_end=last or today,
        today=today,
        ecommerce_nodes=counts["ecommerce_nodes"],
        promotion_events=counts["promotion_events"],
    )


def _silent(_label: str, _fraction: float) -> None:
    return None
