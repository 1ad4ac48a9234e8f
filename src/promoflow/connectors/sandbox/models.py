"""State of the sandbox systems (they keep it in the database so it survives a crash)."""

from __future__ import annotations
