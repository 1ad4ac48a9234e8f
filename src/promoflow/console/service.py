"""The console's read models, what the web pages call: one function per page section.

Every function takes a Session, the caller's banner scope (filtered in SQL, so a
promotion of another banner never appears) and, where time matters, `now` (an aware
UTC datetime; the console never reads the clock itself). Each returns the pydantic
schemas of `console.schemas`; none writes.
"""

from __future__ import annotations

from promoflow.console.detail import forecast_series, promotion_timeline, stockout_heatmap
from promoflow.console.listing import calendar, decode_cursor, encode_cursor, search_promotions
from promoflow.console.today import today

__all__ = [
    "calendar",
    "decode_cursor",
    "encode_cursor",
    "forecast_series",
    "promotion_timeline",
    "search_promotions",
    "stockout_heatmap",
    "today",
]
