"""A filled audit log on a private database, and the hands of an attacker with DB rights."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from process_support import PROMOFLOW, process_env
from promoflow.audit import service
from promoflow.audit.chain import record_hash
from promoflow.audit.schemas import Actor, AuditEntry, Outcome
from promoflow.audit.signing import KEY_FILE, load_notary
from promoflow.kit.db import make_sessionmaker, transaction


@dataclass(frozen=True)
class Log:
    engine: Engine
    data_dir: Path
    ids: dict[int, str]  # sequence -> record id


def fill(engine: Engine, data_dir: Path, count: int, *, checkpoint_at: int = 0) -> Log:
    """`count` records, as merchandisers and refusals leave them; a signed checkpoint after
    record `checkpoint_at` (with the key in the data directory, where the CLI finds it)."""
    sessions = make_sessionmaker(engine)
    notary = load_notary(data_dir / KEY_FILE, 0)
    for n in range(1, count + 1):
        entry = AuditEntry(
            Actor("ana", "merchandiser"),
            "promotion.create",
            object_type="promotion",
            object_ref=f"PRM-{n:05d}",
            after={"status": "draft", "discount_percent": Decimal("12.50"), "name": "Été ☀"},
            outcome=Outcome.ALLOWED if n % 3 else Outcome.DENIED,
            reason="" if n % 3 else "role 'store_operations' may not create promotions",
            request_id=f"req-{n}",
        )
        with transaction(sessions) as session:
            service.record(session, entry)
            if n == checkpoint_at:
                service.checkpoint(session, notary)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sequence, id FROM audit_records ORDER BY sequence"))
        return Log(engine, data_dir, {int(seq): str(rid) for seq, rid in rows})


def drop_triggers(conn: Connection) -> None:
    """What an attacker with the database's rights does first."""
    if conn.dialect.name == "postgresql":
        for table in ("audit_records", "audit_checkpoints"):
            conn.execute(sa.text(f"DROP TRIGGER {table}_append_only ON {table}"))
    else:
        for table in ("audit_records", "audit_checkpoints"):
            for verb in ("update", "delete"):
                conn.execute(sa.text(f"DROP TRIGGER {table}_no_{verb}"))


def rehash(conn: Connection, sequence: int, prev_hash: str) -> str:
    """Recompute one record's hash as the attacker who read our source would; returns it."""
    row = (
        conn.execute(sa.text("SELECT * FROM audit_records WHERE sequence = :s"), {"s": sequence})
        .mappings()
        .one()
    )
    fields = dict(row)
    fields["prev_hash"] = prev_hash
    for name in ("banners", "before", "after"):
        if isinstance(fields[name], str):  # SQLite's text JSON through a raw query
            fields[name] = json.loads(fields[name])
    if isinstance(fields["at"], str):
        fields["at"] = datetime.fromisoformat(fields["at"]).replace(tzinfo=UTC)
    new_hash = record_hash(fields)
    conn.execute(
        sa.text("UPDATE audit_records SET prev_hash = :p, hash = :h WHERE sequence = :s"),
        {"p": prev_hash, "h": new_hash, "s": sequence},
    )
    return new_hash


def hash_of(conn: Connection, sequence: int) -> str:
    return str(
        conn.execute(
            sa.text("SELECT hash FROM audit_records WHERE sequence = :s"), {"s": sequence}
        ).scalar_one()
    )


def verify(log: Log, *extra: str) -> subprocess.CompletedProcess[str]:
    """`promoflow audit verify`, run as an auditor runs it."""
    env = process_env(log.engine.url.render_as_string(hide_password=False), log.data_dir)
    return subprocess.run(
        [PROMOFLOW, "audit", "verify", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
