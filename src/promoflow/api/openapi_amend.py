"""Layers that add to the OpenAPI document what FastAPI cannot see in the routes.

Rate limits (their 429 and headers), Idempotency-Key (its header and 409) and the
access policy (each operation's rule) are middleware or router-wide dependencies,
so FastAPI's generated document does not know of them. Each layer wraps the
app's document builder with `amend_openapi`; FastAPI caches the document it
builds, so each amendment runs once per document, not once per request for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

Document = dict[str, Any]


def amend_openapi(app: FastAPI, amend: Callable[[Document], None]) -> None:
    """Have `amend` change the app's OpenAPI document once, whenever it is built."""
    build = app.openapi
    amended: set[int] = set()

    def openapi() -> Document:
        document = build()
        if id(document) not in amended:
            amend(document)
            amended.add(id(document))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
