"""Reading a policy YAML file: one place for the errors every policy gives alike.

Each policy module keeps its own pydantic model and its own wording for a bad
setting; this reads the file, parses it and turns failures into a PolicyError
naming the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from promoflow.kit.errors import PolicyError

PolicyT = TypeVar("PolicyT", bound=BaseModel)


def load_policy(
    source: Path,
    model: type[PolicyT],
    *,
    what: str,
    top_level: str,
    describe: Callable[[ErrorDetails], str],
) -> PolicyT:
    """Read `source`, parse its YAML and validate it as `model`.

    `what` names the policy in messages ("gate policy"), `top_level` says what the
    file's mapping must hold, `describe` words one validation problem.
    """
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(
            f"{source}: cannot read the {what}: {error.strerror}", path=str(source)
        ) from error
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyError(
            f"{source}: not valid YAML{where}: {problem}", path=str(source)
        ) from error
    if not isinstance(raw, dict):
        raise PolicyError(
            f"{source}: (top level)={raw!r}: must be a mapping with {top_level}", path=str(source)
        )
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = [describe(detail) for detail in error.errors()]
        raise PolicyError(
            f"{source}: " + "; ".join(problems), path=str(source), problems=problems
        ) from error
