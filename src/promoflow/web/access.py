"""The console obeys the API's access policy: one file (policies/access.yaml) for both.

A page or action names the permission of the API route that does the same thing
(deciding an approval needs `approvals.decide` here as on
POST /api/v1/approvals/{id}/decision). Templates ask `can(...)` to show or hide
a button; the action checks again, so a crafted request is refused with 403 and
the refusal lands in the audit trail, as on the API. Banner scope is applied by
the services the pages call (they take the person's banners).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from promoflow.api import deps
from promoflow.api.permissions import OBJECT_CHECKS
from promoflow.identity.access import AccessPolicy, Scope
from promoflow.identity.schemas import Principal
from promoflow.identity.sessions import SignedIn
from promoflow.kit.db import reading
from promoflow.kit.errors import AccessDenied
from promoflow.web.auth import SessionUser


def policy_of(request: Request) -> AccessPolicy:
    policy: AccessPolicy = request.app.state.access_policy
    return policy


def can(request: Request, principal: Principal, permission: str) -> bool:
    """True when the person's role holds the permission (the API's rule)."""
    return policy_of(request).allows(principal.role, permission)


def check(
    request: Request, principal: Principal, permission: str, *, retailer: bool = False
) -> None:
    """Refuse (403) without the permission; `retailer` also asks for every banner."""
    policy = policy_of(request)
    about = policy.permissions[permission].about
    if not policy.allows(principal.role, permission):
        allowed = ", ".join(sorted(role.value for role in policy.roles_of(permission)))
        raise AccessDenied(
            f"role '{principal.role}' may not {about}; allowed roles: {allowed}",
            role=principal.role.value,
            permission=permission,
        )
    if retailer and not principal.banners.every:
        raise AccessDenied(
            f"{about} concerns every banner; you act for "
            f"{', '.join(principal.banners.as_list()) or 'no banner'}",
            permission=permission,
        )


def mirror(route: str) -> Callable[..., SignedIn]:
    """A dependency: the signed-in person, refused (403) as the API route `route` would be.

    `route` is the access policy's key ("POST /approvals/{task_id}/decision"); its
    permission and scope are the console's rule for the same action.
    """

    def dependency(request: Request, user: SessionUser) -> SignedIn:
        method, path = route.split(" ", 1)
        rule = policy_of(request).rule(method, path)
        if rule is None:  # a typo in a page module: fail loudly, never open
            raise AccessDenied(f"no access rule covers {route}")
        check(request, user.principal, rule.permission, retailer=rule.scope is Scope.RETAILER)
        if rule.scope is Scope.BANNER and not user.principal.banners.every:
            _check_objects(request, user.principal)
        return user

    return dependency


def _check_objects(request: Request, principal: Principal) -> None:
    # The API's object checks, by the same path parameter names: another banner's
    # promotion, task, case or recommendation answers 404 as if it did not exist.
    named = [
        (name, str(request.path_params[name]))
        for name in OBJECT_CHECKS
        if name in request.path_params
    ]
    if not named:
        return
    with reading(deps.read_sessions()) as session:
        for name, raw in named:
            OBJECT_CHECKS[name](session, raw, principal.banners)


def Mirror(route: str) -> Any:  # noqa: N802 (reads as a type in a signature)
    """`user: Annotated[SignedIn, Mirror("POST /approvals/{task_id}/decision")]`."""
    return Depends(mirror(route))


def allowed(request: Request, principal: Principal, route: str) -> bool:
    """Whether the person may do what the API route `route` does (for showing a button)."""
    method, path = route.split(" ", 1)
    rule = policy_of(request).rule(method, path)
    if rule is None:
        return False
    if rule.scope is Scope.RETAILER and not principal.banners.every:
        return False
    return can(request, principal, rule.permission)


# The people who may see a page, as the API route that answers the same question.
PromotionsReader = Annotated[SignedIn, Mirror("GET /promotions")]
ApprovalsReader = Annotated[SignedIn, Mirror("GET /approvals")]
Approver = Annotated[SignedIn, Mirror("POST /approvals/{task_id}/decision")]
CasesReader = Annotated[SignedIn, Mirror("GET /exceptions")]
CaseActor = Annotated[SignedIn, Mirror("POST /exceptions/{case_id}/actions")]
ModelsReader = Annotated[SignedIn, Mirror("GET /models")]
ConnectionsReader = Annotated[SignedIn, Mirror("GET /connections")]
