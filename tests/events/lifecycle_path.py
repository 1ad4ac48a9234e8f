"""Lets the event tests use the lifecycle tests' helpers (plan, submit, drive)."""

from __future__ import annotations

import sys
from pathlib import Path

LIFECYCLE_TESTS = str(Path(__file__).resolve().parents[1] / "lifecycle")
if LIFECYCLE_TESTS not in sys.path:
    sys.path.insert(0, LIFECYCLE_TESTS)
