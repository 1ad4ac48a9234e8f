"""What every CLI command shares: the console and turning errors into clear exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from promoflow.kit.errors import PromoflowError

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
