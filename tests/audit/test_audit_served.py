"""The audit log as operators meet it: `promoflow serve` records a refusal, an auditor reads it
over HTTP, and the CLI signs, exports and verifies the same log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from db_support import fresh_database
from process_support import process_env, run_cli, serving

AUDITOR_KEY = "auditor-key-0123456789"
KEYS = f"{AUDITOR_KEY}:ines:auditor,merch-key-0123456789:ana:merchandiser"


@pytest.fixture
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from fresh_database(tmp_path_factory, "audit_served")


@pytest.mark.slow
def test_served_refusals_are_read_by_auditors_then_signed_exported_and_verified(
    database_url: str, tmp_path: Path
) -> None:
    env = process_env(database_url, tmp_path, api_keys=KEYS)
    with serving(env, tmp_path / "serve.log") as server:
        refused = httpx.get(
            f"{server.url}/api/v1/promotions",
            headers={"X-API-Key": "stolen-or-made-up", "X-Request-ID": "probe-1"},
        )
        assert refused.status_code == 401
        merchandiser = httpx.get(
            f"{server.url}/api/v1/audit", headers={"X-API-Key": "merch-key-0123456789"}
        )
        assert merchandiser.status_code == 403
        page = httpx.get(
            f"{server.url}/api/v1/audit", headers={"X-API-Key": AUDITOR_KEY}, timeout=30
        ).json()
    probe, denied_read = page["items"]
    assert (probe["request_id"], probe["status"], probe["outcome"]) == ("probe-1", 401, "denied")
    # The refusal names its cause for the auditor, and never the key offered.
    assert probe["reason"] == "dev_key refused: unknown_key" and "stolen" not in json.dumps(probe)
    assert (denied_read["actor_name"], denied_read["status"]) == ("ana", 403)

    signed = run_cli(["audit", "checkpoint"], env)
    assert "checkpoint signed at record 2" in signed
    exported = tmp_path / "audit.jsonl"
    run_cli(["audit", "export", "--out", str(exported)], env)
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2]
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    public_key = tmp_path / "auditor" / "promoflow-audit.pem"
    run_cli(["audit", "public-key", "--out", str(public_key)], env)
    assert public_key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    verified = run_cli(["audit", "verify", "--public-key", str(public_key)], env)
    assert "audit log intact: 2 records, 1 signed checkpoints" in " ".join(verified.split())
