"""What the process-mining fixtures hand to the tests (a module of its own, so test
files import it by a name no other test folder uses)."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle_support import Planned


@dataclass(frozen=True)
class Run:
    """A promotion driven through the lifecycle, with the purchase orders raised for it."""

    planned: Planned
    purchase_orders: list[str]
