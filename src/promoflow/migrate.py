"""Run the Alembic migrations that ship inside the package.

Two branches: `core` (`migrations/versions/`) is the production schema, and
`demo` (`migrations/demo/`) the sandbox estate and the scenario generator's
tables. A plain upgrade brings `core` to its head, and `demo` too where the
database already has it; `demo=True` (the demo, `db upgrade --demo`, the tests)
installs it, and so does `ensure_demo`, which the scenario generator and every
sandbox system call before they touch their tables.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
CORE = "core@head"
DEMO = "demo@head"
# Any 64-bit constant all promoflow processes agree on: two processes that
# start on a fresh PostgreSQL database migrate one after the other, not together.
MIGRATION_LOCK = 0x70726F6D6F666C6F  # "promoflo"

_demo_ready: weakref.WeakSet[Engine] = weakref.WeakSet()


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations (both branches) and `url`."""
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
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    if revision == "head" and _at_heads(config, engine, demo=demo):
        # Every command opens the database through here: reading the version table
        # costs milliseconds, Alembic's run (env.py imports every model) a quarter second.
        return
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


def _at_heads(config: Config, engine: Engine, *, demo: bool) -> bool:
    """Whether the database has the production head, the demo head if `demo`, and no
    branch behind its head (so `upgrade(engine, "head", demo=demo)` has nothing to do)."""
    script = ScriptDirectory.from_config(config)
    core, demo_head = script.get_revision(CORE), script.get_revision(DEMO)
    if core is None or demo_head is None:
        return False
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    wanted = {core.revision} | ({demo_head.revision} if demo else set())
    if not (wanted <= current <= set(script.get_heads())):
        return False
    if demo_head.revision in current:
        _demo_ready.add(engine)
    return True


def demo_installed(engine: Engine) -> bool:
    """Whether the database has the demo branch at its head."""
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
    demo_revisions = {
        script.revision
        for script in ScriptDirectory.from_config(config).walk_revisions()
        if "demo" in script.branch_labels
    }
    current = MigrationContext.configure(connection).get_current_heads()
    return bool(demo_revisions & set(current))
