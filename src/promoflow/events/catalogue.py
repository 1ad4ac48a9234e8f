"""The event catalogue: every CloudEvent type promoflow records, what it means, its data.

Each entry's `data` is a JSON Schema (draft-07) of the event's `data` member: the
members every such event carries are required; extra members are allowed so that
adding a field is not a breaking change for consumers. The AsyncAPI document
(`events.asyncapi`) is generated from this list, and a test checks that every type
a lifecycle run records is listed here and valid against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft7Validator

from promoflow.events.log import TYPE_PREFIX
from promoflow.kit.errors import InvalidInput
from promoflow.promotions.states import ALLOWED

JsonType = str | list[str]
INT, NUM, STR, BOOL, OBJ, ARR = "integer", "number", "string", "boolean", "object", "array"
OPT_INT: JsonType = [INT, "null"]
OPT_STR: JsonType = [STR, "null"]


@dataclass(frozen=True)
class EventType:
    """One catalogued event type."""

    name: str  # without the io.promoflow. prefix
    description: str
    subject: str  # the CloudEvent subject's pattern
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.name


def shape(**members: JsonType) -> dict[str, Any]:
    """An object schema whose listed members are required, with their JSON types."""
    return {
        "type": OBJ,
        "required": sorted(members),
        "properties": {name: {"type": kind} for name, kind in members.items()},
        "additionalProperties": True,
    }


def _entry(name: str, description: str, subject: str, /, **members: JsonType) -> EventType:
    return EventType(name, description, subject, shape(**members))


PROMOTION = "promotion/{promotion_id}"
CHANNEL = "promotion/{promotion_id}/{channel}"
TASK = "approval/{task_id}"
CASE = "exception/{case_id}"
RECOMMENDATION = "recommendation/{recommendation_id}"
PO = "purchase_order/{number}"
MODEL = "model/{version}"
LETTER = "dead_letter/{id}"
CONNECTION = "connection/{name}"
_REC: dict[str, JsonType] = {"recommendation_id": INT, "kind": STR, "status": STR}
_TRANSITION: dict[str, JsonType] = {"from": STR, "to": STR, "reason": STR, "revision": INT}
_PUB: dict[str, JsonType] = {"channel": STR, "key": OPT_STR, "detail": STR, "revision": INT}
_APPROVAL: dict[str, JsonType] = {"task_id": INT, "revision": INT, "role": STR}
_CASE_CHANGE: dict[str, JsonType] = {"case_id": INT, "from": OBJ, "to": OBJ, "reason": STR}
_LETTER: dict[str, JsonType] = {
    "id": INT,
    "source": STR,
    "operation": STR,
    "key": OPT_STR,
    "reason": STR,
}


def _promotion_states() -> list[EventType]:
    targets = sorted(set().union(*ALLOWED.values()))
    return [
        _entry(
            f"promotion.{state}",
            f"The promotion moved to `{state}` (from `from`, with the reason).",
            PROMOTION,
            **_TRANSITION,
        )
        for state in targets
    ]


def _recommendation_decisions() -> list[EventType]:
    said = {
        "auto_applied": "applied as proposed without review: within the policy's threshold",
        "accepted": "accepted by a planner as proposed",
        "edited": "accepted by a planner with edited quantities",
        "rejected": "rejected by a planner, with the reason",
        "superseded": "replaced by a newer proposal for the same promotion",
    }
    return [
        _entry(
            f"recommendation.{status}",
            f"An allocation or replenishment recommendation was {text}.",
            RECOMMENDATION,
            **_REC,
            lines=INT,
        )
        for status, text in said.items()
    ]


CATALOGUE: tuple[EventType, ...] = (
    _entry(
        "promotion.created",
        "A draft promotion was created.",
        PROMOTION,
        code=STR,
        items=INT,
        locations=INT,
    ),
    *_promotion_states(),
    _entry(
        "promotion.revised",
        "A draft or rejected promotion's terms were changed as its next (or open) revision.",
        PROMOTION,
        code=STR,
        revision=INT,
        changed=ARR,
    ),
    _entry(
        "forecast.created",
        "A demand forecast was stored for a promotion revision (totals and model).",
        PROMOTION,
        promotion_id=INT,
        revision=INT,
        model_version=STR,
        inputs_hash=STR,
        lines=INT,
        baseline_units=NUM,
        promoted_units=NUM,
        uplift_pct=NUM,
        p90_units=NUM,
    ),
    _entry(
        "forecast.accuracy_recorded",
        "A closed promotion's sales were scored against its forecast.",
        PROMOTION,
        promotion_id=INT,
        revision=INT,
        model_version=STR,
        forecast_units=NUM,
        actual_units=NUM,
    ),
    _entry(
        "model.registered",
        "A trained demand model was registered as a candidate, with its backtest.",
        MODEL,
        version=STR,
        kind=STR,
        data_hash=STR,
    ),
    _entry("model.promoted", "A model became the champion.", MODEL, version=STR, kind=STR),
    _entry("model.retired", "A model was retired.", MODEL, version=STR, kind=STR, reason=STR),
    _entry(
        "approval.requested",
        "An approval task was opened for a role, with its SLA.",
        TASK,
        **_APPROVAL,
        code=STR,
        sla_hours=NUM,
        due_at=STR,
    ),
    _entry(
        "approval.decided",
        "An approver approved or rejected.",
        TASK,
        **_APPROVAL,
        code=STR,
        decision=STR,
    ),
    _entry("approval.reminded", "An approver was reminded.", TASK, **_APPROVAL, due_at=STR),
    _entry(
        "approval.escalated",
        "An overdue approval was escalated to another role.",
        TASK,
        **_APPROVAL,
        to_role=STR,
        case_id=INT,
    ),
    _entry("approval.expired", "An approval expired without a decision.", TASK, **_APPROVAL),
    _entry(
        "approval.reassigned", "An approval task was reassigned.", TASK, **_APPROVAL, to_role=STR
    ),
    _entry(
        "gate.evaluated",
        "The launch gates were evaluated; `failing` lists blocking gates that failed.",
        PROMOTION,
        revision=INT,
        launch_ready=BOOL,
        gates=OBJ,
        failing=ARR,
    ),
    _entry(
        "gate.waived",
        "An authorised role waived a failing gate, with the reason.",
        PROMOTION,
        revision=INT,
        gate=STR,
        role=STR,
        reason=STR,
    ),
    _entry(
        "exception.opened",
        "An exception case was opened for a role.",
        CASE,
        case_id=INT,
        kind=STR,
        severity=STR,
        owner_role=STR,
        title=STR,
    ),
    _entry("exception.reassigned", "A case was reassigned.", CASE, **_CASE_CHANGE),
    _entry("exception.escalated", "A case was escalated.", CASE, **_CASE_CHANGE),
    _entry(
        "exception.resolved",
        "A case was resolved with an action (retry, waive, cancel_promotion, ...).",
        CASE,
        case_id=INT,
        kind=STR,
        resolution=STR,
    ),
    _entry(
        "exception.reminded",
        "A case waited a whole operator SLA without a decision.",
        CASE,
        kind=STR,
        owner_role=STR,
    ),
    _entry(
        "publication.attempted",
        "One call to a channel to publish part of a promotion's prices.",
        CHANNEL,
        channel=STR,
        part=INT,
        outcome=STR,
        revision=INT,
    ),
    _entry(
        "publication.published",
        "A channel accepted every part of a promotion's prices.",
        CHANNEL,
        channel=STR,
        key=STR,
        prices=INT,
        revision=INT,
    ),
    _entry("publication.failed", "Publishing to a channel failed.", CHANNEL, **_PUB),
    _entry("publication.skipped", "A failing channel was waived.", CHANNEL, **_PUB),
    _entry("publication.reverted", "A channel's prices were withdrawn.", CHANNEL, **_PUB),
    _entry(
        "store_tasks.created",
        "Store readiness tasks (signage, display) were sent.",
        PROMOTION,
        tasks=INT,
        kinds=ARR,
        revision=INT,
    ),
    _entry(
        "store_tasks.confirmed",
        "Stores confirmed their readiness tasks.",
        PROMOTION,
        confirmed=INT,
        stores=ARR,
        revision=INT,
    ),
    _entry(
        "recommendation.proposed",
        "An allocation or replenishment was proposed, with model version and inputs hash.",
        RECOMMENDATION,
        **_REC,
        model_version=OPT_STR,
        inputs_hash=STR,
        lines=INT,
    ),
    *_recommendation_decisions(),
    _entry(
        "recommendation.applied",
        "A decided recommendation was carried out (stock shipped, purchase orders raised).",
        RECOMMENDATION,
        **_REC,
        units=NUM,
        lines=INT,
    ),
    _entry(
        "recommendation.reminded",
        "A planner was reminded of an undecided recommendation.",
        RECOMMENDATION,
        recommendation_id=INT,
        kind=STR,
        role=STR,
    ),
    _entry(
        "recommendation.escalated",
        "An undecided recommendation passed its SLA and was escalated.",
        RECOMMENDATION,
        recommendation_id=INT,
        to=STR,
        case_id=INT,
    ),
    _entry(
        "sell_through.checked",
        "Live sell-through was compared with the forecast's P10-P90 pace.",
        PROMOTION,
        elapsed_days=INT,
        window_days=INT,
        lines_checked=INT,
        units_sold=NUM,
        anomalies=INT,
        new_anomalies=INT,
        case_id=OPT_INT,
    ),
    _entry(
        "inventory.positions.changed",
        "Inventory positions were applied from a source system (one event per batch).",
        "inventory/{source}",
        source=STR,
        count=INT,
        item_ids=ARR,
        location_ids=ARR,
    ),
    _entry(
        "sales.reported",
        "Point-of-sale actuals arrived for these items and stores (live monitoring reacts).",
        "sales/{source}",
        source=STR,
        count=INT,
        item_ids=ARR,
        location_ids=ARR,
        first_day=STR,
        last_day=STR,
    ),
    _entry(
        "purchase_order.raised",
        "A purchase order was raised (to send to the supplier).",
        PO,
        number=STR,
        lines=INT,
        promotion_id=OPT_INT,
    ),
    _entry(
        "purchase_order.acknowledged",
        "A supplier acknowledged, partly confirmed or rejected a purchase order.",
        PO,
        number=STR,
        status=STR,
        promotion_id=OPT_INT,
    ),
    _entry(
        "purchase_order.cancelled",
        "A purchase order was cancelled at its supplier (its promotion was cancelled or "
        "rejected); none of its units count as on order any more.",
        PO,
        number=STR,
        promotion_id=OPT_INT,
        reason=STR,
    ),
    _entry(
        "purchase_order.received",
        "The goods of a purchase order arrived.",
        PO,
        number=STR,
        promotion_id=OPT_INT,
    ),
    _entry(
        "catalog.items.changed",
        "Item master records were applied from a source system.",
        "catalog/{source}",
        source=STR,
        count=INT,
        skus=ARR,
    ),
    _entry(
        "catalog.costs.changed",
        "Supplier costs from a price catalogue were applied.",
        "catalog/{source}",
        source=STR,
        count=INT,
        skus=ARR,
    ),
    _entry(
        "integration.connection.added",
        "A connection to an external system was configured (disabled until tested).",
        CONNECTION,
        name=STR,
        connector=STR,
    ),
    _entry(
        "integration.connection.tested",
        "A connection test ran against the external system.",
        CONNECTION,
        name=STR,
        ok=BOOL,
        detail=STR,
    ),
    _entry("integration.connection.enabled", "A connection was enabled.", CONNECTION, name=STR),
    _entry("integration.connection.disabled", "A connection was disabled.", CONNECTION, name=STR),
    _entry(
        "integration.sync.completed",
        "A sync through a connection finished (pages and records read).",
        CONNECTION,
        connection=STR,
        capability=STR,
        pages=INT,
        records=INT,
    ),
    _entry(
        "integration.dead_letter.recorded",
        "A valid message or call kept failing and was kept as a dead letter.",
        LETTER,
        **_LETTER,
    ),
    _entry(
        "integration.quarantine.recorded",
        "A malformed payload was refused before anything was applied, and kept.",
        LETTER,
        **_LETTER,
    ),
    _entry(
        "integration.dead_letter.replayed",
        "A dead letter was re-applied through its operation's replayer.",
        LETTER,
        id=INT,
        operation=STR,
        detail=STR,
    ),
    _entry(
        "integration.dead_letter.discarded",
        "A dead letter was closed without applying it; `detail` is the reason.",
        LETTER,
        id=INT,
        operation=STR,
        detail=STR,
    ),
)


@lru_cache(maxsize=1)
def by_type() -> dict[str, EventType]:
    """Catalogue entries keyed by full CloudEvent type."""
    return {entry.type: entry for entry in CATALOGUE}


def validate_data(event_type: str, data: Any) -> None:
    """InvalidInput naming the event type or the data member that does not match."""
    entry = by_type().get(event_type)
    if entry is None:
        raise InvalidInput("type", event_type, "not in the event catalogue (events/catalogue.py)")
    for error in Draft7Validator(entry.data).iter_errors(data):
        path = ".".join(str(p) for p in error.absolute_path)
        raise InvalidInput(f"data.{path}" if path else "data", error.instance, error.message)
