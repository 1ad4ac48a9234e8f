"""The planning policy: a versioned YAML file validated into typed settings.

It says when an allocation or replenishment recommendation applies by itself,
how long a planner has to decide the others, and how live sell-through is watched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import ErrorDetails

from promoflow.allocation.schemas import PolicyData
from promoflow.config import get_settings
from promoflow.kit.policy import load_policy
from promoflow.kit.roles import ROLES, Role

BUNDLED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "planning.yaml"
POLICY_FILE_NAME = "planning.yaml"
SECTIONS = ("allocation", "replenishment", "sell_through")


def _known_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role; known roles are {', '.join(ROLES)}")
    return role


def _not_negative(value: float) -> float:
    if value < 0.0:
        raise ValueError("must be 0 or more")
    return value


def _positive(value: float) -> float:
    if value <= 0.0:
        raise ValueError("must be greater than 0")
    return value


def _share(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 and 1")
    return value


KnownRole = Annotated[str, AfterValidator(_known_role)]
Amount = Annotated[float, AfterValidator(_not_negative)]
Positive = Annotated[float, AfterValidator(_positive)]
Share = Annotated[float, AfterValidator(_share)]


class _Strict(BaseModel):
    # strict: a quoted "300" or "yes" in the file is a mistake worth reporting.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ReviewSettings(_Strict):
    """How long a proposal waits for a planner: a reminder, then an overdue case."""

    remind_after_hours: Positive
    sla_hours: Positive
    escalate_to: KnownRole = Role.OPERATIONS_ADMIN.value


class AllocationAutoApply(_Strict):
    max_units: Amount
    max_transfer_cost: Amount


class AllocationSettings(_Strict):
    transfer_cost_per_unit: Amount
    filled_unit_value: Positive
    auto_apply: AllocationAutoApply
    review: ReviewSettings


class ReplenishmentAutoApply(_Strict):
    max_units: Amount
    max_order_value: Amount


class ReplenishmentSettings(_Strict):
    quantile: Literal["p10", "p50", "p90"] = "p90"
    safety_stock_share: Amount = 0.0
    min_order_units: Amount = 0.0
    ack_due_hours: Positive
    auto_apply: ReplenishmentAutoApply
    review: ReviewSettings


class SellThroughSettings(_Strict):
    check_every_hours: Positive
    min_elapsed_share: Share
    above_p90_factor: Positive
    below_p10_factor: Positive
    min_units_gap: Amount


class PlanningPolicy(_Strict):
    """A validated planning policy; `version` is stored with every recommendation."""

    version: str = Field(min_length=1, max_length=32)
    allocation: AllocationSettings
    replenishment: ReplenishmentSettings
    sell_through: SellThroughSettings


def default_policy_path() -> Path:
    """The configured policy (PROMOFLOW_POLICY_DIR/planning.yaml) or the bundled one."""
    policy_dir = get_settings().policy_dir
    if policy_dir is not None:
        return policy_dir / POLICY_FILE_NAME
    return BUNDLED_POLICY


def load_planning_policy(path: Path | None = None) -> PlanningPolicy:
    """Read and validate a planning policy; None reads the configured or bundled file."""
    source = path if path is not None else default_policy_path()
    return load_policy(
        source,
        PlanningPolicy,
        what="planning policy",
        top_level="'version', " + ", ".join(f"'{name}'" for name in SECTIONS),
        describe=_describe,
    )


def _describe(error: ErrorDetails) -> str:
    """One problem as 'field.path=value: what is wrong'."""
    path = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{path}: required setting is missing"
    if kind == "extra_forbidden" and len(error["loc"]) == 1:
        reason = f"unknown section; known sections are version, {', '.join(SECTIONS)}"
    elif kind == "extra_forbidden":
        reason = "unknown setting; remove it or check its spelling"
    else:
        reason = error["msg"].removeprefix("Value error, ")
    return f"{path}={error['input']!r}: {reason}"


def policy_data(policy: PlanningPolicy) -> PolicyData:
    """The policy as plain data, the form a workflow checkpoints and replays."""
    return cast(PolicyData, policy.model_dump(mode="json"))
