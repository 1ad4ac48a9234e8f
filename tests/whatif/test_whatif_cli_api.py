"""`promoflow promotions whatif` as a planner runs it, and the API routes with auth.

The CLI runs as a real process on the what-if database (its champion answers); the
API runs on the shared test runtime, which has no champion: there the lifecycle's
fallback answers, and says so.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lifecycle_support import make_planned
from sqlalchemy.engine import Engine
from whatif_support import CHAMPION

from process_support import PROMOFLOW, process_env, run_cli
from promoflow.config import Settings
from promoflow.kit.roles import ROLES
from promoflow.runtime import get_runtime

pytestmark = pytest.mark.timeout(420)


def _env(engine: Engine, tmp_path: Path) -> dict[str, str]:
    env = process_env(engine.url.render_as_string(hide_password=False), tmp_path)
    return {**env, "COLUMNS": "160"}  # one variant a line


def test_the_cli_compares_depths_with_the_champion(
    whatif_engine: Engine, draft: str, tmp_path: Path
) -> None:
    env = _env(whatif_engine, tmp_path)
    args = ["promotions", "whatif", draft, "--depth", "10,30", "--display", "both"]
    answer = json.loads(run_cli([*args, "--feature", "off", "--json"], env))
    assert answer["answered_by"] == {"model_version": CHAMPION, "source": "champion", "note": ""}
    plain = {v["depth_percent"]: v for v in answer["variants"] if not v["display"]}
    assert plain[30.0]["units_p50"] > plain[10.0]["units_p50"]
    assert sum(v["is_draft"] for v in answer["variants"]) == 1
    shown = " ".join(run_cli([*args, "--feature", "off"], env).split())
    assert f"answered by champion {CHAMPION}" in shown
    assert "30.0 % percent_off +display" in shown
    # The draft's depth is its items' mean after rounding promo prices to the cent.
    assert re.search(r"draft 1[45]\.\d % percent_off ", shown), shown


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--depth", "10,95"], "depth=95.0"),
        (["--depth", "ten"], "depth='ten'"),
        (["--mechanic", "bogo"], "mechanic='bogo'"),
        (["--display", "maybe"], "display='maybe'"),
    ],
)
def test_the_cli_refuses_bad_terms_with_exit_2(
    whatif_engine: Engine, single_item_draft: str, tmp_path: Path, option: list[str], said: str
) -> None:
    done = subprocess.run(
        [PROMOFLOW, "promotions", "whatif", single_item_draft, *option],
        env=_env(whatif_engine, tmp_path), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in " ".join(done.stderr.split())


def api_key(role: str) -> str:
    return f"whatif-key-{role}-0123456789"


@pytest.fixture(scope="module")
def client(test_settings: Settings, seeded: object) -> Iterator[TestClient]:
    """A client of the app on the shared test runtime, one key per role."""
    from promoflow.app import create_app

    keys = ",".join(f"{api_key(role)}:{role}-whatif:{role}" for role in ROLES)
    settings = test_settings.model_copy(update={"api_keys": keys})
    with TestClient(create_app(settings, manage_runtime=False)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shared_draft(client: TestClient) -> Callable[[], str]:
    """A draft on the shared runtime, made the way the lifecycle tests make them."""
    return lambda: make_planned(get_runtime(), items=2).code


def _headers(role: str) -> dict[str, str]:
    return {"X-API-Key": api_key(role)}


def test_the_api_answers_get_and_post_with_auth(
    client: TestClient, shared_draft: Callable[[], str]
) -> None:
    code = shared_draft()
    path = f"/api/v1/promotions/{code}/whatif"
    assert client.get(path, params={"depth": "10,30"}).status_code == 401
    # Planners explore; an auditor reads what happened and changes nothing.
    refused = client.post(path, json={"depths": [10]}, headers=_headers("auditor"))
    assert refused.status_code == 403
    got = client.get(
        path, params={"depth": "10,30", "display": "off", "feature": "off"},
        headers=_headers("merchandiser"),
    )  # fmt: skip
    assert got.status_code == 200, got.text
    body = got.json()
    # No champion on the shared runtime: the lifecycle's fallback answers and says so.
    assert body["answered_by"]["source"] == "history_baseline"
    assert "no champion" in body["answered_by"]["note"]
    assert [v["depth_percent"] for v in body["variants"] if not v["is_draft"]] == [10.0, 30.0]
    posted = client.post(
        path, json={"depths": [10, 30], "display": "off", "feature": "off"},
        headers=_headers("finance_approver"),
    )  # fmt: skip
    assert posted.status_code == 200, posted.text
    assert posted.json()["variants"] == body["variants"]


def test_the_api_refuses_bad_terms_and_non_drafts_as_problems(
    client: TestClient, shared_draft: Callable[[], str]
) -> None:
    code = shared_draft()
    path = f"/api/v1/promotions/{code}/whatif"
    bad = client.post(path, json={"depths": [10, 120]}, headers=_headers("merchandiser"))
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    (error,) = bad.json()["errors"]
    assert (error["field"], error["value"]) == ("depths[1]", 120), error
    unknown = client.get(path, params={"mechanic": "bogo"}, headers=_headers("merchandiser"))
    assert unknown.status_code == 422
    (error,) = unknown.json()["errors"]
    assert (error["field"], error["value"]) == ("mechanic", "bogo"), error
    # A bundle is a rule about the draft (two items at least), not the request's shape.
    single = make_planned(get_runtime(), items=1).code
    bundle = client.post(
        f"/api/v1/promotions/{single}/whatif", json={"mechanics": ["bundle"]},
        headers=_headers("merchandiser"),
    )  # fmt: skip
    assert bundle.status_code == 422
    assert bundle.json()["errors"][0] == {
        "field": "mechanic", "value": "bundle",
        "message": "a bundle needs at least 2 items, this draft has 1",
    }  # fmt: skip
    submitted = client.post(
        f"/api/v1/promotions/{code}/submit", json={}, headers=_headers("merchandiser")
    )
    assert submitted.status_code == 202, submitted.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the lifecycle takes the submission asynchronously
        shown = client.get(f"/api/v1/promotions/{code}", headers=_headers("merchandiser"))
        if shown.json()["status"] != "draft":
            break
        time.sleep(0.1)
    late = client.get(path, params={"depth": "10"}, headers=_headers("merchandiser"))
    assert late.status_code == 409 and "is not a draft" in late.json()["detail"]
