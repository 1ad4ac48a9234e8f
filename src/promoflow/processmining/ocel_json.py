"""OCEL 2.0 JSON (the `jsonocel` layout of the OCEL 2.0 specification).

Each event and object is encoded by Polars (its attributes and relationships gathered
into lists of structs), a slice of the log at a time, so a million events take seconds
and bounded memory.
"""

from __future__ import annotations

import json
from typing import IO, Any

import polars as pl

from promoflow.processmining.log import ObjectCentricLog, TypeAttributes
from promoflow.processmining.markup import SLICE, in_slices

_ATTRIBUTE = pl.Struct({"name": pl.String, "value": pl.String})
_TIMED_ATTRIBUTE = pl.Struct({"name": pl.String, "value": pl.String, "time": pl.String})
_RELATIONSHIP = pl.Struct({"objectId": pl.String, "qualifier": pl.String})


def write_json(log: ObjectCentricLog, out: IO[str]) -> None:
    """Stream the log as one OCEL 2.0 JSON document."""
    out.write('{"objectTypes": ')
    out.write(json.dumps(_types(log.object_types)))
    out.write(', "eventTypes": ')
    out.write(json.dumps(_types(log.event_types)))
    out.write(', "objects": [\n')
    _write_encoded(out, _objects(log))
    out.write('], "events": [\n')
    _write_encoded(out, _events(log))
    out.write("]}\n")


def _types(declared: TypeAttributes) -> list[dict[str, Any]]:
    return [
        {"name": name, "attributes": [{"name": a, "type": kind} for a, kind in attributes]}
        for name, attributes in declared.items()
    ]


def _write_encoded(out: IO[str], slices: Any) -> None:
    first = True
    for encoded in slices:
        if encoded.is_empty():
            continue
        if not first:
            out.write(",\n")
        out.write(",\n".join(encoded.to_list()))
        first = False


def _gathered(
    frame: pl.DataFrame, key: str, fields: dict[str, str], dtype: pl.Struct
) -> pl.DataFrame:
    """One row per key with the list of its rows as structs (renamed to the OCEL fields)."""
    return frame.group_by(key, maintain_order=True).agg(
        pl.struct([pl.col(column).alias(field) for column, field in fields.items()])
        .cast(dtype)
        .alias("items")
    )


def _encode(
    keys: pl.DataFrame,
    attributes: pl.DataFrame,
    relations: pl.DataFrame,
    scalars: list[str],
    attribute_type: pl.Struct,
) -> pl.Series:
    """The JSON text of each row of `keys` (id first), with its attributes and relationships."""
    joined = keys.join(
        attributes.rename({"items": "attributes"}), on="id", how="left", maintain_order="left"
    ).join(relations.rename({"items": "relationships"}), on="id", how="left", maintain_order="left")
    empty_attributes = pl.lit([], dtype=pl.List(attribute_type))
    empty_relations = pl.lit([], dtype=pl.List(_RELATIONSHIP))
    return joined.select(
        pl.struct(
            *scalars,
            pl.col("attributes").fill_null(empty_attributes),
            pl.col("relationships").fill_null(empty_relations),
        ).struct.json_encode()
    ).to_series()


def _objects(log: ObjectCentricLog) -> Any:
    attributes = _gathered(
        log.object_attributes.rename({"object_id": "id"}),
        "id",
        {"name": "name", "value": "value", "time": "time"},
        _TIMED_ATTRIBUTE,
    )
    relations = _gathered(
        log.object_relations.rename({"source_id": "id"}),
        "id",
        {"target_id": "objectId", "qualifier": "qualifier"},
        _RELATIONSHIP,
    )
    yield _encode(log.objects, attributes, relations, ["id", "type"], _TIMED_ATTRIBUTE)


def _events(log: ObjectCentricLog) -> Any:
    ids = log.events.get_column("id")
    for events, held, related in zip(
        log.events.iter_slices(SLICE),
        in_slices(ids, log.event_attributes, "event_id"),
        in_slices(ids, log.relations, "event_id"),
        strict=True,
    ):
        attributes = _gathered(
            held.rename({"event_id": "id"}),
            "id",
            {"name": "name", "value": "value"},
            _ATTRIBUTE,
        )
        relations = _gathered(
            related.rename({"event_id": "id"}),
            "id",
            {"object_id": "objectId", "qualifier": "qualifier"},
            _RELATIONSHIP,
        )
        yield _encode(
            events.select("id", "type", "time"),
            attributes,
            relations,
            ["id", "type", "time"],
            _ATTRIBUTE,
        )
