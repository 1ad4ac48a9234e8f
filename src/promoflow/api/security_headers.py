"""Response headers that keep browsers from misusing the API's answers.

Five fixed headers on every answer (HSTS too in production): nosniff, no framing,
no referrer, same-origin resources, and a Content-Security-Policy that lets an API
answer run nothing. The interactive docs (development only, see app.py) are HTML
that loads Swagger UI, so their pages get no CSP. Written here rather than taken
from a package: it is a fixed list of headers, and a dependency would add nothing.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoflow.config import Settings

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """ASGI middleware: add the headers to every HTTP answer that does not set its own."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") in DOCS_PATHS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if not docs:
                    headers.setdefault("Content-Security-Policy", API_CSP)
                if self.production:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Add the headers to every answer."""
    app.add_middleware(SecurityHeaders, production=settings.environment == "production")
