"""The access policy file: checked when loaded, agreeing with the other policies, rendered."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from promoflow.approvals.matrix import load_approval_policy
from promoflow.gates.policy import GATE_NAMES, load_gate_policy
from promoflow.identity.access import BUNDLED_POLICY, bundled_policy, load_access_policy
from promoflow.identity.access import render_markdown as render
from promoflow.kit.errors import PolicyError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access.md"


def _write(tmp_path: Path, change: dict[str, object]) -> Path:
    raw = yaml.safe_load(BUNDLED_POLICY.read_text())
    raw.update(change)
    path = tmp_path / "access.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_docs_access_page_is_the_rendered_policy() -> None:
    assert DOCS.read_text() == render(bundled_policy()), (
        "docs/access.md differs from the policy: run "
        "`promoflow auth policy --markdown > docs/access.md`"
    )


def test_the_roles_that_may_waive_are_the_gate_policys() -> None:
    gates = load_gate_policy()
    waivers = {role for name in GATE_NAMES for role in gates.gate(name).waivable_by}
    assert bundled_policy().roles_of("gates.waive") == waivers


def test_the_roles_that_may_decide_are_the_approval_matrixs() -> None:
    matrix = load_approval_policy()
    deciders = set(matrix.roles) | {rules.escalate_to for rules in matrix.roles.values()}
    assert bundled_policy().roles_of("approvals.decide") == deciders


def test_an_auditor_holds_no_permission_to_change_anything() -> None:
    policy = bundled_policy()
    changes = {rule.permission for key, rule in policy.routes.items() if key.startswith("POST")}
    assert not [name for name in changes if policy.allows("auditor", name)]


def test_an_unknown_role_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path, {"permissions": {"audit.read": {"about": "read", "roles": ["auditer"]}}}
    )
    with pytest.raises(PolicyError, match="'auditer' is not a role"):
        load_access_policy(path)


def test_a_route_needing_an_undefined_permission_is_named(tmp_path: Path) -> None:
    raw = yaml.safe_load(BUNDLED_POLICY.read_text())
    raw["routes"]["GET /audit"]["permission"] = "audit.peek"
    path = tmp_path / "access.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PolicyError, match=r"GET /audit.*'audit\.peek'"):
        load_access_policy(path)


def test_the_api_refuses_to_start_with_a_route_the_policy_misses(tmp_path: Path) -> None:
    from promoflow.app import create_app
    from promoflow.config import Settings

    raw = yaml.safe_load(BUNDLED_POLICY.read_text())
    del raw["routes"]["GET /audit"]
    raw["routes"]["GET /nothing-here"] = {"permission": "audit.read", "scope": "retailer"}
    (tmp_path / "access.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(PolicyError) as refused:
        create_app(Settings(policy_dir=tmp_path), manage_runtime=False)
    assert "no rule for GET /audit" in str(refused.value)
    assert "GET /nothing-here" in str(refused.value)


def test_every_operation_documents_its_rule() -> None:
    from promoflow.app import create_app
    from promoflow.config import Settings

    document = create_app(Settings(), manage_runtime=False).openapi()
    policy = bundled_policy()
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            rule = policy.rule(method.upper(), path.removeprefix("/api/v1"))
            assert rule is not None
            access = operation["x-promoflow-access"]
            assert access["permission"] == rule.permission, path
            assert access["scope"] == rule.scope.value, path
            assert f"permission `{rule.permission}`" in operation["description"], path
