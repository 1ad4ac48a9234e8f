"""Shared by the event tests: the effect table test consumers write (NATS: nats_support)."""

from __future__ import annotations

import sqlalchemy as sa

from nats_support import NATS_URL, nats_reachable

__all__ = ["NATS_URL", "effects", "nats_reachable"]

# What a test consumer did: one row per application, no uniqueness, so a double
# application shows up as two rows.
effects = sa.Table(
    "test_consumer_effects",
    sa.MetaData(),
    sa.Column("row", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("consumer", sa.String(80)),
    sa.Column("event_id", sa.String(80)),
)
