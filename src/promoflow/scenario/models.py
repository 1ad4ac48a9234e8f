"""Ground truth the scenario generator keeps so later issues can measure themselves."""

from __future__ import annotations
