"""The integration layer: connectors, connections with health, syncs, dead letters.

Everyone may read (the command view shows connection health to every role);
adding, testing, enabling and disabling connections, and discarding dead letters,
is for operations_admin; syncs and replays also for integration_client. Secret
settings are only ever shown as their reference (`env:NAME`, `file:PATH`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from sqlalchemy.orm import Session

from promoflow.api.auth import Actor
from promoflow.api.conditional import IfMatch, IfNoneMatch, change_responses, read_responses, tagged
from promoflow.api.deps import OMITTABLE, CommandSessions, IdPath, OneOf, SessionDep, UnitOfWork
from promoflow.api.pagination import PageParams, Pagination
from promoflow.api.permissions import Caller, Reader
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import CursorPage, Page, Reason
from promoflow.integration import connections as connection_commands
from promoflow.integration import deadletters
from promoflow.integration import service as connections
from promoflow.integration import sync as _sync  # noqa: F401  (registers the sync replayer)
from promoflow.integration.schemas import DEAD_LETTER_KINDS, DEAD_LETTER_STATUSES
from promoflow.kit.bounds import LINE_PATTERN, Text
from promoflow.kit.errors import Conflict
from promoflow.kit.keyset import SortKey
from promoflow.kit.preconditions import entity_tag
from promoflow.kit.roles import Role

router = APIRouter(tags=["integration"])

# Settings (hosts, user names; secrets only ever as their reference) are shown to the
# roles that run integrations or audit them; everyone else sees the health only.
SEES_SETTINGS = frozenset({Role.OPERATIONS_ADMIN, Role.INTEGRATION_CLIENT, Role.AUDITOR})
# access.yaml: `connections.administer` (operations_admin) and `connections.operate`
# (operations_admin, integration_client); every banner.
Administrator = Caller
Operator = Caller
NAME_PATTERN = connections.NAME_PATTERN.pattern
ConnectionName = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN)]
LetterId = IdPath
# A setting's number: page sizes, timeouts, ports; a billion is past all of them.
SETTING_LIMIT = 1_000_000_000
SETTING_TEXT = 2000
ADMINISTERED = problem_responses(403, 404, 409)
CHANGED = change_responses(200, 403, 404, 409)


def _setting(value: Any) -> Any:
    """A connection setting as JSON sends it: text, a bounded number, or true/false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if not -SETTING_LIMIT <= value <= SETTING_LIMIT:
            raise ValueError(f"must be between -{SETTING_LIMIT:,} and {SETTING_LIMIT:,}")
        return value
    if isinstance(value, str):
        return _setting_text(value)
    raise ValueError("must be text, a number or true/false")


_setting_text = Text(SETTING_TEXT).validate
Setting = Annotated[
    Any,
    AfterValidator(_setting),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": SETTING_TEXT, "pattern": LINE_PATTERN},
                {"type": "number", "minimum": -SETTING_LIMIT, "maximum": SETTING_LIMIT},
                {"type": "boolean"},
            ]
        }
    ),
]
SettingName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        min_length=2, max_length=64, pattern=NAME_PATTERN, description="e.g. sap-prod"
    )
    connector: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_-]{0,63}$",
        description="installed connector slug",
    )
    config: dict[SettingName, Setting] = Field(
        default_factory=dict,
        max_length=64,
        description="settings; secret fields as env:NAME or file:PATH",
        json_schema_extra={"additionalProperties": False},
    )
    serves: list[Annotated[str, Field(pattern=r"^[a-z_]{1,40}(:[a-z_]{1,20})?$")]] = Field(
        min_length=1, max_length=16, description="e.g. inventory, price_publication:pos"
    )
    rate_limit_per_second: (
        Annotated[float, Field(strict=True, ge=0.001, le=10_000, allow_inf_nan=False)] | None
    ) = None


class CheckOut(BaseModel):
    ok: bool
    detail: str
    seconds: float


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capability: Literal[
        "inventory", "item_master", "purchase_orders", "sales_feed", "supplier_collaboration"
    ]


class SyncQueued(BaseModel):
    workflow_id: str
    queue: str


class DiscardIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Reason


class DeadLetterOut(BaseModel):
    id: int
    kind: str
    source: str
    operation: str
    key: str | None
    payload: dict[str, Any]
    reason: str
    attempts: int
    status: str
    replayable: bool
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_detail: str


def _for(actor: Actor, described: dict[str, Any]) -> dict[str, Any]:
    if actor.role in SEES_SETTINGS:
        return described
    return {key: value for key, value in described.items() if key != "config"}


def _connection(session: Session, name: str, actor: Actor) -> dict[str, Any]:
    return _for(actor, connections.describe_connection(session, name))


def _named(row: dict[str, Any]) -> SortKey:
    return (str(row["slug"] if "slug" in row else row["name"]),)


def _page_of_dicts(page: PageParams, rows: list[dict[str, Any]]) -> Page[dict[str, Any]]:
    """A page of a short list the service describes whole, ordered by slug or name."""
    shown, next_cursor = page.cut(page.slice(rows, _named), _named)
    return Page[dict[str, Any]](
        items=shown, total=len(rows), limit=page.limit, next_cursor=next_cursor
    )


@router.get("/connectors", response_model=Page[dict[str, Any]])
def list_connectors(_actor: Reader, page: Pagination) -> Page[dict[str, Any]]:
    """Installed connectors with their manifests (capabilities, config schema), by slug."""
    return _page_of_dicts(page, connections.list_installed())


@router.get("/connections", response_model=Page[dict[str, Any]])
def list_connections(session: SessionDep, actor: Reader, page: Pagination) -> Page[dict[str, Any]]:
    """Configured connections with health: last success, error rate, circuit state; by name."""
    return _page_of_dicts(page, [_for(actor, row) for row in connections.list_connections(session)])


@router.post("/connections", status_code=201, responses=problem_responses(403, 404, 409))
def add_connection(body: ConnectionIn, actor: Administrator, session: UnitOfWork) -> dict[str, Any]:
    """Register a connection; it stays disabled until `enable` passes its test."""
    connections.add_connection(
        session,
        name=body.name,
        connector=body.connector,
        config=body.config,
        serves=body.serves,
        rate_limit_per_second=body.rate_limit_per_second,
        actor=actor.name,
    )
    return _connection(session, body.name, actor)


def _tagged_connection(
    session: Session, name: str, actor: Actor, response: Response
) -> dict[str, Any]:
    described = _connection(session, name, actor)
    tagged(response, connections.connection_tag(session, name))
    return described


@router.get("/connections/{name}", response_model=dict[str, Any], responses=read_responses(404))
def get_connection(
    name: ConnectionName, actor: Reader, session: SessionDep, held: IfNoneMatch, response: Response
) -> dict[str, Any] | Response:
    """One connection with its health; its ETag changes with either."""
    described = _connection(session, name, actor)
    return tagged(response, connections.connection_tag(session, name), held) or described


@router.post("/connections/{name}/test", response_model=CheckOut, responses=ADMINISTERED)
def test_connection(
    name: ConnectionName, actor: Administrator, sessions: CommandSessions
) -> CheckOut:
    """Reach the system with the configured credentials; the outcome is kept."""
    check = connection_commands.run_connection_test(sessions, name, actor.name)
    return CheckOut(ok=check.ok, detail=check.detail, seconds=check.seconds)


@router.post("/connections/{name}/enable", responses=CHANGED)
def enable_connection(
    name: ConnectionName,
    actor: Administrator,
    sessions: CommandSessions,
    session: SessionDep,
    if_match: IfMatch,
    response: Response,
) -> dict[str, Any]:
    """Test, then route the connection's capabilities to it (409 when the test fails).
    If-Match (optional) is checked before the test, against the connection as read."""
    connection_commands.enable(sessions, name, actor.name, if_match=if_match)
    return _tagged_connection(session, name, actor, response)


@router.post("/connections/{name}/disable", responses=CHANGED)
def disable_connection(
    name: ConnectionName,
    actor: Administrator,
    sessions: CommandSessions,
    session: SessionDep,
    if_match: IfMatch,
    response: Response,
) -> dict[str, Any]:
    """Stop routing to the connection (If-Match optional)."""
    connection_commands.disable(sessions, name, actor.name, if_match=if_match)
    return _tagged_connection(session, name, actor, response)


@router.post(
    "/connections/{name}/sync", response_model=SyncQueued, status_code=202, responses=ADMINISTERED
)
def sync_connection(
    name: ConnectionName, body: SyncIn, _actor: Operator, session: SessionDep
) -> SyncQueued:
    """Queue a sync on the connection's rate-limited queue; follow it by its workflow id."""
    from promoflow.connectors import jobs

    enabled = connections.get_connection(session, name).enabled
    session.close()  # the read is done: no connection held while the job is queued
    if not enabled:
        raise Conflict(f"connection {name!r} is disabled: enable it (its test runs first)")
    handle = jobs.enqueue_sync(name, body.capability)
    return SyncQueued(workflow_id=handle.get_workflow_id(), queue=jobs.queue_name(name))


@router.get("/dead-letters", response_model=CursorPage[DeadLetterOut])
def list_dead_letters(
    session: SessionDep,
    _actor: Reader,
    page: Pagination,
    status: Annotated[
        str | None, Query(description="default open"), OneOf(DEAD_LETTER_STATUSES)
    ] = "open",
    kind: Annotated[str | None, Query(), OneOf(DEAD_LETTER_KINDS)] = None,
    source: Annotated[Annotated[str, Text(80, min_length=1)] | None, Query(), OMITTABLE] = None,
) -> CursorPage[DeadLetterOut]:
    """Dead letters and quarantined payloads, newest first."""
    letters = deadletters.list_dead_letters(
        session,
        status=status,
        kind=kind,
        source=source,
        limit=page.fetch,
        before=page.after_id(),
    )
    views = [deadletters.as_dict(letter) for letter in letters]
    return page.without_total(DeadLetterOut, views, key=lambda view: (view["id"],))


@router.get(
    "/dead-letters/{letter_id}", response_model=DeadLetterOut, responses=read_responses(404)
)
def get_dead_letter(
    session: SessionDep, _actor: Reader, letter_id: LetterId, held: IfNoneMatch, response: Response
) -> DeadLetterOut | Response:
    """One dead letter, and its ETag."""
    letter = deadletters.get_dead_letter(session, letter_id)
    unchanged = tagged(response, entity_tag(letter), held)
    return unchanged or DeadLetterOut.model_validate(deadletters.as_dict(letter))


@router.post("/dead-letters/{letter_id}/replay", response_model=DeadLetterOut, responses=CHANGED)
def replay_dead_letter(
    letter_id: LetterId,
    actor: Operator,
    sessions: CommandSessions,
    if_match: IfMatch,
    response: Response,
) -> DeadLetterOut:
    """Apply it again through its operation; 409 when it is not open or not replayable.
    If-Match (optional) is checked before the replay runs and again when it is recorded."""
    letter = deadletters.replay(sessions, letter_id, actor.name, if_match=if_match)
    tagged(response, entity_tag(letter))
    return DeadLetterOut.model_validate(deadletters.as_dict(letter))


@router.post("/dead-letters/{letter_id}/discard", response_model=DeadLetterOut, responses=CHANGED)
def discard_dead_letter(
    letter_id: LetterId,
    body: DiscardIn,
    actor: Administrator,
    sessions: CommandSessions,
    if_match: IfMatch,
    response: Response,
) -> DeadLetterOut:
    """Close it without applying it; the reason is kept for the audit (If-Match optional)."""
    letter = deadletters.discard(sessions, letter_id, actor.name, body.reason, if_match=if_match)
    tagged(response, entity_tag(letter))
    return DeadLetterOut.model_validate(deadletters.as_dict(letter))
