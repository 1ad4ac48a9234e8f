"""Which implementation answers each port: the sandbox estate unless configured otherwise.

Implementations are named by "module:Class" strings and imported on first use, so
code that only needs a port (the lifecycle workflow) never imports a connector.
Instances are cached per process and rebuilt when the runtime's sessions change
(tests start and stop the runtime).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import (
    FinancePosting,
    InventorySource,
    ItemMaster,
    PricePublisher,
    PurchaseOrderSystem,
    SalesFeed,
    StoreTaskSystem,
)
from promoflow.kit.errors import InvalidInput

SANDBOX = "promoflow.connectors.sandbox"
IMPLEMENTATIONS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "price:pos": (f"{SANDBOX}.pricing:SandboxPricePublisher", ("pos",)),
    "price:ecommerce": (f"{SANDBOX}.pricing:SandboxPricePublisher", ("ecommerce",)),
    "store_tasks": (f"{SANDBOX}.store_tasks:SandboxStoreTasks", ()),
    "inventory": (f"{SANDBOX}.wms:SandboxWms", ()),
    "purchase_orders": (f"{SANDBOX}.supplier_portal:SandboxSupplierPortal", ()),
    "sales": (f"{SANDBOX}.sales_feed:SandboxSalesFeed", ()),
    "item_master": (f"{SANDBOX}.erp:SandboxItemMaster", ()),
    "finance": (f"{SANDBOX}.erp:SandboxFinance", ()),
}

_cache: dict[str, tuple[sessionmaker[Session], object]] = {}


def _default_sessions() -> sessionmaker[Session]:
    from promoflow.runtime import get_runtime

    return get_runtime().sessions


def _build(name: str, sessions: sessionmaker[Session] | None) -> object:
    factory = sessions or _default_sessions()
    cached = _cache.get(name)
    if cached is not None and cached[0] is factory:
        return cached[1]
    target, args = IMPLEMENTATIONS[name]
    module_name, class_name = target.split(":")
    cls: Callable[..., object] = getattr(importlib.import_module(module_name), class_name)
    instance = cls(factory, *args)
    _cache[name] = (factory, instance)
    return instance


def get_price_publisher(
    channel: str, sessions: sessionmaker[Session] | None = None
) -> PricePublisher:
    """The system that activates prices on `channel` ("pos" or "ecommerce")."""
    if f"price:{channel}" not in IMPLEMENTATIONS:
        raise InvalidInput("channel", channel, "prices are published to 'pos' or 'ecommerce'")
    return cast(PricePublisher, _build(f"price:{channel}", sessions))


def get_store_task_system(sessions: sessionmaker[Session] | None = None) -> StoreTaskSystem:
    """The store-operations system that receives signage and display tasks."""
    return cast(StoreTaskSystem, _build("store_tasks", sessions))


def get_inventory_source(sessions: sessionmaker[Session] | None = None) -> InventorySource:
    """The system of record for inventory positions (the WMS)."""
    return cast(InventorySource, _build("inventory", sessions))


def get_purchase_order_system(
    sessions: sessionmaker[Session] | None = None,
) -> PurchaseOrderSystem:
    """The supplier portal that receives purchase orders and returns acknowledgements."""
    return cast(PurchaseOrderSystem, _build("purchase_orders", sessions))


def get_sales_feed(sessions: sessionmaker[Session] | None = None) -> SalesFeed:
    """Point-of-sale actuals."""
    return cast(SalesFeed, _build("sales", sessions))


def get_item_master(sessions: sessionmaker[Session] | None = None) -> ItemMaster:
    """The ERP's item master."""
    return cast(ItemMaster, _build("item_master", sessions))


def get_finance_posting(sessions: sessionmaker[Session] | None = None) -> FinancePosting:
    """The ERP's ledger for promotion results."""
    return cast(FinancePosting, _build("finance", sessions))


def reset() -> None:
    """Forget cached connectors (tests that swap databases)."""
    _cache.clear()
