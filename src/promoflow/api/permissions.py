"""Who may call which route: the access policy (policies/access.yaml), enforced.

Every /api/v1 route passes `enforce_access`, a dependency of the v1 router that runs
after authentication and before the route's own parameters. It finds the route's
rule in the access policy (identity/access.py) and answers:
- 403 (`access-denied`) when the caller's role lacks the route's permission, or when
  a route about the whole retailer is called by a caller scoped to some banners;
- 404 when the route's object (its promotion `ref`, approval `task_id`, case
  `case_id` or recommendation `recommendation_id`) lies outside the caller's banners:
  the same answer, word for word, as for an object that does not exist, so ids cannot
  be probed. The audit trail records it as a denial.
Lists of banner-scoped objects filter by the caller's banners in their routes
(`actor.banners`). Object-level rules stay in the services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from promoflow.api.auth import CurrentActor
from promoflow.api.deps import MAX_REF, ReadSessions
from promoflow.api.openapi_amend import amend_openapi
from promoflow.api.routing import documented_routes
from promoflow.approvals import service as approvals_service
from promoflow.audit import context
from promoflow.exceptions import service as exceptions_service
from promoflow.identity.access import AccessPolicy, RouteRule, Scope
from promoflow.identity.schemas import BannerScope
from promoflow.kit.bounds import MAX_ID
from promoflow.kit.errors import AccessDenied, OutOfScope
from promoflow.kit.logging import get_logger
from promoflow.promotions import service as promotions_service
from promoflow.recommendations import service as recommendations_service

log = get_logger(__name__)

API_PREFIX = "/api/v1"
HIDDEN_REASON = "object outside the caller's banners"


def _ident(raw: str) -> int | None:
    # Not yet validated (the route checks its parameters after this dependency):
    # anything but an id in range is left for the route's own 422.
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    return None


def _promotion(session: Session, raw: str, banners: BannerScope) -> None:
    if len(raw) <= MAX_REF:  # a longer one is the route's own 422
        promotions_service.find_promotion(session, raw, banners=banners)


def _task(session: Session, raw: str, banners: BannerScope) -> None:
    if (task_id := _ident(raw)) is not None:
        approvals_service.get_task(session, task_id, banners=banners)


def _case(session: Session, raw: str, banners: BannerScope) -> None:
    if (case_id := _ident(raw)) is not None:
        exceptions_service.get_case(session, case_id, banners=banners)


def _recommendation(session: Session, raw: str, banners: BannerScope) -> None:
    if (recommendation_id := _ident(raw)) is not None:
        recommendations_service.get_recommendation(session, recommendation_id, banners=banners)


# The path parameters that name a banner-scoped object, and how to check one.
OBJECT_CHECKS: dict[str, Callable[[Session, str, BannerScope], None]] = {
    "ref": _promotion,
    "task_id": _task,
    "case_id": _case,
    "recommendation_id": _recommendation,
}


def _rule(request: Request) -> RouteRule:
    policy: AccessPolicy = request.app.state.access_policy
    route = request.scope["route"]
    (method,) = route.methods
    rule = policy.rule(method, route.path)
    if rule is None:  # install_access_policy refuses to start with such a route
        raise AccessDenied(f"no access rule covers {method} {route.path}")
    return rule


def enforce_access(request: Request, actor: CurrentActor, reads: ReadSessions) -> None:
    """Refuse the request unless the access policy lets this caller call this route."""
    policy: AccessPolicy = request.app.state.access_policy
    rule = _rule(request)
    permission = policy.permissions[rule.permission]
    if not policy.allows(actor.role, rule.permission):
        raise AccessDenied(
            f"role '{actor.role}' may not {permission.about}; allowed roles: "
            + ", ".join(sorted(role.value for role in policy.roles_of(rule.permission))),
            role=actor.role.value,
            permission=rule.permission,
        )
    if rule.scope is Scope.RETAILER and not actor.banners.every:
        raise AccessDenied(
            f"{permission.about} concerns every banner; your credential acts for "
            f"{', '.join(actor.banners.as_list()) or 'no banner'}",
            permission=rule.permission,
        )
    if rule.scope is Scope.BANNER and not actor.banners.every:
        _check_objects(request, actor.banners, reads)


def _check_objects(request: Request, banners: BannerScope, reads: ReadSessions) -> None:
    named = [
        (name, str(request.path_params[name]))
        for name in OBJECT_CHECKS
        if name in request.path_params
    ]
    if not named:
        return
    try:
        with reads() as session:
            for name, raw in named:
                OBJECT_CHECKS[name](session, raw, banners)
    except OutOfScope:
        holder = context.current()
        if holder is not None:
            holder.denied = True
            holder.denied_reason = HIDDEN_REASON
        log.info("object_hidden", route=request.scope["route"].path, reason=HIDDEN_REASON)
        raise


def install_access_policy(app: FastAPI, policy: AccessPolicy) -> None:
    """Hold the policy for `enforce_access`, refuse to start when it misses a served
    route (or names one nobody serves), and show each operation's rule in OpenAPI."""
    served = [
        (method, path.removeprefix(API_PREFIX))
        for method, path in documented_routes(app)
        if path.startswith(API_PREFIX + "/")
    ]
    policy.check_routes(served)
    app.state.access_policy = policy
    app.openapi_schema = None
    _document_access(app, policy)


def _document_access(app: FastAPI, policy: AccessPolicy) -> None:
    """Show each operation's rule: `x-promoflow-access` and a line in its description."""

    def declare(document: dict[str, Any]) -> None:
        for path, item in document.get("paths", {}).items():
            if not path.startswith(API_PREFIX + "/"):
                continue
            for method, operation in item.items():
                rule = policy.rule(method.upper(), path.removeprefix(API_PREFIX))
                if rule is None:
                    continue
                roles = sorted(role.value for role in policy.roles_of(rule.permission))
                operation["x-promoflow-access"] = {
                    "policy": policy.version,
                    "permission": rule.permission,
                    "roles": roles,
                    "scope": rule.scope.value,
                }
                note = (
                    f"\n\n**Access** ({policy.version}): permission `{rule.permission}` "
                    f"({', '.join(roles)}); scope `{rule.scope.value}`."
                )
                operation["description"] = operation.get("description", "") + note

    amend_openapi(app, declare)


# The acting identity, for routes that use it. Its permission was checked by
# `enforce_access` before the route ran (the name is for the reader: what the route's
# rule in access.yaml requires).
Caller = CurrentActor
Reader = CurrentActor
PromotionCreator = CurrentActor
WhatIfExplorer = CurrentActor
PromotionSubmitter = CurrentActor
PromotionCanceller = CurrentActor
PromotionReviser = CurrentActor
StoreOperator = CurrentActor
GateWaivingActor = CurrentActor
Approver = CurrentActor
CaseOperator = CurrentActor
Reconciler = CurrentActor
