"""`promoflow auth`: development tokens, and API keys for integration clients."""

from __future__ import annotations

import typer
from rich.table import Table

from promoflow.cli.common import console, err_console, handles_errors
from promoflow.config import Settings, get_settings
from promoflow.identity import access, dev_issuer
from promoflow.identity import service as identity
from promoflow.identity.schemas import ALL_BANNERS, IdentityMisconfigured
from promoflow.identity.startup import check_settings, dev_issuer_trusted
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading, transaction
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import ROLES, Role
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)
keys = typer.Typer(no_args_is_help=True)
app.add_typer(keys, name="keys", help="API keys of integration clients: create, list, revoke.")

ROLE_HELP = f"One of {', '.join(ROLES)}"
DAYS_HELP = f"Days until it expires (1 to {identity.MAX_DAYS})"
BANNER_HELP = f"A banner the caller may act for (repeat for several; {ALL_BANNERS!r} for all)"


@app.command()
@handles_errors
def token(
    user: str = typer.Option(..., "--user", help="Who the token is for, e.g. ana"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    banner: list[str] = typer.Option([], "--banner", help=BANNER_HELP),
    minutes: int = typer.Option(60, "--minutes", help="How long the token is valid (1 to 1440)"),
) -> None:
    """Print a token of the development issuer (embedded mode): `Authorization: Bearer <it>`."""
    settings = get_settings()
    check_settings_except_api_keys(settings)
    if not dev_issuer_trusted(settings):
        raise IdentityMisconfigured(
            "the development issuer is off here (PROMOFLOW_DEV_ISSUER=false, or "
            "PROMOFLOW_ENVIRONMENT=production), so a server with these settings would refuse "
            "its tokens; use your identity provider's tokens or an API key"
        )
    if role not in ROLES:
        raise InvalidInput("--role", role, f"choose one of {', '.join(ROLES)}")
    if not 1 <= minutes <= dev_issuer.MAX_MINUTES:
        raise InvalidInput("--minutes", minutes, f"give 1 to {dev_issuer.MAX_MINUTES}")
    if not user.strip():
        raise InvalidInput("--user", user, "give the user's name")
    signed = dev_issuer.mint(
        settings.data_dir,
        user=user.strip(),
        role=Role(role),
        banners=identity.banner_scope(banner),
        audience=settings.auth_audience,
        now=utcnow(),
        minutes=minutes,
    )
    # Only the token on stdout, so `TOKEN=$(promoflow auth token ...)` works.
    print(signed)


def check_settings_except_api_keys(settings: Settings) -> None:
    """The server's refusals, bar the API key list (which a token does not depend on)."""
    check_settings(settings.model_copy(update={"api_keys": ""}))


@app.command()
@handles_errors
def policy(
    markdown: bool = typer.Option(
        False, "--markdown", help="Print the policy as docs/access.md is (for the docs)"
    ),
    roles: bool = typer.Option(
        False, "--roles", help="Print what each role may do, as the README's Roles section is"
    ),
) -> None:
    """Check the access policy the API would enforce (PROMOFLOW_POLICY_DIR/access.yaml or the
    bundled one) and show who may do what."""
    loaded = access.load_access_policy(access.default_policy_path(get_settings().policy_dir))
    if markdown or roles:
        typer.echo(access.render_markdown(loaded) if markdown else roles_markdown(loaded), nl=False)
        return
    table = Table("role", "permissions", title=f"access policy {loaded.version}")
    for role in Role:
        held = [name for name in loaded.permissions if loaded.allows(role, name)]
        table.add_row(role.value, ", ".join(held))
    console.print(table)


def roles_markdown(policy: access.AccessPolicy) -> str:
    """Each role and what it may do, in the words of the policy's permissions."""
    everyone = [rule.about for rule in policy.permissions.values() if rule.role_set >= set(Role)]
    lines = [
        f"Every role may {'; '.join(everyone)}.",
        "",
        "| role | may also |",
        "| --- | --- |",
    ]
    for role in Role:
        extra = [
            rule.about
            for rule in policy.permissions.values()
            if role in rule.role_set and not rule.role_set >= set(Role)
        ]
        lines.append(f"| `{role.value}` | {'; '.join(extra) or 'nothing more: it only reads'} |")
    return "\n".join(lines) + "\n"


@keys.command("create")
@handles_errors
def create(
    name: str = typer.Option(..., "--name", help="The client the key is for, e.g. pos-bridge"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    banner: list[str] = typer.Option([], "--banner", help=BANNER_HELP),
    days: int = typer.Option(90, "--days", help=DAYS_HELP),
    by: str = typer.Option(..., "--by", help="Who creates it"),
) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    with transaction(open_database().sessions) as session:
        issued = identity.create_api_key(
            session, name=name, role=role, banners=banner, days=days, created_by=by, now=utcnow()
        )
    key = issued.key
    err_console.print(
        f"[green]created[/] API key [bold]{key.key_id}[/] for {key.name} "
        f"({key.role}, banners {', '.join(key.banners.as_list())}), expires "
        f"{key.expires_at.isoformat(timespec='seconds')}.\n"
        "Copy it now: it is shown only this once. Send it in the X-API-Key header."
    )
    print(issued.secret)


@keys.command("list")
@handles_errors
def list_(
    active: bool = typer.Option(False, "--active", help="Only keys neither revoked nor expired"),
) -> None:
    """Every key with its scope, expiry and last use (never the key itself)."""
    with reading(open_database().sessions) as session:
        listed = identity.list_api_keys(session)
    now = utcnow()
    if active:
        listed = [key for key in listed if key.status(now) == "active"]
    if not listed:
        console.print("no API keys; create one with `promoflow auth keys create`")
        return
    table = Table(box=None, header_style="bold")
    # Never cut with an ellipsis: a key id is copied from here into `revoke`.
    table.add_column("key id", no_wrap=True, min_width=identity.KEY_ID_CHARS)
    for column in ("name", "role", "banners", "status", "expires", "last used", "by"):
        table.add_column(column, overflow="fold")
    for key in listed:
        table.add_row(
            key.key_id,
            key.name,
            key.role,
            ", ".join(key.banners.as_list()),
            key.status(now),
            f"{key.expires_at:%Y-%m-%d %H:%M}",
            f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
            key.created_by,
        )
    console.print(table)


@keys.command("revoke")
@handles_errors
def revoke(
    key_id: str = typer.Argument(..., help="The key id `auth keys list` shows"),
    by: str = typer.Option(..., "--by", help="Who revokes it"),
) -> None:
    """Revoke a key: every server refuses it from its next call on."""
    with transaction(open_database().sessions) as session:
        key = identity.revoke_api_key(session, key_id, by=by, now=utcnow())
    console.print(f"[yellow]revoked[/] API key {key.key_id} ({key.name})")
