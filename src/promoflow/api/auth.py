"""API keys: who is calling, in which role. The key decides; the body never does."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from promoflow.api.problems import Unauthenticated
from promoflow.kit.errors import Forbidden
from promoflow.kit.roles import ROLES

API_KEY_HEADER = "X-API-Key"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="key:actor:role from PROMOFLOW_API_KEYS"
)


@dataclass(frozen=True)
class Actor:
    """The acting identity: a named person or system in one role."""

    name: str
    role: str


class KeyRing:
    """The accepted API keys and the actor each one stands for."""

    def __init__(self, entries: list[tuple[bytes, Actor]]) -> None:
        self._entries = entries

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        """Parse `key:actor:role,...`; raise ValueError naming the entry and what to fix."""
        entries: list[tuple[bytes, Actor]] = []
        seen: set[str] = set()
        for position, raw in enumerate(spec.split(","), start=1):
            if not raw.strip():
                continue
            parts = [part.strip() for part in raw.split(":")]
            where = f"PROMOFLOW_API_KEYS entry {position}"
            if len(parts) != 3 or not all(parts):
                # Never echo the entry: it holds a secret.
                raise ValueError(f"{where}: expected 'key:actor:role' with three non-empty parts")
            key, actor, role = parts
            if role not in ROLES:
                raise ValueError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
            if key in seen:
                raise ValueError(f"{where}: the same key is listed twice")
            seen.add(key)
            entries.append((key.encode(), Actor(name=actor, role=role)))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: str) -> Actor | None:
        """The actor for `key`, comparing in constant time against every entry."""
        offered = key.encode()
        found: Actor | None = None
        for stored, actor in self._entries:
            if hmac.compare_digest(stored, offered):
                found = actor
        return found


def current_actor(
    request: Request, key: Annotated[str | None, Security(api_key_header)] = None
) -> Actor:
    """The actor behind the request's X-API-Key; 401 when missing or unknown."""
    if not key:
        raise Unauthenticated(f"missing API key: send it in the {API_KEY_HEADER} header")
    keyring: KeyRing = request.app.state.api_keys
    actor = keyring.lookup(key)
    if actor is None:
        raise Unauthenticated(f"unknown API key in the {API_KEY_HEADER} header")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_role(actor: Actor, allowed: frozenset[str], action: str) -> None:
    """Raise Forbidden unless the actor's role may perform `action`."""
    if actor.role not in allowed:
        raise Forbidden(
            f"role {actor.role!r} may not {action}; allowed roles: {', '.join(sorted(allowed))}",
            role=actor.role,
        )
