"""The OpenAPI document says what the server answers (issue 10, defect 12).

Errors are application/problem+json, but 403, 404, 409 and 422 were undocumented
or documented in FastAPI's default shape, and optional query parameters were
documented as nullable, so `GET /approvals?role=null` was schema-valid and refused.
tests/api/test_openapi_conformance.py runs Schemathesis against the live server;
these check the document's shape in-process, fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from promoflow.config import Settings

Auth = Callable[[str], dict[str, str]]
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def document(test_settings: Settings) -> dict[str, Any]:
    from promoflow.app import create_app

    return create_app(test_settings, manage_runtime=False).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _not_problem_json(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, status) of every error response not declared as the Problem schema.

    Errors are 4xx, 5xx, the `4XX`/`5XX` ranges and `default` (which a client reads as
    "any other status"); a response given by `$ref` is read from components.
    """
    shared = document.get("components", {}).get("responses", {})
    wrong = []
    for method, path, operation in _operations(document):
        for status, declared in operation["responses"].items():
            if not (status.startswith(("4", "5")) or status == "default"):
                continue
            response = declared
            if "$ref" in declared:
                response = shared.get(declared["$ref"].rsplit("/", 1)[-1], {})
            content = response.get("content", {})
            schema = content.get("application/problem+json", {}).get("schema")
            if list(content) != ["application/problem+json"] or schema != PROBLEM_REF:
                wrong.append((method, path, status))
    return wrong


def test_every_error_is_documented_as_problem_json(document: dict[str, Any]) -> None:
    assert _not_problem_json(document) == []
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Problem"]["required"]) >= {"type", "title", "status", "detail"}


def test_a_route_that_declares_an_error_otherwise_is_caught() -> None:
    """The check above fails on any route whose error is not problem+json: FastAPI's own
    422, a bare 404, a `default` in another shape, or one shared through components."""
    from fastapi import FastAPI

    from promoflow.api.problems import install_problem_handlers, problem_responses

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/fine/{ref}", responses=problem_responses(404))
    def fine(ref: int) -> dict[str, int]:
        return {"ref": ref}

    @app.get("/bare", responses={404: {"description": "gone"}, "default": {"description": "?"}})
    def bare() -> dict[str, int]:
        return {}

    document = app.openapi()
    assert sorted(_not_problem_json(document)) == [
        ("GET", "/bare", "404"),
        ("GET", "/bare", "default"),
        ("GET", "/fine/{ref}", "422"),  # FastAPI's HTTPValidationError, never what we send
    ]
    document["components"]["responses"] = {"Gone": {"description": "gone"}}
    document["paths"]["/bare"]["get"]["responses"] = {
        "410": {"$ref": "#/components/responses/Gone"}
    }
    assert ("GET", "/bare", "410") in _not_problem_json(document)


def test_every_api_route_declares_what_it_may_answer(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if not path.startswith("/api/v1/"):
            continue
        statuses = set(operation["responses"])
        assert {"401", "413", "422", "503"} <= statuses, (method, path, statuses)
        if "{" in path:
            assert "404" in statuses, (method, path, statuses)
        if method == "POST" and path not in ("/api/v1/promotions", "/api/v1/connections"):
            assert "403" in statuses and "409" in statuses, (method, path, statuses)


def test_no_query_parameter_is_documented_as_nullable(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            branches = schema.get("anyOf", [schema])
            assert {"type": "null"} not in branches, (method, path, parameter["name"])


def test_role_and_status_filters_are_documented_as_their_values(document: dict[str, Any]) -> None:
    from promoflow.kit.bounds import MAX_PAGE
    from promoflow.kit.roles import ROLES
    from promoflow.promotions.models import STATES

    def query(path: str, name: str) -> dict[str, Any]:
        parameters = document["paths"][path]["get"]["parameters"]
        return dict(next(p for p in parameters if p["name"] == name)["schema"])

    assert query("/api/v1/approvals", "role")["enum"] == list(ROLES)
    assert query("/api/v1/promotions", "status")["enum"] == list(STATES)
    assert query("/api/v1/promotions", "limit")["maximum"] == MAX_PAGE
    assert "offset" not in {
        p["name"] for p in document["paths"]["/api/v1/promotions"]["get"]["parameters"]
    }
    assert query("/api/v1/catalog/items", "status")["enum"] == [
        "active",
        "inactive",
        "discontinued",
    ]
    assert query("/api/v1/catalog/locations", "kind")["enum"] == ["store", "dc", "ecommerce"]


def test_null_and_unknown_filters_are_refused_as_documented(client: TestClient, auth: Auth) -> None:
    refused = client.get("/api/v1/approvals?role=null", headers=auth("auditor"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "role"
    accepted = client.get("/api/v1/approvals?role=finance_approver", headers=auth("auditor"))
    assert accepted.status_code == 200


def test_a_method_not_allowed_names_every_method_of_the_path(
    client: TestClient, auth: Auth
) -> None:
    response = client.delete("/api/v1/promotions", headers=auth("auditor"))
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


def test_the_documented_case_actions_are_the_ones_the_cases_know(
    document: dict[str, Any],
) -> None:
    """A client reading the document sees exactly the actions a case can offer."""
    documented = document["components"]["schemas"]["CaseAction"]["enum"]
    assert sorted(documented) == sorted(
        ["retry", "waive", "reassign", "escalate", "cancel_promotion"]
    )
