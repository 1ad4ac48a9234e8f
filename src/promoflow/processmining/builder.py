"""Builds the neutral object-centric log from the event log and the domain tables."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy.orm import Session

from promoflow.processmining import repository
from promoflow.processmining import vocabulary as v
from promoflow.processmining.log import EPOCH, ObjectCentricLog, iso
from promoflow.processmining.objects import ObjectFacts, read_objects
from promoflow.processmining.relations import changes, event_objects

_TYPE_OF_PREFIX = {
    "promotion": v.PROMOTION,
    "revision": v.REVISION,
    "item": v.ITEM,
    "location": v.LOCATION,
    "purchase_order": v.PURCHASE_ORDER,
    "approval_task": v.APPROVAL_TASK,
    "exception_case": v.EXCEPTION_CASE,
    "publication": v.PUBLICATION,
    "recommendation": v.RECOMMENDATION,
}


class _Columns:
    """Column lists filled row by row, turned into frames once (fast for a million events)."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.values: list[list[object]] = [[] for _ in names]

    def add(self, *row: object) -> None:
        for column, value in zip(self.values, row, strict=True):
            column.append(value)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            dict(zip(self.names, self.values, strict=True)),
            schema=dict.fromkeys(self.names, pl.String),
        )


def build_log(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> ObjectCentricLog:
    """The log of events in [since, until), the objects they touch and their neighbours."""
    facts = read_objects(session)
    event_types = v.event_type_attributes()
    events = _Columns("id", "type", "time", "revision_key")
    attributes = _Columns("event_id", "name", "value")
    relations = _Columns("event_id", "object_id", "qualifier")
    history = _Columns("object_id", "name", "value", "time")
    current_revision: dict[int, int] = {}
    for event_id, cloud_type, moment, actor, promotion, data, subject in repository.events(
        session, since, until
    ):
        activity = v.activity(cloud_type)
        declared = event_types.setdefault(activity, [("actor", v.S)])
        revision = None
        if promotion is not None:
            stated = data.get("revision")
            revision = stated if isinstance(stated, int) else current_revision.get(promotion, 1)
            current_revision[promotion] = revision
        when = iso(moment)
        events.add(
            event_id, activity, when, None if promotion is None else f"{promotion}.{revision}"
        )
        attributes.add(event_id, "actor", actor)
        for name, _ in declared[1:]:
            text = v.attribute_text(data.get(name))
            if text is not None:
                attributes.add(event_id, name, text)
        related = event_objects(
            activity,
            subject,
            data,
            promotion,
            revision,
            facts.item_by_sku,
            facts.location_by_code,
        )
        for object_id, qualifier in related:
            relations.add(event_id, object_id, qualifier)
        for object_id, name, value in changes(activity, data, related):
            history.add(object_id, name, value, when)
    e2o = relations.frame().unique(maintain_order=True)
    objects, o2o = _objects_in_view(e2o, facts)
    held = _held_attributes(facts, objects)
    object_attributes = (
        pl.concat([held, history.frame()])
        .join(objects.select(pl.col("id").alias("object_id")), on="object_id", how="semi")
        .sort("object_id", maintain_order=True)
    )
    event_frame = events.frame()
    occurring = set(event_frame.get_column("type").unique().to_list())
    return ObjectCentricLog(
        event_types={name: event_types[name] for name in sorted(occurring)},
        object_types=v.OBJECT_TYPES,
        events=event_frame,
        event_attributes=attributes.frame(),
        relations=e2o,
        objects=objects,
        object_attributes=object_attributes,
        object_relations=o2o,
        promotion_codes={str(pk): code for pk, code in facts.promotion_codes.items()},
    )


def _objects_in_view(e2o: pl.DataFrame, facts: ObjectFacts) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Objects the events touch plus their direct neighbours; the O2O among them."""
    touched = e2o.select(pl.col("object_id").alias("id")).unique()
    o2o = pl.DataFrame(
        facts.relations, schema=["source_id", "target_id", "qualifier"], orient="row"
    ).unique(maintain_order=True)
    neighbours = o2o.join(touched, left_on="source_id", right_on="id", how="semi").select(
        pl.col("target_id").alias("id")
    )
    sources = o2o.join(touched, left_on="target_id", right_on="id", how="semi").select(
        pl.col("source_id").alias("id")
    )
    ids = pl.concat([touched, neighbours, sources]).unique().sort("id")
    prefix = pl.col("id").str.split(":").list.first()
    objects = ids.with_columns(
        prefix.replace_strict(_TYPE_OF_PREFIX, default=None).alias("type")
    ).filter(pl.col("type").is_not_null())
    kept = o2o.join(objects, left_on="source_id", right_on="id", how="semi").join(
        objects, left_on="target_id", right_on="id", how="semi"
    )
    return objects, kept.sort("source_id", maintain_order=True)


def _held_attributes(facts: ObjectFacts, objects: pl.DataFrame) -> pl.DataFrame:
    frame = pl.DataFrame(
        facts.attributes, schema=["object_id", "name", "value"], orient="row"
    ).with_columns(pl.lit(iso(EPOCH)).alias("time"))
    return frame.join(objects.select(pl.col("id").alias("object_id")), on="object_id", how="semi")
