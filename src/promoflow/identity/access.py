"""The access policy: which roles hold which permission, and what every route needs.

One file (policies/access.yaml, or PROMOFLOW_POLICY_DIR/access.yaml) says it all.
The API enforces it (api/permissions.py), the OpenAPI document and docs/access.md
are rendered from it, and the authorisation matrix test is generated from it, so
the three cannot drift apart. The policy holds no object-level rule: those stay
with their services (an approval task's assigned role, who may waive which gate,
segregation of duties).
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import ErrorDetails

from promoflow.config import get_settings
from promoflow.kit.errors import PolicyError
from promoflow.kit.policy import load_policy
from promoflow.kit.roles import ROLES, Role

POLICY_FILE_NAME = "access.yaml"
BUNDLED_POLICY = Path(__file__).resolve().parent.parent / "policies" / POLICY_FILE_NAME
EVERY_ROLE = "*"


class Scope(StrEnum):
    """Whose data a route touches (see access.yaml for the rules of each)."""

    BANNER = "banner"  # a promotion's, or an object of one
    RETAILER = "retailer"  # the whole retailer's: only a caller for every banner
    SHARED = "shared"  # reference data, the same for every banner


class PermissionRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    about: str = Field(min_length=1, max_length=200)
    roles: Literal["*"] | tuple[Role, ...]

    @property
    def role_set(self) -> frozenset[Role]:
        """The roles holding the permission, with "*" spelt out."""
        if isinstance(self.roles, str):  # EVERY_ROLE
            return frozenset(Role)
        return frozenset(self.roles)


class RouteRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    permission: str = Field(min_length=1, max_length=64)
    scope: Scope


RouteKey = Annotated[str, Field(pattern=r"^(GET|POST|PUT|PATCH|DELETE) /[^\s]*$")]


class AccessPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=32)
    permissions: dict[str, PermissionRule]
    routes: dict[RouteKey, RouteRule]

    @field_validator("permissions")
    @classmethod
    def _some_permissions(cls, value: dict[str, PermissionRule]) -> dict[str, PermissionRule]:
        if not value:
            raise ValueError("names no permission")
        return value

    @model_validator(mode="after")
    def _routes_name_known_permissions(self) -> AccessPolicy:
        for key, rule in self.routes.items():
            if rule.permission not in self.permissions:
                raise ValueError(
                    f"route {key!r} needs permission {rule.permission!r}, which the policy "
                    f"does not define; defined: {', '.join(sorted(self.permissions))}"
                )
        return self

    def rule(self, method: str, path: str) -> RouteRule | None:
        """The rule of the route `METHOD /path` (path under /api/v1), if the policy has one."""
        return self.routes.get(f"{method} {path}")

    def roles_of(self, permission: str) -> frozenset[Role]:
        """The roles holding `permission`."""
        return self.permissions[permission].role_set

    def allows(self, role: str, permission: str) -> bool:
        """True when `role` holds `permission`."""
        return role in self.permissions[permission].role_set

    def check_routes(self, served: list[tuple[str, str]]) -> None:
        """Refuse a policy that misses a served route or names one nobody serves."""
        keys = {f"{method} {path}" for method, path in served}
        missing = sorted(keys - set(self.routes))
        unknown = sorted(set(self.routes) - keys)
        problems = []
        if missing:
            problems.append(f"no rule for {', '.join(missing)}")
        if unknown:
            problems.append(f"rules for routes the API does not serve: {', '.join(unknown)}")
        if problems:
            raise PolicyError(f"access policy {self.version}: " + "; ".join(problems))


def default_policy_path(policy_dir: Path | None = None) -> Path:
    """PROMOFLOW_POLICY_DIR/access.yaml when that folder has one, else the bundled policy.

    A folder holding only the other policies (gates, approvals) keeps the bundled
    access policy, so adding access control to an existing policy folder is opt-in.
    """
    folder = policy_dir if policy_dir is not None else get_settings().policy_dir
    if folder is not None and (folder / POLICY_FILE_NAME).exists():
        return folder / POLICY_FILE_NAME
    return BUNDLED_POLICY


def load_access_policy(path: Path | None = None) -> AccessPolicy:
    """Read and validate an access policy; None reads the configured or bundled file."""
    return load_policy(
        path if path is not None else default_policy_path(),
        AccessPolicy,
        what="access policy",
        top_level="'version', 'permissions' and 'routes'",
        describe=_describe,
    )


@lru_cache(maxsize=1)
def bundled_policy() -> AccessPolicy:
    """The policy shipped with promoflow (for docs and tests)."""
    return load_access_policy(BUNDLED_POLICY)


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] in ("literal_error", "enum") and "roles" in where:
        return f"{where}: {error['input']!r} is not a role; roles: {', '.join(ROLES)}, or '*'"
    return f"{where}: {error['msg']}"


def render_markdown(policy: AccessPolicy, prefix: str = "/api/v1") -> str:
    """The policy as the page docs/access.md is: who may do what, route by route."""
    lines = [
        "# Access policy",
        "",
        f"Rendered from `src/promoflow/policies/access.yaml` (version `{policy.version}`) by",
        "`promoflow auth policy --markdown`; a test fails when this page and the file differ.",
        "The API enforces the same file: a role without a route's permission gets 403, a",
        "caller outside the banners of a `banner`-scoped object gets 404 (as if it did not",
        "exist) and lists leave such objects out, and a `retailer`-scoped route needs a",
        "caller for every banner. Object-level rules (an approval task's assigned role, who",
        "may waive which gate, segregation of duties) stay with their services.",
        "",
        "## Permissions",
        "",
        "| permission | lets a caller | roles |",
        "| --- | --- | --- |",
    ]
    for name, permission in policy.permissions.items():
        roles = (
            "every role"
            if isinstance(permission.roles, str)
            else ", ".join(role.value for role in permission.roles)
        )
        lines.append(f"| `{name}` | {permission.about} | {roles} |")
    lines += ["", "## Routes", "", "| route | permission | scope |", "| --- | --- | --- |"]
    for key, rule in policy.routes.items():
        method, path = key.split(" ", 1)
        lines.append(f"| `{method} {prefix}{path}` | `{rule.permission}` | {rule.scope.value} |")
    lines += ["", "## Roles", "", "| role | permissions |", "| --- | --- |"]
    for role in Role:
        held = [name for name in policy.permissions if policy.allows(role, name)]
        lines.append(f"| {role.value} | {', '.join(f'`{name}`' for name in held)} |")
    return "\n".join(lines) + "\n"
