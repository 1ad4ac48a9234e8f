"""Recommendations: proposed, superseded, applied by policy or decided by a planner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from governance_support import Retailer
from sqlalchemy.orm import Session

from promoflow.events.models import Event
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from promoflow.recommendations import service
from promoflow.recommendations.models import Recommendation

NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
PLANNER = {"actor": "pat.planner", "role": "supply_chain_planner"}


def allocation_lines(retailer: Retailer) -> list[dict[str, Any]]:
    """DC -> each store: 40 and 25 units of item 0, 30 of item 1 to store 0."""
    dc, (s0, s1), (i0, i1) = retailer.dc, retailer.stores, retailer.items
    return [
        {"item_id": i0, "location_id": s0, "source_id": dc, "quantity": 40,
         "expected_service_level": 0.97, "details": {"p90": 38.5}},
        {"item_id": i0, "location_id": s1, "source_id": dc, "quantity": 25.0},
        {"item_id": i1, "location_id": s0, "source_id": dc, "quantity": 30.0},
    ]  # fmt: skip


def propose(session: Session, retailer: Retailer, **overrides: Any) -> Recommendation:
    fields: dict[str, Any] = {
        "promotion_id": retailer.promotion.id,
        "revision": 2,
        "kind": "allocation",
        "model_version": "alloc-lp-1",
        "inputs_hash": "f" * 64,
        "lines": allocation_lines(retailer),
        "summary": {"units": 95, "stores": 2},
        "threshold": {"decision": "review", "units": 95, "auto_apply_below_units": 50},
        "now": NOW,
    }
    fields.update(overrides)
    return service.propose(session, **fields)


def events(session: Session, recommendation: Recommendation) -> list[str]:
    rows = session.scalars(
        sa.select(Event)
        .where(Event.subject == f"recommendation/{recommendation.id}")
        .order_by(Event.sequence)
    )
    return [row.type.removeprefix("io.promoflow.") for row in rows]


def decided(session: Session, recommendation: Recommendation) -> list[float | None]:
    return [
        line.quantity_decided for line in service.recommendation_lines(session, recommendation.id)
    ]


def test_propose_stores_lines_model_and_threshold(session: Session, retailer: Retailer) -> None:
    rec = propose(session, retailer)
    assert (rec.status, rec.kind, rec.revision, rec.model_version) == (
        "proposed",
        "allocation",
        2,
        "alloc-lp-1",
    )
    assert rec.threshold["decision"] == "review"
    lines = service.recommendation_lines(session, rec.id)
    assert [line.quantity_proposed for line in lines] == [40.0, 25.0, 30.0]
    assert [line.quantity_decided for line in lines] == [None, None, None]
    assert lines[0].expected_service_level == 0.97
    assert lines[0].details == {"p90": 38.5}
    assert events(session, rec) == ["recommendation.proposed"]
    proposed = session.scalars(sa.select(Event).where(Event.subject == f"recommendation/{rec.id}"))
    data = proposed.one().data
    assert (data["lines"], data["units_proposed"], data["inputs_hash"]) == (3, 95.0, "f" * 64)
    assert service.open_recommendation(session, retailer.promotion.id, 2, "allocation") is rec


def test_lines_may_come_as_a_polars_frame(session: Session, retailer: Retailer) -> None:
    frame = pl.DataFrame(allocation_lines(retailer)[1:])
    rec = propose(session, retailer, lines=frame)
    assert [line.quantity_proposed for line in service.recommendation_lines(session, rec.id)] == [
        25.0,
        30.0,
    ]


def test_a_new_proposal_supersedes_the_open_one(session: Session, retailer: Retailer) -> None:
    first = propose(session, retailer)
    replenishment = propose(
        session, retailer, kind="replenishment",
        lines=[{"item_id": retailer.items[0], "location_id": retailer.dc,
                "source_id": retailer.supplier, "quantity": 120}],
    )  # fmt: skip
    second = propose(session, retailer, model_version="alloc-lp-2")
    assert (first.status, first.superseded_by, first.decided_at) == ("superseded", second.id, NOW)
    assert first.reason == f"superseded by recommendation {second.id}"
    assert replenishment.status == "proposed"  # another kind is left alone
    assert events(session, first) == ["recommendation.proposed", "recommendation.superseded"]
    assert [r.id for r in service.list_recommendations(session, retailer.promotion.id)] == [
        second.id,
        replenishment.id,
        first.id,
    ]
    assert [
        r.id
        for r in service.list_recommendations(session, retailer.promotion.id, status="proposed")
    ] == [second.id, replenishment.id]
    with pytest.raises(Conflict, match="already superseded"):
        service.accept(session, first.id, **PLANNER)


def test_a_proposal_for_a_new_revision_supersedes_the_old_revisions(
    session: Session, retailer: Retailer
) -> None:
    old = propose(session, retailer, revision=1)
    new = propose(session, retailer, revision=2)
    assert (old.status, old.superseded_by) == ("superseded", new.id)


def test_accept_decides_every_line_as_proposed(session: Session, retailer: Retailer) -> None:
    rec = propose(session, retailer)
    service.accept(session, rec.id, **PLANNER, now=NOW)
    assert (rec.status, rec.decided_by, rec.decided_role, rec.decided_at) == (
        "accepted",
        "pat.planner",
        "supply_chain_planner",
        NOW,
    )
    assert decided(session, rec) == [40.0, 25.0, 30.0]
    assert events(session, rec) == ["recommendation.proposed", "recommendation.accepted"]
    with pytest.raises(Conflict, match=r"already accepted by pat\.planner"):
        service.reject(session, rec.id, **PLANNER, reason="changed my mind")


def test_auto_apply_is_the_policy_deciding(session: Session, retailer: Retailer) -> None:
    rec = propose(session, retailer, threshold={"decision": "auto", "units": 95})
    service.auto_apply(session, rec.id, now=NOW)
    assert (rec.status, rec.decided_by, rec.decided_role) == ("auto_applied", "system", None)
    assert decided(session, rec) == [40.0, 25.0, 30.0]
    assert events(session, rec)[-1] == "recommendation.auto_applied"
    with pytest.raises(Conflict, match="only a proposed recommendation can be decided"):
        service.edit(session, rec.id, **PLANNER, changes={1: 1.0}, reason="x")


def test_edit_changes_some_lines_and_keeps_the_rest(session: Session, retailer: Retailer) -> None:
    rec = propose(session, retailer)
    first, second, _ = service.recommendation_lines(session, rec.id)
    service.edit(
        session, rec.id, actor="olga.ops", role="operations_admin",
        changes={first.id: 32.0, second.id: 0}, reason="store 1 has display space for 32 only",
    )  # fmt: skip
    assert (rec.status, rec.decided_role, rec.reason) == (
        "edited",
        "operations_admin",
        "store 1 has display space for 32 only",
    )
    assert decided(session, rec) == [32.0, 0.0, 30.0]
    edited = session.scalars(
        sa.select(Event).where(Event.type == "io.promoflow.recommendation.edited")
    ).one()
    assert (edited.actor, edited.data["units_proposed"], edited.data["units_decided"]) == (
        "olga.ops",
        95.0,
        62.0,
    )


def test_edit_with_unknown_lines_names_them_and_writes_nothing(
    session: Session, retailer: Retailer
) -> None:
    rec = propose(session, retailer)
    other = propose(session, retailer, kind="replenishment")
    own = service.recommendation_lines(session, rec.id)[0].id
    foreign = service.recommendation_lines(session, other.id)[0].id
    with pytest.raises(InvalidInput) as refused:
        service.edit(
            session, rec.id, **PLANNER, changes={own: 10.0, foreign: 5.0, 999999: 1.0},
            reason="fix",
        )  # fmt: skip
    assert refused.value.field == "changes"
    assert refused.value.value == [foreign, 999999]
    assert f"line ids {foreign}, 999999 are not lines of recommendation {rec.id}" in str(
        refused.value
    )
    session.expire_all()
    assert rec.status == "proposed"
    assert decided(session, rec) == [None, None, None]
    assert events(session, rec) == ["recommendation.proposed"]


@pytest.mark.parametrize("quantity", [-1.0, float("nan"), "12"])
def test_edit_needs_units_of_zero_or_more(
    session: Session, retailer: Retailer, quantity: Any
) -> None:
    rec = propose(session, retailer)
    line = service.recommendation_lines(session, rec.id)[0]
    with pytest.raises(InvalidInput, match=rf"changes\[{line.id}\]"):
        service.edit(session, rec.id, **PLANNER, changes={line.id: quantity}, reason="x")
    assert rec.status == "proposed"


def test_edit_and_reject_need_a_reason(session: Session, retailer: Retailer) -> None:
    rec = propose(session, retailer)
    line = service.recommendation_lines(session, rec.id)[0]
    with pytest.raises(InvalidInput, match="reason"):
        service.edit(session, rec.id, **PLANNER, changes={line.id: 1.0}, reason=" ")
    with pytest.raises(InvalidInput, match="reason"):
        service.reject(session, rec.id, **PLANNER, reason="")
    service.reject(session, rec.id, **PLANNER, reason="the DC is closing for stock-take")
    assert (rec.status, rec.reason) == ("rejected", "the DC is closing for stock-take")
    assert decided(session, rec) == [None, None, None]
    assert events(session, rec)[-1] == "recommendation.rejected"


@pytest.mark.parametrize("role", ["merchandiser", "finance_approver", "auditor", "nobody"])
def test_only_planners_and_operations_admins_decide(
    session: Session, retailer: Retailer, role: str
) -> None:
    rec = propose(session, retailer)
    line = service.recommendation_lines(session, rec.id)[0]
    with pytest.raises(Forbidden, match=f"role {role} may not decide"):
        service.accept(session, rec.id, actor="x", role=role)
    with pytest.raises(Forbidden):
        service.edit(session, rec.id, actor="x", role=role, changes={line.id: 1.0}, reason="r")
    with pytest.raises(Forbidden):
        service.reject(session, rec.id, actor="x", role=role, reason="r")
    assert rec.status == "proposed"


def test_unknown_recommendation_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="recommendation 424242 does not exist"):
        service.accept(session, 424242, **PLANNER)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "markdown"}, "kind"),
        ({"revision": 3}, "revision"),
        ({"model_version": " "}, "model_version"),
    ],
)
def test_proposals_are_checked(
    session: Session, retailer: Retailer, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        propose(session, retailer, **change)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("patch", "says"),
    [
        ({"quantity": -5}, r"lines\[1\]\.quantity"),
        ({"item_id": 987654}, r"lines\.item_id=\[987654\]: no such items"),
        ({"location_id": 987654}, r"lines\.location_id=\[987654\]: no such locations"),
        ({"expected_service_level": 1.5}, "between 0 and 1"),
        ({"source_id": None}, "missing source_id"),
        ({"item_id": 1.5}, "integer id"),
    ],
)
def test_bad_lines_refuse_the_whole_proposal(
    session: Session, retailer: Retailer, patch: dict[str, Any], says: str
) -> None:
    lines = allocation_lines(retailer)
    lines[1] = {**lines[1], **patch}
    with pytest.raises(InvalidInput, match=says):
        propose(session, retailer, lines=lines)
    assert service.list_recommendations(session, retailer.promotion.id) == []


def test_a_repeated_route_is_refused(session: Session, retailer: Retailer) -> None:
    lines = allocation_lines(retailer)
    lines.append(dict(lines[0]))
    with pytest.raises(InvalidInput, match=r"lines\[3\].*sum the quantities"):
        propose(session, retailer, lines=lines)


def test_unknown_promotion_is_not_found(session: Session, retailer: Retailer) -> None:
    with pytest.raises(NotFound, match="promotion 999999"):
        propose(session, retailer, promotion_id=999999)
