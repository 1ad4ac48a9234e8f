"""Loading the gate policy: the bundled file, and every way a file can be wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from promoflow.config import get_settings
from promoflow.gates.policy import BUNDLED_POLICY, GATE_NAMES, load_gate_policy
from promoflow.kit.errors import PolicyError


def _bundled() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(BUNDLED_POLICY.read_text())
    return data


def _write(tmp_path: Path, data: Any, name: str = "gates.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def test_bundled_policy_loads_every_gate_with_its_thresholds() -> None:
    policy = load_gate_policy()
    assert policy.version == "2026.11-2"
    assert [name for name in GATE_NAMES if not policy.gate(name).blocking] == ["overstock_risk"]
    coverage = policy.gates.inventory_coverage
    assert (coverage.min_coverage_ratio, coverage.min_share_covered, coverage.quantile) == (
        1.0,
        0.95,
        "p90",
    )
    assert policy.gates.store_readiness.min_confirmed_share == 0.9
    assert policy.gate("approvals_complete").waivable_by == []
    assert policy.gate("supplier_commitments").waivable_by == ["supply_chain_planner"]
    assert policy.gates.stockout_risk.max_share_of_demand_lost == 0.05
    assert policy.gates.overstock_risk.max_weeks_of_supply == 8.0
    suppliers = policy.gates.supplier_commitments
    assert suppliers.failing_bands == ["high"]
    assert suppliers.min_days_before_start == 3
    assert (suppliers.risk_bands.medium_from, suppliers.risk_bands.high_from) == (0.10, 0.25)
    assert (suppliers.prior_strength, suppliers.history_days) == (10.0, 365)


def test_policy_dir_setting_points_at_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _bundled()
    data["version"] = "local-7"
    _write(tmp_path, data)
    monkeypatch.setenv("PROMOFLOW_POLICY_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert load_gate_policy().version == "local-7"
    finally:
        get_settings.cache_clear()


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "gates.inventory_coverage.min_share_covered",
            1.7,
            "gates.inventory_coverage.min_share_covered=1.7: must be between 0 and 1",
        ),
        (
            "gates.store_readiness.min_confirmed_share",
            -0.1,
            "gates.store_readiness.min_confirmed_share=-0.1: must be between 0 and 1",
        ),
        (
            "gates.inventory_coverage.min_coverage_ratio",
            0,
            "gates.inventory_coverage.min_coverage_ratio=0: must be greater than 0",
        ),
        (
            "gates.store_readiness.min_confirmed_share",
            "0.9",
            "gates.store_readiness.min_confirmed_share='0.9': Input should be a valid number",
        ),
        (
            "gates.approvals_complete.blocking",
            "yes",
            "gates.approvals_complete.blocking='yes': Input should be a valid boolean",
        ),
        (
            "gates.inventory_coverage.quantile",
            "p95",
            "gates.inventory_coverage.quantile='p95': Input should be 'p10', 'p50' or 'p90'",
        ),
        (
            "gates.price_validity.waivable_by",
            ["pricing_analyst", "cashier"],
            "gates.price_validity.waivable_by.1='cashier': unknown role",
        ),
        (
            "gates.stock_level",
            {"blocking": True},
            "gates.stock_level={'blocking': True}: unknown gate",
        ),
        (
            "gates.store_readiness.min_confirmed",
            0.5,
            "gates.store_readiness.min_confirmed=0.5: unknown setting",
        ),
        ("version", 2026.11, "version=2026.11: Input should be a valid string"),
        (
            "gates.stockout_risk.max_share_of_demand_lost",
            5,
            "gates.stockout_risk.max_share_of_demand_lost=5: must be between 0 and 1",
        ),
        (
            "gates.overstock_risk.max_weeks_of_supply",
            -2.0,
            "gates.overstock_risk.max_weeks_of_supply=-2.0: must be greater than 0",
        ),
        (
            "gates.supplier_commitments.failing_bands",
            ["high", "severe"],
            "gates.supplier_commitments.failing_bands.1='severe': "
            "Input should be 'low', 'medium' or 'high'",
        ),
        (
            "gates.supplier_commitments.min_days_before_start",
            -1,
            "gates.supplier_commitments.min_days_before_start=-1: "
            "Input should be greater than or equal to 0",
        ),
        (
            "gates.supplier_commitments.min_days_before_start",
            2.5,
            "gates.supplier_commitments.min_days_before_start=2.5: Input should be a valid integer",
        ),
        (
            "gates.supplier_commitments.risk_bands",
            {"medium_from": 0.3, "high_from": 0.2},
            # (yaml.safe_dump writes the keys sorted)
            "gates.supplier_commitments.risk_bands={'high_from': 0.2, 'medium_from': 0.3}: "
            "high_from (0.2) must not be below medium_from (0.3)",
        ),
        (
            "gates.supplier_commitments.risk_bands.high_from",
            1.5,
            "gates.supplier_commitments.risk_bands.high_from=1.5: must be between 0 and 1",
        ),
        (
            "gates.supplier_commitments.prior_strength",
            -10.0,
            "gates.supplier_commitments.prior_strength=-10.0: must be 0 or more",
        ),
        (
            "gates.supplier_commitments.history_days",
            0,
            "gates.supplier_commitments.history_days=0: Input should be greater than or equal to 1",
        ),
    ],
)
def test_malformed_policy_names_file_field_and_value(
    tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    data = _bundled()
    _set(data, path, value)
    source = _write(tmp_path, data)
    with pytest.raises(PolicyError) as raised:
        load_gate_policy(source)
    assert str(raised.value).startswith(f"{source}: ")
    assert expected in str(raised.value)


@pytest.mark.parametrize("gate", ["channel_readiness", "stockout_risk", "overstock_risk"])
def test_missing_gate_is_reported_not_defaulted(tmp_path: Path, gate: str) -> None:
    data = _bundled()
    del data["gates"][gate]
    with pytest.raises(PolicyError, match=rf"gates\.{gate}: required setting is missing"):
        load_gate_policy(_write(tmp_path, data))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = _bundled()
    data["gates"]["inventory_coverage"]["min_share_covered"] = 2
    data["gates"]["channel_readiness"]["waivable_by"] = ["intern"]
    with pytest.raises(PolicyError) as raised:
        load_gate_policy(_write(tmp_path, data))
    assert "min_share_covered=2" in str(raised.value)
    assert "waivable_by.0='intern'" in str(raised.value)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    source = _write(tmp_path, 'version: "1"\ngates:\n  inventory_coverage: {blocking: true\n')
    with pytest.raises(PolicyError, match=r"gates\.yaml: not valid YAML at line 4"):
        load_gate_policy(source)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"\(top level\)=\['inventory_coverage'\]"):
        load_gate_policy(_write(tmp_path, "- inventory_coverage\n"))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nowhere\.yaml: cannot read the gate policy"):
        load_gate_policy(tmp_path / "nowhere.yaml")
