"""The NATS server the tests use (`PROMOFLOW_TEST_NATS_URL`), and whether it answers."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

NATS_URL = os.environ.get("PROMOFLOW_TEST_NATS_URL", "nats://127.0.0.1:4222")


def nats_reachable(url: str = NATS_URL) -> str | None:
    """None when the NATS server answers; else why not."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), 1):
            return None
    except OSError as error:
        return f"NATS at {url} is not reachable ({error})"


def require_nats() -> str:
    """The NATS URL; skip without the server on a laptop, fail under CI=true."""
    reason = nats_reachable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI needs it (.ci/run starts it)")
        pytest.skip(reason + "; start nats-server -js to run the NATS tests")
    return NATS_URL
