"""The integrations page: connectors, connection health and circuit, dead letters by role."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.conftest import api_key
from promoflow.connectors.ports import ConnectorUnavailable
from promoflow.connectors.resilience import BreakerPolicy, Guard, RetryPolicy, reset_breakers
from promoflow.identity import service as identity_service
from promoflow.integration import deadletters
from promoflow.integration.models import Connection
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.runtime import get_runtime
from web.conftest import Console

ConsoleFor = Callable[[str], Console]
OPERATION = "console-test.apply"
APPLIED: list[dict[str, Any]] = []


def _apply_again(letter: Any) -> str:
    APPLIED.append(dict(letter.payload))
    return f"applied {letter.payload['sku']} again"


@pytest.fixture
def letters(seeded: object) -> tuple[int, int]:
    """A replayable dead letter and a quarantined page nobody can replay."""
    deadletters.register_replayer(OPERATION, _apply_again)
    mark = uuid.uuid4().hex[:8]
    with transaction(get_runtime().sessions) as session:
        replayable = deadletters.record_dead_letter(
            session,
            kind="dead_letter",
            source=f"web-{mark}",
            operation=OPERATION,
            payload={"sku": f"SKU-{mark}"},
            reason="the WMS timed out",
        )
        malformed = deadletters.record_dead_letter(
            session,
            kind="quarantine",
            source=f"web-{mark}",
            operation="console-test.unknown",
            payload={"row": 3},
            reason="unknown item NO-SUCH",
        )
        ids = replayable.id, malformed.id
    return ids


@pytest.fixture
def broken_connection(console_for: ConsoleFor, tmp_path: Path) -> Iterator[str]:
    """A flat-file connection whose calls failed until its circuit opened."""
    name = f"files-{uuid.uuid4().hex[:6]}"
    admin = console_for("operations_admin")
    created: Any = admin.client.post(
        "/api/v1/connections",
        json={
            "name": name,
            "connector": "flatfile",
            "config": {"root": str(tmp_path)},
            "serves": ["inventory"],
        },
        headers={"X-API-Key": api_key("operations_admin")},
    )
    assert created.status_code == 201, created.text
    guard = Guard(
        name,
        sessions=get_runtime().sessions,
        retry=RetryPolicy(attempts=1),
        breaker=BreakerPolicy(failure_threshold=1, reset_seconds=600),
        sleep=lambda _seconds: None,
    )

    def down() -> None:
        raise ConnectorUnavailable(name, "drop folder unreachable")

    with pytest.raises(ConnectorUnavailable):
        guard.call("fetch_positions", down)
    yield name
    with transaction(get_runtime().sessions) as session:
        session.execute(sa.delete(Connection).where(Connection.name == name))
    reset_breakers()


def _status(letter_id: int) -> tuple[str, str | None]:
    with get_runtime().sessions() as session:
        letter = deadletters.get_dead_letter(session, letter_id)
        return letter.status, letter.resolved_by


def test_the_admin_sees_connectors_connection_health_and_every_action(
    console_for: ConsoleFor, broken_connection: str, letters: tuple[int, int], tmp_path: Path
) -> None:
    replayable, malformed = letters
    admin = console_for("operations_admin")
    page: Any = admin.get("/integrations")
    assert page.status_code == 200
    assert "flatfile" in page.text and "sandbox" in page.text  # installed connectors
    assert broken_connection in page.text and "circuit open" in page.text
    assert "drop folder unreachable" in page.text and "disabled" in page.text
    assert str(tmp_path) in page.text  # the admin sees the settings
    assert f"Replay #{replayable}" in page.text and f"Discard #{replayable}" in page.text
    assert f"Replay #{malformed}" not in page.text  # nothing can replay a malformed page
    assert "no replayer: fix at the source" in page.text

    replayed: Any = admin.post(
        f"/integrations/dead-letters/{replayable}/replay", headers={"HX-Request": "true"}
    )
    assert replayed.status_code == 200, replayed.text
    assert f"Dead letter {replayable} replayed: applied SKU-" in replayed.text
    assert "<html" not in replayed.text  # the dead-letter section only
    assert _status(replayable) == ("replayed", "operations_admin-tester")
    assert APPLIED[-1]["sku"].startswith("SKU-")

    again: Any = admin.post(
        f"/integrations/dead-letters/{replayable}/replay", headers={"HX-Request": "true"}
    )
    assert again.status_code == 409 and "already replayed" in again.text

    path = f"/integrations/dead-letters/{malformed}/discard"
    unnamed: Any = admin.post(path, data={"reason": ""})
    assert unnamed.status_code == 422 and "reason=&#39;&#39;" in unnamed.text
    assert _status(malformed) == ("open", None)
    discarded: Any = admin.post(
        f"/integrations/dead-letters/{malformed}/discard",
        data={"reason": "ERP fixed the material"},
    )
    assert discarded.status_code == 200
    assert f"Dead letter {malformed} discarded." in discarded.text
    assert _status(malformed) == ("discarded", "operations_admin-tester")
    shown: Any = admin.get("/integrations?status=discarded")
    assert "ERP fixed the material" in shown.text


def test_an_integration_client_replays_but_only_the_admin_discards(
    console_for: ConsoleFor, letters: tuple[int, int]
) -> None:
    replayable, malformed = letters
    client = console_for("integration_client")
    page: Any = client.get("/integrations")
    assert f"Replay #{replayable}" in page.text and "Discard #" not in page.text
    refused: Any = client.post(
        f"/integrations/dead-letters/{malformed}/discard", data={"reason": "not mine to drop"}
    )
    assert refused.status_code == 403 and "operations_admin" in refused.text
    assert _status(malformed) == ("open", None)
    replayed: Any = client.post(
        f"/integrations/dead-letters/{replayable}/replay", headers={"HX-Request": "true"}
    )
    assert replayed.status_code == 200
    assert _status(replayable) == ("replayed", "integration_client-tester")


def test_a_merchandiser_sees_health_without_settings_or_buttons(
    console_for: ConsoleFor, broken_connection: str, letters: tuple[int, int], tmp_path: Path
) -> None:
    replayable, _ = letters
    merchandiser = console_for("merchandiser")
    page: Any = merchandiser.get("/integrations")
    assert page.status_code == 200
    assert broken_connection in page.text and "circuit open" in page.text
    assert str(tmp_path) not in page.text
    assert "Replay #" not in page.text and "Discard #" not in page.text
    refused: Any = merchandiser.post(f"/integrations/dead-letters/{replayable}/replay")
    assert refused.status_code == 403
    assert _status(replayable) == ("open", None)


def test_a_person_of_some_banners_is_refused_the_retailers_integrations(
    console_for: ConsoleFor, letters: tuple[int, int]
) -> None:
    replayable, _ = letters
    with transaction(get_runtime().sessions) as session:
        issued = identity_service.create_api_key(
            session,
            name="one banner admin",
            role="operations_admin",
            banners=["FreshMart"],
            days=1,
            created_by="tests",
            now=utcnow(),
        )
    console = console_for("auditor")
    console.client.cookies.clear()
    signed: Any = console.client.post("/sign-in", data={"credential": issued.secret})
    assert signed.status_code == 303
    console.get("/cases")  # a page they may see, for the form token
    page: Any = console.get("/integrations")
    assert page.status_code == 403 and "every banner" in page.text
    refused: Any = console.post(f"/integrations/dead-letters/{replayable}/replay")
    assert refused.status_code == 403
    assert _status(replayable) == ("open", None)
