"""`promoflow simulate roi`: both arms over many seeds, paired differences with 95 % CIs.

For every seed the world is built once and both arms run on it, so each seed gives one
paired difference (promoflow − business as usual) per metric; the interval is the
t-interval over seeds. The sensitivity runs business as usual again with one
assumption at a time set to promoflow's value: how far that one lever moves it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats  # type: ignore[import-untyped]  # SciPy ships no stubs

from promoflow.allocation.policy import load_planning_policy
from promoflow.approvals.matrix import load_approval_policy
from promoflow.gates.policy import load_gate_policy
from promoflow.kit.errors import InvalidInput
from promoflow.simulation.arm import METRICS, Policies, run_arm
from promoflow.simulation.assumptions import (
    ASSUMPTIONS,
    BUSINESS_AS_USUAL,
    PROMOFLOW,
    ArmPolicy,
    SimulationSettings,
    with_promoflow_value,
)
from promoflow.simulation.overrides import check_settings
from promoflow.simulation.world import build_world

DEFAULT_SEEDS = 10
DEFAULT_PROMOTIONS = 12
CONFIDENCE = 0.95
MAX_SEEDS = 1_000
MAX_PROMOTIONS = 500


@dataclass(frozen=True)
class Comparison:
    """One metric: each arm's mean over seeds and the paired difference with its CI."""

    metric: str
    label: str
    business_as_usual: float
    promoflow: float
    difference: float  # promoflow − business as usual, mean over seeds
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Sensitivity:
    """Business as usual with one assumption at promoflow's value: its move, per metric."""

    assumption: str
    effect: dict[str, float]  # mean over seeds of (BAU with it) − (BAU)


@dataclass(frozen=True)
class RoiReport:
    """Everything `simulate roi` prints."""

    seeds: list[int]
    promotions: int
    seconds: float
    comparisons: list[Comparison]
    sensitivity: list[Sensitivity] = field(default_factory=list)
    settings: SimulationSettings = field(default_factory=SimulationSettings)
    business_as_usual: ArmPolicy = BUSINESS_AS_USUAL

    def drivers(self) -> dict[str, str]:
        """Per metric, the assumption whose promoflow value moves BAU furthest."""
        found: dict[str, str] = {}
        for metric in METRICS:
            moved = [(abs(s.effect[metric]), s.assumption) for s in self.sensitivity]
            best = max(moved, default=(0.0, ""))
            if best[0] > 0:
                found[metric] = best[1]
        return found

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form, with the assumptions and the settings behind the figures."""
        return {
            "seeds": self.seeds,
            "promotions": self.promotions,
            "seconds": self.seconds,
            "confidence": CONFIDENCE,
            "comparisons": [asdict(c) for c in self.comparisons],
            "sensitivity": [asdict(s) for s in self.sensitivity],
            "drivers": self.drivers(),
            "assumptions": [
                asdict(a) | {"business_as_usual": getattr(self.business_as_usual, a.name)}
                for a in ASSUMPTIONS
            ],
            "settings": asdict(self.settings),
        }


def check_run(seeds: int, promotions: int, seed: int) -> None:
    """Refuse a run that cannot give an interval, naming the flag and the value."""
    if not 2 <= seeds <= MAX_SEEDS:
        raise InvalidInput(
            "seeds", seeds, f"must be between 2 and {MAX_SEEDS}: an interval needs two seeds"
        )
    if not 1 <= promotions <= MAX_PROMOTIONS:
        raise InvalidInput("promotions", promotions, f"must be between 1 and {MAX_PROMOTIONS}")
    if seed < 0:
        raise InvalidInput("seed", seed, "must be 0 or more")


def simulate_roi(
    *,
    seeds: int = DEFAULT_SEEDS,
    promotions: int = DEFAULT_PROMOTIONS,
    seed: int = 1,
    sensitivity: bool = True,
    settings: SimulationSettings | None = None,
    business_as_usual: ArmPolicy = BUSINESS_AS_USUAL,
    progress: Callable[[int, int], None] | None = None,
) -> RoiReport:
    """Run both arms (and the sensitivity variants) on seeds `seed` … `seed + seeds − 1`.

    `business_as_usual` replaces the BAU arm (to ask "what if BAU already did X").
    """
    check_run(seeds, promotions, seed)
    settings = settings or SimulationSettings()
    check_settings(settings)
    started = time.perf_counter()
    approvals = load_approval_policy()
    policies = Policies(gates=load_gate_policy(), planning=load_planning_policy())
    variants = {"business_as_usual": business_as_usual, "promoflow": PROMOFLOW}
    if sensitivity:
        variants |= {a.name: with_promoflow_value(business_as_usual, a.name) for a in ASSUMPTIONS}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    seed_list = list(range(seed, seed + seeds))
    for done, each in enumerate(seed_list):
        world = build_world(each, promotions, settings, approvals)
        for name, policy in variants.items():
            runs[name].append(run_arm(world, policy, settings, policies))
        if progress is not None:
            progress(done + 1, seeds)
    comparisons = [
        _compare(metric, runs["business_as_usual"], runs["promoflow"]) for metric in METRICS
    ]
    lines = [
        Sensitivity(
            assumption=a.name,
            effect={
                metric: _mean_difference(runs[a.name], runs["business_as_usual"], metric)
                for metric in METRICS
            },
        )
        for a in ASSUMPTIONS
        if sensitivity
    ]
    return RoiReport(
        seeds=seed_list,
        promotions=promotions,
        seconds=round(time.perf_counter() - started, 2),
        comparisons=comparisons,
        sensitivity=lines,
        settings=settings,
        business_as_usual=business_as_usual,
    )


def paired_interval(differences: np.ndarray) -> tuple[float, float, float]:
    """Mean of paired differences and its two-sided t-interval at `CONFIDENCE`."""
    n = differences.size
    mean = float(differences.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * float(differences.std(ddof=1))
    half /= math.sqrt(n)
    return mean, mean - half, mean + half


def _compare(
    metric: str, business_as_usual: list[dict[str, float]], promoflow: list[dict[str, float]]
) -> Comparison:
    bau = np.array([run[metric] for run in business_as_usual])
    ours = np.array([run[metric] for run in promoflow])
    mean, low, high = paired_interval(ours - bau)
    return Comparison(
        metric=metric,
        label=METRICS[metric],
        business_as_usual=float(bau.mean()),
        promoflow=float(ours.mean()),
        difference=mean,
        ci_low=low,
        ci_high=high,
    )


def _mean_difference(
    variant: list[dict[str, float]], base: list[dict[str, float]], metric: str
) -> float:
    return float(np.mean([v[metric] - b[metric] for v, b in zip(variant, base, strict=True)]))
