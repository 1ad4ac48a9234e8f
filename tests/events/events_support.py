"""Shared by the event tests: the effect table test consumers write, NATS reachability."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import sqlalchemy as sa

NATS_URL = os.environ.get("PROMOFLOW_TEST_NATS_URL", "nats://127.0.0.1:4222")

# What a test consumer did: one row per application, no uniqueness, so a double
# application shows up as two rows.
effects = sa.Table(
    "test_consumer_effects",
    sa.MetaData(),
    sa.Column("row", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("consumer", sa.String(80)),
    sa.Column("event_id", sa.String(80)),
)


def nats_reachable(url: str = NATS_URL) -> str | None:
    """None when the NATS server answers; else why not."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), 1):
            return None
    except OSError as error:
        return f"NATS at {url} is not reachable ({error})"
