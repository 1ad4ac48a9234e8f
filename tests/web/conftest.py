"""Console fixtures: a client of the app without a browser, signed in per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

# The API tests' fixtures (settings with a test key per role, a few catalogue rows), shared.
from api.conftest import Catalog, api_key, api_settings, catalog  # noqa: F401
from promoflow.config import Settings

CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


class Console:
    """A signed-in browser without a browser: cookies kept, the form token read off pages."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **(kwargs.pop("headers", None) or {})}
        return self.client.post(path, data=data, headers=headers, **kwargs)


@pytest.fixture
def console_for(
    api_settings: Settings,  # noqa: F811 (the imported fixture)
    catalog: Catalog,  # noqa: F811 (the imported fixture)
) -> Iterator[Callable[[str], Console]]:
    """`console_for(role)`: a fresh client signed in with that role's test key."""
    from promoflow.app import create_app

    app = create_app(api_settings, manage_runtime=False)
    opened: list[TestClient] = []

    def sign_in(role: str) -> Console:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        opened.append(client)
        response = client.post("/sign-in", data={"credential": api_key(role), "next": "/"})
        assert response.status_code == 303, response.text
        console = Console(client)
        console.get("/")
        return console

    yield sign_in
    for client in opened:
        client.__exit__(None, None, None)
