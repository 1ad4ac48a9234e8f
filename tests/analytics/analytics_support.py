"""Running `promoflow analytics <report> --json` as a process and reading its answer."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import sqlalchemy as sa

from process_support import PROMOFLOW
from promoflow.kit.db import make_engine


def analytics(demo_run: Any, report: str, *flags: str) -> dict[str, Any]:
    """The report's JSON, from the command an analyst types."""
    done = subprocess.run(
        [PROMOFLOW, "analytics", report, *flags, "--json"],
        env=demo_run.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def category_of(database_url: str, code: str) -> str:
    """The category promoflow recorded for a promotion."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(
                    sa.text("SELECT category FROM promotions WHERE code = :code"), {"code": code}
                ).scalar_one()
            )
    finally:
        engine.dispose()
