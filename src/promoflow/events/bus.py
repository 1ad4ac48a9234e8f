"""The in-process event bus (embedded mode). Handlers must be idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from promoflow.kit.logging import get_logger

CloudEvent = dict[str, Any]
Handler = Callable[[CloudEvent], None]
log = get_logger(__name__)


class InProcessBus:
    """Delivers CloudEvents to handlers subscribed by type prefix, in order."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []

    def subscribe(self, type_prefix: str, handler: Handler) -> None:
        self._handlers.append((type_prefix, handler))

    def publish(self, event: CloudEvent) -> None:
        """Deliver to every matching handler; one failing handler does not stop the others."""
        for prefix, handler in self._handlers:
            if event["type"].startswith(prefix):
                try:
                    handler(event)
                except Exception as error:
                    log.error(
                        "event_handler_failed",
                        type=event["type"],
                        id=event["id"],
                        handler=getattr(handler, "__name__", "?"),
                        error=str(error),
                    )
