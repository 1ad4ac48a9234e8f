"""`reading`: work that only reads never waits for the writer, and cannot write."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from promoflow.kit.db import reading, transaction


def test_a_reading_session_does_not_wait_for_a_writer_holding_its_lock(runtime: object) -> None:
    from promoflow.runtime import get_runtime

    rt = get_runtime()
    with transaction(rt.sessions) as writer:
        writer.execute(sa.text("UPDATE promotions SET name = name WHERE id = -1"))
        began = time.monotonic()
        for sessions in (rt.sessions, rt.workflow_sessions):
            with reading(sessions) as reader:
                reader.execute(sa.text("SELECT count(*) FROM promotions")).scalar_one()
        assert time.monotonic() - began < 1.0  # the lock wait would be seconds


@pytest.mark.postgresql_only  # SQLite has no read-only transactions
def test_a_reading_session_refuses_a_write_on_postgresql(runtime: object) -> None:
    from promoflow.runtime import get_runtime

    rt = get_runtime()
    with reading(rt.sessions) as reader, pytest.raises(sa_exc.DBAPIError, match="read-only"):
        reader.execute(sa.text("UPDATE promotions SET name = name WHERE id = -1"))
