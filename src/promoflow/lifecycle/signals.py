"""Wake a waiting lifecycle workflow. Every wake-up makes it re-read the database."""

from __future__ import annotations

from typing import Any

from dbos import DBOS

from promoflow.kit.logging import get_logger

TOPIC = "lifecycle"
log = get_logger(__name__)


def notify(workflow_id: str | None, kind: str, **data: Any) -> bool:
    """Send `kind` (approval, gates, exception, cancel, launch, end) to the workflow.

    A missing workflow (a draft, or one already finished) is not an error: the
    state change that prompted the signal is already committed and is what the
    workflow reads when it next looks.
    """
    if not workflow_id:
        return False
    try:
        DBOS.send(workflow_id, {"kind": kind, **data}, topic=TOPIC)
    except Exception as error:  # DBOS raises its own type for an unknown workflow id
        log.info("signal_not_delivered", workflow_id=workflow_id, kind=kind, error=str(error))
        return False
    return True
