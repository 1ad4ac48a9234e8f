"""Helpers for the Business Central tests: recorded payloads, the fake served on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bc_fake import CLIENT_ID, COMPANY_ID, ENVIRONMENT, TENANT, BusinessCentralFake

from promoflow.connectors.dynamics_bc.connector import BusinessCentralConnector
from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.resilience import BreakerPolicy, Guard, RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures"
SECRET_ENV = "PROMOFLOW_TEST_BC_CLIENT_SECRET"


def recorded(name: str) -> Any:
    """A recorded payload from fixtures/ (shaped as the API publishes it)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def seeded_fake(extra_items: int = 0) -> BusinessCentralFake:
    """The fake holding the recorded items, locations and ledger entries (and more items)."""
    fake = BusinessCentralFake()
    fake.items = recorded("bc_items_page.json")["value"]
    for n in range(extra_items):
        fake.items.append(
            {
                **fake.items[0],
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "number": f"7{n:05d}-X",
                "displayName": f"Generated item {n}",
                "lastModifiedDateTime": "2024-01-01T00:00:00Z",
            }
        )
    fake.locations = recorded("bc_locations_page.json")["value"]
    fake.ledger = recorded("bc_item_ledger_entries_page.json")["value"]
    fake.item_units = recorded("bc_item_units_of_measure_page.json")["value"]
    # The chairs are bought by the box of 4: a line naming no unit is in boxes.
    fake.purchase_units = {"1900-S": "BOX"}
    fake.vendors = [
        {
            "id": "e5a4738a-44e3-ea11-bb43-000d3a2feca1",
            "number": "20000",
            "displayName": "First Up Consultants",
        }
    ]
    return fake


def connector(
    base_url: str,
    name: str,
    *,
    page_size: int = 500,
    secret_ref: str = f"env:{SECRET_ENV}",
    **settings: str,
) -> BusinessCentralConnector:
    """A connector pointed at the fake; retries sleep no time, breakers are per test name."""
    manifest = BusinessCentralConnector.manifest
    config = ConnectorConfig(
        manifest,
        {
            "base_url": base_url,
            "tenant_id": TENANT,
            "environment": ENVIRONMENT,
            "company_id": COMPANY_ID,
            "client_id": CLIENT_ID,
            "client_secret": secret_ref,
            "token_url": f"{base_url}/{TENANT}/oauth2/v2.0/token",
            "page_size": page_size,
            **settings,
        },
    )
    guard = Guard(
        name,
        retry=RetryPolicy(attempts=4, base_seconds=0.0, max_seconds=0.0),
        breaker=BreakerPolicy(failure_threshold=50, reset_seconds=30.0),
        sleep=lambda _seconds: None,
    )
    return BusinessCentralConnector(config, ConnectorContext(name=name, guard=guard))
