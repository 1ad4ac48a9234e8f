"""A malformed approval policy is refused with the file, the field and the value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from promoflow.approvals.matrix import BUNDLED_POLICY, load_approval_policy
from promoflow.kit.errors import PolicyError


def bundled() -> dict[str, Any]:
    raw = yaml.safe_load(BUNDLED_POLICY.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "approvals.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def refusal(tmp_path: Path, raw: dict[str, Any]) -> PolicyError:
    path = write(tmp_path, raw)
    with pytest.raises(PolicyError) as caught:
        load_approval_policy(path)
    assert str(path) in caught.value.message
    return caught.value


def test_an_explicit_path_loads_the_same_policy(tmp_path: Path) -> None:
    policy = load_approval_policy(write(tmp_path, bundled()))
    assert policy == load_approval_policy()


def test_unknown_role_in_a_rule(tmp_path: Path) -> None:
    raw = bundled()
    raw["rules"][1]["role"] = "category_boss"
    error = refusal(tmp_path, raw)
    assert "rules[1].role='category_boss': unknown role" in error.message
    assert error.context["errors"][0]["field"] == "rules[1].role"


def test_unknown_role_with_an_sla(tmp_path: Path) -> None:
    raw = bundled()
    raw["roles"]["pricing_analist"] = raw["roles"].pop("pricing_analyst")
    error = refusal(tmp_path, raw)
    assert "roles.pricing_analist='pricing_analist': unknown role" in error.message
    # The rule that names pricing_analyst now has no SLA: that is reported too.
    assert "rules[0].role='pricing_analyst': role has no SLA" in error.message


def test_negative_sla(tmp_path: Path) -> None:
    raw = bundled()
    raw["roles"]["finance_approver"]["sla_hours"] = -4
    error = refusal(tmp_path, raw)
    assert "roles.finance_approver.sla_hours=-4" in error.message
    assert "greater than 0" in error.message


@pytest.mark.parametrize("fraction", [0, 1, 1.5])
def test_reminder_fraction_outside_zero_one(tmp_path: Path, fraction: float) -> None:
    raw = bundled()
    raw["roles"]["pricing_analyst"]["reminder_at_fraction"] = fraction
    error = refusal(tmp_path, raw)
    assert f"roles.pricing_analyst.reminder_at_fraction={fraction!r}" in error.message


def test_escalation_to_itself(tmp_path: Path) -> None:
    raw = bundled()
    raw["roles"]["finance_approver"]["escalate_to"] = "finance_approver"
    error = refusal(tmp_path, raw)
    assert (
        "roles.finance_approver.escalate_to='finance_approver': a role cannot escalate to itself"
        in error.message
    )


def test_escalation_to_an_unknown_role(tmp_path: Path) -> None:
    raw = bundled()
    raw["roles"]["finance_approver"]["escalate_to"] = "cfo"
    error = refusal(tmp_path, raw)
    assert "roles.finance_approver.escalate_to='cfo': unknown role" in error.message


def test_expiry_before_the_sla(tmp_path: Path) -> None:
    raw = bundled()
    raw["roles"]["category_manager"]["expire_after_hours"] = 10
    error = refusal(tmp_path, raw)
    assert (
        "roles.category_manager.expire_after_hours=10.0: must be later than sla_hours (16)"
        in error.message
    )


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    raw = bundled()
    raw["rules"][2]["when"]["discount_over"] = 0.5
    error = refusal(tmp_path, raw)
    assert "rules[2].when.discount_over=0.5: Extra inputs are not permitted" in error.message


def test_discount_depth_given_as_a_percentage(tmp_path: Path) -> None:
    raw = bundled()
    raw["rules"][1]["when"] = {"discount_depth_at_least": 30}
    error = refusal(tmp_path, raw)
    assert "rules[1].when.discount_depth_at_least=30" in error.message


def test_rule_without_conditions(tmp_path: Path) -> None:
    raw = bundled()
    raw["rules"][1]["when"] = {}
    error = refusal(tmp_path, raw)
    assert "rules[1].when={}: give at least one condition" in error.message


def test_always_combined_with_a_condition(tmp_path: Path) -> None:
    raw = bundled()
    raw["rules"][0]["when"] = {"always": True, "below_cost_items_at_least": 1}
    error = refusal(tmp_path, raw)
    assert "rules[0].when.always=True" in error.message


def test_reason_with_an_unknown_placeholder(tmp_path: Path) -> None:
    raw = bundled()
    raw["rules"][3]["reason"] = "Margin {margin} is too low"
    error = refusal(tmp_path, raw)
    assert "rules[3].reason='Margin {margin} is too low': placeholder cannot be filled" in (
        error.message
    )


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    raw = bundled()
    raw["rules"][4]["id"] = raw["rules"][3]["id"]
    error = refusal(tmp_path, raw)
    assert "rules[4].id='margin_loss': rule ids must be unique" in error.message


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "approvals.yaml"
    path.write_text('version: "1"\nroles:\n  pricing_analyst: [unclosed\n', encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_approval_policy(path)
    assert f"{path}: not valid YAML at line" in caught.value.message


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "approvals.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"\(top level\)=\['just', 'a list'\]"):
        load_approval_policy(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(PolicyError, match="cannot read the approval policy"):
        load_approval_policy(path)
