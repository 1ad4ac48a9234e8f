"""The variants a planner asks about: depths x mechanics x display x feature, checked.

A variant changes only the terms the demand model reads (depth, mechanic, display,
feature); items, stores and dates stay the draft's. Depth is the effective share off
the regular price, whatever the mechanic (buy 2 get 1 free is 33 % off a unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

from promoflow.kit.errors import InvalidInput
from promoflow.promotions.models import MECHANICS

MAX_DEPTH_PERCENT = 90.0
# Over this the promotion rules warn (promotions.validation.MAX_DEPTH): shown per variant.
WARN_DEPTH_PERCENT = 70.0
MAX_DEPTHS = 6
# Each variant is one forecast: a grid a planner reads (6 depths x 5 mechanics x
# display x feature at most), not a sweep.
MAX_VARIANTS = MAX_DEPTHS * 5 * 2 * 2
SUPPORT_CHOICES = {"on": (True,), "off": (False,), "both": (False, True)}


@dataclass(frozen=True)
class Variant:
    """One set of terms to forecast."""

    depth_percent: float
    mechanic: str
    display: bool
    feature: bool

    @property
    def depth(self) -> float:
        """The share off the regular price, 0..0.9."""
        return self.depth_percent / 100.0


@dataclass(frozen=True)
class VariantGrid:
    """What to vary; an empty tuple means "as the draft has it"."""

    depths: tuple[float, ...] = ()
    mechanics: tuple[str, ...] = ()
    display: str = "both"
    feature: str = "both"


def parse_depths(text: str | None, field: str = "depth") -> tuple[float, ...]:
    """'10,20,30' as percentages; an error names the field and the value refused."""
    if text is None or not text.strip():
        return ()
    depths = []
    for part in text.split(","):
        try:
            depths.append(float(part.strip()))
        except ValueError:
            raise InvalidInput(field, part.strip(), "give percentages off, e.g. 10,20,30") from None
    return tuple(depths)


def parse_names(text: str | None) -> tuple[str, ...]:
    """'percent_off,multi_buy' as a tuple of names (checked by `variants`)."""
    if text is None or not text.strip():
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def variants(
    grid: VariantGrid,
    *,
    current: Variant,
    items: int,
) -> list[Variant]:
    """Every combination of the grid, checked against the promotion rules, sorted.

    The draft's own terms always come along, so every variant has its reference."""
    depths = grid.depths or (current.depth_percent,)
    mechanics = grid.mechanics or (current.mechanic,)
    for depth in depths:
        if not 0.0 <= depth <= MAX_DEPTH_PERCENT:
            raise InvalidInput(
                "depth", depth, f"a depth is a percentage off between 0 and {MAX_DEPTH_PERCENT:g}"
            )
    for mechanic in mechanics:
        if mechanic not in MECHANICS:
            raise InvalidInput("mechanic", mechanic, f"use one of {', '.join(MECHANICS)}")
        if mechanic == "bundle" and items < 2:
            raise InvalidInput(
                "mechanic", mechanic, f"a bundle needs at least 2 items, this draft has {items}"
            )
    displays = _support("display", grid.display)
    features = _support("feature", grid.feature)
    grid_size = len(set(depths)) * len(set(mechanics)) * len(displays) * len(features)
    if grid_size > MAX_VARIANTS:
        raise InvalidInput(
            "variants", grid_size, f"at most {MAX_VARIANTS} variants; ask for fewer depths"
        )
    chosen = {
        Variant(round(depth, 2), mechanic, display, feature)
        for depth, mechanic, display, feature in product(depths, mechanics, displays, features)
    } | {current}
    return sorted(chosen, key=lambda v: (v.mechanic, v.depth_percent, v.display, v.feature))


def variant_warnings(variant: Variant, below_cost_skus: Sequence[str]) -> list[str]:
    """What the promotion rules would warn about at these terms (they do not block)."""
    warnings = []
    if variant.depth_percent > WARN_DEPTH_PERCENT:
        warnings.append(
            f"discount_too_deep: {variant.depth_percent:g} % off is over "
            f"{WARN_DEPTH_PERCENT:g} %; check it"
        )
    if below_cost_skus:
        listed = ", ".join(below_cost_skus[:5]) + (" ..." if len(below_cost_skus) > 5 else "")
        warnings.append(
            f"price_below_cost: {len(below_cost_skus)} item(s) under unit cost ({listed}); "
            "finance must approve the margin loss"
        )
    return warnings


def _support(field: str, choice: str) -> tuple[bool, ...]:
    if choice not in SUPPORT_CHOICES:
        raise InvalidInput(field, choice, f"use one of {', '.join(SUPPORT_CHOICES)}")
    return SUPPORT_CHOICES[choice]
