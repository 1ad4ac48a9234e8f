"""Idempotency-Key on the POSTs of /api/v1: a retried create makes one promotion, not two."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from promoflow.config import Settings

PROBLEM = "application/problem+json"
CREATE = "/api/v1/promotions"
Auth = Callable[[str], dict[str, str]]


def _keyed(auth: Auth, role: str, key: str, **more: str) -> dict[str, str]:
    return {**auth(role), "Idempotency-Key": key, **more}


def _new_key() -> str:
    return f'"{uuid.uuid4()}"'


def _stored_keys() -> int:
    from promoflow.idempotency.models import IdempotencyKey
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) or 0


def _audit_records(request_id: str) -> int:
    from promoflow.audit.models import AuditRecord
    from promoflow.runtime import get_runtime

    query = sa.select(sa.func.count()).where(AuditRecord.request_id == request_id)
    with get_runtime().sessions() as session:
        return session.scalar(query) or 0


def test_the_same_create_twice_makes_one_promotion_and_answers_the_same(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    before = promotion_rows()
    headers = _keyed(auth, "merchandiser", _new_key())
    first = client.post(CREATE, json=promotion_body, headers={**headers, "X-Request-ID": "idem-1"})
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    after_first = promotion_rows()
    assert after_first["promotions"] == before["promotions"] + 1

    again = client.post(CREATE, json=promotion_body, headers={**headers, "X-Request-ID": "idem-2"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert promotion_rows() == after_first
    # The replay changed nothing, so the audit log holds the first request only.
    assert _audit_records("idem-1") == 1
    assert _audit_records("idem-2") == 0


def test_the_quoted_and_the_bare_form_are_the_same_key(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    key = str(uuid.uuid4())
    first = client.post(CREATE, json=promotion_body, headers=_keyed(auth, "merchandiser", key))
    assert first.status_code == 201, first.text
    rows = promotion_rows()
    quoted = client.post(
        CREATE, json=promotion_body, headers=_keyed(auth, "merchandiser", f'"{key}"')
    )
    assert quoted.headers.get("Idempotent-Replayed") == "true"
    assert quoted.json()["id"] == first.json()["id"]
    assert promotion_rows() == rows


def test_the_key_with_another_request_is_refused_and_writes_nothing(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    headers = _keyed(auth, "merchandiser", _new_key())
    assert client.post(CREATE, json=promotion_body, headers=headers).status_code == 201
    before = promotion_rows()
    other = {**promotion_body, "discount_percent": 20}
    refused = client.post(CREATE, json=other, headers=headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    assert "already used for another request" in problem["detail"]
    # Another path with the same key is another request too.
    elsewhere = client.post("/api/v1/promotions/PRM-99999999/submit", headers=headers)
    assert elsewhere.status_code == 422
    assert promotion_rows() == before


def test_keys_belong_to_their_caller(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    key = _new_key()
    before = promotion_rows()
    mine = client.post(CREATE, json=promotion_body, headers=_keyed(auth, "merchandiser", key))
    theirs = client.post(
        CREATE, json=promotion_body, headers=_keyed(auth, "integration_client", key)
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["requested_by"] == "integration_client-tester"
    assert promotion_rows()["promotions"] == before["promotions"] + 2


def test_a_refusal_is_the_answer_to_that_request_and_is_replayed(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    headers = _keyed(auth, "merchandiser", _new_key())
    body = {**promotion_body, "discount_percent": 150}
    first = client.post(CREATE, json=body, headers=headers)
    assert first.status_code == 422
    again = client.post(CREATE, json=body, headers=headers)
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (422, "true")
    assert again.json() == first.json()
    assert again.headers["content-type"] == PROBLEM


def test_an_expired_key_is_a_new_key(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    from promoflow.idempotency.models import IdempotencyKey
    from promoflow.kit.clock import utcnow
    from promoflow.runtime import get_runtime

    key = str(uuid.uuid4())
    headers = _keyed(auth, "merchandiser", key)
    first = client.post(CREATE, json=promotion_body, headers=headers)
    assert first.status_code == 201
    with get_runtime().sessions.begin() as session:  # the retention time passes
        session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    before = promotion_rows()
    fresh = client.post(CREATE, json=promotion_body, headers=headers)
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]
    assert promotion_rows()["promotions"] == before["promotions"] + 1


def test_expired_keys_are_purged(client: TestClient, auth: Auth, promotion_body: Any) -> None:
    from promoflow.idempotency import service
    from promoflow.idempotency.models import IdempotencyKey
    from promoflow.kit.clock import utcnow
    from promoflow.runtime import get_runtime

    key = str(uuid.uuid4())
    client.post(CREATE, json=promotion_body, headers=_keyed(auth, "merchandiser", key))
    later = utcnow() + timedelta(hours=25)  # past the default 24 hours
    with get_runtime().sessions.begin() as session:
        assert service.purge_expired(session, now=later) >= 1
    with get_runtime().sessions() as session:
        left = session.scalars(sa.select(IdempotencyKey).where(IdempotencyKey.key == key)).all()
    assert left == []


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "is empty"),
        ('""', "is empty"),
        ("x" * 256, "longer than 255"),
        ('"' + "x" * 256 + '"', "longer than 255"),
        ('"unterminated', "quoted string"),
        ('"a";param=1', "quoted string"),
        ("two words", "quoted string"),
        (b'"caf\xe9"', "quoted string"),
        ("bell\x07", "quoted string"),
    ],
)
def test_a_malformed_key_is_refused_and_nothing_runs(
    client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Any,
    value: str | bytes,
    why: str,
) -> None:
    before, keys = promotion_rows(), _stored_keys()
    headers: dict[str, Any] = {**auth("merchandiser"), "Idempotency-Key": value}
    refused = client.post(CREATE, json=promotion_body, headers=headers)
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert error["field"] == "Idempotency-Key"
    assert why in error["message"]
    shown = value.decode("latin-1") if isinstance(value, bytes) else value
    # The value is echoed cut short: enough to recognise it.
    assert error["value"].startswith(shown[:4])
    assert len(error["value"]) <= 81
    assert (promotion_rows(), _stored_keys()) == (before, keys)


def test_the_header_twice_is_refused(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    before = promotion_rows()
    headers = [
        *auth("merchandiser").items(),
        ("Idempotency-Key", '"a"'),
        ("Idempotency-Key", '"b"'),
    ]
    refused = client.post(CREATE, json=promotion_body, headers=headers)
    assert refused.status_code == 422
    assert "send the header once" in refused.json()["detail"]
    assert promotion_rows() == before


@pytest.mark.parametrize("credentials", [{}, {"X-API-Key": "not-a-key-of-anyone-0123"}])
def test_an_unauthenticated_request_stores_no_key(
    client: TestClient, promotion_body: dict[str, Any], credentials: dict[str, str]
) -> None:
    keys = _stored_keys()
    for _ in range(3):
        refused = client.post(
            CREATE, json=promotion_body, headers={**credentials, "Idempotency-Key": _new_key()}
        )
        assert refused.status_code == 401
    assert _stored_keys() == keys


# A route of the test's own, behind the same dependencies as the real ones, whose
# handler the test holds open (in flight) or makes fail.


class Gate:
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.runs = 0
        self.fail_with: Exception | None = None


@pytest.fixture
def gated(api_settings: Settings, catalog: object) -> Iterator[tuple[TestClient, Gate]]:
    from promoflow.api.auth import current_actor
    from promoflow.api.idempotency import IDEMPOTENCY_KEY
    from promoflow.app import create_app
    from promoflow.identity.access import RouteRule, Scope

    gate = Gate()
    router = APIRouter(dependencies=[Depends(current_actor)])

    @router.post("/test-gate")
    def held_open() -> dict[str, int]:
        gate.runs += 1
        gate.entered.set()
        if gate.fail_with is not None:
            error, gate.fail_with = gate.fail_with, None
            raise error
        assert gate.release.wait(30), "the test never released the handler"
        return {"run": gate.runs}

    app: FastAPI = create_app(api_settings, manage_runtime=False)
    app.include_router(router, prefix="/api/v1", dependencies=[IDEMPOTENCY_KEY])
    # The test's own route needs a rule in the access policy, as every route does.
    policy = app.state.access_policy
    rules = {
        **policy.routes,
        "POST /test-gate": RouteRule(permission="promotions.author", scope=Scope.SHARED),
    }
    app.state.access_policy = policy.model_copy(update={"routes": rules})
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, gate


def test_a_repeat_while_the_first_is_running_is_409_with_retry_after(
    gated: tuple[TestClient, Gate], auth: Auth
) -> None:
    client, gate = gated
    headers = _keyed(auth, "merchandiser", _new_key())
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/api/v1/test-gate", headers=headers)
        assert gate.entered.wait(30)
        busy = client.post("/api/v1/test-gate", headers=headers)
        gate.release.set()
        answered = first.result(timeout=30)
    assert busy.status_code == 409
    assert busy.headers["content-type"] == PROBLEM
    assert int(busy.headers["Retry-After"]) >= 1
    assert "still being processed" in busy.json()["detail"]
    assert answered.json() == {"run": 1}
    replay = client.post("/api/v1/test-gate", headers=headers)
    assert replay.json() == {"run": 1}
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert gate.runs == 1


def test_a_server_error_is_not_kept_so_the_client_can_retry(
    gated: tuple[TestClient, Gate], auth: Auth
) -> None:
    client, gate = gated
    gate.release.set()
    headers = _keyed(auth, "merchandiser", _new_key())
    keys = _stored_keys()
    gate.fail_with = RuntimeError("the handler broke")
    failed = client.post("/api/v1/test-gate", headers=headers)
    assert failed.status_code == 500
    assert _stored_keys() == keys
    retried = client.post("/api/v1/test-gate", headers=headers)
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried.headers
    assert gate.runs == 2


def test_a_503_for_a_busy_database_is_not_kept(gated: tuple[TestClient, Gate], auth: Auth) -> None:
    from sqlalchemy.exc import OperationalError

    client, gate = gated
    gate.release.set()
    headers = _keyed(auth, "merchandiser", _new_key())
    gate.fail_with = OperationalError("UPDATE x", {}, Exception("database is locked"))
    shed = client.post("/api/v1/test-gate", headers=headers)
    assert shed.status_code == 503
    retried = client.post("/api/v1/test-gate", headers=headers)
    assert (retried.status_code, retried.json()) == (200, {"run": 2})


def test_only_posts_of_the_api_declare_the_header(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", [])]
            keyed = method == "post" and path.startswith("/api/v1/")
            assert ("Idempotency-Key" in names) == keyed, (method, path)
            if keyed:
                conflict = operation["responses"]["409"]
                assert "application/problem+json" in conflict["content"]
                assert "still being processed" in conflict["description"]


# A real `promoflow serve`: retries over HTTP, concurrent ones included, make one promotion.

SERVE_KEY = "idempotency-serve-key-0123456789"


@pytest.fixture
def served_url(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """`promoflow serve` on a small retailer of its own: (url, database url, a create body)."""
    from contextlib import contextmanager

    from db_support import fresh_database
    from process_support import process_env, serving
    from promoflow.kit.db import make_engine, make_sessionmaker
    from promoflow.migrate import upgrade
    from promoflow.scenario import picking
    from promoflow.scenario.generator import ScenarioSize, generate

    workdir = tmp_path_factory.mktemp("idempotent-serve")
    with contextmanager(fresh_database)(tmp_path_factory, "idempotent") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            sessions = make_sessionmaker(engine)
            size = ScenarioSize(
                stores=4, regions=1, dcs=1, skus=20, categories=2, suppliers=2, with_history=False
            )
            generate(sessions, size, seed=3)
            with sessions() as session:
                region = picking.regions(session)[0]
                skus = picking.promotable_skus(session, region=region, count=2)
        finally:
            engine.dispose()
        start = date.today() + timedelta(weeks=10)
        body = {
            "name": "retried over HTTP",
            "mechanic": "percent_off",
            "discount_percent": 10,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=6)).isoformat(),
            "channels": ["pos"],
            "items": skus,
            "regions": [region],
        }
        env = process_env(url, workdir, api_keys=f"{SERVE_KEY}:ivy.integrator:integration_client")
        with serving(env, workdir / "serve.log") as server:
            yield server.url, url, body


@pytest.mark.slow
@pytest.mark.postgres
def test_a_served_create_retried_over_http_makes_one_promotion(
    served_url: tuple[str, str, dict[str, Any]],
) -> None:
    from promoflow.kit.db import make_engine
    from promoflow.promotions.models import Promotion

    url, database_url, body = served_url
    headers = {"X-API-Key": SERVE_KEY, "Idempotency-Key": _new_key()}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        first = http.post(CREATE, json=body)
        assert first.status_code == 201, first.text
        retried = http.post(CREATE, json=body)
    assert (retried.status_code, retried.headers["Idempotent-Replayed"]) == (201, "true")
    assert retried.json() == first.json()

    # The same request sent four times at once, with a new key: one runs.
    racing = {**headers, "Idempotency-Key": _new_key()}
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda _: httpx.post(f"{url}{CREATE}", json=body, headers=racing, timeout=30),
                range(4),
            )
        )
    ran = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(ran) == 1, [(a.status_code, a.headers.get("Idempotent-Replayed")) for a in answers]
    assert all(a.status_code in (201, 409) for a in answers)

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            count = connection.scalar(
                sa.select(sa.func.count()).where(Promotion.name == "retried over HTTP")
            )
    finally:
        engine.dispose()
    assert count == 2  # one per key


def test_a_path_of_any_text_is_fingerprinted_not_a_server_error(
    client: TestClient, auth: Auth
) -> None:
    headers = _keyed(auth, "merchandiser", _new_key())
    path = "/api/v1/promotions/%C3%A9t%C3%A9%F0%9F%98%80%0D/submit"
    first = client.post(path, headers=headers)
    assert first.status_code == 404, first.text
    again = client.post(path, headers=headers)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (404, "true")
