"""What every CLI command shares: the console and turning errors into clear exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from promoflow.kit.errors import InvalidInput, PromoflowError
from promoflow.kit.roles import ROLES

if TYPE_CHECKING:
    from promoflow.runtime import Runtime

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def explain(error: Exception) -> str:
    """A one-paragraph explanation of a user-facing error."""
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}={e.get('input')!r}: {e['msg']}"
            for e in error.errors()
        )
    return str(error)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print domain and validation errors in red and exit 2 (no traceback)."""
    try:
        yield
    except (PromoflowError, ValidationError) as error:
        err_console.print(f"[bold red]error:[/] {explain(error)}")
        raise typer.Exit(code=2) from None


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of `user_errors` for Typer commands."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with user_errors():
            return func(*args, **kwargs)

    return wrapper


def known_role(role: str, field: str = "role") -> str:
    """`role` if it is one of kit.roles.Role, else a clear error naming the field."""
    if role not in ROLES:
        raise InvalidInput(field, role, f"unknown role; known: {', '.join(ROLES)}")
    return role


def wake(runtime: Runtime, workflow_id: str | None, message: dict[str, Any]) -> None:
    """Send a lifecycle workflow its wake-up from a process that did not launch DBOS.

    A command's own signal goes out only where DBOS runs (serve, worker, the demo);
    from the CLI it goes as a DBOS client, so the workflow in `promoflow serve` acts
    on the decision at once instead of at its next SLA milestone.
    """
    if runtime.dbos_launched or not workflow_id:
        return
    from dbos import DBOSClient

    from promoflow.lifecycle.signals import TOPIC

    client = DBOSClient(system_database_url=runtime.settings.resolved_database_url())
    try:
        client.send(workflow_id, message, topic=TOPIC)
    except Exception as error:  # the workflow re-reads at its next SLA milestone anyway
        err_console.print(f"[yellow]note:[/] the workflow was not woken ({error})")
    finally:
        client.destroy()
