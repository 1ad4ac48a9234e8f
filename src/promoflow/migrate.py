"""Run the Alembic migrations that ship inside the package.

Two branches: `core` (`migrations/versions/`) is the production schema, and
`demo` (`migrations/demo/`) the sandbox estate and the scenario generator's
tables. A plain upgrade brings `core` to its head, and `demo` too where the
database already has it; `demo=True` (the demo, `db upgrade --demo`, the tests)
installs it, and so does `ensure_demo`, which the scenario generator and every
sandbox system call before they touch their tables.
"""

from __future__ import annotations

import ast
import os
import re
import weakref
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    # Alembic loads only where a schema changes or a test asks it: a command on a
    # database already at its heads never imports it (benchmarks/cli_start.py).
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
CORE = "core@head"
DEMO = "demo@head"
# Any 64-bit constant all promoflow processes agree on: two processes that
# start on a fresh PostgreSQL database migrate one after the other, not together.
MIGRATION_LOCK = 0x70726F6D6F666C6F  # "promoflo"

_demo_ready: weakref.WeakSet[Engine] = weakref.WeakSet()
# A migration file's header lines: `revision: str = "0015_..."`, `down_revision: ... = "0014_..."`.
_REVISION = re.compile(r"^revision\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations (both branches) and `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    locations = [MIGRATIONS / "versions", MIGRATIONS / "demo"]
    config.set_main_option(
        "version_locations", os.pathsep.join(str(p).replace("%", "%%") for p in locations)
    )
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head", *, demo: bool = False) -> None:
    """Bring the schema to `revision` (idempotent).

    "head" means the production head, plus the demo branch's head where the
    database has that branch already (so a demo database stays current); any
    other revision ("0005", "demo@head", ...) goes to Alembic as it is. `demo`
    installs the demo branch (to its head) after either.
    """
    if revision == "head" and _at_heads(engine, demo=demo):
        # Every command opens the database through here: reading the version table
        # costs milliseconds; importing Alembic and its scripts a quarter second, and
        # its run (env.py imports every model) another.
        return
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        config.attributes["connection"] = connection
        command.upgrade(config, CORE if revision == "head" else revision)
        with_demo = demo or (revision == "head" and _has_demo(config, connection))
        if with_demo:
            command.upgrade(config, DEMO)
    if with_demo:
        _demo_ready.add(engine)


def _at_heads(engine: Engine, *, demo: bool) -> bool:
    """Whether the database has the production head, the demo head if `demo`, and no
    branch behind its head (so `upgrade(engine, "head", demo=demo)` has nothing to do)."""
    core, demo_head = packaged_heads()
    if core is None or demo_head is None:
        return False  # Alembic decides
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return False
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        current = set(versions.scalars())
    wanted = {core} | ({demo_head} if demo else set())
    if not (wanted <= current <= {core, demo_head}):
        return False
    if demo_head in current:
        _demo_ready.add(engine)
    return True


@lru_cache(maxsize=1)
def packaged_heads() -> tuple[str | None, str | None]:
    """The head revisions of the `core` and the `demo` branch, read from the headers of
    the packaged migration files, as Alembic would find them without importing them.

    A branch whose files do not read as one straight line (a merge, a header Alembic
    takes but this reading does not) gives None, and the caller asks Alembic.
    """
    return _head_of(MIGRATIONS / "versions"), _head_of(MIGRATIONS / "demo")


def _head_of(folder: Path) -> str | None:
    revisions: set[object] = set()
    parents: set[object] = set()
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return None
        try:
            revisions.add(ast.literal_eval(revision.group(1)))
            parents.add(ast.literal_eval(down.group(1)))
        except (ValueError, SyntaxError):
            return None
    heads = revisions - parents
    if len(heads) != 1 or not all(isinstance(r, str) for r in revisions):
        return None
    (head,) = heads
    return str(head)


def demo_installed(engine: Engine) -> bool:
    """Whether the database has the demo branch at its head."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    demo_head = ScriptDirectory.from_config(config).get_revision(DEMO)
    with engine.connect() as connection:
        return (
            demo_head is not None
            and demo_head.revision in MigrationContext.configure(connection).get_current_heads()
        )


def ensure_demo(sessions: sessionmaker[Session]) -> None:
    """Install the demo branch on the sessions' database unless it is there (once per engine).

    The sandbox systems call this as they are built and the scenario generator
    before it seeds: a deployment that leaves a port to the sandbox estate keeps
    working, while a production `db upgrade` creates no demo table. Once the
    branch is known to be there, the engine is remembered and nothing is read.
    """
    engine = sessions.kw.get("bind")
    if not isinstance(engine, Engine) or engine in _demo_ready:
        return
    if not demo_installed(engine):
        upgrade(engine, demo=True)
    _demo_ready.add(engine)


def _has_demo(config: Config, connection: Connection) -> bool:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    demo_revisions = {
        script.revision
        for script in ScriptDirectory.from_config(config).walk_revisions()
        if "demo" in script.branch_labels
    }
    current = MigrationContext.configure(connection).get_current_heads()
    return bool(demo_revisions & set(current))
