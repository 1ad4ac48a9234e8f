"""The lifecycle's steps that talk to the outside world (connectors, the clock).

A DBOS step is at-least-once: a crash after the call and before the checkpoint
runs it again. Every call that changes something in another system therefore
carries an idempotency key derived from the promotion revision and the step, and
the connector returns its first answer when it sees the key again.

Each step's DBOS name is pinned (`name=`): a workflow in flight replays its
recorded steps by name, so renaming or moving a function must not rename its step.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import cast

from dbos import DBOS

from promoflow.connectors import registry
from promoflow.connectors.ports import ConnectorError
from promoflow.forecasting import service as forecast_service
from promoflow.forecasting.champion import champion_forecaster
from promoflow.inventory import service as inventory_service
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading, transaction
from promoflow.lifecycle import repository as repo
from promoflow.lifecycle.schemas import (
    Actuals,
    CancelAnswer,
    ForecastTotals,
    PublicationPlan,
    Receipt,
)
from promoflow.promotions import service as promotions_service
from promoflow.publications import service as publications_service
from promoflow.runtime import get_runtime


def _part_size() -> int:
    # Small enough to retry cheaply, large enough to be quick (settings: publication_part_size).
    return get_runtime().settings.publication_part_size


def _retryable(error: BaseException) -> bool:
    return not (isinstance(error, ConnectorError) and not error.retryable)


@DBOS.step(name="now_ts")
def now_ts() -> float:
    """The current time, checkpointed so a replay sees the same value."""
    return utcnow().timestamp()


@DBOS.step(name="seconds_until")
def seconds_until(iso_time: str) -> float:
    """Seconds from now until `iso_time` (negative when it has passed)."""
    return (datetime.fromisoformat(iso_time) - utcnow()).total_seconds()


@DBOS.step(
    name="send_store_tasks",
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def send_store_tasks(promotion_id: int) -> int:
    """Create the readiness tasks in the store task system (once per revision)."""
    with transaction(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        tasks = publications_service.create_store_tasks(session, promotion)
        key = f"{promotion.code}-r{promotion.revision}-store-tasks"
    receipt = registry.get_store_task_system().create_tasks(key, tasks)
    return receipt.accepted


@DBOS.step(
    name="refresh_supplier_acks",
    retries_allowed=True,
    max_attempts=3,
    interval_seconds=0.5,
    backoff_rate=2.0,
)
def refresh_supplier_acks(promotion_id: int) -> int:
    """Pull acknowledgements for the promotion's purchase orders (applying one twice is a no-op)."""
    sessions = get_runtime().workflow_sessions
    with reading(sessions) as session:
        numbers = inventory_service.promotion_purchase_orders(session, promotion_id)
    if not numbers:
        return 0
    acks = registry.get_purchase_order_system().acknowledgements(numbers)
    with transaction(sessions) as session:
        return inventory_service.apply_acknowledgements(session, acks)


@DBOS.step(name="plan_publication")
def plan_publication(promotion_id: int, channel: str) -> PublicationPlan:
    """The channel's publication key and how its prices split into parts.

    The part size is recorded with the plan: a recovered workflow may run in
    another process, and every process must cut the same parts.
    """
    with transaction(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        row = publications_service.ensure_publication(session, promotion, channel)
        count = len(publications_service.price_changes(session, promotion, channel))
        size = _part_size()
        return {
            "key": row.publication_key,
            "parts": max(1, -(-count // size)),
            "size": size,
            "prices": count,
        }


@DBOS.step(
    name="publish_part",
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def publish_part(promotion_id: int, channel: str, key: str, part: int, size: int) -> Receipt:
    """Send one part of the channel's prices under its own idempotency key."""
    sessions = get_runtime().workflow_sessions
    with reading(sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        changes = publications_service.price_changes(session, promotion, channel)
    chunk = changes[part * size : (part + 1) * size]
    publisher = registry.get_price_publisher(channel)
    try:
        receipt = publisher.publish_prices(f"{key}/part-{part:04d}", chunk)
    except ConnectorError as error:
        with transaction(sessions) as session:
            promotion = promotions_service.get_promotion(session, promotion_id)
            publications_service.record_attempt(
                session, promotion, channel, part, "failed", str(error)
            )
        raise
    with transaction(sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        publications_service.record_attempt(
            session, promotion, channel, part, "duplicate" if receipt.duplicate else "applied"
        )
    return {
        "key": receipt.key,
        "system": receipt.system,
        "accepted": receipt.accepted,
        "external_ref": receipt.external_ref,
        "duplicate": receipt.duplicate,
    }


@DBOS.step(
    name="revert_channel",
    retries_allowed=True,
    max_attempts=5,
    interval_seconds=0.5,
    backoff_rate=2.0,
)
def revert_channel(promotion_id: int, channel: str, key: str, parts: int) -> int:
    """Compensation: withdraw every part the channel received."""
    publisher = registry.get_price_publisher(channel)
    withdrawn = sum(
        publisher.revert_prices(f"{key}/part-{part:04d}").accepted for part in range(parts)
    )
    with transaction(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        publications_service.mark_status(
            session, promotion, channel, "reverted", f"{withdrawn} prices withdrawn"
        )
    return withdrawn


@DBOS.step(
    name="fetch_actuals",
    retries_allowed=True,
    max_attempts=3,
    interval_seconds=0.5,
    backoff_rate=2.0,
)
def fetch_actuals(promotion_id: int) -> Actuals:
    """Units and revenue sold during the promotion, from the sales feed."""
    with reading(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        costs = {
            item.sku: float(item.unit_cost) for item in repo.scope_items(session, promotion_id)
        }
        skus = list(costs)
        codes = [loc.code for loc in repo.scope_locations(session, promotion_id)]
        start, end = promotion.start_date, promotion.end_date
    records = registry.get_sales_feed().sales(skus, codes, start, end)
    by_line: dict[tuple[str, str], float] = {}
    for record in records:
        key = (record.sku, record.location_code)
        by_line[key] = by_line.get(key, 0.0) + record.units
    return {
        "units": float(sum(r.units for r in records)),
        "revenue": float(sum((r.revenue for r in records), Decimal(0))),
        "cost": float(sum(r.units * costs[r.sku] for r in records)),
        # Per SKU x store, for post-event forecast accuracy.
        "lines": [(sku, code, units) for (sku, code), units in sorted(by_line.items())],
    }


@DBOS.step(
    name="post_finance",
    retries_allowed=True,
    max_attempts=3,
    interval_seconds=0.5,
    backoff_rate=2.0,
)
def post_finance(
    promotion_id: int, code: str, revision: int, margin: float, vendor_funding: float
) -> str:
    """Post the realised margin and vendor funding claim to finance (once per revision)."""
    return registry.get_finance_posting().post_promotion_result(
        f"{code}-r{revision}-finance",
        code,
        Decimal(str(round(margin, 2))),
        Decimal(str(round(vendor_funding, 2))),
    )


@DBOS.step(
    name="forecast_demand",
    retries_allowed=True,
    max_attempts=3,
    interval_seconds=1.0,
    backoff_rate=2.0,
)
def forecast_demand(promotion_id: int) -> ForecastTotals:
    """Forecast the promotion with the champion outside any write transaction.

    A trained model takes seconds, and on SQLite a writing transaction holds the
    write lock, so reading, forecasting and storing are three separate moves. Storing replaces
    the revision's lines, so a retried step leaves the same lines (its event may be
    logged twice).
    """
    sessions = get_runtime().workflow_sessions
    with reading(sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        forecaster = champion_forecaster(session)
        inputs = forecast_service.forecast_inputs(session, promotion, forecaster)
    forecast = forecast_service.run_forecast(forecaster, inputs)
    with transaction(sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        summary = forecast_service.store_forecast(
            session, promotion, forecaster.model_version, inputs, forecast
        )
    return cast(ForecastTotals, asdict(summary))


@DBOS.step(
    name="cancel_purchase_order",
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def cancel_purchase_order(key: str, number: str) -> CancelAnswer:
    """Ask the supplier's system to cancel one PO (under its key); what it answered."""
    answer = registry.get_purchase_order_system().cancel_purchase_order(key, number)
    return {"outcome": answer.outcome, "detail": answer.detail}
