"""Sell-through checks while a promotion is live, as transactions (`runtime.run_tx`):
compare sales to date with the forecast and open one case for new off-pace lines.

DBOS names a transaction after its function, and workflows in flight replay these
under the names they had in `lifecycle.sell_through_tx`: keep the function names.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.orm import Session

from promoflow.allocation import repository as repo
from promoflow.allocation import sell_through
from promoflow.allocation.policy import PlanningPolicy
from promoflow.allocation.schemas import PolicyData, SellThroughCheck, SoldLine
from promoflow.events.log import record_event
from promoflow.exceptions.schemas import BLOCK_ACTIONS, CaseAction, CaseKind, CaseSpec, Severity
from promoflow.kit.roles import Role
from promoflow.kit.words import plural
from promoflow.lifecycle.case_tx import open_promotion_case
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion

ANOMALY_ACTIONS = (CaseAction.WAIVE, *BLOCK_ACTIONS)


def _promotion(session: Session, promotion_id: int) -> Promotion:
    return promotions_service.get_promotion(session, promotion_id)


def window_days(session: Session, promotion_id: int) -> int:
    """Days in the promotion's window, first and last included."""
    promotion = _promotion(session, promotion_id)
    return (promotion.end_date - promotion.start_date).days + 1


def check_sell_through(
    session: Session,
    promotion_id: int,
    sold: list[SoldLine],
    elapsed_days: int,
    window_days: int,
    policy: PolicyData,
) -> SellThroughCheck:
    """Compare sales to date with the forecast; new anomalous lines open one case."""
    rules = PlanningPolicy.model_validate(policy).sell_through
    promotion = _promotion(session, promotion_id)
    forecast = repo.forecast_lines(session, promotion.id, promotion.revision)
    items = repo.scope_items(session, promotion.id)
    stores = repo.scope_stores(session, promotion.id)
    sold_frame = (
        pl.DataFrame(
            sold, schema={"sku": pl.String, "code": pl.String, "units": pl.Float64}, orient="row"
        )
        .join(items.select("item_id", "sku"), on="sku")
        .join(stores.select("location_id", "code"), on="code")
    )
    stock = repo.positions(
        session, items["item_id"].to_list(), stores["location_id"].to_list()
    ).with_columns(available=pl.col("on_hand") + pl.col("in_transit"))
    share = elapsed_days / window_days
    anomalies = sell_through.find_anomalies(
        forecast, sold_frame, stock, share=share, settings=rules
    )
    flagged = repo.flagged_sell_through(session, promotion.id, promotion.revision)
    fresh = anomalies.filter(
        ~pl.format("{}:{}:{}", "item_id", "location_id", "direction").is_in(list(flagged))
    )
    data: SellThroughCheck = {
        "elapsed_days": elapsed_days,
        "window_days": window_days,
        "lines_checked": forecast.height,
        "units_sold": round(float(sold_frame["units"].sum()), 1) if sold_frame.height else 0.0,
        "anomalies": anomalies.height,
        "new_anomalies": fresh.height,
        "case_id": None,
    }
    if fresh.height:
        data["case_id"] = _open_anomaly(session, promotion, fresh, items, stores, data)
    record_event(
        session,
        "sell_through.checked",
        f"promotion/{promotion.id}",
        dict(data),
        promotion_id=promotion.id,
    )
    return data


def _open_anomaly(
    session: Session,
    promotion: Promotion,
    fresh: pl.DataFrame,
    items: pl.DataFrame,
    stores: pl.DataFrame,
    check: SellThroughCheck,
) -> int:
    """One sell_through_anomaly case for this check's new anomalous lines."""
    sku = dict(zip(items["item_id"].to_list(), items["sku"].to_list(), strict=True))
    code = dict(zip(stores["location_id"].to_list(), stores["code"].to_list(), strict=True))
    lines = [
        {
            "item_id": row["item_id"],
            "location_id": row["location_id"],
            "sku": sku.get(row["item_id"], ""),
            "store": code.get(row["location_id"], ""),
            "direction": row["direction"],
            "actual_units": round(row["actual_units"], 1),
            "expected_units": round(row["expected_units"], 1),
            "expected_low": round(row["expected_low"], 1),
            "expected_high": round(row["expected_high"], 1),
            "suggested_action": row["suggested_action"],
            "transfer_from": [code.get(i, "") for i in (row["transfer_from"] or [])[:3]],
        }
        for row in fresh.iter_rows(named=True)
    ]
    directions = sorted({line["direction"] for line in lines})
    actions = sorted({line["suggested_action"] for line in lines})
    above = sell_through.ABOVE in directions
    owner = Role.SUPPLY_CHAIN_PLANNER if above else Role.MERCHANDISER
    day = f"day {check['elapsed_days']} of {check['window_days']}"
    named = "; ".join(
        f"{ln['sku']} @ {ln['store']} sold {ln['actual_units']:,.0f} vs "
        f"{ln['expected_low']:,.0f}–{ln['expected_high']:,.0f} expected ({ln['direction']})"
        for ln in lines[:5]
    )
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    spec = CaseSpec(
        kind=CaseKind.SELL_THROUGH_ANOMALY,
        severity=Severity.HIGH if above else Severity.MEDIUM,
        owner_role=owner,
        title=f"{promotion.code}: {plural(len(lines), 'item-store')} selling "
        f"{' and '.join(directions)} the forecast's P10–P90 pace ({day})",
        detail=f"{named}{more}. Suggested: "
        + "; ".join(sell_through.ACTION_TEXT[a] for a in actions)
        + ".",
        allowed_actions=ANOMALY_ACTIONS,
        linked={
            "elapsed_days": check["elapsed_days"],
            "window_days": check["window_days"],
            "directions": directions,
            "suggested_actions": actions,
            "lines": lines,
        },
    )
    return open_promotion_case(session, promotion, spec).id
