"""Mounting the console on the app: pages, packaged assets, and HTML answers for errors.

Assets come from declared packages, never a CDN: htmx from django-htmx's wheel
(which bundles htmx 2; Django itself is never imported), Plotly's bundle from
the plotly package, and the console's own CSS and script from web/static.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from promoflow.config import Settings
from promoflow.kit.errors import PromoflowError
from promoflow.web.auth import SignInRequired, sign_in_url
from promoflow.web.pages import build_console_router
from promoflow.web.templating import build_templates, render

STATIC = Path(__file__).parent / "static"
CACHE = "public, max-age=86400"


def _package_file(package: str, *parts: str) -> Path:
    # find_spec locates the package without importing it (plotly's import is slow).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the console needs the package {package!r}: run `uv sync`")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise RuntimeError(f"{package} does not ship {'/'.join(parts)}: check its version")
    return path


VENDOR = {
    "htmx.min.js": ("django_htmx", "static", "django_htmx", "htmx-2.min.js"),
    "plotly.min.js": ("plotly", "package_data", "plotly.min.js"),
}


def is_console_path(path: str) -> bool:
    """Whether a path is the console's (not the API, health probes, metrics or docs)."""
    return not path.startswith(("/api/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc"))


def install_console(app: FastAPI, settings: Settings) -> None:
    """Serve the console at / beside the API."""
    app.state.console_templates = build_templates(settings.currency, settings.locale)
    app.state.console_dev_sign_in = settings.environment == "development"
    app.state.console_secure_cookies = settings.environment == "production"
    vendor = {name: _package_file(*where) for name, where in VENDOR.items()}

    async def vendor_asset(name: str) -> Response:
        path = vendor.get(name)
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": CACHE})

    app.add_api_route("/static/vendor/{name}", vendor_asset, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(build_console_router())
    _answer_console_errors_in_html(app)


def _answer_console_errors_in_html(app: FastAPI) -> None:
    async def sign_in_first(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        if request.headers.get("HX-Request"):
            # htmx would swap the sign-in page into a fragment: send the whole page there.
            return Response(status_code=204, headers={"HX-Redirect": sign_in_url(exc.next_path)})
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)

    app.add_exception_handler(SignInRequired, sign_in_first)
    api_handler = app.exception_handlers[PromoflowError]

    async def console_or_api(request: Request, exc: Exception) -> Any:
        if not is_console_path(request.url.path) or not isinstance(exc, PromoflowError):
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        return render(
            request,
            "flash.html" if request.headers.get("HX-Request") else "error.html",
            status_code=exc.status,
            title=exc.title,
            message=exc.message,
            status=exc.status,
        )

    app.add_exception_handler(PromoflowError, console_or_api)
