"""Ground truth the scenario generator keeps so later issues can measure themselves.

The forecaster is scored against `scenario_promotion_truth` (the lift the demand
model really applied), and the sandbox sales feed simulates live sales from
`scenario_demand_params` and `scenario_category_params`. These tables belong to
the demo (`DemoBase`, created by the demo migration branch), not the production
schema; their foreign keys name the catalogue's columns directly because those
live on the production metadata.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.catalog.models import Item, Location
from promoflow.connectors.sandbox.models import DemoBase
from promoflow.kit.types import JsonDict, Timestamp


class ScenarioRun(DemoBase):
    """The one generation that seeded this database: seed, size, calendar, counts."""

    __tablename__ = "scenario_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int]
    size: Mapped[JsonDict]
    today: Mapped[date] = mapped_column(sa.Date)
    history_start: Mapped[date] = mapped_column(sa.Date)
    history_end: Mapped[date] = mapped_column(sa.Date)
    summary: Mapped[JsonDict]
    created_at: Mapped[Timestamp]


class ScenarioCategoryParams(DemoBase):
    """Demand behaviour shared by a category: seasonality, elasticity, halo effects."""

    __tablename__ = "scenario_category_params"

    category: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    elasticity: Mapped[float]
    summer_amplitude: Mapped[float]
    holiday_amplitude: Mapped[float]
    wave_sin: Mapped[float]
    wave_cos: Mapped[float]
    cannibalisation: Mapped[float]
    post_promotion_dip: Mapped[float]


class ScenarioDemandParams(DemoBase):
    """Baseline weekly demand of one item at one selling location (before seasonality)."""

    __tablename__ = "scenario_demand_params"

    item_id: Mapped[int] = mapped_column(sa.ForeignKey(Item.id), primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey(Location.id), primary_key=True)
    base_rate: Mapped[float]
    elasticity: Mapped[float]


class ScenarioPromotionEvent(DemoBase):
    """A historical promotion event: one category, a set of items, a region or all stores."""

    __tablename__ = "scenario_promotion_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(80))
    region: Mapped[str | None] = mapped_column(sa.String(64))
    mechanic: Mapped[str] = mapped_column(sa.String(16))
    nominal_depth: Mapped[float]
    display: Mapped[bool]
    feature: Mapped[bool]
    start_week: Mapped[date] = mapped_column(sa.Date)
    end_week: Mapped[date] = mapped_column(sa.Date)
    item_count: Mapped[int]
    terms: Mapped[JsonDict]


class ScenarioPromotionTruth(DemoBase):
    """What the demand model really did in one promoted item x location x week."""

    __tablename__ = "scenario_promotion_truth"

    item_id: Mapped[int] = mapped_column(sa.ForeignKey(Item.id), primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey(Location.id), primary_key=True)
    week: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("scenario_promotion_events.id"), index=True)
    mechanic: Mapped[str] = mapped_column(sa.String(16))
    depth: Mapped[float]
    display: Mapped[bool]
    feature: Mapped[bool]
    true_baseline_units: Mapped[float]
    true_demand_units: Mapped[float]
    true_lift: Mapped[float]
    # The noisy demand drawn for the week; units sold may be lower when stock ran out.
    realised_demand_units: Mapped[float]
    censored: Mapped[bool]
    # The same shoppers' demand without the promotion (coupled draws) and what of it the
    # shelf would have served; units sold minus the latter is the true incremental.
    # Empty on databases seeded before the generator kept them.
    counterfactual_demand_units: Mapped[float | None]
    counterfactual_sold_units: Mapped[float | None]
