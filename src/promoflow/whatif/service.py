"""What-if for planners: a draft promotion forecast under other terms, from the champion.

Each variant is the draft with another depth, mechanic, display or feature; the
forecaster is the one the lifecycle would use (`champion_forecaster`: the registry's
champion with its trained artefact, else the history-baseline forecaster), reading
the same history the lifecycle's forecast step reads. Nothing is written: the draft,
its stored forecast and the event log stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl
from sqlalchemy.orm import Session

from promoflow.forecasting import registry
from promoflow.forecasting import service as forecast_service
from promoflow.forecasting.base import DemandForecaster
from promoflow.forecasting.champion import champion_forecaster
from promoflow.kit.errors import Conflict
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState
from promoflow.whatif import repository
from promoflow.whatif.figures import line_figures, variant_outcome
from promoflow.whatif.grid import Variant, VariantGrid, variant_warnings, variants
from promoflow.whatif.schemas import AnsweringModel, VariantOutcome, WhatIfAnswer

__all__ = ["VariantGrid", "WhatIfAnswer", "draft_what_if", "what_if"]


@dataclass(frozen=True)
class DraftFacts:
    """Everything a what-if reads from the database, read once for every variant."""

    promotion: Promotion
    inputs: forecast_service.ForecastInputs
    terms: pl.DataFrame
    stock: pl.DataFrame
    forecaster: DemandForecaster
    answered_by: AnsweringModel


def what_if(session: Session, ref: str, grid: VariantGrid, *, currency: str) -> WhatIfAnswer:
    """Forecast the draft `ref` under every variant of `grid` (see the module docstring)."""
    promotion = promotions_service.find_promotion(session, ref)
    return draft_what_if(session, promotion, grid, currency=currency)


def draft_what_if(
    session: Session, promotion: Promotion, grid: VariantGrid, *, currency: str
) -> WhatIfAnswer:
    """`what_if` for a promotion already read; Conflict unless it is a draft."""
    if promotion.status != PromotionState.DRAFT:
        raise Conflict(
            f"status={promotion.status!r}: promotion {promotion.code} is not a draft; what-if "
            "explores a draft's terms before submission (revise it to get a new draft)",
            field="status",
            value=promotion.status,
        )
    facts = _read_facts(session, promotion)
    scenario = facts.inputs.scenario
    current = Variant(
        round(scenario.discount_depth * 100.0, 2), scenario.mechanic, scenario.display,
        scenario.feature,
    )  # fmt: skip
    chosen = variants(grid, current=current, items=len(scenario.item_ids))
    weeks = ((promotion.end_date - promotion.start_date).days + 1) / 7.0
    funding = float(promotion.vendor_funding_per_unit or 0)
    outcomes = [_outcome(facts, variant, current, weeks, funding, currency) for variant in chosen]
    return WhatIfAnswer(
        promotion=promotion.code,
        promotion_id=promotion.id,
        currency=currency,
        window=f"{promotion.start_date} to {promotion.end_date}",
        items=len(scenario.item_ids),
        stores=len(scenario.location_ids),
        answered_by=facts.answered_by,
        variants=outcomes,
    )


def _read_facts(session: Session, promotion: Promotion) -> DraftFacts:
    forecaster = champion_forecaster(session)
    inputs = forecast_service.forecast_inputs(session, promotion, forecaster)
    scenario = inputs.scenario
    return DraftFacts(
        promotion=promotion,
        inputs=inputs,
        terms=repository.item_terms(session, promotion.id),
        stock=repository.stock_by_start(
            session, scenario.item_ids, scenario.location_ids, promotion.start_date
        ),
        forecaster=forecaster,
        answered_by=_answering_model(session, forecaster),
    )


def _answering_model(session: Session, forecaster: DemandForecaster) -> AnsweringModel:
    """Say which model answers: the champion, or the baseline and why."""
    entry = registry.champion(session)
    if entry is not None and entry.version == forecaster.model_version:
        return AnsweringModel(model_version=forecaster.model_version, source="champion")
    note = (
        "no champion demand model is registered"
        if entry is None
        else f"champion {entry.version} has no trained artefact"
    )
    return AnsweringModel(
        model_version=forecaster.model_version,
        source="history_baseline",
        note=f"{note}; the history-baseline forecaster answered, as the lifecycle would",
    )


def _outcome(
    facts: DraftFacts,
    variant: Variant,
    current: Variant,
    weeks: float,
    funding: float,
    currency: str,
) -> VariantOutcome:
    scenario = replace(
        facts.inputs.scenario,
        mechanic=variant.mechanic,
        discount_depth=variant.depth,
        display=variant.display,
        feature=variant.feature,
    )
    inputs = forecast_service.ForecastInputs(scenario, facts.inputs.history)
    forecast = forecast_service.run_forecast(facts.forecaster, inputs)
    lines = line_figures(
        forecast, facts.terms, facts.stock, variant=variant, weeks=weeks, vendor_funding=funding
    )
    below_cost = facts.terms.filter(
        pl.col("regular_price") * (1.0 - variant.depth) < pl.col("unit_cost")
    )["sku"].to_list()
    return variant_outcome(
        lines,
        variant,
        is_draft=variant == current,
        warnings=variant_warnings(variant, below_cost),
        currency=currency,
    )
