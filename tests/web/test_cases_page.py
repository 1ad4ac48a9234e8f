"""The exception queue: who sees what, who may act, bulk retry of a failed publication."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from events import lifecycle_path  # noqa: F401  (puts the lifecycle helpers on the path)
from promoflow.connectors.sandbox import faults
from promoflow.connectors.sandbox.models import SandboxChannelPrice
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseAction, CaseKind, Severity
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.roles import Role
from promoflow.lifecycle import commands
from promoflow.publications.models import Publication
from promoflow.runtime import get_runtime
from promoflow.scenario import estate_actions
from web.conftest import Console

ConsoleFor = Callable[[str], Console]


def _open_case(
    owner: Role,
    actions: tuple[CaseAction, ...] = (CaseAction.RETRY, CaseAction.WAIVE, CaseAction.REASSIGN),
    kind: CaseKind = CaseKind.SUPPLIER_SHORTFALL,
    severity: Severity = Severity.MEDIUM,
) -> tuple[int, str]:
    """A retailer-wide case (no promotion, no workflow) with a title of its own."""
    title = f"Console test {uuid.uuid4().hex[:8]}"
    with transaction(get_runtime().sessions) as session:
        case = exceptions_service.open_case(
            session,
            kind=kind,
            severity=severity,
            owner_role=owner,
            title=title,
            detail="made by the console tests",
            promotion=None,
            linked={},
            allowed_actions=list(actions),
            workflow_id=None,
        )
        return case.id, title


def _status(case_id: int) -> tuple[str, str | None, str]:
    with get_runtime().sessions() as session:
        case = exceptions_service.get_case(session, case_id)
        return case.status, case.resolution, case.owner_role


@pytest.fixture
def failed_publication(seeded: object) -> Iterator[tuple[Any, int]]:
    """A promotion whose POS publication failed through an outage: on hold, a case open."""
    from lifecycle_support import desk_for, drive, make_planned, submit

    rt = get_runtime()
    planned = make_planned(rt, items=2, channels=["pos"])
    estate_actions.pos_outage(rt, utcnow() - timedelta(seconds=1), utcnow() + timedelta(minutes=10))
    try:
        submit(planned)
        drive(planned, lambda status: status == "on_hold", desk=desk_for(planned), timeout=90)
        with rt.sessions() as session:
            found = exceptions_service.list_cases(
                session, promotion_id=planned.promotion_id, kind=CaseKind.CHANNEL_PUBLICATION_ERROR
            )
        yield planned, found[0].id
    finally:
        faults.clear_faults(rt.sessions, "sandbox-pos")


def _poll(console: Console, path: str, until: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        page: Any = console.get(path, headers={"HX-Request": "true"})
        assert page.status_code == 200, page.text
        if until in page.text or time.monotonic() > deadline:
            return page
        time.sleep(0.5)


def test_the_admin_retries_a_failed_publication_and_each_price_lands_once(
    console_for: ConsoleFor, failed_publication: tuple[Any, int]
) -> None:
    planned, case_id = failed_publication
    admin = console_for("operations_admin")
    queue: Any = admin.get(f"/cases?kind=channel_publication_error&promotion={planned.code}")
    assert queue.status_code == 200
    assert f"#{case_id} pos publication failed after retries" in queue.text
    assert f'href="/promotions/{planned.code}"' in queue.text
    assert "launch" in queue.text and "critical" in queue.text
    assert f"Retry #{case_id}" in queue.text
    assert 'hx-trigger="every 10s' in queue.text  # the queue refreshes itself

    detail: Any = admin.get(f"/cases/{case_id}")
    assert "Publication progress" in detail.text and "failed" in detail.text
    assert 'hx-trigger="every 10s"' in detail.text  # the parts, live while a decision waits

    faults.clear_faults(get_runtime().sessions, "sandbox-pos")  # the POS is back
    preview: Any = admin.get("/cases/bulk/preview", params={"case_id": [case_id]})
    assert "re-runs the pos publication" in preview.text
    assert re.search(r"\d+ price changes in \d+ parts?\b", preview.text)
    assert "Retry 1" in preview.text

    started: Any = admin.post("/cases/bulk/retry", data={"case_id": [case_id]})
    assert started.status_code == 200, started.text
    assert 'hx-trigger="every 2s"' in started.text or "Every retry is done." in started.text
    progress = _poll(admin, f"/cases/bulk/progress?case_id={case_id}", "Every retry is done.")
    assert "published" in progress.text and "hx-trigger" not in progress.text
    prices_shown = int(re.search(r"(\d+) prices", progress.text).group(1))  # type: ignore[union-attr]

    with get_runtime().sessions() as session:
        prices = session.scalars(
            sa.select(SandboxChannelPrice).where(
                SandboxChannelPrice.system == "sandbox-pos",
                SandboxChannelPrice.publication_key.like(f"{planned.code}-r%"),
            )
        ).all()
        publication = session.scalars(
            sa.select(Publication).where(Publication.promotion_id == planned.promotion_id)
        ).one()
    # Each price applied exactly once: no (item, store) twice, and all of them.
    assert len({(p.sku, p.location_code) for p in prices}) == len(prices) == prices_shown > 0
    assert (publication.status, publication.item_count) == ("published", len(prices))
    assert _status(case_id)[:2] == ("resolved", "retry")

    history: Any = admin.get(f"/cases/{case_id}")
    assert "retry</strong>" in history.text and "operations_admin-tester" in history.text
    assert "bulk retry from the console" in history.text
    assert "Nothing more is on its way." in history.text  # the live part stopped polling
    assert f"/cases/{case_id}/publication" not in history.text


def test_a_merchandiser_acts_only_on_the_cases_their_role_owns(console_for: ConsoleFor) -> None:
    # access.yaml lets a merchandiser act on cases (cases.act); the service then asks that
    # the case be owned by their role (or that they be operations_admin).
    theirs, _ = _open_case(Role.MERCHANDISER)
    others, _ = _open_case(Role.CHANNEL_OPERATIONS)
    merchandiser = console_for("merchandiser")
    queue: Any = merchandiser.get("/cases?status=open")
    assert f"Retry #{theirs}" in queue.text
    assert f"#{others} " in queue.text and f"Retry #{others}" not in queue.text
    assert "Waive" not in merchandiser.get(f"/cases/{others}").text  # type: ignore[attr-defined]

    refused: Any = merchandiser.post(f"/cases/{others}/actions", data={"action": "retry"})
    assert refused.status_code == 403
    assert "owned by channel_operations" in refused.text
    assert _status(others)[0] == "open"

    done: Any = merchandiser.post(
        f"/cases/{theirs}/actions",
        data={"action": "reassign", "new_owner_role": "supply_chain_planner", "reason": "theirs"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{theirs}?done=reassign"
    assert _status(theirs) == ("open", None, "supply_chain_planner")
    history: Any = merchandiser.get(done.headers["location"])
    assert "Done: reassign." in history.text
    assert "reassign</strong>" in history.text
    assert "merchandiser-tester (merchandiser)" in history.text
    assert "“theirs”" in history.text and "merchandiser → supply_chain_planner" in history.text


def test_an_auditor_sees_the_queue_without_buttons_and_a_crafted_post_is_refused(
    console_for: ConsoleFor,
) -> None:
    case_id, title = _open_case(Role.OPERATIONS_ADMIN)
    auditor = console_for("auditor")
    queue: Any = auditor.get("/cases")
    assert queue.status_code == 200 and title in queue.text
    assert f"Retry #{case_id}" not in queue.text and "More actions on" not in queue.text
    detail: Any = auditor.get(f"/cases/{case_id}")
    assert "Waive</button>" not in detail.text and "may not act on this case" in detail.text
    for action in ("retry", "escalate"):
        refused: Any = auditor.post(f"/cases/{case_id}/actions", data={"action": action})
        assert refused.status_code == 403
        assert "may not act on exception cases" in refused.text
    bulk: Any = auditor.post("/cases/bulk/retry", data={"case_id": [case_id]})
    assert bulk.status_code == 403
    assert _status(case_id)[0] == "open"


def test_waiving_without_a_reason_names_the_field(console_for: ConsoleFor) -> None:
    case_id, _ = _open_case(Role.CHANNEL_OPERATIONS)
    operator = console_for("channel_operations")
    refused: Any = operator.post(
        f"/cases/{case_id}/actions",
        data={"action": "waive", "reason": "   "},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422
    assert "reason=&#39;&#39;" in refused.text and "needs a reason" in refused.text
    assert _status(case_id)[0] == "open"
    waived: Any = operator.post(
        f"/cases/{case_id}/actions",
        data={"action": "waive", "reason": "stores key the price by hand"},
        headers={"HX-Request": "true"},
    )
    assert waived.status_code == 200 and waived.headers["HX-Trigger"] == "cases-changed"
    assert "waive done; the case is resolved" in waived.text
    assert _status(case_id)[:2] == ("resolved", "waive")


def test_bulk_preview_names_the_cases_that_cannot_be_retried_and_why(
    console_for: ConsoleFor,
) -> None:
    retryable, _ = _open_case(Role.SUPPLY_CHAIN_PLANNER)
    no_retry, _ = _open_case(
        Role.SUPPLY_CHAIN_PLANNER, actions=(CaseAction.WAIVE, CaseAction.ESCALATE)
    )
    someone_elses, _ = _open_case(Role.PRICING_ANALYST)
    resolved, _ = _open_case(Role.SUPPLY_CHAIN_PLANNER)
    commands.resolve_exception(
        resolved, CaseAction.WAIVE, "sam", Role.SUPPLY_CHAIN_PLANNER, reason="covered"
    )
    planner = console_for("supply_chain_planner")
    picked = [retryable, no_retry, someone_elses, resolved, 2_000_000_000]
    preview: Any = planner.get("/cases/bulk/preview", params={"case_id": picked})
    assert preview.status_code == 200
    text = preview.text
    assert "hands the case back to its workflow" in text and "Retry 1" in text
    assert f"#{no_retry}" in text and "retry is not offered on this supplier_shortfall case" in text
    assert "owned by pricing_analyst; your role supply_chain_planner may not act on it" in text
    assert "already resolved: waive by sam" in text
    assert "#2000000000</strong>: no such case among those you may see" in text

    bad: Any = planner.get("/cases/bulk/preview", params={"case_id": ["abc"]})
    assert bad.status_code == 422 and "case_id=&#39;abc&#39;" in bad.text
    started: Any = planner.post("/cases/bulk/retry", data={"case_id": [retryable, someone_elses]})
    assert "Every retry is done." in started.text and "resumed" in started.text
    assert "Not started" in started.text and f"#{someone_elses}</strong>: owned by" in started.text
    assert _status(retryable)[:2] == ("resolved", "retry")
    assert _status(someone_elses)[0] == "open"


def test_filters_live_in_the_url_and_a_bad_one_names_the_field(console_for: ConsoleFor) -> None:
    high, high_title = _open_case(Role.STORE_OPERATIONS, severity=Severity.HIGH)
    low, low_title = _open_case(Role.STORE_OPERATIONS, severity=Severity.LOW)
    viewer = console_for("store_operations")
    page: Any = viewer.get("/cases?severity=high&owner_role=store_operations")
    assert high_title in page.text and low_title not in page.text
    found: Any = viewer.get(f"/cases?status=any&q={low_title.split()[-1]}")
    assert low_title in found.text and high_title not in found.text
    rows: Any = viewer.get("/cases/rows?severity=low&owner_role=store_operations")
    assert low_title in rows.text and "<html" not in rows.text  # the polled fragment
    for query, shown in (("severity=urgent", "severity=&#39;urgent&#39;"),
                         ("owner_role=wizard", "owner_role=&#39;wizard&#39;"),
                         ("promotion=NO-SUCH", "promotion=&#39;NO-SUCH&#39;")):  # fmt: skip
        refused: Any = viewer.get(f"/cases?{query}")
        assert refused.status_code == 422 and shown in refused.text, query
    assert high != low


def test_a_person_of_one_banner_sees_and_acts_on_that_banners_cases_only(
    console_for: ConsoleFor, catalog: Any
) -> None:
    from access_support import OTHER, OWN, make_objects
    from access_support import api_key as scoped_key

    objects = make_objects(catalog.skus[:1], f"web-{uuid.uuid4().hex[:6]}")
    own, other = objects.case[OWN], objects.case[OTHER]
    console = console_for("auditor")
    console.client.cookies.clear()
    key = scoped_key(Role.OPERATIONS_ADMIN, [OWN])["X-API-Key"]
    assert console.client.post("/sign-in", data={"credential": key}).status_code == 303
    queue: Any = console.get("/cases")
    assert f'href="/cases/{own}"' in queue.text
    assert f'href="/cases/{other}"' not in queue.text
    assert f'href="/cases/{objects.retailer_case}"' not in queue.text  # the whole retailer's
    assert console.get(f"/cases/{other}").status_code == 404  # type: ignore[attr-defined]
    refused: Any = console.post(f"/cases/{other}/actions", data={"action": "retry"})
    assert refused.status_code == 404 and _status(other)[0] == "open"
    preview: Any = console.get("/cases/bulk/preview", params={"case_id": [other]})
    assert "no such case among those you may see" in preview.text
    done: Any = console.post(f"/cases/{own}/actions", data={"action": "retry"})
    assert done.status_code == 303 and _status(own)[:2] == ("resolved", "retry")


def test_cancelling_the_promotion_asks_first_and_needs_a_reason(console_for: ConsoleFor) -> None:
    case_id, _ = _open_case(
        Role.CATEGORY_MANAGER, actions=(CaseAction.ESCALATE, CaseAction.CANCEL_PROMOTION)
    )
    manager = console_for("category_manager")
    detail: Any = manager.get(f"/cases/{case_id}")
    assert "hx-confirm=" in detail.text and "Cancel the promotion</button>" in detail.text
    assert "Retry</button>" not in detail.text and "Waive</button>" not in detail.text
    unexplained: Any = manager.post(
        f"/cases/{case_id}/actions", data={"action": "cancel_promotion", "reason": ""}
    )
    assert unexplained.status_code == 422 and "needs a reason" in unexplained.text
    assert _status(case_id)[0] == "open"
    escalated: Any = manager.post(f"/cases/{case_id}/actions", data={"action": "escalate"})
    assert escalated.status_code == 303
    assert _status(case_id) == ("open", None, "operations_admin")  # escalation goes to the admin
    refused: Any = manager.post(
        f"/cases/{case_id}/actions", data={"action": "cancel_promotion", "reason": "too late"}
    )
    assert refused.status_code == 403  # no longer their case
    admin = console_for("operations_admin")
    cancelled: Any = admin.post(
        f"/cases/{case_id}/actions", data={"action": "cancel_promotion", "reason": "too late"}
    )
    assert cancelled.status_code == 303
    history: Any = admin.get(f"/cases/{case_id}")
    assert "escalate</strong>" in history.text and "category_manager-tester" in history.text
    assert "cancel promotion</strong>" in history.text and "“too late”" in history.text
