"""A channel's publication progress, part by part, as the console's case page shows it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from promoflow.kit.clock import utcnow
from promoflow.promotions.models import Promotion
from promoflow.publications import service


def _promotion(session: Session) -> Promotion:
    row = Promotion(
        code="PROGRESS-1",
        name="progress",
        status="publishing",
        revision=2,
        requested_by="tester",
        mechanic="percent_off",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 1, 11),
        channels=["pos"],
        timing={},
    )
    session.add(row)
    session.flush()
    return row


def test_each_part_shows_its_latest_outcome_of_the_current_revision(session: Session) -> None:
    promotion = _promotion(session)
    before = service.channel_progress(session, promotion, "pos", part_size=250)
    assert (before.status, before.publication_key, before.outcomes) == ("pending", None, {})

    service.mark_status(session, promotion, "pos", "failed", "POS down")
    service.record_attempt(session, promotion, "pos", 0, "failed", "POS down")
    promotion.revision = 1  # an older revision's attempt is not this one's progress
    service.record_attempt(session, promotion, "pos", 1, "applied")
    promotion.revision = 2
    service.record_attempt(session, promotion, "pos", 0, "applied")
    service.record_attempt(session, promotion, "pos", 2, "duplicate")

    progress = service.channel_progress(session, promotion, "pos", part_size=250)
    assert progress.outcomes == {0: "applied", 2: "duplicate"}
    assert (progress.parts_done, progress.parts_failed) == (2, 0)
    assert (progress.status, progress.attempts, progress.last_error) == ("failed", 1, "POS down")
    assert progress.publication_key is not None and progress.publication_key.startswith(
        "PROGRESS-1-r2-pos-"
    )
    # Counted from a moment (a retry's decision): nothing happened after it yet.
    later = service.channel_progress(
        session, promotion, "pos", part_size=250, since=utcnow() + timedelta(minutes=1)
    )
    assert later.outcomes == {}
