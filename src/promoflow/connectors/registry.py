"""Which implementation answers each port: an enabled connection, else the sandbox estate.

An enabled connection (`connectors.service`) that serves a port's capability
answers it; otherwise the sandbox system does. Implementations are imported on
first use, so code that only needs a port (the lifecycle workflow) never imports a
connector. Instances are cached per process and rebuilt when the runtime's
sessions change (tests start and stop the runtime), when a connection is enabled
or disabled in this process, and at most `BINDINGS_TTL` seconds after another
process changed the bindings.
"""

from __future__ import annotations

import importlib
import time
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
    StockTransferSystem,
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
    "stock_transfer": (f"{SANDBOX}.wms:SandboxWms", ()),
}
# The capability (as connections declare it in `serves`) behind each port.
CAPABILITIES = {
    "price:pos": "price_publication:pos",
    "price:ecommerce": "price_publication:ecommerce",
    "store_tasks": "store_tasks",
    "inventory": "inventory",
    "purchase_orders": "purchase_orders",
    "sales": "sales_feed",
    "item_master": "item_master",
    "finance": "finance_posting",
    "stock_transfer": "stock_transfer",
}
BINDINGS_TTL = 5.0

_cache: dict[str, tuple[sessionmaker[Session], object]] = {}
_bindings: dict[str, str] | None = None
_bindings_read_at = 0.0
_bindings_factory: sessionmaker[Session] | None = None


def _default_sessions() -> sessionmaker[Session]:
    from promoflow.runtime import get_runtime

    return get_runtime().sessions


def _bound_connection(name: str, factory: sessionmaker[Session]) -> str | None:
    """The enabled connection serving this port, if any (read at most every few seconds)."""
    global _bindings, _bindings_read_at, _bindings_factory
    stale = time.monotonic() - _bindings_read_at > BINDINGS_TTL
    if _bindings is None or stale or _bindings_factory is not factory:
        from promoflow.connectors.service import bindings

        with factory() as session:
            fresh = bindings(session)
        if fresh != _bindings or _bindings_factory is not factory:
            _cache.clear()
        _bindings, _bindings_read_at, _bindings_factory = fresh, time.monotonic(), factory
    return _bindings.get(CAPABILITIES[name])


def _build(name: str, sessions: sessionmaker[Session] | None) -> object:
    factory = sessions or _default_sessions()
    connection = _bound_connection(name, factory)
    cached = _cache.get(name)
    if cached is not None and cached[0] is factory:
        return cached[1]
    instance: object
    if connection is not None:
        from promoflow.connectors.service import build_connector, get_connection

        with factory() as session:
            row = get_connection(session, connection)
            session.expunge(row)
        channel = name.split(":", 1)[1] if name.startswith("price:") else None
        instance = build_connector(row, factory, channel=channel)
        if name == "purchase_orders":
            from promoflow.connectors.claims import ClaimedPurchaseOrders

            # ERPs take no idempotency key on create: a claim row keeps two workers
            # from both creating the same order (the sandbox portal is keyed itself).
            instance = ClaimedPurchaseOrders(cast(PurchaseOrderSystem, instance), factory, row.name)
    else:
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


def get_stock_transfer_system(sessions: sessionmaker[Session] | None = None) -> StockTransferSystem:
    """The WMS that ships stock between locations."""
    return cast(StockTransferSystem, _build("stock_transfer", sessions))


def reset() -> None:
    """Forget cached connectors and bindings (tests that swap databases; enable/disable)."""
    global _bindings
    _cache.clear()
    _bindings = None
