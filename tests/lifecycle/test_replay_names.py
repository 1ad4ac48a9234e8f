"""Every DBOS step and transaction name the code before the split could record still exists.

A recovered workflow replays its recorded steps by name (DBOSUnexpectedStepError on
a mismatch). The fixture recovery test covers the names one run recorded; these
lists are every name ee3ee7f's lifecycle could record (its `@DBOS.step` functions and
the functions it passed to `run_tx`, listed from `git show ee3ee7f:src/promoflow/
lifecycle/...`), including compensation and failure paths that run rarely.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from promoflow.allocation import sell_through_tx as allocation_live
from promoflow.allocation import steps as allocation_steps
from promoflow.allocation import stock_moves
from promoflow.allocation import transactions as allocation_tx
from promoflow.lifecycle import approval_tx, case_tx, withdrawal_tx
from promoflow.lifecycle import steps as lifecycle_steps
from promoflow.lifecycle import transactions as lifecycle_tx
from promoflow.lifecycle.workflows import promotion_lifecycle

STEPS_BEFORE_THE_SPLIT = {
    "cancel_purchase_order",
    "fetch_actuals",
    "forecast_demand",
    "now_ts",
    "plan_allocation",
    "plan_publication",
    "plan_replenishment",
    "planning_policy",
    "post_finance",
    "publish_part",
    "refresh_supplier_acks",
    "revert_channel",
    "sales_to_date",
    "seconds_until",
    "send_store_tasks",
    "submit_purchase_orders",
    "transfer_stock",
}
TRANSACTIONS_BEFORE_THE_SPLIT = {
    "allocation_applied",
    "allocation_transfers",
    "analyse",
    "approval_milestone",
    "approval_status",
    "assess",
    "case_reminder",
    "case_state",
    "check_sell_through",
    "close_case_cleared",
    "close_revision",
    "evaluate_gates",
    "open_approvals",
    "open_case",
    "open_order_case",
    "order_cancelled",
    "order_state",
    "orders_to_withdraw",
    "propose_allocation",
    "propose_replenishment",
    "publication_done",
    "publication_failed",
    "publication_skipped",
    "raise_replenishment",
    "recommendation_overdue",
    "recommendation_reminder",
    "recommendation_state",
    "record_assessment",
    "submit",
    "transition",
    "validate",
    "window_days",
}
STEP_MODULES = (lifecycle_steps, allocation_steps)
TRANSACTION_MODULES = (
    lifecycle_tx,
    approval_tx,
    case_tx,
    withdrawal_tx,
    allocation_tx,
    stock_moves,
    allocation_live,
)


def _functions(module: ModuleType) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__
    }


def test_every_step_keeps_the_dbos_name_it_was_recorded_under() -> None:
    registered = {
        str(function.dbos_function_name)
        for module in STEP_MODULES
        for function in _functions(module).values()
        if hasattr(function, "dbos_function_name")
    }
    assert registered >= STEPS_BEFORE_THE_SPLIT, STEPS_BEFORE_THE_SPLIT - registered
    # Pinned, not derived from the function: a rename keeps the step's name.
    for module in STEP_MODULES:
        source = inspect.getsource(module)
        for name, function in _functions(module).items():
            if hasattr(function, "dbos_function_name"):
                assert f'name="{function.dbos_function_name}"' in source, name


def test_every_transaction_keeps_the_function_name_run_tx_records() -> None:
    # run_tx names the transaction after `func.__name__`.
    defined = {
        function.__name__  # type: ignore[attr-defined]
        for module in TRANSACTION_MODULES
        for function in _functions(module).values()
    }
    assert defined >= TRANSACTIONS_BEFORE_THE_SPLIT, TRANSACTIONS_BEFORE_THE_SPLIT - defined
    owners = [
        module.__name__
        for module in TRANSACTION_MODULES
        for name in _functions(module)
        if name in TRANSACTIONS_BEFORE_THE_SPLIT
    ]
    assert len(owners) == len(TRANSACTIONS_BEFORE_THE_SPLIT), "a name is defined twice"


def test_the_workflow_keeps_its_name() -> None:
    assert promotion_lifecycle.dbos_function_name == "promotion_lifecycle"
