"""Which roles may call which API action.

Route-level only: the services add the object-level rules (an approval task's
assigned role, an exception's owner, who may waive which gate). Every route
names its permission, so the later governance work can swap this table for a
policy without touching the handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from promoflow.api.auth import Actor, CurrentActor, require_role
from promoflow.kit.roles import ROLES, Role


@dataclass(frozen=True)
class Permission:
    action: str  # what the caller wants to do, as an error message says it
    roles: frozenset[str]


EVERY_ROLE = frozenset(ROLES)
PROMOTION_AUTHORS = frozenset({Role.MERCHANDISER, Role.OPERATIONS_ADMIN, Role.INTEGRATION_CLIENT})

READ = Permission("read promotions, approvals and exceptions", EVERY_ROLE)
CREATE_PROMOTION = Permission("create promotions", PROMOTION_AUTHORS)
SUBMIT_PROMOTION = Permission("submit promotions", PROMOTION_AUTHORS)
CANCEL_PROMOTION = Permission("cancel promotions", PROMOTION_AUTHORS)
REVISE_PROMOTION = Permission("revise promotions", PROMOTION_AUTHORS)
CONFIRM_STORE_TASKS = Permission(
    "confirm store readiness tasks", frozenset({Role.STORE_OPERATIONS, Role.OPERATIONS_ADMIN})
)
# The services decide these per object; the route lets every role through to them.
WAIVE_GATE = Permission("waive launch gates", EVERY_ROLE)
DECIDE_APPROVAL = Permission("decide approval tasks", EVERY_ROLE)
ACT_ON_EXCEPTION = Permission("act on exception cases", EVERY_ROLE)


def authorized(permission: Permission) -> Callable[[Actor], Actor]:
    """A dependency that returns the caller when their role holds `permission`."""

    def dependency(actor: CurrentActor) -> Actor:
        require_role(actor, permission.roles, permission.action)
        return actor

    return dependency


# The acting identity, once its role holds the route's permission.
Reader = Annotated[Actor, Depends(authorized(READ))]
PromotionCreator = Annotated[Actor, Depends(authorized(CREATE_PROMOTION))]
PromotionSubmitter = Annotated[Actor, Depends(authorized(SUBMIT_PROMOTION))]
PromotionCanceller = Annotated[Actor, Depends(authorized(CANCEL_PROMOTION))]
PromotionReviser = Annotated[Actor, Depends(authorized(REVISE_PROMOTION))]
StoreOperator = Annotated[Actor, Depends(authorized(CONFIRM_STORE_TASKS))]
GateWaivingActor = Annotated[Actor, Depends(authorized(WAIVE_GATE))]
Approver = Annotated[Actor, Depends(authorized(DECIDE_APPROVAL))]
CaseOperator = Annotated[Actor, Depends(authorized(ACT_ON_EXCEPTION))]
