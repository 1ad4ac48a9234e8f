"""One SAP mock server per test module, with a small estate of products, stock and POs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sap_estate import ESTATE
from sap_support import MockSap

from promoflow.connectors.resilience import reset_breakers


@pytest.fixture(scope="module")
def sap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockSap]:
    """The mock server with the small estate (client paging only)."""
    server = MockSap(tmp_path_factory.mktemp("sap"), ESTATE)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_circuits() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def mock(sap: MockSap) -> MockSap:
    """The module's server with no faults left over and an empty request log."""
    sap.control("reset")
    return sap
