"""Conformance flags a revision whose events were edited to skip its approval step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.analytics import service
from promoflow.analytics.schemas import AnalyticsFilter
from promoflow.events.models import Event
from promoflow.kit.db import make_engine
from promoflow.promotions.models import Promotion

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]


@pytest.fixture
def edited(demo_run: Any) -> Iterator[Session]:
    """A session on the demo's database whose edits are rolled back afterwards."""
    engine = make_engine(demo_run.database_url)
    with Session(engine) as session:
        yield session
        session.rollback()
    engine.dispose()


def _drop(session: Session, code: str, event_type: str, role: str | None = None) -> int:
    promotion_id = session.scalars(sa.select(Promotion.id).where(Promotion.code == code)).one()
    query = sa.delete(Event).where(
        Event.promotion_id == promotion_id, Event.type == f"io.promoflow.{event_type}"
    )
    if role is not None:
        query = query.where(Event.subject.in_(_task_subjects(session, promotion_id, role)))
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def _task_subjects(session: Session, promotion_id: int, role: str) -> list[str]:
    events = session.scalars(
        sa.select(Event).where(
            Event.promotion_id == promotion_id, Event.type == "io.promoflow.approval.requested"
        )
    ).all()
    return [event.subject for event in events if event.data.get("role") == role]


def test_a_revision_edited_to_skip_its_approval_is_flagged(edited: Session, demo_run: Any) -> None:
    clean = demo_run.story("clean launch")
    before = service.report(edited, "conformance", AnalyticsFilter())
    assert before["conforming"] == before["cases"]
    # Someone removes the approval stage and the pricing decision from the log.
    assert _drop(edited, clean["code"], "promotion.in_approval") == 1
    assert _drop(edited, clean["code"], "approval.decided", role="pricing_analyst") == 1
    edited.flush()
    after = service.report(edited, "conformance", AnalyticsFilter())
    (flagged,) = after["deviating"]
    assert flagged["case"] == f"{clean['code']} r1" and not flagged["conforms"]
    skipped = [d for d in flagged["deviations"] if d["kind"] == "skipped"]
    assert {"step": "approved", "after": "assessed", "skipped": ["in_approval"]}.items() <= (
        skipped[0].items()
    )
    assert any(d["skipped"] == ["approval by pricing_analyst"] for d in skipped)
    assert after["conforming"] == after["cases"] - 1
    assert after["deviations_by_kind"]["skipped"] == len(skipped)


def test_a_step_recorded_twice_and_one_out_of_order_are_flagged(
    edited: Session, demo_run: Any
) -> None:
    clean = demo_run.story("clean launch")
    promotion_id = edited.scalars(
        sa.select(Promotion.id).where(Promotion.code == clean["code"])
    ).one()
    live = edited.scalars(
        sa.select(Event).where(
            Event.promotion_id == promotion_id, Event.type == "io.promoflow.promotion.live"
        )
    ).one()
    # A copy of `live` written again after `closed`: a repeated, out-of-place step.
    edited.add(
        Event(
            id="edited-live-copy",
            source=live.source,
            type=live.type,
            subject=live.subject,
            time=live.time.replace(year=live.time.year + 1),
            actor="system",
            promotion_id=promotion_id,
            data=dict(live.data),
        )
    )
    edited.flush()
    after = service.report(edited, "conformance", AnalyticsFilter())
    (flagged,) = after["deviating"]
    assert [d["kind"] for d in flagged["deviations"]] == ["repeated"]
    assert flagged["deviations"][0]["step"] == "live"
    assert flagged["deviations"][0]["after"] == "closed"


def test_a_step_relabelled_out_of_place_is_flagged_out_of_order(
    edited: Session, demo_run: Any
) -> None:
    clean = demo_run.story("clean launch")
    promotion_id = edited.scalars(
        sa.select(Promotion.id).where(Promotion.code == clean["code"])
    ).one()
    # The `scheduled` move rewritten as `ended`: the log now jumps from approved to
    # ended, then goes back to publishing, which the lifecycle never allows.
    edited.execute(
        sa.update(Event)
        .where(
            Event.promotion_id == promotion_id,
            Event.type == "io.promoflow.promotion.scheduled",
        )
        .values(type="io.promoflow.promotion.ended")
    )
    edited.flush()
    (flagged,) = service.report(edited, "conformance", AnalyticsFilter())["deviating"]
    kinds = [(d["kind"], d["after"], d["step"]) for d in flagged["deviations"]]
    assert kinds == [
        ("skipped", "approved", "ended"),
        ("out_of_order", "ended", "publishing"),
        ("repeated", "live", "ended"),
    ]
    assert flagged["deviations"][0]["skipped"] == ["scheduled", "publishing", "live"]
