"""`promoflow auth` and `promoflow serve` as an operator runs them, as real processes.

A development token and a created API key open a real server; the key is shown
once, never listed, and refused once revoked. In production the server will not
start with the development issuer or the PROMOFLOW_API_KEYS list.
"""

from __future__ import annotations

import re
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from db_support import fresh_database
from process_support import PROMOFLOW, process_env, run_cli, serving

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

API_KEY = re.compile(r"pfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$", re.MULTILINE)


@dataclass(frozen=True)
class Deployment:
    env: dict[str, str]
    workdir: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A database of the module's own and a data folder; no PROMOFLOW_API_KEYS at all."""
    workdir = tmp_path_factory.mktemp("auth")
    with contextmanager(fresh_database)(tmp_path_factory, "auth") as url:
        yield Deployment(env=process_env(url, workdir), workdir=workdir)


def test_serve_accepts_a_dev_token_and_a_created_key_until_it_is_revoked(
    deployment: Deployment,
) -> None:
    env = deployment.env
    created = run_cli(
        [
            "auth", "keys", "create", "--name", "pos-bridge", "--role", "integration_client",
            "--banner", "FreshMart", "--by", "ada.admin",
        ],
        env,
    )  # fmt: skip
    secrets = API_KEY.findall(created)
    assert len(secrets) == 1, created
    key = secrets[0]
    key_id = key[4:16]
    assert "shown only this once" in created

    token_output = run_cli(
        ["auth", "token", "--user", "ana", "--role", "merchandiser", "--banner", "FreshMart"], env
    )
    tokens = JWT.findall(token_output)
    assert len(tokens) == 1, token_output
    key_file = deployment.workdir / "identity" / "dev-issuer-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    with serving(env, deployment.workdir / "serve.log") as server:
        url = f"{server.url}/api/v1/promotions"
        by_token = httpx.get(url, headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=30)
        assert by_token.status_code == 200, by_token.text
        by_key = httpx.get(url, headers={"X-API-Key": key}, timeout=30)
        assert by_key.status_code == 200, by_key.text

        listed = run_cli(["auth", "keys", "list"], env)
        assert key_id in listed and "active" in listed
        assert key not in listed and key[17:] not in listed  # never the key, nor its secret part
        assert "never" not in listed  # its use was recorded

        run_cli(["auth", "keys", "revoke", key_id, "--by", "sec.officer"], env)
        revoked = httpx.get(url, headers={"X-API-Key": key}, timeout=30)
        assert revoked.status_code == 401
        assert "revoked" in run_cli(["auth", "keys", "list"], env)
        forged = httpx.get(url, headers={"Authorization": f"Bearer {tokens[0]}x"}, timeout=30)
        assert forged.status_code == 401
        assert forged.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "Traceback" not in server.output(), server.output()


def _serve_exit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMOFLOW, "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ({"DEV_ISSUER": "true"}, "PROMOFLOW_DEV_ISSUER=true"),
        ({"API_KEYS": "k-0123456789:ana:auditor"}, "PROMOFLOW_API_KEYS is a development"),
    ],
)
def test_serve_refuses_development_conveniences_in_production(
    deployment: Deployment, setting: dict[str, str], complaint: str
) -> None:
    env = {
        **deployment.env,
        "PROMOFLOW_ENVIRONMENT": "production",
        **{f"PROMOFLOW_{name}": value for name, value in setting.items()},
    }
    done = _serve_exit(env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert complaint in output, output
    assert "production" in output
    assert "Traceback" not in output, output
    assert "k-0123456789" not in output  # never the key


def test_no_dev_token_is_signed_where_a_server_would_not_trust_it(deployment: Deployment) -> None:
    env = {**deployment.env, "PROMOFLOW_ENVIRONMENT": "production"}
    done = subprocess.run(
        [PROMOFLOW, "auth", "token", "--user", "ana", "--role", "auditor", "--banner", "*"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "development issuer is off" in done.stderr
    assert not JWT.search(done.stdout)
