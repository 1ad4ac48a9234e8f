"""Request-scoped dependencies: sessions and transactions, ids, promotion references.

Routes never reach for the runtime: they declare what they need here (a read
session, the read pool for a read after a command, the command pool, or a unit of
work), so the request boundary owns every transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema
from sqlalchemy.orm import Session, sessionmaker

from promoflow.approvals.queue import queue_rules
from promoflow.approvals.schemas import QueueRules
from promoflow.audit import trail
from promoflow.kit.bounds import MAX_ID
from promoflow.kit.db import transaction
from promoflow.promotions import service as promotions_service
from promoflow.runtime import get_runtime


def read_sessions() -> sessionmaker[Session]:
    """The read pool: for a short read of its own, e.g. the answer after a command committed."""
    return get_runtime().api_reads


def command_sessions() -> sessionmaker[Session]:
    """The command pool, for a command that opens (and commits) its own transactions."""
    return get_runtime().sessions


def approval_queue_rules() -> QueueRules:
    """The approval queue's SLA and stock-coverage settings, from the configured policies."""
    settings = get_runtime().settings
    return queue_rules(settings.policy_path("approvals.yaml"), settings.policy_path("gates.yaml"))


def currency(request: Request) -> str:
    """The ISO 4217 code of every amount this app answers with (PROMOFLOW_CURRENCY)."""
    return str(request.app.state.currency)


ReadSessions = Annotated[sessionmaker[Session], Depends(read_sessions)]
Currency = Annotated[str, Depends(currency)]
CommandSessions = Annotated[sessionmaker[Session], Depends(command_sessions)]
QueueRulesDep = Annotated[QueueRules, Depends(approval_queue_rules)]


def read_session(reads: ReadSessions) -> Iterator[Session]:
    """A read-only session from the read pool, closed (and so rolled back) after the request.

    Write handlers do not take one: commands open their own transaction from the
    command pool. On SQLite a read never takes the write lock, and it cannot
    write (query_only) should a handler try.
    """
    session = reads()
    try:
        yield session
    finally:
        session.close()


def unit_of_work(commands: CommandSessions) -> Iterator[Session]:
    """A command-pool session in one transaction: committed when the route returns, rolled
    back when it raises. Ends before the response is sent, so a failed commit is the answer."""
    with transaction(commands) as session:
        yield session
        trail.record_request(session)  # the change's audit record commits with it


SessionDep = Annotated[Session, Depends(read_session)]
UnitOfWork = Annotated[Session, Depends(unit_of_work, scope="function")]


# A row id in a path: the database holds 64-bit ids, so anything larger cannot exist.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="row id")]

MAX_REF = 40  # a promotion code's column holds 40
PromotionRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_REF,
        description="Promotion id (ASCII digits) or code (never all digits), e.g. 42 or PRM-00042",
    ),
]


def promotion_id(ref: PromotionRef, reads: ReadSessions) -> int:
    """Resolve a promotion id or code in a short session closed before any command runs."""
    with reads() as session:
        return promotions_service.find_promotion(session, ref).id


PromotionId = Annotated[int, Depends(promotion_id)]


class Omittable:
    """An optional query parameter is omitted or has a value; `null` is not a value.

    FastAPI documents `x: T | None = None` as `anyOf: [T, null]`, which promises
    that `?x=null` is accepted; the server reads "null" as text and refuses it.
    This annotation documents the parameter as T alone (it stays optional).
    """

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        documented = handler(schema)
        branches = [b for b in documented.get("anyOf", ()) if b != {"type": "null"}]
        if "anyOf" not in documented or len(branches) != 1:
            return documented
        rest = {key: value for key, value in documented.items() if key != "anyOf"}
        return {**branches[0], **rest}


OMITTABLE = Omittable()


@dataclass(frozen=True)
class OneOf:
    """A text query parameter that takes one of a fixed set of values (documented as an enum)."""

    values: tuple[str, ...]

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        allowed = self.values

        def check(value: str | None) -> str | None:
            if value is not None and value not in allowed:
                raise ValueError(f"must be one of {', '.join(allowed)}")
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.values)}
