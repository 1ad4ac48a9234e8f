"""What an allocation leaves unsold: the markdown exposure the scorecard reports."""

from __future__ import annotations

import pytest

from promoflow.planning.leftover import left_from_allocation

COSTS = {1: 2.0, 2: 5.0}


def test_sales_draw_first_on_what_the_store_already_held() -> None:
    # Item 1 at store 10: 6 on the shelf, 20 sent, 15 sold -> 9 drawn from the 20 sent.
    units, value = left_from_allocation([(1, 10, 20.0, 6.0)], {(1, 10): 15.0}, COSTS)
    assert units == pytest.approx(11.0)
    assert value == pytest.approx(22.0)


def test_a_line_that_sold_out_leaves_nothing_and_an_unsold_one_leaves_all_it_was_sent() -> None:
    sent = [(1, 10, 20.0, 6.0), (2, 11, 8.0, 0.0)]
    # Item 1 sold 40 (more than shelf + sent, a later delivery); item 2 sold nothing.
    units, value = left_from_allocation(sent, {(1, 10): 40.0}, COSTS)
    assert units == pytest.approx(8.0)
    assert value == pytest.approx(40.0)


def test_two_allocations_to_one_line_add_up_and_an_unknown_cost_counts_no_value() -> None:
    sent = [(1, 10, 5.0, 3.0), (1, 10, 7.0, 3.0), (9, 10, 4.0, 0.0)]
    units, value = left_from_allocation(sent, {(1, 10): 5.0}, COSTS)
    assert units == pytest.approx(10.0 + 4.0)  # 12 sent, 2 of them sold; item 9 unsold
    assert value == pytest.approx(10.0 * 2.0)
