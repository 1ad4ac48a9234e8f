"""Which documented route a request is for, before the router has run.

Limits and metrics are decided in middleware, outside the router, yet both must
speak of `/api/v1/promotions/{ref}` rather than of `/api/v1/promotions/PRM-00042`:
a budget per path, or a time series per path, would be one per promotion. The
routes are read from the app's OpenAPI document (as api/problems.py finds the
methods of a path for 405), which lists them in the router's order; the answer
is worked out once per request and kept in the ASGI scope.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import compile_path
from starlette.types import Scope

_KEY = "promoflow.route"
# Paths no route serves (scanners, typos) share one name, so they cannot grow the
# metrics or the limiter's keys without bound.
UNMATCHED = "<unmatched>"
# Served, but left out of the document.
UNDOCUMENTED = ("/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

RouteTable = list[tuple[re.Pattern[str], frozenset[str], str]]


def documented_routes(app: Any) -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation in the app's OpenAPI document."""
    paths: dict[str, dict[str, Any]] = app.openapi().get("paths", {})
    return [
        (method.upper(), path)
        for path, item in paths.items()
        for method in item
        if method in _HTTP_METHODS
    ]


def _table(app: Any) -> RouteTable:
    table: RouteTable | None = getattr(app.state, "route_table", None)
    if table is None:
        methods: dict[str, set[str]] = {}
        for method, path in documented_routes(app):
            methods.setdefault(path, set()).add(method)
        for path in UNDOCUMENTED:
            methods.setdefault(path, {"GET"})
        table = [
            (compile_path(path)[0], frozenset(allowed), path) for path, allowed in methods.items()
        ]
        app.state.route_table = table
    return table


def route_template(scope: Scope) -> str:
    """The route's path template (`/api/v1/promotions/{ref}`), or UNMATCHED."""
    cached = scope.get(_KEY)
    if isinstance(cached, str):
        return cached
    app = scope.get("app")
    found = UNMATCHED
    if app is not None:
        method = "GET" if scope.get("method") == "HEAD" else scope.get("method", "")
        for regex, methods, path in _table(app):
            if regex.match(scope["path"]):
                if method in methods:
                    found = path
                    break
                if found == UNMATCHED:  # the path, another method: a 405 names it too
                    found = path
    scope[_KEY] = found
    return found
