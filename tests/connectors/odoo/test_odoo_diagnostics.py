"""`promoflow connectors diagnostics` shows what the worker's Odoo calls did, from another process.

The calls go through the connector's guarded client to the protocol-faithful
fake over real HTTP (JSON-2, as `odoo_fake` documents it), in this test process,
as a worker would make them; the diagnostics are then read by the CLI started
as its own process, the way an operator runs it next to the worker.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from local_server import serve
from odoo_fake import API_KEY, DATABASE
from odoo_support import LOCATION_MAP, SECRET_ENV, seeded_fake
from sqlalchemy.engine import Engine

from process_support import PROMOFLOW, process_env
from promoflow.connectors.ports import ConnectorError
from promoflow.connectors.resilience import reset_breakers
from promoflow.integration import service as connections
from promoflow.kit.db import make_sessionmaker, transaction

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, API_KEY)
    reset_breakers()
    yield
    reset_breakers()


def _diagnostics_process(url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = process_env(
        url,
        workdir,
        connector_secret_env_prefixes="PROMOFLOW_TEST_",
        connector_allowed_hosts="127.0.0.0/8",  # the fake's host
    )
    env[SECRET_ENV] = API_KEY
    return subprocess.run(
        [PROMOFLOW, "connectors", "diagnostics", "odoo-diag", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_process_shows_the_workers_last_calls_and_never_the_api_key(
    private_engine: Callable[[str], Engine], tmp_path: Path
) -> None:
    engine = private_engine("odoo_diagnostics")
    sessions = make_sessionmaker(engine)
    fake = seeded_fake()
    fake.raise_odoo("stock.quant.search_read", "odoo.exceptions.UserError", "Quants are locked")
    with serve(fake.app()) as base_url:
        with transaction(sessions) as session:
            connections.add_connection(
                session,
                name="odoo-diag",
                connector="odoo",
                config={
                    "base_url": base_url,
                    "database": DATABASE,
                    "api_key": f"env:{SECRET_ENV}",
                    "location_map": LOCATION_MAP,
                },
                serves=["inventory"],
            )
            row = connections.get_connection(session, "odoo-diag")
            session.expunge(row)
        odoo = connections.build_connector(row, sessions)  # as the worker builds it
        with pytest.raises(ConnectorError, match="Quants are locked"):
            odoo.fetch_positions(["FURN_7800"], ["DC01"])
        odoo.fetch_positions(["FURN_7800"], ["DC01"])

        done = _diagnostics_process(
            engine.url.render_as_string(hide_password=False), tmp_path, "--json", "--probe"
        )

    assert done.returncode == 0, done.stdout + done.stderr
    assert API_KEY not in done.stdout + done.stderr
    found = json.loads(done.stdout)
    calls = [(c["operation"], c["outcome"], c["error_code"]) for c in found["last_calls"]]
    # newest first: the second read succeeded, the first failed on the quants
    failed = calls.index(("stock.quant.search_read", "failed", "HTTP 422"))
    assert ("product.product.search_read", "ok", None) in calls[failed + 1 :]
    assert all(outcome == "ok" for _, outcome, _ in calls[:failed])
    assert calls[0] == ("stock.quant.search_read", "ok", None)
    assert found["health"]["failures"] == 1 and found["health"]["calls"] == len(calls)
    assert found["settings"]["api_key"] == f"<redacted: env:{SECRET_ENV}>"
    assert found["secrets"] == {"api_key": "readable"}
    assert found["reported_version"] == fake.version
    assert found["speaks"].startswith("Odoo External JSON-2 API")
    assert found["system"]["database"] == DATABASE
    assert found["system"]["mapped_locations"] == {"WH/Stock": "DC01", "SHOP1/Stock": "STORE01"}
