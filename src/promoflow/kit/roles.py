"""The roles people play in promoflow (DESIGN.md, "Who uses it")."""

from __future__ import annotations

ROLES = (
    "merchandiser",
    "pricing_analyst",
    "finance_approver",
    "category_manager",
    "supply_chain_planner",
    "store_operations",
    "channel_operations",
    "operations_admin",
    "auditor",
    "integration_client",
)
