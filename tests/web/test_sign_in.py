"""Signing in to the console with what the API accepts, and what a session allows."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.conftest import Catalog
from promoflow.config import Settings
from web.conftest import Console


def _anonymous(api_settings: Settings) -> TestClient:
    from promoflow.app import create_app

    return TestClient(create_app(api_settings, manage_runtime=False), follow_redirects=False)


def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(
    api_settings: Settings, catalog: Catalog
) -> None:
    with _anonymous(api_settings) as client:
        response = client.get("/?view=mine")
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?next=/%3Fview%3Dmine"


def test_a_wrong_key_is_refused_on_the_form_and_opens_no_session(
    api_settings: Settings, catalog: Catalog
) -> None:
    with _anonymous(api_settings) as client:
        response = client.post("/sign-in", data={"credential": "not-a-key", "next": "/"})
        assert response.status_code == 401
        assert "not a valid API key or access token" in response.text
        assert "pf_session" not in response.cookies
        assert client.get("/").status_code == 303


def test_the_role_picker_is_offered_in_development_only(
    api_settings: Settings, catalog: Catalog
) -> None:
    with _anonymous(api_settings) as client:
        assert "sign in as a role" not in client.get("/sign-in").text
        refused = client.post("/sign-in", data={"role": "operations_admin", "next": "/"})
        assert refused.status_code == 401
        assert "development only" in refused.text
    development = api_settings.model_copy(update={"environment": "development"})
    with _anonymous(development) as client:
        assert "sign in as a role" in client.get("/sign-in").text
        picked = client.post("/sign-in", data={"role": "finance_approver", "name": "Fay"})
        assert picked.status_code == 303
        page = client.get("/")
        assert "Fay" in page.text and "finance approver" in page.text


def test_signing_out_ends_the_session_on_the_server(
    console_for: Callable[[str], Console],
) -> None:
    console = console_for("merchandiser")
    token = console.client.cookies.get("pf_session")
    assert console.get("/").status_code == 200
    console.post("/sign-out")
    # The old cookie, replayed, signs nobody in: the server ended the session.
    console.client.cookies.set("pf_session", token or "")
    assert console.client.get("/").status_code == 303


def test_the_session_cookie_is_httponly_and_same_site_strict(
    api_settings: Settings, catalog: Catalog
) -> None:
    with _anonymous(api_settings) as client:
        from api.conftest import api_key

        response = client.post("/sign-in", data={"credential": api_key("auditor")})
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_sign_in_never_redirects_to_another_site(
    api_settings: Settings, catalog: Catalog
) -> None:
    from api.conftest import api_key

    with _anonymous(api_settings) as client:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            response = client.post(
                "/sign-in", data={"credential": api_key("auditor"), "next": target}
            )
            assert response.headers["location"] == "/", target


def test_a_sign_in_posted_from_another_site_is_refused(
    api_settings: Settings, catalog: Catalog
) -> None:
    from api.conftest import api_key

    with _anonymous(api_settings) as client:
        response = client.post(
            "/sign-in",
            data={"credential": api_key("auditor")},
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403
        assert "pf_session" not in response.cookies


def test_a_signed_in_browser_spends_its_persons_budget_not_its_offices_address(
    api_settings: Settings, catalog: Catalog
) -> None:
    """An office shares one address; each signed-in person gets the reads budget."""
    from api.conftest import api_key
    from promoflow.app import create_app

    limited = api_settings.model_copy(
        update={"rate_limit_reads": "50/minute", "rate_limit_anonymous": "4/minute"}
    )
    with TestClient(create_app(limited, manage_runtime=False), follow_redirects=False) as client:
        signed = client.post("/sign-in", data={"credential": api_key("merchandiser")})
        assert signed.status_code == 303
        pages = [client.get("/") for _ in range(6)]
        assert [page.status_code for page in pages] == [200] * 6
        assert '"reads"' in pages[-1].headers["RateLimit-Policy"]
        # A cookie the server never issued earns no budget of its own.
        client.cookies.clear()
        client.cookies.set("pf_session", "made-up")
        refused = [client.get("/").status_code for _ in range(4)]
        assert 429 in refused
