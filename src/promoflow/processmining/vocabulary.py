"""What promoflow's events and tables mean in OCEL 2.0: object types, ids, qualifiers."""

from __future__ import annotations

import json
from typing import Any

from promoflow.events.catalogue import CATALOGUE
from promoflow.events.log import TYPE_PREFIX

PROMOTION = "promotion"
REVISION = "revision"
ITEM = "item"
LOCATION = "location"
PURCHASE_ORDER = "purchase order"
APPROVAL_TASK = "approval task"
EXCEPTION_CASE = "exception case"
PUBLICATION = "publication"
RECOMMENDATION = "recommendation"

S, INT, F = "string", "integer", "float"

# Each object type's attributes; `status` (and the like) change over time through events.
OBJECT_TYPES: dict[str, list[tuple[str, str]]] = {
    PROMOTION: [
        ("code", S),
        ("name", S),
        ("mechanic", S),
        ("category", S),
        ("requested_by", S),
        ("start_date", S),
        ("end_date", S),
        ("status", S),
    ],
    REVISION: [("promotion_code", S), ("revision", INT), ("created_by", S), ("status", S)],
    ITEM: [("sku", S), ("name", S), ("category", S), ("brand", S), ("regular_price", F)],
    LOCATION: [("code", S), ("name", S), ("kind", S), ("region", S), ("banner", S)],
    PURCHASE_ORDER: [("number", S), ("due_date", S), ("status", S), ("ack_status", S)],
    APPROVAL_TASK: [("role", S), ("assigned_role", S), ("sla_hours", F), ("status", S)],
    EXCEPTION_CASE: [("kind", S), ("severity", S), ("owner_role", S), ("title", S), ("status", S)],
    PUBLICATION: [("channel", S), ("status", S)],
    RECOMMENDATION: [("kind", S), ("model_version", S), ("status", S)],
}

_JSON_TO_OCEL = {"integer": INT, "number": F, "boolean": "boolean", "string": S}


def promotion_id(pk: int) -> str:
    return f"promotion:{pk}"


def revision_id(pk: int, revision: int) -> str:
    return f"revision:{pk}.{revision}"


def item_id(pk: int) -> str:
    return f"item:{pk}"


def location_id(pk: int) -> str:
    return f"location:{pk}"


def purchase_order_id(number: str) -> str:
    return f"purchase_order:{number}"


def approval_task_id(pk: int) -> str:
    return f"approval_task:{pk}"


def exception_case_id(pk: int) -> str:
    return f"exception_case:{pk}"


def publication_id(promotion: int, revision: int, channel: str) -> str:
    return f"publication:{promotion}.{revision}.{channel}"


def recommendation_id(pk: int) -> str:
    return f"recommendation:{pk}"


def activity(event_type: str) -> str:
    """The OCEL event type (activity) of a CloudEvent type: its catalogue name."""
    return event_type.removeprefix(TYPE_PREFIX)


def event_type_attributes() -> dict[str, list[tuple[str, str]]]:
    """Each catalogued activity's attributes: who acted, then its scalar data members."""
    declared: dict[str, list[tuple[str, str]]] = {}
    for entry in CATALOGUE:
        members = [("actor", S)]
        for name, schema in sorted(entry.data["properties"].items()):
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            kind = next((_JSON_TO_OCEL[k] for k in kinds if k in _JSON_TO_OCEL), S)
            members.append((name, kind))
        declared[entry.name] = members
    return declared


def structured_members() -> dict[str, set[str]]:
    """Each catalogued activity's data members that may hold a list or an object."""
    structured: dict[str, set[str]] = {}
    for entry in CATALOGUE:
        for name, schema in entry.data["properties"].items():
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if {"array", "object"} & set(kinds):
                structured.setdefault(entry.name, set()).add(name)
    return structured


def attribute_text(value: Any) -> str | None:
    """An attribute's value as OCEL text (lists and objects as compact JSON); None for null."""
    if value is None:
        return None
    kind = value.__class__
    if kind is int or kind is float or kind is str:  # most members: checked first, cheaply
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
