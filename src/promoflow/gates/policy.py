"""The launch gate policy: a versioned YAML file validated into typed settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import ErrorDetails

from promoflow.config import get_settings
from promoflow.kit.policy import load_policy
from promoflow.kit.roles import ROLES

BUNDLED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "gates.yaml"
POLICY_FILE_NAME = "gates.yaml"


def _known_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role; known roles are {', '.join(ROLES)}")
    return role


def _share(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be between 0 and 1")
    return value


def _positive(value: float) -> float:
    if value <= 0.0:
        raise ValueError("must be greater than 0")
    return value


def _not_negative(value: float) -> float:
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


Role = Annotated[str, AfterValidator(_known_role)]
Share = Annotated[float, AfterValidator(_share)]
PositiveRatio = Annotated[float, AfterValidator(_positive)]
NotNegative = Annotated[float, AfterValidator(_not_negative)]
Days = Annotated[int, Field(ge=0, le=365)]
RiskBand = Literal["low", "medium", "high"]


class GateSettings(BaseModel):
    """Settings every gate has: whether it blocks launch and who may waive it."""

    # strict: a quoted "0.9" or "yes" in the file is a mistake worth reporting.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    blocking: bool = True
    waivable_by: list[Role] = Field(default_factory=list)


class InventoryCoverageGate(GateSettings):
    min_coverage_ratio: PositiveRatio = 1.0
    min_share_covered: Share = 0.95
    quantile: Literal["p10", "p50", "p90"] = "p90"


class StockoutRiskGate(GateSettings):
    max_share_of_demand_lost: Share = 0.05


class OverstockRiskGate(GateSettings):
    blocking: bool = False
    max_weeks_of_supply: PositiveRatio = 8.0


class SupplierRiskBands(BaseModel):
    """Risk scores (0 reliable … 1 risky) where the medium and the high band start."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    medium_from: Share = 0.10
    high_from: Share = 0.25

    @model_validator(mode="after")
    def _ordered(self) -> SupplierRiskBands:
        if self.high_from < self.medium_from:
            raise ValueError(
                f"high_from ({self.high_from:g}) must not be below medium_from "
                f"({self.medium_from:g})"
            )
        return self


def _high_only() -> list[RiskBand]:
    return ["high"]


class SupplierCommitmentsGate(GateSettings):
    failing_bands: list[RiskBand] = Field(default_factory=_high_only)
    min_days_before_start: Days = 3
    risk_bands: SupplierRiskBands = Field(default_factory=SupplierRiskBands)
    prior_strength: NotNegative = 10.0
    history_days: Annotated[int, Field(ge=1, le=3660)] = 365


class StoreReadinessGate(GateSettings):
    min_confirmed_share: Share = 0.9


class GatesConfig(BaseModel):
    """One entry per gate; every gate must be configured, none may be invented."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    inventory_coverage: InventoryCoverageGate
    stockout_risk: StockoutRiskGate
    overstock_risk: OverstockRiskGate
    supplier_commitments: SupplierCommitmentsGate
    price_validity: GateSettings
    approvals_complete: GateSettings
    store_readiness: StoreReadinessGate
    channel_readiness: GateSettings


# The gates in policy order: the fields of GatesConfig, so a gate is named once.
GATE_NAMES: tuple[str, ...] = tuple(GatesConfig.model_fields)


class GatePolicy(BaseModel):
    """A validated gate policy; `version` is stored with every gate result."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: str = Field(min_length=1, max_length=32)
    gates: GatesConfig

    def gate(self, name: str) -> GateSettings:
        """The settings of gate `name` (one of GATE_NAMES)."""
        if name not in GATE_NAMES:
            raise KeyError(name)
        settings: GateSettings = getattr(self.gates, name)
        return settings


def default_policy_path() -> Path:
    """The configured policy (PROMOFLOW_POLICY_DIR/gates.yaml) or the bundled one."""
    policy_dir = get_settings().policy_dir
    if policy_dir is not None:
        return policy_dir / POLICY_FILE_NAME
    return BUNDLED_POLICY


def load_gate_policy(path: Path | None = None) -> GatePolicy:
    """Read and validate a gate policy; None reads the configured or bundled file."""
    source = path if path is not None else default_policy_path()
    return load_policy(
        source,
        GatePolicy,
        what="gate policy",
        top_level="'version' and 'gates'",
        describe=_describe,
    )


def _describe(error: ErrorDetails) -> str:
    """One problem as 'field.path=value: what is wrong'."""
    loc = error["loc"]
    path = ".".join(str(part) for part in loc)
    kind = error["type"]
    if kind == "missing":
        return f"{path}: required setting is missing"
    if kind == "extra_forbidden" and len(loc) == 2 and loc[0] == "gates":
        reason = f"unknown gate; known gates are {', '.join(GATE_NAMES)}"
    elif kind == "extra_forbidden":
        reason = "unknown setting; remove it or check its spelling"
    else:
        reason = error["msg"].removeprefix("Value error, ")
    return f"{path}={error['input']!r}: {reason}"
