"""Helpers for the Oracle Fusion tests: recorded payloads, the fake served on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oracle_fake import USERNAME, OracleFusionFake

from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.oracle_fusion.connector import OracleFusionConnector
from promoflow.connectors.resilience import BreakerPolicy, Guard, RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures"
SECRET_ENV = "PROMOFLOW_TEST_ORACLE_PASSWORD"


def recorded(name: str) -> Any:
    """A recorded payload from fixtures/ (shaped as Oracle's REST API publishes it)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def seeded_fake(extra_items: int = 0) -> OracleFusionFake:
    """The fake holding the recorded items and balances (and more items in V1)."""
    fake = OracleFusionFake()
    fake.items = recorded("oracle_items_page.json")["items"]
    for n in range(extra_items):
        fake.items.append(
            {
                **fake.items[0],
                "ItemId": 400000 + n,
                "ItemNumber": f"GEN-{n:04d}",
                "ItemDescription": f"Generated item {n}",
            }
        )
    # the same item assigned to a child organization: never part of the V1 item master
    fake.items.append({**fake.items[0], "OrganizationCode": "M1", "OrganizationId": 207})
    fake.balances = recorded("oracle_onhand_page.json")["items"]
    fake.suppliers = {"Lee Supplies"}
    fake.organizations = {"M1", "M2", "STORE01"}
    return fake


def settings_for(base_url: str, *, page_size: int = 200) -> dict[str, Any]:
    """A connection's settings for the fake (the password from SECRET_ENV)."""
    return {
        "base_url": base_url,
        "username": USERNAME,
        "password": f"env:{SECRET_ENV}",
        "item_organization": "V1",
        "procurement_bu": "Vision Operations",
        "buyer": "Furey,Clare",
        "supplier_site": "Lee US1",
        "page_size": page_size,
    }


def connector(base_url: str, name: str, *, page_size: int = 200) -> OracleFusionConnector:
    """A connector pointed at the fake; retries sleep no time, breakers are per test name."""
    config = ConnectorConfig(
        OracleFusionConnector.manifest, settings_for(base_url, page_size=page_size)
    )
    guard = Guard(
        name,
        retry=RetryPolicy(attempts=4, base_seconds=0.0, max_seconds=0.0),
        breaker=BreakerPolicy(failure_threshold=50, reset_seconds=30.0),
        sleep=lambda _seconds: None,
    )
    return OracleFusionConnector(config, ConnectorContext(name=name, guard=guard))
