"""`promoflow serve` as an operator runs it: a real process, with connections configured.

The API tests run the app in-process with the runtime already started, so a
server that cannot start never showed there. These start the installed
console script on SQLite and (in the PostgreSQL pass) on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from db_support import fresh_database
from process_support import process_env, run_cli, serving

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ADMIN_KEY = "serve-test-admin-key-0123456789"


@pytest.fixture
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this test's own: the server's DBOS never meets the suite's runtime."""
    yield from fresh_database(tmp_path_factory, "serve")


def test_serve_starts_and_answers_once_a_connection_exists(
    database_url: str, tmp_path: Path
) -> None:
    env = process_env(database_url, tmp_path, api_keys=f"{ADMIN_KEY}:ada.admin:operations_admin")
    run_cli(
        ["connectors", "add", "stock-feed", "--connector", "sandbox", "--serves", "inventory"], env
    )

    with serving(env, tmp_path / "serve.log") as server:
        headers = {"X-API-Key": ADMIN_KEY}
        listed = httpx.get(f"{server.url}/api/v1/connections", headers=headers, timeout=30)
        assert listed.status_code == 200, listed.text
        assert [row["name"] for row in listed.json()] == ["stock-feed"]

        # A sync goes on the connection's queue, registered when the server started.
        enabled = httpx.post(
            f"{server.url}/api/v1/connections/stock-feed/enable", headers=headers, timeout=30
        )
        assert enabled.status_code == 200, enabled.text
        queued = httpx.post(
            f"{server.url}/api/v1/connections/stock-feed/sync",
            headers=headers,
            json={"capability": "inventory"},
            timeout=30,
        )
        assert queued.status_code == 202, queued.text
        assert "Traceback" not in server.output(), server.output()
