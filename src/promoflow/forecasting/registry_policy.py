"""The model governance policy (policies/models.yaml), and judging a challenger by it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import ErrorDetails

from promoflow.config import get_settings
from promoflow.forecasting.models import ModelVersion, model_scores
from promoflow.kit.errors import Conflict
from promoflow.kit.policy import load_policy
from promoflow.kit.roles import ROLES

BUNDLED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "models.yaml"
POLICY_FILE_NAME = "models.yaml"


def _known_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role; known roles are {', '.join(ROLES)}")
    return role


KnownRole = Annotated[str, AfterValidator(_known_role)]


class PromotionRule(BaseModel):
    """What a challenger must show, and who must approve, to become champion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # A backtest metric where lower is better.
    metric: Literal["wape_promo", "wape"] = "wape_promo"
    min_improvement_pct: float = Field(default=2.0, ge=0.0, lt=100.0)
    require_same_data: bool = True
    approver_roles: list[KnownRole] = Field(min_length=1)


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
    return load_policy(
        source,
        ModelPolicy,
        what="model policy",
        top_level="'version' and 'promotion'",
        describe=_describe,
    )


def _describe(issue: ErrorDetails) -> str:
    """One problem as 'field.path=value: what is wrong'."""
    path = ".".join(str(part) for part in issue["loc"])
    return f"{path}={issue.get('input')!r}: " + issue["msg"].removeprefix("Value error, ")


@dataclass(frozen=True)
class Judgement:
    """How a challenger's backtest compared with the champion's, for the event log."""

    metric: str
    challenger: float
    champion: float
    improvement_pct: float
    min_improvement_pct: float
    cutoff: str


def judge(challenger: ModelVersion, current: ModelVersion, policy: ModelPolicy) -> Judgement:
    """Compare backtests under the policy; Conflict naming both figures unless it wins.

    When the challenger's own backtest re-scored the champion's recipe (an entry
    named after the champion's version), that figure is the comparison: same data,
    same cutoff, same run. Otherwise the two stored backtests must be comparable.
    """
    rule = policy.promotion
    rescored = model_scores(challenger.backtest_metrics, current.version)
    if rescored is not None:
        return _judge_figures(
            challenger, current, policy, challenger.metric(rule.metric), rescored.get(rule.metric)
        )
    if challenger.backtest_cutoff != current.backtest_cutoff:
        raise Conflict(
            f"backtests are not comparable: {challenger.version} was backtested at cutoff "
            f"{challenger.backtest_cutoff}, champion {current.version} at cutoff "
            f"{current.backtest_cutoff}; backtest both on the same cutoff",
            cutoffs=[challenger.backtest_cutoff, current.backtest_cutoff],
        )
    if challenger.backtest_horizon != current.backtest_horizon:
        raise Conflict(
            f"backtests are not comparable: {challenger.version} was scored over "
            f"{challenger.backtest_horizon} periods, champion {current.version} over "
            f"{current.backtest_horizon}; backtest both with the same horizon"
        )
    if rule.require_same_data and challenger.data_hash != current.data_hash:
        raise Conflict(
            f"backtests are not comparable: {challenger.version} used data "
            f"{challenger.data_hash[:12]}…, champion {current.version} used "
            f"{current.data_hash[:12]}…; backtest both on the same data "
            f"(model policy {policy.version} requires it)"
        )
    return _judge_figures(
        challenger, current, policy, challenger.metric(rule.metric), current.metric(rule.metric)
    )


def _judge_figures(
    challenger: ModelVersion,
    current: ModelVersion,
    policy: ModelPolicy,
    ours: float | None,
    theirs: Any,
) -> Judgement:
    rule = policy.promotion
    if isinstance(theirs, bool) or not isinstance(theirs, int | float):
        theirs = None
    if ours is None or theirs is None:
        missing = [m.version for m, v in ((challenger, ours), (current, theirs)) if v is None]
        raise Conflict(
            f"backtests are not comparable: no {rule.metric} in the backtest of "
            f"{', '.join(missing)}; re-run the backtest with promotion periods in the held-out "
            "window"
        )
    improvement = (theirs - ours) / theirs * 100.0 if theirs > 0 else 0.0
    needed = theirs * (1.0 - rule.min_improvement_pct / 100.0)
    if not (ours < theirs and ours <= needed):
        raise Conflict(
            f"challenger {challenger.version} does not beat champion {current.version} on "
            f"{rule.metric}: {ours:.4f} against {theirs:.4f} ({_change(improvement)}); "
            f"model policy {policy.version} needs at least {rule.min_improvement_pct:g}% "
            f"lower, i.e. {rule.metric} <= {needed:.4f}",
            challenger=ours,
            champion=theirs,
            needed=needed,
        )
    return Judgement(
        metric=rule.metric,
        challenger=ours,
        champion=theirs,
        improvement_pct=round(improvement, 3),
        min_improvement_pct=rule.min_improvement_pct,
        cutoff=challenger.backtest_cutoff,
    )


# What a measure is called in a reason a planner reads.
MEASURES = {"wape_promo": "promotion-week WAPE", "wape": "WAPE"}
# Entries of a backtest's "models" a model must beat to be the first champion:
# what the workflow forecasts with today, and what a retailer could use instead.
YARDSTICK_KINDS = ("comparator", "baseline")


@dataclass(frozen=True)
class BaselineJudgement:
    """How a model's backtest compared with the best comparator or baseline in the same run."""

    metric: str
    model: float
    best: str
    best_kind: str
    best_figure: float
    improvement_pct: float
    horizon: int | None
    # The overall WAPE of both, when the backtest has it: the other half of the picture.
    wape: float | None
    best_wape: float | None

    def reason(self) -> str:
        """The measured figures in words, e.g. for the promotion's recorded reason."""
        window = f"{self.horizon} held-out weeks" if self.horizon else "held-out weeks"
        text = (
            f"backtest, {window}: {MEASURES.get(self.metric, self.metric)} {self.model:.3f} "
            f"against {self.best_figure:.3f} for {self.best}, the best {self.best_kind} "
            f"({_better(self.improvement_pct)})"
        )
        if self.metric != "wape" and self.wape is not None and self.best_wape is not None:
            text += f"; WAPE {self.wape:.3f} against {self.best_wape:.3f}"
        return text


def against_baselines(
    backtest: Mapping[str, Any], model: str, policy: ModelPolicy, version: str | None = None
) -> BaselineJudgement:
    """Does `model` beat the best comparator or baseline of its backtest on the policy's metric?

    Conflict naming the figures unless it is strictly lower: a model that does not
    beat the history-baseline forecaster the workflow already uses, or a plain
    alternative, has not earned the place. Without a champion this is the bar for
    promotion (see `judge_first`); the demo asks before it promotes.
    """
    metric = policy.promotion.metric
    name = version or model
    ours = _figure(model_scores(backtest, model) or {}, metric)
    if ours is None:
        raise Conflict(
            f"{name} cannot be judged against the baselines: its backtest has no {metric}; "
            "re-run the backtest with promotion periods in the held-out window"
        )
    entries = backtest.get("models")
    yardsticks = [
        entry
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, Mapping)
        and entry.get("kind") in YARDSTICK_KINDS
        and _figure(entry, metric) is not None
    ]
    if not yardsticks:
        raise Conflict(
            f"{name} cannot be judged against the baselines: its backtest scored no comparator "
            f"or baseline on {metric}, so nothing shows it beats the forecaster the workflow "
            "uses without a champion; re-run the backtest with them"
        )
    best = min(yardsticks, key=lambda entry: _figure(entry, metric) or 0.0)
    theirs = _figure(best, metric)
    assert theirs is not None
    improvement = (theirs - ours) / theirs * 100.0 if theirs > 0 else 0.0
    data = backtest.get("data")
    horizon = data.get("horizon") if isinstance(data, Mapping) else None
    judgement = BaselineJudgement(
        metric=metric,
        model=ours,
        best=str(best.get("model")),
        best_kind=str(best.get("kind")),
        best_figure=theirs,
        improvement_pct=round(improvement, 3),
        horizon=horizon if isinstance(horizon, int) and not isinstance(horizon, bool) else None,
        wape=_figure(model_scores(backtest, model) or {}, "wape"),
        best_wape=_figure(best, "wape"),
    )
    if not ours < theirs:
        raise Conflict(
            f"{name} does not beat the best comparator or baseline of its backtest: "
            f"{judgement.reason()}; model policy {policy.version} needs a lower {metric} "
            "before a first champion replaces the history-baseline forecaster",
            model=ours,
            best=theirs,
        )
    return judgement


def judge_first(model: ModelVersion, policy: ModelPolicy) -> BaselineJudgement:
    """The first champion of a kind (or the first after a retirement) must beat the baselines."""
    return against_baselines(
        model.backtest_metrics, model.backtest_model, policy, version=model.version
    )


def _figure(entry: Mapping[str, Any], metric: str) -> float | None:
    value = entry.get(metric)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _better(improvement_pct: float) -> str:
    if improvement_pct >= 0:
        return f"{improvement_pct:.1f} % better"
    return f"{-improvement_pct:.1f} % worse"


def _change(improvement_pct: float) -> str:
    if improvement_pct >= 0:
        return f"{improvement_pct:.1f}% lower"
    return f"{-improvement_pct:.1f}% higher"
