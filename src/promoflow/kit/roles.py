"""The roles people play in promoflow (DESIGN.md, "Who uses it"): the one definition.

`Role` is a `StrEnum`, so a member equals its text: rows, events, policy files and
API payloads keep the plain string, while code names the role and a typo fails
type checking instead of silently matching nobody.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    MERCHANDISER = "merchandiser"
    PRICING_ANALYST = "pricing_analyst"
    FINANCE_APPROVER = "finance_approver"
    CATEGORY_MANAGER = "category_manager"
    SUPPLY_CHAIN_PLANNER = "supply_chain_planner"
    STORE_OPERATIONS = "store_operations"
    CHANNEL_OPERATIONS = "channel_operations"
    OPERATIONS_ADMIN = "operations_admin"
    AUDITOR = "auditor"
    INTEGRATION_CLIENT = "integration_client"


# The role names in the order DESIGN.md lists them (for messages and choices).
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
