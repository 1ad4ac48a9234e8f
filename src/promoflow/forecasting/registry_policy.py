"""The model governance policy (policies/models.yaml) validated into typed settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from promoflow.config import get_settings
from promoflow.kit.errors import PolicyError
from promoflow.kit.roles import ROLES

BUNDLED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "models.yaml"
POLICY_FILE_NAME = "models.yaml"


def _known_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role; known roles are {', '.join(ROLES)}")
    return role


Role = Annotated[str, AfterValidator(_known_role)]


class PromotionRule(BaseModel):
    """What a challenger must show, and who must approve, to become champion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # A backtest metric where lower is better.
    metric: Literal["wape_promo", "wape"] = "wape_promo"
    min_improvement_pct: float = Field(default=2.0, ge=0.0, lt=100.0)
    require_same_data: bool = True
    approver_roles: list[Role] = Field(min_length=1)


class ModelPolicy(BaseModel):
    """A validated model governance policy; `version` is recorded with every promotion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: str = Field(min_length=1, max_length=32)
    promotion: PromotionRule


def default_policy_path() -> Path:
    """The configured policy (PROMOFLOW_POLICY_DIR/models.yaml) or the bundled one."""
    policy_dir = get_settings().policy_dir
    if policy_dir is not None:
        return policy_dir / POLICY_FILE_NAME
    return BUNDLED_POLICY


def load_model_policy(path: Path | None = None) -> ModelPolicy:
    """Read and validate the model policy; None reads the configured or bundled file."""
    source = path if path is not None else default_policy_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(
            f"{source}: cannot read the model policy: {error.strerror}", path=str(source)
        ) from error
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyError(
            f"{source}: not valid YAML{where}: {problem}", path=str(source)
        ) from error
    if not isinstance(raw, dict):
        raise PolicyError(
            f"{source}: (top level)={raw!r}: must be a mapping with 'version' and 'promotion'",
            path=str(source),
        )
    try:
        return ModelPolicy.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in issue['loc'])}={issue.get('input')!r}: "
            + issue["msg"].removeprefix("Value error, ")
            for issue in error.errors()
        ]
        raise PolicyError(
            f"{source}: " + "; ".join(problems), path=str(source), problems=problems
        ) from error
