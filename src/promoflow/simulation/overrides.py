"""`--set NAME=VALUE`: change a shared setting or a business-as-usual lever for one run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any

from promoflow.kit.errors import InvalidInput
from promoflow.simulation.assumptions import BUSINESS_AS_USUAL, ArmPolicy, SimulationSettings

# Settings that count things: whole numbers of at least one.
COUNTS = ("stores", "regions", "skus", "categories", "suppliers", "items_per_promotion")
# Settings and levers that are shares: between 0 and 1.
SHARES = (
    "supply_shortfall_rate",
    "bau_lift_anticipation",
    "markdown_depth",
    "vendor_funding_share",
    "gate_expedite_share",
    "late_price_store_share",
    "partial_publication_share",
)
TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def apply_overrides(
    pairs: Iterable[str],
    settings: SimulationSettings | None = None,
    business_as_usual: ArmPolicy = BUSINESS_AS_USUAL,
) -> tuple[SimulationSettings, ArmPolicy]:
    """Apply each NAME=VALUE to the settings (shared) or to the BAU arm (its levers)."""
    settings = settings or SimulationSettings()
    shared = {f.name: f for f in fields(SimulationSettings)}
    levers = {f.name: f for f in fields(ArmPolicy)}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidInput("set", pair, "expected NAME=VALUE, e.g. gate_expedite_share=0")
        if name in shared:
            value = _parse(name, text.strip(), getattr(settings, name))
            settings = replace(settings, **{name: value})
        elif name in levers:
            value = _parse(name, text.strip(), getattr(business_as_usual, name))
            business_as_usual = replace(business_as_usual, **{name: value})
        else:
            known = ", ".join([*shared, *levers])
            raise InvalidInput(name, text, f"is not a setting or an assumption; known: {known}")
    check_settings(settings)
    return settings, business_as_usual


def check_settings(settings: SimulationSettings) -> None:
    """Refuse settings the simulation cannot run, naming the setting and its value."""
    for f in fields(SimulationSettings):
        value = getattr(settings, f.name)
        if f.name in COUNTS and value < 1:
            raise InvalidInput(f.name, value, "must be at least 1")
        if value < 0:
            raise InvalidInput(f.name, value, "must be 0 or more")
        if f.name in SHARES and value > 1:
            raise InvalidInput(f.name, value, "is a share: between 0 and 1")
    if settings.regions > settings.stores:
        raise InvalidInput("regions", settings.regions, f"must not exceed stores={settings.stores}")
    if settings.categories > settings.skus:
        raise InvalidInput(
            "categories", settings.categories, f"must not exceed skus={settings.skus}"
        )
    gate, push = settings.gate_check_days_before_launch, settings.allocation_days_before_launch
    if not 1 <= gate <= push:
        raise InvalidInput(
            "gate_check_days_before_launch",
            gate,
            f"must be at least 1 and at most allocation_days_before_launch={push}: the gates "
            "judge the stock the stores were sent",
        )
    if push > settings.planning_lead_days:
        raise InvalidInput(
            "allocation_days_before_launch",
            push,
            f"must not exceed planning_lead_days={settings.planning_lead_days}",
        )
    if settings.business_hours_per_day <= 0:
        raise InvalidInput("business_hours_per_day", settings.business_hours_per_day, "must be > 0")


def _parse(name: str, text: str, current: Any) -> Any:
    """`text` as the type of the current value (bool, int or float)."""
    if isinstance(current, bool):
        if text.lower() not in TRUE_WORDS:
            raise InvalidInput(name, text, "expected true or false")
        return TRUE_WORDS[text.lower()]
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(name, text, "expected a number") from None
    if not number >= 0:  # also refuses nan
        raise InvalidInput(name, text, "must be 0 or more")
    if name in SHARES and number > 1.0:
        raise InvalidInput(name, text, "is a share: between 0 and 1")
    if isinstance(current, int):
        if number != int(number):
            raise InvalidInput(name, text, "expected a whole number")
        return int(number)
    return number
