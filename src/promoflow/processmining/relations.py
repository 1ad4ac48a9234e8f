"""Which objects an event touches (with the qualifier saying how) and what it changes."""

from __future__ import annotations

from typing import Any

from promoflow.processmining import vocabulary as v

Relation = tuple[str, str]  # (object id, qualifier)
Change = tuple[str, str, str]  # (object id, attribute, new value)

# Activities whose case_id names a case the event opened rather than the case it is about.
_CASE_QUALIFIER = {
    "approval.escalated": "escalated into",
    "recommendation.escalated": "escalated into",
    "sell_through.checked": "anomaly reported in",
}
_PUBLICATION_STATUS = {
    "publication.attempted": "publishing",
    "publication.published": "published",
    "publication.failed": "failed",
    "publication.skipped": "skipped",
    "publication.reverted": "reverted",
}
_PO_STATUS = {
    "purchase_order.raised": "open",
    "purchase_order.cancelled": "cancelled",
    "purchase_order.received": "received",
}


def event_objects(
    activity: str,
    subject: str,
    data: dict[str, Any],
    promotion: int | None,
    revision: int | None,
    item_by_sku: dict[str, int],
    location_by_code: dict[str, int],
) -> list[Relation]:
    """The event-to-object relations of one event, qualified."""
    related: list[Relation] = []
    if promotion is not None:
        related.append((v.promotion_id(promotion), "promotion"))
        if revision is not None:
            related.append((v.revision_id(promotion, revision), "revision"))
    family = activity.split(".", 1)[0]
    if family == "approval" and isinstance(data.get("task_id"), int):
        related.append((v.approval_task_id(data["task_id"]), "approval task"))
    case = _case_of(family, subject, data)
    if case is not None:
        related.append((v.exception_case_id(case), _CASE_QUALIFIER.get(activity, "case")))
    if family == "publication" and promotion is not None and revision is not None:
        channel = str(data.get("channel", subject.rsplit("/", 1)[-1]))
        related.append((v.publication_id(promotion, revision, channel), "publication"))
    if family == "recommendation" and isinstance(data.get("recommendation_id"), int):
        related.append((v.recommendation_id(data["recommendation_id"]), "recommendation"))
    if family == "purchase_order" and isinstance(data.get("number"), str):
        related.append((v.purchase_order_id(data["number"]), "purchase order"))
    for number in data.get("purchase_orders") or ():  # what an applied replenishment raised
        if isinstance(number, str):
            related.append((v.purchase_order_id(number), "raised"))
    related.extend(_scope(data, item_by_sku, location_by_code))
    return related


def _case_of(family: str, subject: str, data: dict[str, Any]) -> int | None:
    case = data.get("case_id")
    if isinstance(case, int):
        return case
    if family == "exception" and subject.startswith("exception/"):
        tail = subject.removeprefix("exception/")
        return int(tail) if tail.isdigit() else None
    return None


def _scope(
    data: dict[str, Any], item_by_sku: dict[str, int], location_by_code: dict[str, int]
) -> list[Relation]:
    """Items and locations a stock, sales or item-master batch (or store tasks) names."""
    related: list[Relation] = []
    seen: set[str] = set()
    for pk in data.get("item_ids") or ():
        if isinstance(pk, int):
            seen.add(v.item_id(pk))
    for sku in data.get("skus") or ():
        if isinstance(sku, str) and sku in item_by_sku:
            seen.add(v.item_id(item_by_sku[sku]))
    related.extend((object_id, "item") for object_id in sorted(seen))
    places = {v.location_id(pk) for pk in data.get("location_ids") or () if isinstance(pk, int)}
    for code in data.get("stores") or ():
        if isinstance(code, str) and code in location_by_code:
            places.add(v.location_id(location_by_code[code]))
    related.extend((object_id, "location") for object_id in sorted(places))
    return related


def changes(activity: str, data: dict[str, Any], related: list[Relation]) -> list[Change]:
    """The object attributes this event set (status and the like), for their history."""
    by_qualifier = {qualifier: object_id for object_id, qualifier in related}
    out: list[Change] = []

    def put(qualifier: str, attribute: str, value: Any) -> None:
        if qualifier in by_qualifier and value is not None:
            out.append((by_qualifier[qualifier], attribute, str(value)))

    family, _, verb = activity.partition(".")
    if activity == "promotion.created":
        put("promotion", "status", "draft")
        put("revision", "status", "draft")
    elif family == "promotion" and "to" in data:
        put("promotion", "status", data["to"])
        put("revision", "status", data["to"])
    elif family == "approval":
        status = {"requested": "pending", "expired": "expired", "escalated": "escalated"}
        put("approval task", "status", data.get("decision") or status.get(verb))
        put("approval task", "assigned_role", data.get("to_role"))
    elif activity in ("exception.opened", "exception.resolved"):
        put("case", "status", "open" if verb == "opened" else "resolved")
    elif activity in _PUBLICATION_STATUS:
        put("publication", "status", _PUBLICATION_STATUS[activity])
    elif family == "recommendation" and verb not in ("reminded", "escalated"):
        put("recommendation", "status", verb)
    elif activity == "purchase_order.acknowledged":
        put("purchase order", "ack_status", data.get("status"))
    elif activity in _PO_STATUS:
        put("purchase order", "status", _PO_STATUS[activity])
    return out
