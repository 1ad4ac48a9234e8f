"""A verified token's claims -> a Principal, through the configured claim names.

Identity providers spell roles differently (`roles`, `groups`,
`realm_access.roles`), so the claim names are settings and may be dotted paths.
A role claim may be a string or a list: in a list, promoflow takes the one entry
that is a promoflow role and ignores the provider's others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from promoflow.identity.schemas import (
    ALL_BANNERS,
    AuthMethod,
    BannerScope,
    ClaimMapping,
    ClaimRefused,
    CredentialRefused,
    Principal,
)
from promoflow.kit.roles import ROLES, Role

# The columns that record who acted hold 80 characters; a banner is a location's banner.
MAX_NAME = 80
MAX_BANNER = 64
MAX_BANNERS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted claim path (`realm_access.roles`), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def principal_from_claims(
    claims: Mapping[str, Any],
    mapping: ClaimMapping,
    method: AuthMethod,
) -> Principal:
    """The caller a verified token stands for; 401 without a subject, 403 for a bad role."""
    subject = claim(claims, mapping.subject)
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 255:
        raise CredentialRefused("the bearer token is not valid", reason="subject")
    name = claim(claims, mapping.name) or claim(claims, "preferred_username") or subject
    jti = claims.get("jti")
    return Principal(
        name=display_name(name, mapping.name),
        role=role_from_claim(claim(claims, mapping.role), mapping.role),
        subject=subject,
        banners=banners_from_claim(claim(claims, mapping.banners), mapping.banners),
        method=method,
        credential_id=jti if isinstance(jti, str) and len(jti) <= 255 else None,
    )


def display_name(value: Any, claim_name: str) -> str:
    """A person's name as the records keep it: text of at most 80 characters."""
    if not isinstance(value, str) or not value.strip():
        raise ClaimRefused(claim_name, "the name must be non-empty text")
    if len(value) > MAX_NAME or _CONTROL.search(value):
        raise ClaimRefused(claim_name, f"the name must be at most {MAX_NAME} printable characters")
    return value.strip()


def role_from_claim(value: Any, claim_name: str) -> Role:
    """The one promoflow role in a role claim (a string, or a list holding exactly one)."""
    offered = value if isinstance(value, list) else [value]
    if value is None or not all(isinstance(entry, str) for entry in offered):
        raise ClaimRefused(
            claim_name, f"the token carries no promoflow role; expected one of {', '.join(ROLES)}"
        )
    roles = [Role(entry) for entry in offered if entry in ROLES]
    if len(set(roles)) == 1:
        return roles[0]
    if roles:
        listed = ", ".join(sorted(set(roles)))
        raise ClaimRefused(claim_name, f"names several promoflow roles ({listed}); grant one")
    shown = ", ".join(repr(entry[:40]) for entry in offered[:5])
    raise ClaimRefused(
        claim_name, f"{shown} is not a promoflow role; expected one of {', '.join(ROLES)}"
    )


def banners_from_claim(value: Any, claim_name: str) -> BannerScope:
    """The banners a banner claim grants: a list of names or one name, `*` for all."""
    if value is None:
        return BannerScope()
    offered = [value] if isinstance(value, str) else value
    if not isinstance(offered, list) or len(offered) > MAX_BANNERS:
        raise ClaimRefused(
            claim_name, f"expected a list of banner names (or {ALL_BANNERS!r} for every banner)"
        )
    return BannerScope.of([banner_name(entry, claim_name) for entry in offered])


def banner_name(value: Any, field: str) -> str:
    """One banner name: 1 to 64 printable characters."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_BANNER
        or _CONTROL.search(value)
    ):
        shown = repr(value)[:40]
        raise ClaimRefused(
            field, f"{shown} is not a banner name (1 to {MAX_BANNER} printable characters)"
        )
    return value.strip()
