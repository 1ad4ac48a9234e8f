"""The README tells the truth: its commands exist, and its Roles section is the policy's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from promoflow.cli.auth import roles_markdown
from promoflow.cli.main import app
from promoflow.identity.access import bundled_policy
from promoflow.kit.roles import Role

README = (Path(__file__).parents[2] / "README.md").read_text()
runner = CliRunner()


def roles_section() -> str:
    found = re.search(r"<!-- roles: [^>]*-->\n(.*?)<!-- /roles -->", README, re.DOTALL)
    assert found, "README has no Roles section between its markers"
    return found.group(1)


def test_the_roles_section_is_what_the_access_policy_says() -> None:
    assert roles_section() == roles_markdown(bundled_policy()), (
        "README's Roles section is stale: paste `promoflow auth policy --roles` between its markers"
    )


def test_the_roles_section_names_every_role_once() -> None:
    listed = re.findall(r"^\| `([a-z_]+)` \|", roles_section(), re.MULTILINE)
    assert listed == [role.value for role in Role]


def readme_commands() -> list[tuple[str, ...]]:
    """Every `promoflow GROUP SUB...` the README writes in backticks, alternatives split."""
    commands: set[tuple[str, ...]] = set()
    for text in re.findall(r"`(?:uv run )?promoflow ([^`]+)`", README):
        words = text.replace("\\|", "|").split()
        path: list[str] = []
        for word in words:
            if not re.fullmatch(r"[a-z][a-z|-]*", word) or len(path) == 2:
                break
            path.append(word)
        if not path:
            continue
        for group in path[0].split("|"):
            subs = path[1].split("|") if len(path) > 1 else [""]
            commands.update(tuple(filter(None, (group, sub))) for sub in subs)
    return sorted(commands)


@pytest.mark.parametrize("command", readme_commands(), ids=" ".join)
def test_every_command_the_readme_names_exists(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, f"`promoflow {' '.join(command)}`: {result.output}"
