"""The promotion rule the real-panel benchmark applies: fixed, causal, checkable by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import real_panels  # the benchmark's own module, beside its script


def weeks(prices: list[float], display: list[float] | None = None) -> pl.DataFrame:
    n = len(prices)
    return pl.DataFrame(
        {
            "series": ["a"] * n,
            "week": list(range(1, n + 1)),
            "price": prices,
            "display": display or [0.0] * n,
        }
    )


def test_a_deal_is_ten_percent_below_the_highest_price_of_the_last_eight_weeks() -> None:
    rows = real_panels._promotions(weeks([3.0, 3.0, 2.69, 2.72, 3.0]), "series", "price")
    assert rows["deal_depth"].to_list() == pytest.approx([0.0, 0.0, 0.31 / 3, 0.0, 0.0])


def test_the_regular_price_forgets_after_eight_weeks() -> None:
    # A price of 4.00 eight weeks back no longer makes 3.00 a deal.
    prices = [4.0] + [3.0] * 9
    rows = real_panels._promotions(weeks(prices), "series", "price")
    assert rows["deal_depth"][7] == pytest.approx(0.25)  # week 8: weeks 1-8 hold 4.00
    assert rows["deal_depth"][8] == 0.0  # week 9: weeks 2-9 do not


def test_a_later_price_never_changes_an_earlier_week() -> None:
    base = [3.0, 3.0, 2.5, 3.0, 3.0, 3.0]
    later = [3.0, 3.0, 2.5, 3.0, 9.0, 1.0]
    before = real_panels._promotions(weeks(base), "series", "price")
    after = real_panels._promotions(weeks(later), "series", "price")
    assert before["deal_depth"][:4].to_list() == after["deal_depth"][:4].to_list()


def test_a_display_counts_from_ten_percent_of_volume() -> None:
    rows = real_panels._promotions(weeks([3.0] * 3, display=[0.05, 0.10, 0.6]), "series", "price")
    assert rows["on_display"].to_list() == [0.0, 0.10, 0.6]
