"""OCEL 2.0 JSON (the `jsonocel` layout of the OCEL 2.0 specification)."""

from __future__ import annotations

import json
from typing import IO, Any

from promoflow.processmining.log import ObjectCentricLog, TypeAttributes, aligned


def write_json(log: ObjectCentricLog, out: IO[str]) -> None:
    """Stream the log as one OCEL 2.0 JSON document (a million events stay off the heap)."""
    out.write('{"objectTypes": ')
    out.write(json.dumps(_types(log.object_types)))
    out.write(', "eventTypes": ')
    out.write(json.dumps(_types(log.event_types)))
    out.write(', "objects": [')
    _write_items(out, _objects(log))
    out.write('], "events": [')
    _write_items(out, _events(log))
    out.write("]}\n")


def _types(declared: TypeAttributes) -> list[dict[str, Any]]:
    return [
        {"name": name, "attributes": [{"name": a, "type": kind} for a, kind in attributes]}
        for name, attributes in declared.items()
    ]


def _write_items(out: IO[str], items: Any) -> None:
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    first = True
    for item in items:
        if not first:
            out.write(",\n")
        out.write(encode(item))
        first = False


def _objects(log: ObjectCentricLog) -> Any:
    ids = log.objects.get_column("id").to_list()
    types = log.objects.get_column("type").to_list()
    attributes = aligned(ids, log.object_attributes, "object_id", ["name", "value", "time"])
    relations = aligned(ids, log.object_relations, "source_id", ["target_id", "qualifier"])
    for object_id, kind, held, related in zip(ids, types, attributes, relations, strict=True):
        yield {
            "id": object_id,
            "type": kind,
            "attributes": [{"name": n, "value": value, "time": t} for n, value, t in held],
            "relationships": [{"objectId": o, "qualifier": q} for o, q in related],
        }


def _events(log: ObjectCentricLog) -> Any:
    ids = log.events.get_column("id").to_list()
    types = log.events.get_column("type").to_list()
    times = log.events.get_column("time").to_list()
    attributes = aligned(ids, log.event_attributes, "event_id", ["name", "value"])
    relations = aligned(ids, log.relations, "event_id", ["object_id", "qualifier"])
    for event_id, kind, time, held, related in zip(
        ids, types, times, attributes, relations, strict=True
    ):
        yield {
            "id": event_id,
            "type": kind,
            "time": time,
            "attributes": [{"name": n, "value": value} for n, value in held],
            "relationships": [{"objectId": o, "qualifier": q} for o, q in related],
        }
