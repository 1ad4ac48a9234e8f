"""Helpers shared by the sandbox tests (a module, so tests can import it by name)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

BACKEND = os.environ.get("PROMOFLOW_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "PROMOFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TODAY = date(2026, 11, 27)  # a Friday: the last full history week starts Monday 16 Nov

DatabaseFactory = Callable[[], sessionmaker[Session]]


def frame(sessions: sessionmaker[Session], query: sa.Select[Any]) -> pl.DataFrame:
    """The rows of `query` as a Polars frame."""
    with sessions() as session:
        result = session.execute(query)
        return pl.DataFrame([tuple(r) for r in result], schema=list(result.keys()), orient="row")
