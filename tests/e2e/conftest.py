"""The console in a real browser: Chromium driven by Playwright against `promoflow serve`.

Debian's Chromium (`apt-get install chromium`, or PROMOFLOW_CHROMIUM) runs headless;
`playwright install` downloads browsers and cannot work offline, so the browser is
passed by path. Without it the tests skip with the reason, except under CI=true,
where they fail. Each module gets one real server on a loopback port, on a fresh
database (SQLite, or PostgreSQL in that pass) seeded with a small demo retailer,
with one API key per role for the sign-in form and for setting up data over the
API. Every page a test opens fails the test on a console error, an uncaught
script error, a failed request or an unexpected 4xx/5xx answer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from e2e_support import (
    CHROMIUM_ARGS,
    Estate,
    WatchedPage,
    chromium_path,
    seed_demo_retailer,
)
from playwright.sync_api import Browser, Playwright, sync_playwright

from db_support import fresh_database
from process_support import process_env, serving
from promoflow.kit.roles import Role

# One key per role, named like the demo's people, so the audit trail reads naturally.
PEOPLE = {
    Role.MERCHANDISER: "mia.merch",
    Role.PRICING_ANALYST: "priya.pricing",
    Role.FINANCE_APPROVER: "frank.finance",
    Role.CATEGORY_MANAGER: "carmen.category",
    Role.SUPPLY_CHAIN_PLANNER: "sasha.supply",
    Role.STORE_OPERATIONS: "sam.stores",
    Role.CHANNEL_OPERATIONS: "casey.channels",
    Role.OPERATIONS_ADMIN: "ada.admin",
    Role.AUDITOR: "ines.audit",
    Role.INTEGRATION_CLIENT: "pos.bridge",
}
KEYS = {role: f"e2e-{role.value.replace('_', '-')}-key-0123456789" for role in PEOPLE}


def require_chromium() -> str:
    """Chromium's path; skip without it on a laptop, fail under CI=true (as for NATS, PG)."""
    path, reason = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI needs it (.ci/run installs it)")
        pytest.skip(reason)
    return path


# Module-scoped, not session-scoped: Playwright's sync API keeps an event loop
# running in the main thread while it is open, and DBOS refuses its synchronous
# calls (retrieve_workflow, send) from a thread with a running loop, so the tests
# after the browser's would fail. Closed after each module, the loop is gone.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Headless Chromium, one per module; each test opens its own context (cookies, viewport)."""
    launched = playwright_driver.chromium.launch(
        executable_path=require_chromium(), headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def estate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Estate]:
    """`promoflow serve` for this module, on a seeded database of its own.

    A module may set SERVER_SETTINGS (PROMOFLOW_ settings by lowercase name), for
    example to compress business hours so a lifecycle moves while the test watches.
    """
    require_chromium()  # no server to start for tests that will not run
    label = "e2e_" + re.sub(r"\W", "", request.module.__name__.rsplit(".", 1)[-1])[:20]
    workdir = tmp_path_factory.mktemp(label)
    settings: dict[str, str] = {
        "api_keys": ",".join(f"{KEYS[role]}:{PEOPLE[role]}:{role.value}" for role in PEOPLE),
        "environment": "test",
        # A browser asks for a page and its assets at once; the budgets are not under test.
        "rate_limit_reads": "100000/minute",
        "rate_limit_writes": "100000/minute",
        "rate_limit_anonymous": "100000/minute",
        **getattr(request.module, "SERVER_SETTINGS", {}),
    }
    with contextmanager(fresh_database)(tmp_path_factory, label) as url:
        region, skus, stores = seed_demo_retailer(url)
        env = process_env(url, workdir, **settings)
        with serving(env, workdir / "serve.log") as server:
            yield Estate(
                server=server,
                database_url=url,
                keys=dict(KEYS),
                region=region,
                skus=skus,
                stores=stores,
            )
        assert "Traceback" not in server.output(), server.output()


@pytest.fixture
def open_page(
    browser: Browser, estate: Estate, request: pytest.FixtureRequest
) -> Iterator[Callable[..., WatchedPage]]:
    """`open_page(width=1280, height=800)`: a fresh browser context and page on the server.

    At the end of the test, any console error, script error, failed request or
    unexpected error answer the page met fails the test, listed one per line.
    """
    opened: list[WatchedPage] = []

    def open_one(width: int = 1280, height: int = 800) -> WatchedPage:
        context = browser.new_context(
            base_url=estate.server.url,
            viewport={"width": width, "height": height},
            timezone_id="Europe/Berlin",
            locale="en-GB",
        )
        context.set_default_timeout(20_000)
        watched = WatchedPage(context.new_page(), test_name=request.node.originalname)
        opened.append(watched)
        return watched

    yield open_one
    problems = [problem for watched in opened for problem in watched.problems]
    for watched in opened:
        watched.page.context.close()
    if problems:
        pytest.fail("the browser met problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def api(estate: Estate) -> Iterator[Callable[[Role], httpx.Client]]:
    """`api(role)`: an HTTP client of the running server with that role's API key."""
    clients: dict[Role, httpx.Client] = {}

    def client(role: Role) -> httpx.Client:
        if role not in clients:
            clients[role] = httpx.Client(
                base_url=f"{estate.server.url}/api/v1",
                headers={"X-API-Key": estate.keys[role]},
                timeout=30,
            )
        return clients[role]

    yield client
    for opened in clients.values():
        opened.close()
