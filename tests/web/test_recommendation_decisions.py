"""A planner accepts or edits an allocation on the promotion's page; the workflow applies it.

Each test brings a real promotion, through its workflow, to an allocation that waits
for a planner (auto-apply off), then decides it with the console's form.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from access_support import OTHER, OWN
from access_support import api_key as scoped_key
from api.conftest import Catalog
from promoflow.config import Settings
from web.conftest import Console
from web.recommendation_support import (
    Proposal,
    cancel,
    every_allocation_reviewed,
    proposed_allocation,
    read,
    until,
)

ConsoleFor = Callable[[str], Console]
BUTTONS = ("Accept", "Save edited units", "Reject")


@pytest.fixture(scope="module")
def api(api_settings: Settings, catalog: Catalog) -> Iterator[TestClient]:
    """A client of the API on the test runtime, for setting up and reading back."""
    from promoflow.app import create_app

    with TestClient(create_app(api_settings, manage_runtime=False)) as client:
        yield client


@pytest.fixture
def reviewed(runtime: object, tmp_path: Path) -> Iterator[None]:
    with every_allocation_reviewed(tmp_path):
        yield


def _decide(console: Console, proposal: Proposal, **fields: object) -> httpx.Response:
    page = console.get(f"/promotions/{proposal.code}")
    assert page.status_code == 200, page.text
    return console.post(
        f"/recommendations/{proposal.id}/decision", data={"ref": proposal.code, **fields}
    )


def _recommendation(api: TestClient, proposal: Proposal) -> dict[str, Any]:
    found: dict[str, Any] = read(api, f"/api/v1/recommendations/{proposal.id}")
    return found


def _applied(api: TestClient, proposal: Proposal) -> bool:
    events = read(api, f"/api/v1/promotions/{proposal.promotion_id}/events?limit=500")
    return any(e["type"] == "io.promoflow.recommendation.applied" for e in events["items"])


def _unit_inputs(html: str) -> dict[int, str]:
    """line id -> the value of its units input on the page."""
    found = re.findall(
        r'<input id="line-(\d+)" name="line-\d+" type="number"[^>]*value="([^"]*)"', html
    )
    return {int(line_id): value for line_id, value in found}


def test_a_planner_accepts_an_allocation_on_the_page_and_the_workflow_applies_it(
    console_for: ConsoleFor,
    api: TestClient,
    catalog: Catalog,
    reviewed: None,
) -> None:
    proposal = proposed_allocation(api, catalog, "Console accepts", days_ahead=270)
    planner = console_for("supply_chain_planner")
    page = planner.get(f"/promotions/{proposal.code}")
    assert page.status_code == 200
    assert f"allocation #{proposal.id}" in page.text
    inputs = _unit_inputs(page.text)
    assert set(inputs) == {line["id"] for line in proposal.lines}
    for line in proposal.lines:
        assert inputs[line["id"]] == str(int(line["quantity_proposed"]))
        pack = line["details"]["case_pack"]
        assert (
            f'for="line-{line["id"]}">Units for line {line["id"]}, in cases of {pack}<' in page.text
        )
        assert (
            f'id="line-{line["id"]}" name="line-{line["id"]}" type="number" min="0" step="{pack}"'
            in page.text
        )
    for button in BUTTONS:
        assert f">{button}</button>" in page.text

    accepted = planner.post(
        f"/recommendations/{proposal.id}/decision",
        data={"decision": "accept", "ref": proposal.code},
    )
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == f"/promotions/{proposal.code}#recommendations"

    body = _recommendation(api, proposal)
    assert (body["status"], body["decided_by"]) == ("accepted", "supply_chain_planner-tester")
    until("the allocation to be applied", lambda: _applied(api, proposal))
    after = planner.get(f"/promotions/{proposal.code}")
    assert "accepted</span>" in after.text and "by supply_chain_planner-tester" in after.text
    assert "recommendation applied" in after.text
    assert _unit_inputs(after.text) == {}  # decided once, for good: nothing left to edit
    assert ">Accept</button>" not in after.text
    cancel(api, proposal)


def _edit(
    console: Console, proposal: Proposal, units: dict[int, float], reason: str
) -> httpx.Response:
    """Save edited units as the browser sends the form: every line's units, changed or not."""
    fields = {f"line-{ln['id']}": str(int(ln["quantity_proposed"])) for ln in proposal.lines}
    fields |= {f"line-{line_id}": f"{value:g}" for line_id, value in units.items()}
    return _decide(console, proposal, decision="edit", reason=reason, **fields)


def test_a_planner_edits_units_in_whole_case_packs_within_what_the_dc_can_ship(
    console_for: ConsoleFor,
    api: TestClient,
    catalog: Catalog,
    reviewed: None,
) -> None:
    proposal = proposed_allocation(api, catalog, "Console edits", days_ahead=280)
    planner = console_for("supply_chain_planner")
    line = proposal.lines[0]
    pack, sku = line["details"]["case_pack"], line["details"]["sku"]
    line_id, proposed = line["id"], line["quantity_proposed"]

    odd = _edit(planner, proposal, {line_id: proposed - pack + 1}, "half-size shelf")
    assert odd.status_code == 422, odd.text
    assert f"line-{line_id}={proposed - pack + 1:g}: {sku} ships in cases of {pack}" in odd.text
    too_many = proposed + pack * 10_000
    over = _edit(planner, proposal, {line_id: too_many}, "a bigger display")
    assert over.status_code == 422, over.text
    same_item = [ln for ln in proposal.lines if ln["details"]["sku"] == sku and ln != line]
    shipping = too_many + sum(ln["quantity_proposed"] for ln in same_item)
    assert f"lines={shipping:g}: {sku} would ship {shipping:g} units from DC-01" in over.text
    unexplained = _edit(planner, proposal, {line_id: proposed - pack}, "")
    assert unexplained.status_code == 422
    assert "say why the quantities changed" in unexplained.text
    unchanged = _edit(planner, proposal, {}, "nothing really")
    assert unchanged.status_code == 422
    assert "change at least one line" in unchanged.text
    typo = _decide(
        planner, proposal, decision="edit", reason="typo", **{f"line-{line_id}": "twelve"}
    )
    assert typo.status_code == 422 and f"line-{line_id}='twelve'" in html.unescape(typo.text)
    assert _recommendation(api, proposal)["status"] == "proposed"  # nothing was decided

    fewer = proposed - pack
    edited = _edit(planner, proposal, {line_id: fewer}, "half-size shelf")
    assert edited.status_code == 303, edited.text
    body = _recommendation(api, proposal)
    assert (body["status"], body["decided_by"]) == ("edited", "supply_chain_planner-tester")
    decided = {ln["id"]: ln["quantity_decided"] for ln in body["lines"]}
    assert decided[line_id] == fewer
    others = [ln for ln in proposal.lines if ln["id"] != line_id]
    assert all(decided[ln["id"]] == ln["quantity_proposed"] for ln in others)
    trail = read(api, f"/api/v1/audit?object_type=recommendation&object_ref={proposal.id}")
    (change,) = [r for r in trail["items"] if r["action"] == "recommendation.edit"]
    assert change["after"]["edited_lines"] == {str(line_id): fewer}  # only the changed line
    assert (change["reason"], change["actor_name"]) == (
        "half-size shelf",
        "supply_chain_planner-tester",
    )

    page = planner.get(f"/promotions/{proposal.code}")
    total = sum(decided.values())
    assert f"{total:,.0f} decided by supply_chain_planner-tester" in page.text
    row = re.search(rf"<tr><td>{line_id}</td>.*?</tr>", page.text, re.S)
    assert row is not None and f'<td class="num">{fewer:,.0f}</td></tr>' in row.group(0)
    until("the allocation to be applied", lambda: _applied(api, proposal))
    cancel(api, proposal)


@pytest.fixture(scope="module")
def waiting(
    api: TestClient, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proposal]:
    """One allocation, in a store of one banner, left waiting for a planner (for the tests
    that only look at it)."""
    with every_allocation_reviewed(tmp_path_factory.mktemp("policies")):
        proposal = proposed_allocation(
            api, catalog, "Console looks", days_ahead=290, stores=catalog.stores[:1]
        )
    yield proposal
    cancel(api, proposal)


def test_a_merchandiser_sees_the_lines_but_nothing_to_decide_with(
    console_for: ConsoleFor,
    api: TestClient,
    waiting: Proposal,
) -> None:
    merchandiser = console_for("merchandiser")
    page = merchandiser.get(f"/promotions/{waiting.code}")
    assert page.status_code == 200
    for line in waiting.lines:
        assert f"<tr><td>{line['id']}</td><td>{line['details']['sku']}</td>" in page.text
    assert _unit_inputs(page.text) == {} and 'name="line-' not in page.text
    for button in BUTTONS:
        assert f">{button}</button>" not in page.text

    forged = merchandiser.post(
        f"/recommendations/{waiting.id}/decision", data={"decision": "accept", "ref": waiting.code}
    )
    assert forged.status_code == 403
    assert "may not decide allocation and replenishment recommendations" in forged.text
    assert _recommendation(api, waiting)["status"] == "proposed"


def _banner_of(stores: list[str]) -> str:
    from promoflow.catalog.models import Location
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        (banner,) = set(
            session.scalars(sa.select(Location.banner).where(Location.code.in_(stores)))
        )
    return str(banner)


@pytest.fixture
def console_with_key(console_for: ConsoleFor) -> Iterator[Callable[[str], Console]]:
    """`console_with_key(secret)`: a browser signed in with an API key record's secret."""
    app = console_for("auditor").client.app
    opened: list[TestClient] = []

    def sign_in(secret: str) -> Console:
        browser = TestClient(app, follow_redirects=False)
        browser.__enter__()
        opened.append(browser)
        answer = browser.post("/sign-in", data={"credential": secret, "next": "/"})
        assert answer.status_code == 303, answer.text
        console = Console(browser)
        console.get("/")
        return console

    yield sign_in
    for browser in opened:
        browser.__exit__(None, None, None)


def test_a_planner_of_another_banner_finds_neither_the_page_nor_the_recommendation(
    console_with_key: Callable[[str], Console],
    api: TestClient,
    catalog: Catalog,
    waiting: Proposal,
) -> None:
    own = _banner_of(catalog.stores[:1])
    other = OTHER if own == OWN else OWN
    outsider = console_with_key(scoped_key("supply_chain_planner", [other])["X-API-Key"])
    assert outsider.get(f"/promotions/{waiting.code}").status_code == 404
    decided = outsider.post(
        f"/recommendations/{waiting.id}/decision", data={"decision": "accept", "ref": waiting.code}
    )
    assert decided.status_code == 404
    assert f"recommendation {waiting.id} does not exist" in decided.text
    assert _recommendation(api, waiting)["status"] == "proposed"

    insider = console_with_key(scoped_key("supply_chain_planner", [own])["X-API-Key"])
    page = insider.get(f"/promotions/{waiting.code}")
    assert page.status_code == 200 and ">Accept</button>" in page.text
