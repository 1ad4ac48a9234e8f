"""The demo's six promotions, run once by `promoflow demo` as a process, for the analytics.

The analytics tests ask the database the demo filled what its storyline planted (an
approval that breached its SLA and escalated, a launch the coverage gate held), so
the findings are checked against the demo's own report, not against numbers here.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from db_support import BACKEND, fresh_database
from process_support import PROMOFLOW


@dataclass(frozen=True)
class DemoRun:
    env: dict[str, str]
    database_url: str
    report: dict[str, Any]

    def story(self, words: str) -> dict[str, Any]:
        """The demo promotion whose story mentions `words`."""
        return next(p for p in self.report["promotions"] if words in p["story"])


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    data_dir = tmp_path_factory.mktemp("analytics-demo")
    with contextmanager(fresh_database)(tmp_path_factory, "analytics") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOFLOW_")}
        env.update(PROMOFLOW_DATA_DIR=str(data_dir), COLUMNS="200")
        if BACKEND == "postgresql":
            env["PROMOFLOW_DATABASE_URL"] = url
        else:
            url = f"sqlite:///{data_dir / 'promoflow.db'}"
        report = data_dir / "report.json"
        # As in tests/cli's demo test: a business hour of 0.25 s, so a busy machine's
        # desk still answers in time; no model training (the history baseline forecasts).
        done = subprocess.run(
            [
                *(PROMOFLOW, "demo", "--stores", "10", "--skus", "120"),
                *("--train-series", "0", "--report", str(report)),
            ],
            env={**env, "PROMOFLOW_SECONDS_PER_BUSINESS_HOUR": "0.25"},
            capture_output=True,
            text=True,
            timeout=420,
            check=False,
        )
        assert report.exists(), done.stdout[-4000:] + done.stderr[-4000:]
        data = json.loads(report.read_text())
        statuses = [p["status"] for p in data["promotions"]]
        # The storyline itself must have happened; its forecast-accuracy checks may vary.
        assert statuses == ["closed"] * 4 + ["rejected"] * 2, done.stdout[-4000:]
        yield DemoRun(env=env, database_url=url, report=data)
