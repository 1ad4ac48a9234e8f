"""The neutral object-centric log every writer reads (OCEL 2.0's model, in Polars frames)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

# OCEL 2.0 gives an attribute that never changed the time "the beginning of time".
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# name -> [(attribute name, OCEL type: string | integer | float | boolean | time)]
TypeAttributes = dict[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class ObjectCentricLog:
    """Events, objects, their attributes and their qualified relations.

    events: id, type, time, revision_key (the promotion revision the event belongs to,
    for case-centric exports; null when none). event_attributes: event_id, name, value.
    relations (E2O): event_id, object_id, qualifier. objects: id, type.
    object_attributes: object_id, name, value, time (EPOCH for a value held from the
    start). object_relations (O2O): source_id, target_id, qualifier. Values are text,
    typed by the declarations in event_types and object_types.
    """

    event_types: TypeAttributes
    object_types: TypeAttributes
    events: pl.DataFrame
    event_attributes: pl.DataFrame
    relations: pl.DataFrame
    objects: pl.DataFrame
    object_attributes: pl.DataFrame
    object_relations: pl.DataFrame
    promotion_codes: dict[str, str]  # promotion id -> its code, to name XES traces

    @property
    def event_count(self) -> int:
        return self.events.height

    @property
    def object_count(self) -> int:
        return self.objects.height


def iso(moment: datetime) -> str:
    """ISO 8601 with an explicit UTC offset, as the OCEL and XES schemas want."""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
