"""The authorisation matrix, generated from the one access policy.

Every route of policies/access.yaml x every role x an object of the caller's own
banner and one of another banner, over HTTP against the app: the answer must be
what the policy says (allow, 403 access-denied, or 404 exactly as for a missing
object). Callers are API key records scoped to one banner; retailer-wide routes are
called again by keys for every banner. Write routes are sent a body the route
refuses (422) so that an allowed call changes nothing, and routes about
connections and dead letters are sent names that do not exist: the policy decides
before any of that is looked at.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from access_support import OTHER, OWN, Objects, api_key, make_objects
from promoflow.identity.access import AccessPolicy, RouteRule, Scope, bundled_policy
from promoflow.kit.roles import Role

POLICY = bundled_policy()
PREFIX = "/api/v1"
DENIED_TYPE = "urn:promoflow:problem:access-denied"
NOT_FOUND_TYPE = "urn:promoflow:problem:not-found"
# A body every write route refuses before acting (every body model forbids extra fields).
PROBE_BODY = {"__probe__": True}


@pytest.fixture(scope="module")
def objects(catalog: Any) -> Objects:
    return make_objects(catalog.skus[:2], "matrix")


@pytest.fixture(scope="module")
def keys(runtime: object) -> dict[tuple[Role, str], dict[str, str]]:
    return {
        (role, scope): api_key(role.value, [OWN] if scope == "one" else ["*"])
        for role in Role
        for scope in ("one", "all")
    }


def path_for(route: str, objects: Objects, banner: str) -> str:
    """The route's path with its parameters naming the object of `banner`."""
    values = {
        "{ref}": objects.promotion[banner],
        "{task_id}": str(objects.task[banner]),
        "{case_id}": str(objects.case[banner]),
        "{recommendation_id}": str(objects.recommendation[banner]),
        "{gate}": "price_validity",
        "{name}": "no-such-connection",
        "{letter_id}": "999999",
        "{version}": "demand-0.0.0",
        "{sku}": objects.sku,
        "{figure}": "cycle_time",
    }
    for name, value in values.items():
        route = route.replace(name, value)
    assert "{" not in route, f"no test value for a parameter of {route}"
    return PREFIX + route


def names_an_object(path: str) -> bool:
    return any(f"{{{name}}}" in path for name in ("ref", "task_id", "case_id", "recommendation_id"))


def expected(policy: AccessPolicy, rule: RouteRule, role: Role, scope: str, target: str) -> str:
    """What the policy says of this call: allow, deny (403) or hide (404)."""
    if not policy.allows(role, rule.permission):
        return "deny"
    if rule.scope is Scope.RETAILER and scope != "all":
        return "deny"
    if rule.scope is Scope.BANNER and scope != "all" and target == OTHER:
        return "hide"
    return "allow"


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    if method == "GET":
        return client.get(path, headers=headers)
    return client.request(method, path, headers=headers, json=PROBE_BODY)


def outcome(response: Any) -> str:
    body = response.json() if response.content else {}
    if response.status_code == 403 and body.get("type") == DENIED_TYPE:
        return "deny"
    if response.status_code == 404 and body.get("type") == NOT_FOUND_TYPE:
        return "not found"
    if response.status_code == 401:
        return "unexpected 401"
    return "allow"


@pytest.mark.postgres
@pytest.mark.parametrize("route", list(POLICY.routes))
def test_every_role_gets_what_the_policy_says(
    client: TestClient,
    objects: Objects,
    keys: dict[tuple[Role, str], dict[str, str]],
    route: str,
) -> None:
    method, template = route.split(" ", 1)
    rule = POLICY.routes[route]
    wrong = []
    for role in Role:
        for scope in ("one", "all"):
            targets = (OWN, OTHER) if names_an_object(template) else (OWN,)
            for target in targets:
                want = expected(POLICY, rule, role, scope, target)
                path = path_for(template, objects, target)
                response = call(client, method, path, keys[(role, scope)])
                got = outcome(response)
                if got == "not found":
                    # Hidden where the route names a banner-scoped object; elsewhere the
                    # route ran and found no connection, letter or model of that name.
                    got = "hide" if names_an_object(template) else "allow"
                if got != want:
                    wrong.append(
                        f"{role.value} ({scope} banner{'s' if scope == 'all' else ''}) on "
                        f"{target}: wanted {want}, got {response.status_code} {response.text[:160]}"
                    )
    assert not wrong, f"{route}:\n" + "\n".join(wrong)
