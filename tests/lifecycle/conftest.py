"""Lifecycle fixtures: promotions on the seeded retailer, driven by the demo's desk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lifecycle_support import Planned, make_planned

from promoflow.runtime import Runtime, get_runtime


@pytest.fixture
def rt(seeded: object) -> Runtime:
    return get_runtime()


@pytest.fixture
def plan_promotion(rt: Runtime) -> Callable[..., Planned]:
    """Create a draft on items nobody else in the run uses, stocked at `weeks_of_cover`."""

    def make(items: int = 3, weeks_of_cover: float = 8.0, **terms: Any) -> Planned:
        return make_planned(rt, items, weeks_of_cover, **terms)

    return make


@pytest.fixture
def done() -> Callable[[str], bool]:
    return lambda status: status in ("closed", "rejected", "cancelled")
