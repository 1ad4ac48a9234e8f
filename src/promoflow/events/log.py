"""Append events to the log inside the caller's transaction (the outbox).

The rules live in `events.service`; this module keeps the names every domain
already imports (`record_event`, `SOURCE`, `TYPE_PREFIX`).
"""

from __future__ import annotations

from promoflow.events.schemas import SOURCE, TYPE_PREFIX
from promoflow.events.service import record_event

__all__ = ["SOURCE", "TYPE_PREFIX", "record_event"]
