"""Read the source tree the way the house rules talk about it (issue 11).

A *query* is a call that builds an SQL statement: `select`, `insert`, `update`,
`delete`, `text`, `union`/`union_all`, `exists`, or the legacy `session.query`.
`count_queries` says where each one is, so the convention test can hold the
rule "only repositories write queries" and the CLI can print the count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "promoflow"
STATEMENT_BUILDERS = frozenset(
    {"select", "insert", "update", "delete", "text", "union", "union_all", "exists"}
)


@dataclass(frozen=True)
class Query:
    module: str  # path relative to src/promoflow
    line: int
    builder: str

    @property
    def in_repository(self) -> bool:
        name = Path(self.module).name
        return name == "repository.py" or "/repository/" in self.module


def _imported_builders(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to sqlalchemy's statement builders, and aliases of sqlalchemy itself."""
    names: set[str] = set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        from_sqlalchemy = isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sqlalchemy"
        )
        if isinstance(node, ast.ImportFrom) and from_sqlalchemy:
            for alias in node.names:
                if alias.name in STATEMENT_BUILDERS:
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                    modules.add(alias.asname or alias.name)
    return names, modules


def _queries_in(path: Path) -> Iterator[Query]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names, modules = _imported_builders(tree)
    module = str(path.relative_to(SOURCE))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in names:
            yield Query(module, node.lineno, func.id)
        elif isinstance(func, ast.Attribute):
            owner = func.value
            on_sqlalchemy = isinstance(owner, ast.Name) and owner.id in modules
            if func.attr in STATEMENT_BUILDERS and on_sqlalchemy:
                yield Query(module, node.lineno, func.attr)
            elif func.attr == "query" and isinstance(owner, ast.Name) and owner.id == "session":
                yield Query(module, node.lineno, "session.query")


def count_queries(root: Path = SOURCE) -> list[Query]:
    """Every statement built in the package, migrations left out (they are schema, not queries)."""
    found: list[Query] = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:
            continue
        found.extend(_queries_in(path))
    return found


if __name__ == "__main__":
    queries = count_queries()
    inside = [q for q in queries if q.in_repository]
    print(f"{len(inside)} of {len(queries)} queries live in a repository")
    by_module: dict[str, int] = {}
    for q in queries:
        if not q.in_repository:
            by_module[q.module] = by_module.get(q.module, 0) + 1
    for module, n in sorted(by_module.items(), key=lambda kv: -kv[1]):
        print(f"  {n:4d}  {module}")
