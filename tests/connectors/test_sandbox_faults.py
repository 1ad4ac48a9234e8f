"""Fault injection: outages, deterministic errors, latency, set from anywhere."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from sandbox_support import DatabaseFactory
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable
from promoflow.connectors.sandbox.client import requests
from promoflow.connectors.sandbox.faults import clear_faults, read_faults, set_faults
from promoflow.connectors.sandbox.pricing import SandboxPricePublisher
from promoflow.kit.clock import utcnow
from promoflow.kit.db import make_engine, make_sessionmaker
from promoflow.kit.errors import InvalidInput

pytestmark = pytest.mark.postgres


def _url(sessions: sessionmaker[Session]) -> str:
    return str(sessions.kw["bind"].url.render_as_string(hide_password=False))


def test_an_outage_window_makes_the_system_unavailable(retailer: sessionmaker[Session]) -> None:
    pos = SandboxPricePublisher(retailer, "pos")
    now = utcnow()
    set_faults(
        retailer, "sandbox-pos", outages=[(now - timedelta(minutes=1), now + timedelta(minutes=5))]
    )
    key = f"outage-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ConnectorUnavailable, match="outage window until") as down:
        pos.publish_prices(key, [])
    assert down.value.retryable is True
    assert [r["outcome"] for r in requests(retailer, "sandbox-pos") if r["key"] == key] == [
        "outage"
    ]
    # A window that is over no longer matters.
    set_faults(
        retailer, "sandbox-pos", outages=[(now - timedelta(hours=2), now - timedelta(hours=1))]
    )
    assert pos.publish_prices(key, []).duplicate is False


def _pattern(sessions: sessionmaker[Session], seed: int) -> list[bool]:
    set_faults(sessions, "sandbox-pos", error_rate=0.5, seed=seed)
    pos = SandboxPricePublisher(sessions, "pos")
    failed = []
    for n in range(24):
        try:
            pos.publish_prices(f"key-{n}", [])
            failed.append(False)
        except ConnectorError:
            failed.append(True)
    return failed


def test_the_error_rate_strikes_the_same_calls_every_run(fresh_database: DatabaseFactory) -> None:
    first, second, other = fresh_database(), fresh_database(), fresh_database()
    pattern = _pattern(first, seed=5)
    assert _pattern(second, seed=5) == pattern
    assert 4 <= sum(pattern) <= 20
    assert _pattern(other, seed=6) != pattern


def test_retrying_a_failed_call_eventually_gets_through(retailer: sessionmaker[Session]) -> None:
    set_faults(retailer, "sandbox-pos", error_rate=0.6, seed=1)
    pos = SandboxPricePublisher(retailer, "pos")
    key = f"retry-{uuid.uuid4().hex[:6]}"
    for _attempt in range(30):
        try:
            receipt = pos.publish_prices(key, [])
            break
        except ConnectorError:
            continue
    else:
        pytest.fail("30 attempts at a 60 % error rate all failed")
    assert receipt.duplicate is False
    outcomes = [r["outcome"] for r in requests(retailer, "sandbox-pos") if r["key"] == key]
    assert outcomes[-1] == "applied"
    assert set(outcomes[:-1]) <= {"error"}


def test_latency_slows_every_call(retailer: sessionmaker[Session]) -> None:
    set_faults(retailer, "sandbox-pos", latency_ms=300)
    pos = SandboxPricePublisher(retailer, "pos")
    started = time.perf_counter()
    pos.publish_prices(f"slow-{uuid.uuid4().hex[:6]}", [])
    assert time.perf_counter() - started >= 0.3


def test_faults_set_through_another_engine_apply_to_the_next_call(
    retailer: sessionmaker[Session],
) -> None:
    pos = SandboxPricePublisher(retailer, "pos")
    pos.publish_prices(f"before-{uuid.uuid4().hex[:6]}", [])
    other = make_engine(_url(retailer))
    try:
        set_faults(make_sessionmaker(other), "sandbox-pos", fail_next=1)
    finally:
        other.dispose()
    with pytest.raises(ConnectorError, match="injected"):
        pos.publish_prices(f"after-{uuid.uuid4().hex[:6]}", [])
    assert read_faults(retailer, "sandbox-pos").fail_next == 0


@pytest.mark.slow
def test_faults_set_by_another_process_apply(retailer: sessionmaker[Session]) -> None:
    script = (
        "import sys; from promoflow.kit.db import make_engine, make_sessionmaker; "
        "from promoflow.connectors.sandbox.faults import set_faults; "
        "set_faults(make_sessionmaker(make_engine(sys.argv[1])), 'sandbox-wms', fail_next=2)"
    )
    subprocess.run([sys.executable, "-c", script, _url(retailer)], check=True, timeout=60)
    assert read_faults(retailer, "sandbox-wms").fail_next == 2
    clear_faults(retailer, "sandbox-wms")
    assert read_faults(retailer, "sandbox-wms").fail_next == 0


def test_bad_fault_settings_name_the_field(retailer: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidInput, match=r"error_rate=1\.5"):
        set_faults(retailer, "sandbox-pos", error_rate=1.5)
    with pytest.raises(InvalidInput, match="system='sandbox-pso'"):
        set_faults(retailer, "sandbox-pso")
    now = utcnow()
    with pytest.raises(InvalidInput, match="outages"):
        set_faults(retailer, "sandbox-pos", outages=[(now, now - timedelta(minutes=1))])
