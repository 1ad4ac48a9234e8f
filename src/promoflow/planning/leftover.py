"""What a promotion's allocation sent to stores and the event did not sell.

A store sells what it already held first: only the sales beyond that draw on what the
allocation sent. What is left of the sent units is the stock the promotion leaves to
clear, valued at unit cost as the markdown exposure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Line = tuple[int, int]  # item_id, location_id


def left_from_allocation(
    sent: Iterable[tuple[int, int, float, float]],
    sold: Mapping[Line, float],
    unit_costs: Mapping[int, float],
) -> tuple[float, float]:
    """(units, value at cost) left of `sent` (item, location, units sent, units the store
    already held) after the event sold `sold` per line."""
    allocated: dict[Line, float] = {}
    held: dict[Line, float] = {}
    for item_id, location_id, units, already in sent:
        line = (item_id, location_id)
        allocated[line] = allocated.get(line, 0.0) + units
        held[line] = max(held.get(line, 0.0), already)
    units_left = value_left = 0.0
    for line, units in allocated.items():
        drawn = max(0.0, sold.get(line, 0.0) - held[line])
        left = max(0.0, units - drawn)
        units_left += left
        value_left += left * unit_costs.get(line[0], 0.0)
    return units_left, value_left
