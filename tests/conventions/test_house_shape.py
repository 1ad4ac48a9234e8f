"""The house shape, checked by machine (issue 11, item 6).

A new engineer finds every domain package laid out the same way, every connector
folder laid out the same way, every query in a repository and every role or case
word spelled through its enum. These tests fail the build when a change breaks
one of those rules, naming the file and line to fix, the way Home Assistant's
hassfest keeps hundreds of integrations in one shape.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from shape import SOURCE, count_queries

DOMAIN_FILES = ("models.py", "schemas.py", "repository.py", "service.py")
CONNECTOR_FILES = (
    "manifest.py",
    "settings.py",
    "client.py",
    "mapping.py",
    "connector.py",
    "diagnostics.py",
)

# Every top-level package is one of these; a new one must be placed here, so
# nobody adds a package that escapes the rules by accident.
DOMAINS = {
    "approvals",
    "audit",
    "catalog",
    "console",
    "events",
    "exceptions",
    "executors",
    "forecasting",
    "gates",
    "idempotency",
    "identity",
    "integration",
    "inventory",
    "promotions",
    "publications",
    "recommendations",
}
NOT_DOMAINS = {
    "api": "the HTTP edge: routes call services",
    "cli": "the command-line edge: commands call services",
    "connectors": "one folder per external system (checked below)",
    "kit": "shared infrastructure that imports nothing of ours",
    "lifecycle": "the promotion workflow (workflow shape, below)",
    "allocation": "allocation, replenishment and live sell-through (workflow shape, below)",
    "analytics": "process analytics: reads the event log into Polars, owns no table",
    "migrations": "the schema's history",
    "planning": "pure planning maths: no database",
    "processmining": "exports of the event log (OCEL 2.0, XES): reads the tables, owns none",
    "postevent": "post-event analysis of promotions that have run: reads actuals, opens "
    "reconciliation cases through the exceptions service, owns no table",
    "whatif": "read-only analysis of a draft: repository and service, no tables",
    "execution": "read-only analysis of a launched promotion: repository and variance, no tables",
    "policies": "the YAML policies, no code",
    "scenario": "the demo plug-in: the seeded retailer's generator and storyline",
    "simulation": "the ROI simulation: in-memory arms over seeded worlds, no database",
    "web": "the browser edge: console pages call services, as the API does",
}
CONNECTOR_SUPPORT_FOLDERS: set[str] = set()

# Queries that may live outside a repository, each with its reason.
QUERY_EXEMPT = {
    "migrate.py": "the advisory lock that serialises schema upgrades, and the version read "
    "that skips them, are part of migrating",
}


def _top_level_packages() -> set[str]:
    return {
        path.name for path in SOURCE.iterdir() if path.is_dir() and (path / "__init__.py").exists()
    }


def test_every_package_is_placed_in_the_architecture() -> None:
    unplaced = _top_level_packages() - DOMAINS - set(NOT_DOMAINS)
    assert not unplaced, (
        f"packages {sorted(unplaced)} are neither a domain nor a named layer: add each to "
        "DOMAINS (and give it the domain shape) or to NOT_DOMAINS with what it is "
        "(docs/architecture.md says which)"
    )


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_a_domain_package_has_the_domain_shape(domain: str) -> None:
    folder = SOURCE / domain
    missing = [name for name in DOMAIN_FILES if not (folder / name).exists()]
    assert not missing, (
        f"src/promoflow/{domain}/ lacks {', '.join(missing)}: a domain package has "
        "models.py (tables), schemas.py (what crosses the boundary), repository.py "
        "(every query) and service.py (rules; never commits)"
    )


def _connector_folders() -> list[str]:
    root = SOURCE / "connectors"
    return sorted(
        path.name
        for path in root.iterdir()
        if path.is_dir()
        and (path / "__init__.py").exists()
        and path.name not in CONNECTOR_SUPPORT_FOLDERS
    )


@pytest.mark.parametrize("connector", _connector_folders())
def test_a_connector_folder_has_the_connector_shape(connector: str) -> None:
    folder = SOURCE / "connectors" / connector
    missing = [name for name in CONNECTOR_FILES if not (folder / name).exists()]
    assert not missing, (
        f"src/promoflow/connectors/{connector}/ lacks {', '.join(missing)}: a connector "
        "folder has manifest.py, settings.py, client.py, mapping.py, connector.py and "
        "diagnostics.py (docs/architecture.md, 'A new connector')"
    )


def test_only_repositories_build_queries() -> None:
    outside = [
        f"src/promoflow/{query.module}:{query.line} ({query.builder})"
        for query in count_queries()
        if not query.in_repository and query.module not in QUERY_EXEMPT
    ]
    assert not outside, (
        "these statements are built outside a repository.py; move each into its "
        "package's repository and call it from there:\n  " + "\n  ".join(outside)
    )


def _vocabulary() -> dict[str, str]:
    """Each reserved word and the enum that owns it."""
    from promoflow.exceptions.schemas import CaseAction, CaseKind
    from promoflow.kit.roles import Role

    words: dict[str, str] = {}
    for enum in (Role, CaseKind, CaseAction):
        for member in enum:
            words[member.value] = f"{enum.__name__}.{member.name}"
    return words


# The enums themselves, and text that is not code (YAML lives outside .py).
# Gate names and approval SLA steps are vocabularies of their own that share some
# spellings (stockout_risk, escalate); their enums live in these homes too.
VOCABULARY_HOMES = {
    "kit/roles.py",
    "exceptions/schemas.py",
    "gates/schemas.py",
    "approvals/schemas.py",
}


def _docstring_nodes(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstring_nodes(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_roles_and_case_words_are_spelled_through_their_enums() -> None:
    words = _vocabulary()
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        module = str(path.relative_to(SOURCE))
        if module in VOCABULARY_HOMES or module.startswith("migrations/"):
            continue
        for line, value in _literals(path):
            if value in words:
                found.append(f"src/promoflow/{module}:{line} {value!r} -> {words[value]}")
    assert not found, (
        "a role, case kind or case action is written as a string; use its enum member:\n  "
        + "\n  ".join(found)
    )


WORKFLOW_PACKAGES = ("lifecycle", "allocation")
WORKFLOW_FILES = ("workflows.py", "steps.py", "transactions.py", "repository.py", "schemas.py")
# What a workflow module decides with; it is replayed from checkpoints, so it reads
# no clock, draws no random number and opens no socket or process (steps do).
DECIDING_MODULES = (
    "lifecycle/workflows.py",
    "lifecycle/waiting.py",
    "lifecycle/timing.py",
    "allocation/workflows.py",
    "allocation/policy.py",
)
NONDETERMINISTIC_MODULES = {"random", "secrets", "socket", "subprocess", "urllib", "uuid", "time"}
NONDETERMINISTIC_CALLS = {"now", "utcnow", "today", "time", "monotonic", "uuid4"}


@pytest.mark.parametrize("package", WORKFLOW_PACKAGES)
def test_a_workflow_package_has_the_workflow_shape(package: str) -> None:
    folder = SOURCE / package
    missing = [name for name in WORKFLOW_FILES if not (folder / name).exists()]
    assert not missing, (
        f"src/promoflow/{package}/ lacks {', '.join(missing)}: a workflow package has "
        "workflows.py (decides), steps.py (acts), transactions.py (writes), "
        "repository.py (its queries) and schemas.py (what steps and transactions return)"
    )


@pytest.mark.parametrize("module", DECIDING_MODULES)
def test_workflow_code_reads_no_clock_and_draws_no_chance(module: str) -> None:
    tree = ast.parse((SOURCE / module).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] in NONDETERMINISTIC_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "").split(".")[0] in NONDETERMINISTIC_MODULES:
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in NONDETERMINISTIC_CALLS
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}()")
    assert not found, (
        f"src/promoflow/{module} is replayed from checkpoints; read the clock or chance "
        "in a step instead: " + "; ".join(found)
    )
