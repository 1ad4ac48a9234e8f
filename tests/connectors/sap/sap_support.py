"""Start SAP's published OData mock server (tests/sap_mockserver) and build its data.

The server is `@sap-ux/fe-mockserver-core` serving the real S/4HANA EDMX files from
tests/fixtures/specs/sap, behind the small layer in tests/sap_mockserver/server.js
that adds what SAP Gateway does and the mock server does not (basic auth, CSRF
validation, server-driven paging, injected faults), and the entity-set behaviour in
tests/sap_mockserver/behaviour (a deleted purchase order keeps its rows, flagged).
Without Node or the installed package the tests skip, except under CI=true, where
they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.resilience import Guard, RetryPolicy
from promoflow.connectors.sap.connector import SapS4HanaConnector

TESTS = Path(__file__).resolve().parents[2]
MOCKSERVER = TESTS / "sap_mockserver"
BEHAVIOUR = MOCKSERVER / "behaviour"
SPECS = TESTS / "fixtures" / "specs" / "sap"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVICES = ("API_PRODUCT_SRV", "API_MATERIAL_STOCK_SRV", "API_PURCHASEORDER_PROCESS_SRV")
USER = "PROMOFLOW_COMM"
PASSWORD = "s3cret-Pa55word!"
PASSWORD_ENV = "PROMOFLOW_TEST_SAP_PASSWORD"
PLANTS = "1010=DC01, 1020=ST01, 1020/0002=ST02"


def require_mockserver() -> None:
    """Skip (or fail under CI=true) when Node or the mock server package is missing."""
    missing = ""
    if shutil.which("node") is None:
        missing = "node is not on PATH"
    elif not (MOCKSERVER / "node_modules" / "@sap-ux" / "fe-mockserver-core").is_dir():
        missing = "run `npm ci --prefix tests/sap_mockserver` to install @sap-ux/fe-mockserver-core"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"SAP mock server unavailable under CI: {missing}")
        pytest.skip(f"SAP mock server unavailable: {missing}")


def fixture(name: str) -> Any:
    """A recorded payload from tests/connectors/sap/fixtures."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def stock_row(
    material: str,
    plant: str,
    storage: str,
    quantity: str,
    stock_type: str = "01",
    batch: str = "",
) -> dict[str, Any]:
    """One A_MatlStkInAcctMod row with every key field, as the service returns it."""
    return {
        "Material": material,
        "Plant": plant,
        "StorageLocation": storage,
        "Batch": batch,
        "Supplier": "",
        "Customer": "",
        "WBSElementInternalID": "00000000",
        "SDDocument": "",
        "SDDocumentItem": "000000",
        "InventorySpecialStockType": "",
        "InventoryStockType": stock_type,
        "WBSElementExternalID": "",
        "MaterialBaseUnit": "PC",
        "MatlWrhsStkQtyInMatlBaseUnit": quantity,
    }


class MockSap:
    """One running mock server process with its data directory."""

    def __init__(
        self,
        workdir: Path,
        data: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
        *,
        max_page_size: int = 0,
    ) -> None:
        require_mockserver()
        for service in SERVICES:
            folder = workdir / "data" / service
            folder.mkdir(parents=True, exist_ok=True)
            for entity_set, rows in data.get(service, {}).items():
                (folder / f"{entity_set}.json").write_text(json.dumps(list(rows)))
            # What SAP does and the mock server does not, per entity set (see each file).
            for behaviour in sorted((BEHAVIOUR / service).glob("*.js")):
                shutil.copy(behaviour, folder / behaviour.name)
                rows_file = folder / f"{behaviour.stem}.json"
                if not rows_file.exists():
                    rows_file.write_text("[]")
        config = {
            "specs": str(SPECS),
            "data": str(workdir / "data"),
            "services": list(SERVICES),
            "user": USER,
            "password": PASSWORD,
            "maxPageSize": max_page_size,
        }
        (workdir / "mockserver.json").write_text(json.dumps(config))
        self.process = subprocess.Popen(
            ["node", str(MOCKSERVER / "server.js"), str(workdir / "mockserver.json")],
            cwd=MOCKSERVER,
            stdout=subprocess.PIPE,
            stderr=(workdir / "mockserver.log").open("w"),
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            log = (workdir / "mockserver.log").read_text()
            raise RuntimeError(f"the SAP mock server did not start: {log[-2000:]}")
        self.port = int(json.loads(line)["port"])
        self.root = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root}/sap/opu/odata/sap"

    def control(self, path: str, body: Any = None) -> Any:
        response = httpx.post(f"{self.root}/__control/{path}", json=body)
        response.raise_for_status()

    def faults(self, *faults: dict[str, Any]) -> None:
        """Inject faults: {"match": url part, "status"|"delayMs"|"truncate"|..., "times"}."""
        self.control("faults", list(faults))

    def requests(self) -> list[dict[str, Any]]:
        """What the server received since the last reset (method, url, csrf, cookie)."""
        result: list[dict[str, Any]] = httpx.get(f"{self.root}/__control/log").json()
        return result

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def settings_for(server: MockSap, **settings: Any) -> dict[str, Any]:
    """A connection's settings for the mock server (the password from PASSWORD_ENV)."""
    values: dict[str, Any] = {
        "base_url": server.base_url,
        "user": USER,
        "password": f"env:{PASSWORD_ENV}",
        "sap_client": "100",
        "plant_locations": PLANTS,
        "in_transit_stock_types": "06",
        "page_size": 4,
        "company_code": "1010",
        "purchasing_organization": "1010",
        "purchasing_group": "001",
        "timeout_seconds": 10,
    }
    values.update(settings)
    return values


def connector(
    server: MockSap,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    **settings: Any,
) -> SapS4HanaConnector:
    """A connector on the mock server; its guard retries without sleeping."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    config = ConnectorConfig(SapS4HanaConnector.manifest, settings_for(server, **settings))
    guard = Guard(name, retry=RetryPolicy(attempts=3, base_seconds=0.001), sleep=lambda _: None)
    return SapS4HanaConnector(config, ConnectorContext(name=name, guard=guard))
