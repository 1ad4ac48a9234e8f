"""Objects from the domain tables: their lasting attributes and object-to-object relations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from promoflow.processmining import repository
from promoflow.processmining import vocabulary as v


@dataclass
class ObjectFacts:
    """Attributes (object id, name, value) held from the start, and O2O relations."""

    attributes: list[tuple[str, str, str]] = field(default_factory=list)
    relations: list[tuple[str, str, str]] = field(default_factory=list)  # source, target, qualifier
    item_by_sku: dict[str, int] = field(default_factory=dict)
    location_by_code: dict[str, int] = field(default_factory=dict)
    promotion_codes: dict[int, str] = field(default_factory=dict)

    def describe(self, object_id: str, **values: Any) -> None:
        for name, value in values.items():
            if value is not None and value != "":
                self.attributes.append((object_id, name, str(value)))

    def relate(self, source: str, target: str, qualifier: str) -> None:
        self.relations.append((source, target, qualifier))


def read_objects(session: Session) -> ObjectFacts:
    """Every object the domain tables know, described and related."""
    facts = ObjectFacts()
    _catalogue(session, facts)
    _promotions(session, facts)
    _purchase_orders(session, facts)
    _workflow_objects(session, facts)
    return facts


def _catalogue(session: Session, facts: ObjectFacts) -> None:
    for pk, sku, name, category, brand, price in repository.items(session):
        facts.item_by_sku[sku] = pk
        facts.describe(
            v.item_id(pk), sku=sku, name=name, category=category, brand=brand, regular_price=price
        )
    for pk, code, name, kind, region, banner in repository.locations(session):
        facts.location_by_code[code] = pk
        facts.describe(
            v.location_id(pk), code=code, name=name, kind=kind, region=region, banner=banner
        )


def _promotions(session: Session, facts: ObjectFacts) -> None:
    for pk, code, name, mechanic, category, requested_by, start, end in repository.promotions(
        session
    ):
        facts.promotion_codes[pk] = code
        facts.describe(
            v.promotion_id(pk),
            code=code,
            name=name,
            mechanic=mechanic,
            category=category,
            requested_by=requested_by,
            start_date=start.isoformat(),
            end_date=end.isoformat(),
        )
    for pk, revision, created_by in repository.revisions(session):
        target = v.revision_id(pk, revision)
        facts.describe(
            target,
            promotion_code=facts.promotion_codes.get(pk),
            revision=revision,
            created_by=created_by,
        )
        facts.relate(v.promotion_id(pk), target, "revised as")
    promoted, places = repository.promotion_scope(session)
    for pk, item in promoted:
        facts.relate(v.promotion_id(pk), v.item_id(item), "promotes")
    for pk, location in places:
        facts.relate(v.promotion_id(pk), v.location_id(location), "runs at")


def _purchase_orders(session: Session, facts: ObjectFacts) -> None:
    for number, promotion, destination, due_date in repository.purchase_orders(session):
        order = v.purchase_order_id(number)
        facts.describe(order, number=number, due_date=due_date.isoformat())
        facts.relate(order, v.location_id(destination), "delivers to")
        if promotion is not None:
            facts.relate(order, v.promotion_id(promotion), "raised for")
    for number, item in repository.purchase_order_items(session):
        facts.relate(v.purchase_order_id(number), v.item_id(item), "orders")


def _workflow_objects(session: Session, facts: ObjectFacts) -> None:
    for pk, promotion, revision, role, sla_hours in repository.approval_tasks(session):
        task = v.approval_task_id(pk)
        facts.describe(task, role=role, assigned_role=role, sla_hours=sla_hours)
        facts.relate(task, v.revision_id(promotion, revision), "approves")
    for pk, promotion, revision, kind, severity, owner, title in repository.exception_cases(
        session
    ):
        case = v.exception_case_id(pk)
        facts.describe(case, kind=kind, severity=severity, owner_role=owner, title=title)
        if promotion is not None:
            facts.relate(case, v.promotion_id(promotion), "concerns")
            if revision is not None:
                facts.relate(case, v.revision_id(promotion, revision), "concerns revision")
    for promotion, revision, channel in repository.publications(session):
        publication = v.publication_id(promotion, revision, channel)
        facts.describe(publication, channel=channel)
        facts.relate(publication, v.revision_id(promotion, revision), "publishes")
    for pk, promotion, revision, kind, model, superseded_by in repository.recommendations(session):
        proposal = v.recommendation_id(pk)
        facts.describe(proposal, kind=kind, model_version=model)
        facts.relate(proposal, v.revision_id(promotion, revision), "plans")
        if superseded_by is not None:
            facts.relate(proposal, v.recommendation_id(superseded_by), "superseded by")
