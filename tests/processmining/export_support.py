"""What the process-mining tests compare: one promotion's relations and status history."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from promoflow.processmining import service
from promoflow.processmining.log import ObjectCentricLog

Triple = tuple[str, str, str]


def promotion_events(log: ObjectCentricLog, promotion_id: int) -> set[str]:
    """Ids of the events related to the promotion."""
    mine = log.relations.filter(pl.col("object_id") == f"promotion:{promotion_id}")
    return set(mine.get_column("event_id").to_list())


def relations_of(log: ObjectCentricLog, event_ids: set[str]) -> set[Triple]:
    """(event, object, qualifier) of these events, as the log holds them."""
    rows = log.relations.filter(pl.col("event_id").is_in(list(event_ids))).rows()
    return {(str(e), str(o), str(q)) for e, o, q in rows}


def export(fmt: str, folder: Path) -> Path:
    """Export the whole log in `fmt` through the service, as the CLI does."""
    from promoflow.kit.db import reading
    from promoflow.runtime import get_runtime

    path = folder / f"log.{fmt}"
    with reading(get_runtime().sessions) as session:
        if fmt == "xes":
            service.export_xes(session, path)
        else:
            service.export_ocel(session, fmt, path)
    return path
