"""Pull data from a connection into promoflow: all of a run, or none of it.

A sync streams pages from the connector and applies each page inside one
database transaction that commits only when the last page is in, so a run that
meets a malformed or partial page leaves positions, items and acknowledgements
exactly as they were. The page that failed is quarantined with its reason (in
its own transaction, so it outlives the rollback) and the error names the field
and value. A run whose system stays down after the Guard's retries is kept as a
dead letter that `promoflow deadletters replay` runs again.

On PostgreSQL memory stays one page: records are applied and flushed page by
page while the system streams them, and the database holds the uncommitted
writes. On SQLite a transaction holds the one write lock of the whole database,
and holding it while a remote system streams for a minute would stall every
workflow, so there the pages are read first and applied in one short transaction
(memory: the run's records, about 30 MB per 100k positions).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog import service as catalog_service
from promoflow.connectors.ports import (
    Acknowledging,
    ConnectorError,
    ItemStream,
    MalformedPayload,
    PositionStream,
    PurchaseOrderSystem,
    SalesFeed,
    SupplierCollaboration,
)
from promoflow.events import inbound
from promoflow.events.log import record_event
from promoflow.integration import deadletters
from promoflow.integration import service as connections
from promoflow.integration.models import DeadLetter
from promoflow.integration.schemas import (
    SYNC_CAPABILITIES,
    DeadLetterKind,
    SyncCapability,
    SyncResult,
)
from promoflow.inventory import service as inventory_service
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading, transaction
from promoflow.kit.errors import Conflict, InvalidInput, PromoflowError
from promoflow.promotions import repository as promotions
from promoflow.promotions.states import PromotionState

# The operation name is stored in dead letters: it stays what it was before the move.
SYNC_OPERATION = "connectors.sync"
CAPABILITIES = SYNC_CAPABILITIES
QUARANTINE_PAYLOAD_ROWS = 500


class SyncRefused(PromoflowError):
    """The system sent data we will not apply; nothing of the run was applied."""

    status = 502
    title = "Sync refused"


def _payload_of(page: Sequence[Any]) -> dict[str, Any]:
    rows = [asdict(r) if hasattr(r, "__dataclass_fields__") else r for r in page]
    return {"rows": rows[:QUARANTINE_PAYLOAD_ROWS], "row_count": len(rows)}


def _refused(
    sessions: sessionmaker[Session],
    connection: str,
    capability: str,
    error: MalformedPayload | InvalidInput,
    *,
    page: int,
    payload: dict[str, Any],
) -> SyncRefused:
    """Quarantine the refused page (its own transaction) and say what was refused."""
    if isinstance(error, MalformedPayload):
        reason = f"{error.message} (field {error.field!r}, value {error.value!r})"
    else:
        reason = error.message
    letter = deadletters.quarantine(
        sessions,
        source=connection,
        operation=f"{SYNC_OPERATION}.{capability}",
        payload=payload,
        reason=reason,
    )
    return SyncRefused(
        f"{connection}: page {page} refused, nothing of this sync applied "
        f"(quarantined as {letter}): {error.message}",
        field=error.field,
        value=error.value,
        quarantined=letter,
    )


def _malformed_payload(error: MalformedPayload) -> dict[str, Any]:
    return error.payload if isinstance(error.payload, dict) else {"raw": error.payload}


def _apply_pages(
    sessions: sessionmaker[Session],
    connection: str,
    capability: str,
    pages: Iterable[Sequence[Any]],
    apply: Callable[[Session, Sequence[Any]], int],
) -> tuple[int, int]:
    """Apply every page in one transaction; quarantine and refuse on the first bad one."""
    counted = [0, 0]
    current: list[Sequence[Any]] = []
    engine = sessions.kw.get("bind")
    if engine is not None and engine.dialect.name == "sqlite":
        read: list[Sequence[Any]] = []  # read before taking the write lock (module doc)
        try:
            for page in pages:
                read.append(page)
        except MalformedPayload as error:
            raise _refused(
                sessions,
                connection,
                capability,
                error,
                page=len(read) + 1,
                payload=_malformed_payload(error),
            ) from error
        pages = read
    try:
        with transaction(sessions) as session:
            for page in pages:
                current[:] = [page]
                counted[1] += apply(session, page)
                counted[0] += 1
                session.flush()
                session.expunge_all()  # keep memory to one page
            record_event(
                session,
                "integration.sync.completed",
                f"connection/{connection}",
                {
                    "connection": connection,
                    "capability": capability,
                    "pages": counted[0],
                    "records": counted[1],
                },
            )
    except MalformedPayload as error:
        raise _refused(
            sessions,
            connection,
            capability,
            error,
            page=counted[0] + 1,
            payload=_malformed_payload(error),
        ) from error
    except InvalidInput as error:
        raise _refused(
            sessions,
            connection,
            capability,
            error,
            page=counted[0] + 1,
            payload=_payload_of(current[0]) if current else {},
        ) from error
    return counted[0], counted[1]


def _open_purchase_orders(sessions: sessionmaker[Session]) -> list[str]:
    with reading(sessions) as session:
        return inventory_service.awaiting_acknowledgement(session)


def _live_scope(sessions: sessionmaker[Session]) -> tuple[list[str], list[str], Any]:
    """SKUs, store codes and the earliest start of the promotions live now."""
    with reading(sessions) as session:
        live = promotions.list_promotions(session, PromotionState.LIVE)
        ids = [promotion.id for promotion in live]
        skus = catalog_service.skus_in_promotions(session, ids)
        codes = catalog_service.location_codes_in_promotions(session, ids)
        start = min((promotion.start_date for promotion in live), default=None)
    return sorted(skus), sorted(codes), start


def sync(
    sessions: sessionmaker[Session], name: str, capability: str, *, keep_failure: bool = True
) -> SyncResult:
    """Pull one capability's data from an enabled connection and apply it, all or nothing.

    A system that stays down is kept as a dead letter (`keep_failure`; a replay of
    that letter passes False so a failed replay does not file a second one).
    """
    if capability not in CAPABILITIES:
        raise InvalidInput("capability", capability, f"sync takes {', '.join(CAPABILITIES)}")
    with sessions() as session:
        row = connections.get_connection(session, name)
        session.expunge(row)
    if not row.enabled:
        raise Conflict(f"connection {name!r} is disabled: enable it (its test runs first)")
    if capability not in {entry.partition(":")[0] for entry in row.serves}:
        raise InvalidInput("capability", capability, f"{name} serves {', '.join(row.serves)}")
    connector = connections.build_connector(row, sessions)
    started = time.perf_counter()
    pages: Iterable[Sequence[Any]]
    apply: Callable[[Session, Sequence[Any]], int]
    if capability == SyncCapability.INVENTORY:
        if not isinstance(connector, PositionStream):
            raise Conflict(f"{row.connector} cannot stream positions")
        pages = connector.stream_positions()

        def apply(session: Session, page: Sequence[Any]) -> int:
            return inventory_service.apply_positions(session, page, name)

    elif capability == SyncCapability.ITEM_MASTER:
        if not isinstance(connector, ItemStream):
            raise Conflict(f"{row.connector} cannot stream items")
        pages = connector.stream_items(None)

        def apply(session: Session, page: Sequence[Any]) -> int:
            return catalog_service.apply_items(session, page, name)

    elif capability == SyncCapability.PURCHASE_ORDERS:
        if not isinstance(connector, PurchaseOrderSystem):
            raise Conflict(f"{row.connector} does not take purchase orders")
        numbers = _open_purchase_orders(sessions)
        pages = [connector.acknowledgements(numbers)] if numbers else []

        def apply(session: Session, page: Sequence[Any]) -> int:
            return inventory_service.apply_acknowledgements(session, page)

    elif capability == SyncCapability.SALES_FEED:
        # Sales stay in the feed (live monitoring reads them there); the sync says
        # they arrived for the live promotions, which checks their sell-through now.
        if not isinstance(connector, SalesFeed):
            raise Conflict(f"{row.connector} has no sales feed")
        skus, codes, start = _live_scope(sessions)
        today = utcnow().date()
        pages = [connector.sales(skus, codes, start, today)] if skus and codes else []

        def apply(session: Session, page: Sequence[Any]) -> int:
            return inbound.report_sales(session, page, name)

    else:
        if not isinstance(connector, SupplierCollaboration):
            raise Conflict(f"{row.connector} offers no supplier collaboration")
        pages = [connector.price_catalogue()]

        def apply(session: Session, page: Sequence[Any]) -> int:
            return catalog_service.apply_catalogue_prices(session, page, name)

    try:
        page_count, records = _apply_pages(sessions, name, capability, pages, apply)
    except ConnectorError as error:
        if isinstance(error, MalformedPayload) or not keep_failure:
            raise
        with transaction(sessions) as session:
            letter = deadletters.record_dead_letter(
                session,
                kind=DeadLetterKind.DEAD_LETTER.value,
                source=name,
                operation=SYNC_OPERATION,
                payload={"connection": name, "capability": capability},
                reason=error.message,
                key=f"{name}:{capability}",
            )
            letter_id = letter.id
        raise SyncRefused(
            f"{name}: {capability} sync failed after retries, nothing applied; "
            f"kept as dead letter {letter_id} for replay: {error.message}",
            dead_letter=letter_id,
        ) from error
    if isinstance(connector, Acknowledging):
        # Only now, with the run committed, may a drop folder archive what it handed out.
        connector.acknowledge()
    return SyncResult(name, capability, page_count, records, time.perf_counter() - started)


def _replay_sync(letter: DeadLetter) -> str:
    from promoflow.runtime import get_runtime

    payload = letter.payload
    result = sync(
        get_runtime().sessions,
        str(payload["connection"]),
        str(payload["capability"]),
        keep_failure=False,
    )
    return f"{result.records} records in {result.pages} pages"


deadletters.register_replayer(SYNC_OPERATION, _replay_sync)
