"""The solver stays quiet: HiGHS's banner never reaches the demo's (or a server's) stdout."""

from __future__ import annotations

import subprocess
import sys

SOLVE = """
import numpy as np
from promoflow.planning.allocation_lp import transport_model
print("before")
highs = transport_model(
    np.array([2.0, 1.0]), np.array([5.0, 5.0]), np.array([0, 0]), np.array([0, 1]),
    np.ones(2), np.array([6.0]), np.array([4.0, 4.0]),
)
highs.run()
print("after", round(highs.getInfo().objective_function_value, 2))
"""


def test_solving_an_allocation_prints_nothing_but_our_own_output() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SOLVE], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split("\n") == ["before", "after 10.0", ""]
    assert "HiGHS" not in result.stderr
