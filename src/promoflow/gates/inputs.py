"""Everything the launch gates judge, loaded set-based into Polars frames."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy.orm import Session

from promoflow.gates import repository
from promoflow.kit.clock import utcnow
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion

KEY = ["item_id", "location_id"]


@dataclass(frozen=True)
class GateInputs:
    """One promotion revision's facts at one moment; `evaluate` needs nothing else.

    Frames and their columns:
    - items: item_id, sku, category, promo_price, unit_cost
    - locations: location_id, code, region (the target locations)
    - coverage: item_id, location_id, upper_quantile_units (the policy quantile),
      promoted_units, p10, p90, baseline_units (window totals), on_hand, in_transit,
      on_order_before_start, allocated (one row per forecast line)
    - forecast_models: model_version, inputs_hash, lines (of the forecast judged)
    - purchase_orders: po_number, supplier, ack_status, ack_due_at, acknowledged_at,
      supplier_id, due_date, item_id, quantity, confirmed_quantity (lines of POs
      linked to the promotion)
    - supplier_history: supplier_id, status, ordered_at, due_date, received_at,
      quantity, received_quantity (every supplier's recent POs, one row each)
    - prices: item_id, zone, channel, regular_price (in force on the start date)
    - published_prices: item_id, channel, amount (promo prices already written)
    - overlaps: other_code, item_id, location_id (other active promotions)
    - approvals: role, status; store_tasks: location_id, kind, status
    - channel_ranging: item_id, channel, ranged_locations, channel_locations
    """

    promotion_id: int
    revision: int
    promotion_code: str
    start: date
    end: date
    channels: tuple[str, ...]
    as_of: datetime
    quantile: str
    forecast_available: bool
    below_cost_approved: bool
    items: pl.DataFrame
    locations: pl.DataFrame
    coverage: pl.DataFrame
    forecast_models: pl.DataFrame
    purchase_orders: pl.DataFrame
    supplier_history: pl.DataFrame
    prices: pl.DataFrame
    published_prices: pl.DataFrame
    overlaps: pl.DataFrame
    approvals: pl.DataFrame
    store_tasks: pl.DataFrame
    channel_ranging: pl.DataFrame


def load_gate_inputs(
    session: Session,
    promotion: Promotion,
    *,
    quantile: str = "p90",
    as_of: datetime | None = None,
    history_days: int = 365,
) -> GateInputs:
    """Load the gate inputs of the promotion's current revision (a dozen queries)."""
    pid, revision = promotion.id, promotion.revision
    as_of = as_of or utcnow()
    coverage = (
        repository.forecast_coverage(session, pid, revision, quantile)
        .join(repository.on_order_before(session, pid, promotion.start_date), on=KEY, how="left")
        .with_columns(pl.col("on_order_before_start").fill_null(0.0))
        .select(
            *KEY,
            "upper_quantile_units",
            "promoted_units",
            "p10",
            "p90",
            "baseline_units",
            "on_hand",
            "in_transit",
            "on_order_before_start",
            "allocated",
        )
    )
    channels = tuple(promotion.channels)
    prices = promotions_service.scope_regular_prices(session, promotion).rename(
        {"amount": "regular_price"}
    )
    overlap_rows = promotions_service.overlapping(
        session, promotion, promotion.start_date, promotion.end_date
    )
    overlaps = pl.DataFrame(
        [(code, item, location) for _, code, item, location in overlap_rows],
        schema={"other_code": pl.String, "item_id": pl.Int64, "location_id": pl.Int64},
        orient="row",
    )
    return GateInputs(
        promotion_id=pid,
        revision=revision,
        promotion_code=promotion.code,
        start=promotion.start_date,
        end=promotion.end_date,
        channels=channels,
        as_of=as_of,
        quantile=quantile,
        forecast_available=coverage.height > 0,
        below_cost_approved=repository.finance_approved(session, pid, revision),
        items=repository.item_labels(session, pid),
        locations=repository.location_labels(session, pid),
        coverage=coverage,
        forecast_models=repository.forecast_models(session, pid, revision),
        purchase_orders=repository.linked_purchase_orders(session, pid),
        supplier_history=repository.supplier_history(session, as_of - timedelta(days=history_days)),
        prices=prices,
        published_prices=repository.published_promo_prices(session, pid),
        overlaps=overlaps,
        approvals=repository.approval_tasks(session, pid, revision),
        store_tasks=repository.store_tasks(session, pid, revision),
        channel_ranging=repository.channel_ranging(session, pid).filter(
            pl.col("channel").is_in(list(channels))
        ),
    )
