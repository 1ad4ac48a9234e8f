"""Builds the neutral object-centric log from the event log and the domain tables.

Each event's data is decoded by Polars (promoflow.processmining.members); everything
after that is a Polars expression over the whole log, so a million events take seconds.
"""

from __future__ import annotations

import gc
from datetime import datetime

import polars as pl
from sqlalchemy.orm import Session

from promoflow.events.log import TYPE_PREFIX
from promoflow.processmining import repository
from promoflow.processmining import vocabulary as v
from promoflow.processmining.log import EPOCH, ObjectCentricLog, iso
from promoflow.processmining.members import decode
from promoflow.processmining.objects import ObjectFacts, read_objects
from promoflow.processmining.relations import (
    ATTRIBUTE_PREFIXES,
    RELATION_COLUMNS,
    changes,
    direct_relations,
    member,
    object_ids,
)

ISO_UTC = "%Y-%m-%dT%H:%M:%S%.6fZ"


def build_log(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> ObjectCentricLog:
    """The log of events in [since, until), the objects they touch and their neighbours."""
    # Parsing a slice of event data makes hundreds of thousands of small acyclic objects;
    # the cyclic collector's passes over them free nothing and cost a third of the time.
    was_collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(session, since, until)
    finally:
        if was_collecting:
            gc.enable()


def _build(session: Session, since: datetime | None, until: datetime | None) -> ObjectCentricLog:
    facts = read_objects(session)
    raw = repository.events_frame(session, since, until).with_row_index("n")
    raw = raw.with_columns(pl.col("type").str.strip_prefix(TYPE_PREFIX).alias("activity"))
    declared = v.event_type_attributes()
    present = sorted(set(raw.get_column("activity").unique().to_list()))
    event_types = {name: declared.get(name, [("actor", v.S)]) for name in present}
    lookups = {"item_by_sku": facts.item_by_sku, "location_by_code": facts.location_by_code}
    members, event_attributes, listed = decode(raw, event_types, lookups)
    raw = raw.drop("data")  # the JSON text is no longer needed: freed before the rest
    events = _events(raw.join(members, on="n", how="left", maintain_order="left"))
    e2o = (
        pl.concat([direct_relations(events), listed])
        .sort("n", "rank", maintain_order=True)
        .select(RELATION_COLUMNS)
        .unique(maintain_order=True)
    )
    objects, o2o = _objects_in_view(e2o, facts)
    held = _held_attributes(facts, objects)
    object_attributes = (
        pl.concat([held, changes(events)])
        .join(objects.select(pl.col("id").alias("object_id")), on="object_id", how="semi")
        .sort("object_id", maintain_order=True)
    )
    return ObjectCentricLog(
        event_types=event_types,
        object_types=v.OBJECT_TYPES,
        events=events.select(
            pl.col("event_id").alias("id"), pl.col("activity").alias("type"), "time", "revision_key"
        ),
        event_attributes=event_attributes,
        relations=e2o,
        objects=objects,
        object_attributes=object_attributes,
        object_relations=o2o,
        promotion_codes={str(pk): code for pk, code in facts.promotion_codes.items()},
    )


def _events(raw: pl.DataFrame) -> pl.DataFrame:
    """The event rows with activity, revision (stated or carried forward) and object ids."""
    time, kind = pl.col("time"), raw.schema["time"]
    if kind == pl.String:  # SQLite hands back text, naive UTC
        time = time.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_zone="UTC")
    elif isinstance(kind, pl.Datetime) and kind.time_zone is None:
        time = time.dt.replace_time_zone("UTC")
    else:
        time = time.dt.convert_time_zone("UTC")
    activity = pl.col("activity")
    frame = raw.with_columns(
        time.dt.strftime(ISO_UTC).alias("time"),
        activity.str.split_exact(".", 1).struct.field("field_0").alias("family"),
        activity.str.split_exact(".", 1).struct.field("field_1").alias("verb"),
        member("revision").cast(pl.Int64, strict=False).alias("stated_revision"),
    )
    revision = pl.when(pl.col("promotion_id").is_not_null()).then(
        pl.col("stated_revision").forward_fill().over("promotion_id").fill_null(1)
    )
    frame = frame.with_columns(revision.alias("revision"))
    frame = frame.with_columns(
        pl.concat_str(
            [pl.col("promotion_id").cast(pl.String), pl.col("revision").cast(pl.String)],
            separator=".",
        ).alias("revision_key"),
        *object_ids(),
    )
    return frame


def _objects_in_view(e2o: pl.DataFrame, facts: ObjectFacts) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Objects the events touch plus their direct neighbours; the O2O among them."""
    touched = e2o.select(pl.col("object_id").alias("id")).unique()
    o2o = pl.DataFrame(
        facts.relations,
        schema=dict.fromkeys(["source_id", "target_id", "qualifier"], pl.String),
        orient="row",
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
        prefix.replace_strict(ATTRIBUTE_PREFIXES, default=None).alias("type")
    ).filter(pl.col("type").is_not_null())
    kept = o2o.join(objects, left_on="source_id", right_on="id", how="semi").join(
        objects, left_on="target_id", right_on="id", how="semi"
    )
    return objects, kept.sort("source_id", maintain_order=True)


def _held_attributes(facts: ObjectFacts, objects: pl.DataFrame) -> pl.DataFrame:
    frame = pl.DataFrame(
        facts.attributes,
        schema=dict.fromkeys(["object_id", "name", "value"], pl.String),
        orient="row",
    ).with_columns(pl.lit(iso(EPOCH)).alias("time"))
    return frame.join(objects.select(pl.col("id").alias("object_id")), on="object_id", how="semi")
