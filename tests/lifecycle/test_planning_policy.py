"""The planning policy file: the bundled one loads; a broken one names field and value,
and a running promotion waits in an exception case until it is fixed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from lifecycle_support import (
    cases,
    desk_for,
    drive,
    make_planned,
    recommendation,
    submit,
    wait_until,
)

from promoflow.allocation.policy import BUNDLED_POLICY, load_planning_policy
from promoflow.kit.errors import PolicyError
from promoflow.lifecycle import commands
from promoflow.runtime import Runtime


def _write(tmp_path: Path, change: dict[str, object]) -> Path:
    """The bundled policy with one dotted setting replaced (None removes it)."""
    data = yaml.safe_load(BUNDLED_POLICY.read_text())
    *parents, last = next(iter(change)).split(".")
    node = data
    for key in parents:
        node = node[key]
    value = next(iter(change.values()))
    if value is None:
        del node[last]
    else:
        node[last] = value
    path = tmp_path / "planning.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_bundled_policy_loads_with_its_version() -> None:
    policy = load_planning_policy(BUNDLED_POLICY)
    assert policy.version
    assert policy.allocation.auto_apply.max_units > 0
    assert policy.replenishment.quantile == "p90"
    assert policy.sell_through.above_p90_factor >= 1.0 >= policy.sell_through.below_p10_factor


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"allocation.auto_apply.max_units": -5}, "allocation.auto_apply.max_units=-5: must be 0"),
        ({"allocation.auto_apply.max_units": "300"}, "max_units='300'"),
        ({"allocation.review.escalate_to": "boss"}, "escalate_to='boss': unknown role"),
        ({"replenishment.quantile": "p99"}, "replenishment.quantile='p99'"),
        ({"sell_through.min_elapsed_share": 1.5}, "must be between 0 and 1"),
        ({"sell_through.check_every_hours": None}, "check_every_hours: required setting"),
        ({"allocation.auto_apply.max_pallets": 3}, "max_pallets=3: unknown setting"),
        ({"forecasting": {}}, "forecasting={}: unknown section"),
    ],
)
def test_a_broken_policy_names_the_field_and_value(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_planning_policy(_write(tmp_path, change))
    assert expected in caught.value.message
    assert "planning.yaml" in caught.value.message


def test_an_unreadable_or_non_yaml_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the planning policy"):
        load_planning_policy(tmp_path / "missing.yaml")
    broken = tmp_path / "planning.yaml"
    broken.write_text("version: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML at line"):
        load_planning_policy(broken)


def test_a_broken_policy_holds_the_launch_in_a_case_until_it_is_fixed(
    rt: Runtime, tmp_path: Path, done: Callable[[str], bool]
) -> None:
    for policy in BUNDLED_POLICY.parent.glob("*.yaml"):
        shutil.copy(policy, tmp_path / policy.name)
    _write(tmp_path, {"sell_through.min_elapsed_share": 2.0})
    saved = rt.settings
    rt.settings = saved.model_copy(update={"policy_dir": tmp_path})
    try:
        planned = submit(make_planned(rt, items=1))
        desk = desk_for(planned)
        wait_until(
            lambda: bool(cases(rt, planned.promotion_id, "integration_failure")),
            "the policy case",
            desk=desk,
        )
        case = cases(rt, planned.promotion_id, "integration_failure")[0]
        assert case.owner_role == "operations_admin"
        assert "sell_through.min_elapsed_share=2.0" in case.detail
        assert recommendation(rt, planned.promotion_id, "allocation") is None  # nothing planned
        shutil.copy(BUNDLED_POLICY, tmp_path / "planning.yaml")
        commands.resolve_exception(
            case.id, "retry", "ada.admin", "operations_admin", reason="policy fixed"
        )
        assert drive(planned, done, desk=desk) == "closed"
    finally:
        rt.settings = saved
    found = recommendation(rt, planned.promotion_id, "allocation")
    assert found is not None and found[0].status == "auto_applied"
