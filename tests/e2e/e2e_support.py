"""Helpers of the browser tests: finding Chromium, watching a page, signing in, axe."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response

from process_support import Server
from promoflow.kit.roles import Role

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# The few screenshots the README shows, refreshed only on request (they are committed).
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
REFRESH_DOC_SCREENSHOTS = os.environ.get("PROMOFLOW_DOCS_SCREENSHOTS") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = (1280, 800)
TABLET = (768, 1024)
# axe-core's impacts that fail a page; minor and moderate ones are left to review.
BLOCKING_IMPACTS = ("serious", "critical")


def chromium_path() -> tuple[str | None, str]:
    """Debian's Chromium (or PROMOFLOW_CHROMIUM), or None and why it is missing."""
    wanted = os.environ.get("PROMOFLOW_CHROMIUM", "/usr/bin/chromium")
    found = wanted if os.access(wanted, os.X_OK) else shutil.which(wanted)
    if found is None:
        return None, (
            f"Chromium not found at {wanted}: `apt-get install chromium`, "
            "or set PROMOFLOW_CHROMIUM to its path"
        )
    return found, ""


@dataclass(frozen=True)
class Estate:
    """The running server of a test module and what the tests need to know of it."""

    server: Server
    database_url: str
    keys: dict[Role, str]
    region: str
    skus: list[str]  # promotable in the region, for the scenarios to share out
    stores: list[str]  # the region's stores


@dataclass
class WatchedPage:
    """A page whose console errors, failed requests and error answers are written down."""

    page: Page
    test_name: str
    problems: list[str] = field(default_factory=list)
    # (method, path prefix, status) answers a test provokes on purpose.
    expected: set[tuple[str, str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._answered)
        # hx-confirm asks before an action: the person says yes.
        self.page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def _failed(self, request: Request) -> None:
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _answered(self, response: Response) -> None:
        if response.status < 400:
            return
        path = "/" + response.url.split("/", 3)[-1]
        method = response.request.method
        if any(
            method == m and path.startswith(p) and response.status == s for m, p, s in self.expected
        ):
            return
        self.problems.append(f"{method} {path} answered {response.status}")

    def expect_answer(self, method: str, path_prefix: str, status: int) -> None:
        """An error answer the test provokes on purpose is not a problem."""
        self.expected.add((method, path_prefix, status))

    def screenshot(self, name: str, *, docs: bool = False) -> Path:
        """artifacts/screenshots/<test>-<name>.png (and docs/screenshots/<name>.png on request)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.test_name}-{name}").strip("-")
        path = SCREENSHOTS / f"{slug}.png"
        self.page.screenshot(path=str(path))
        if docs and REFRESH_DOC_SCREENSHOTS:
            DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOC_SCREENSHOTS / f"{name}.png")
        return path


def status_of(watched: WatchedPage, path: str) -> int:
    """The status of a GET of `path` with the page's cookies, without navigating to it."""
    answer = watched.page.context.request.get(path, max_redirects=0)
    try:
        return answer.status
    finally:
        answer.dispose()


def console_serves(path: str) -> bool:
    """Whether a console page answers GET `path` (asked of its routes, no server needed)."""
    from starlette.routing import Match

    from promoflow.web.pages import build_console_router

    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(route.matches(scope)[0] != Match.NONE for route in build_console_router().routes)


def needs_pages(*paths: str, reason: str) -> pytest.MarkDecorator:
    """Skip while a page the test uses answers 404; the test turns on once they all land.

    Decided at collection, so a module whose pages are missing starts no server.
    """
    missing = [path for path in paths if not console_serves(path)]
    return pytest.mark.skipif(
        bool(missing), reason=f"not served yet (404): {', '.join(missing)}; {reason}"
    )


def form_token(watched: WatchedPage) -> str:
    """The session's form token, as the page hands it to htmx (hx-headers on <body>)."""
    headers = watched.page.locator("body").get_attribute("hx-headers") or ""
    found = re.search(r'"X-CSRF-Token":\s*"([^"]+)"', headers)
    assert found, f"no form token on {watched.page.url}"
    return found.group(1)


def item_with(watched: WatchedPage, text: str) -> Locator:
    """The innermost row, list item, card or article showing `text`."""
    # Descendants follow their ancestors in document order: the last match is innermost.
    return watched.page.locator(":is(tr, li, article, .card)").filter(has_text=text).last


def sign_in(watched: WatchedPage, key: str, next_path: str = "/") -> None:
    """Sign in through the form with an API key, as a person pastes theirs."""
    page = watched.page
    page.goto(f"/sign-in?next={next_path}")
    page.fill("#credential", key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def serious_violations(watched: WatchedPage) -> str:
    """axe-core's serious and critical violations on the page, readably; '' when none."""
    results = Axe().run(watched.page)
    lines: list[str] = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.append(f"       {node.get('failureSummary', '').replace(chr(10), ' ')[:240]}")
    if not lines:
        return ""
    return f"{watched.page.url}:\n" + "\n".join(lines)


def seed_demo_retailer(url: str) -> tuple[str, list[str], list[str]]:
    """The schema with the demo branch and a small seeded retailer; a region, SKUs, stores."""
    import sqlalchemy as sa
    from sqlalchemy.orm import sessionmaker

    from promoflow.catalog.models import Location
    from promoflow.kit.db import make_engine
    from promoflow.migrate import upgrade
    from promoflow.scenario import picking
    from promoflow.scenario.generator import ScenarioSize, generate

    engine = make_engine(url)
    try:
        upgrade(engine, demo=True)
        sessions = sessionmaker(bind=engine)
        size = ScenarioSize(
            stores=4, regions=1, dcs=1, skus=24, categories=3, suppliers=2, history_weeks=60
        )
        generate(sessions, size, seed=7)
        with sessions() as session:
            region = picking.regions(session)[0]
            skus = picking.promotable_skus(session, region=region, count=6)
            stores = session.scalars(
                sa.select(Location.code).where(Location.kind == "store", Location.region == region)
            ).all()
            return region, skus, list(stores)
    finally:
        engine.dispose()
