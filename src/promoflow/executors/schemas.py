"""What crosses the executors package's boundary."""

from __future__ import annotations

from collections.abc import Callable

# Executor id -> how many of its workflows went back to the queues.
Recover = Callable[[str], int]
