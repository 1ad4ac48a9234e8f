"""A revision that ends early withdraws the purchase orders raised for its promotion.

Part of the workflow body (called from `workflows`), so it only decides: reads and
writes go through `run_tx`, calls to the supplier's system through
`steps.cancel_purchase_order` (retried, under a key per order and attempt),
and every wait is `waiting.await_case`.

A PO its supplier has not acknowledged is cancelled in the supplier's system, then
recorded cancelled (its units stop counting as on order) in one transaction with
its event. A PO the supplier confirmed, or one its system refused, cannot cancel or
did not answer, becomes a purchase_order_cancellation case for the supply chain
planner once the revision is closed, and the workflow waits for each decision:
retry asks the supplier's system again (after the planner agreed it with the
supplier), waive keeps the order and its units stay on order.
"""

from __future__ import annotations

import contextlib

from promoflow.exceptions.schemas import CaseAction
from promoflow.lifecycle import steps
from promoflow.lifecycle import withdrawal_tx as wtx
from promoflow.lifecycle.schemas import CancelAnswer, OrderLeft, OrderToWithdraw
from promoflow.lifecycle.timing import LifecycleTiming
from promoflow.lifecycle.waiting import await_case
from promoflow.runtime import run_tx

CONFIRMED = ("acknowledged", "partial")


def withdraw_orders(promotion_id: int, reason: str) -> list[OrderLeft]:
    """Cancel each open PO nobody confirmed; the POs left standing, with the reason why."""
    if not run_tx(wtx.orders_to_withdraw, promotion_id):
        return []
    _refresh_acknowledgements(promotion_id)
    left: list[OrderLeft] = []
    orders: list[OrderToWithdraw] = run_tx(wtx.orders_to_withdraw, promotion_id)
    for order in orders:
        if order["ack_status"] in CONFIRMED:
            detail = f"{order['supplier']} acknowledged it ({order['ack_status']})"
            left.append({**order, "outcome": "confirmed", "detail": detail})
            continue
        answer = _cancel(order["key"], order["number"])
        if answer["outcome"] == "cancelled":
            run_tx(wtx.order_cancelled, order["number"], reason, answer["detail"])
        else:
            left.append({**order, **answer})
    return left


def hand_over(
    promotion_id: int, left: list[OrderLeft], reason: str, timing: LifecycleTiming
) -> None:
    """One case per PO left standing, then the planner's decision on each, in turn."""
    cases = [
        (order, run_tx(wtx.open_order_case, promotion_id, order, order["outcome"], order["detail"]))
        for order in left
    ]
    for order, case_id in cases:
        attempt = 1
        while await_case(case_id, timing) == CaseAction.RETRY:
            attempt += 1
            answer = _ask_again(promotion_id, order, attempt)
            if answer["outcome"] == "settled":
                break
            if answer["outcome"] == "cancelled":
                run_tx(wtx.order_cancelled, order["number"], reason, answer["detail"])
                break
            case_id = run_tx(
                wtx.open_order_case, promotion_id, order, answer["outcome"], answer["detail"]
            )


def _ask_again(promotion_id: int, order: OrderToWithdraw, attempt: int) -> CancelAnswer:
    """After the planner's retry: the supplier may have refused it meanwhile; else cancel."""
    _refresh_acknowledgements(promotion_id)
    state = run_tx(wtx.order_state, order["number"])
    if state["status"] != "open":
        return {"outcome": "settled", "detail": f"the order is {state['status']}"}
    if state["ack_status"] == "rejected":
        return {"outcome": "cancelled", "detail": f"{order['supplier']} rejected it"}
    return _cancel(f"{order['key']}-{attempt}", order["number"])


def _cancel(key: str, number: str) -> CancelAnswer:
    try:
        return steps.cancel_purchase_order(key, number)
    except Exception as error:  # retries spent or refused: the planner takes it from here
        causes = getattr(error, "errors", None) or []
        last = f"; last error: {causes[-1]}" if causes else ""
        return {"outcome": "failed", "detail": f"{error}{last}"[:1000]}


def _refresh_acknowledgements(promotion_id: int) -> None:
    # When the portal does not answer, asking it to cancel still checks confirmation.
    with contextlib.suppress(Exception):
        steps.refresh_supplier_acks(promotion_id)
