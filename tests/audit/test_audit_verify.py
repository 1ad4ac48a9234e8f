"""`promoflow audit verify` names every record an attacker with database rights changed.

Each test fills a fresh log, then tampers with it as someone holding the
database's rights would (dropping the append-only triggers first), and runs
`promoflow audit verify` as a process, as an auditor would.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from audit_support import Log, drop_triggers, fill, hash_of, rehash, verify
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from promoflow.audit.chain import HASHED, record_hash
from promoflow.audit.signing import KEY_FILE, load_notary, public_pem

_labels = itertools.count()


@pytest.fixture
def log(private_engine: Callable[[str], Engine], tmp_path: Path) -> Iterator[Log]:
    """Six records on a database of this test's own.

    Its connections are closed after the test: the databases live until the session
    ends, and a pool left open per test would hold PostgreSQL connections that the
    scaled-mode test's processes need later in the run.
    """
    engine = private_engine(f"audit_{next(_labels)}")
    yield fill(engine, tmp_path, 6)
    engine.dispose()


def _refused(log: Log) -> str:
    done = verify(log)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    return " ".join(output.split())  # rich wraps long lines


def test_an_untouched_log_verifies(log: Log) -> None:
    done = verify(log)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit log intact: 6 records" in done.stdout


def test_the_database_refuses_to_update_or_delete_a_record(log: Log) -> None:
    for statement in (
        "UPDATE audit_records SET reason = 'nothing happened' WHERE sequence = 2",
        "DELETE FROM audit_records WHERE sequence = 2",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), log.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert verify(log).returncode == 0


def test_an_edited_field_is_named(log: Log) -> None:
    with log.engine.begin() as conn:
        drop_triggers(conn)
        conn.execute(sa.text("UPDATE audit_records SET actor_name = 'bob' WHERE sequence = 3"))
    assert f"first: edited: record 3 (id {log.ids[3]})" in _refused(log)


def test_a_deleted_record_is_named(log: Log) -> None:
    with log.engine.begin() as conn:
        drop_triggers(conn)
        conn.execute(sa.text("DELETE FROM audit_records WHERE sequence = 3"))
    output = _refused(log)
    assert "first: deleted: record 3: records 3..3 are missing" in output
    assert f"resumes at record 4 (id {log.ids[4]})" in output


def test_swapped_records_are_named_as_reordered(log: Log) -> None:
    with log.engine.begin() as conn:
        drop_triggers(conn)
        for old, new in ((3, -3), (4, 3), (-3, 4)):
            conn.execute(
                sa.text("UPDATE audit_records SET sequence = :new WHERE sequence = :old"),
                {"old": old, "new": new},
            )
    # Record 4 now sits at sequence 3: it follows record 3, which is not before it.
    assert f"first: reordered: record 3 (id {log.ids[4]})" in _refused(log)


def test_a_forged_record_slipped_into_the_middle_is_named(log: Log) -> None:
    forged_id = str(uuid.uuid4())
    with log.engine.begin() as conn:
        drop_triggers(conn)
        for sequence in range(6, 2, -1):  # make room at 3, from the end
            conn.execute(
                sa.text("UPDATE audit_records SET sequence = :n WHERE sequence = :o"),
                {"o": sequence, "n": sequence + 1},
            )
        # A record copied from record 2, made to look like a real one: its own hash and
        # its link to record 2 are computed exactly as the server computes them.
        conn.execute(
            sa.text(
                "INSERT INTO audit_records SELECT 3, :id, at, actor_subject, 'ana', role, "
                "banners, channel, 'approval.approve', route, object_type, object_ref, "
                "before, after, reason, request_id, outcome, status, prev_hash, :tmp "
                "FROM audit_records WHERE sequence = 2"
            ),
            {"id": forged_id, "tmp": "f" * 64},
        )
        rehash(conn, 3, hash_of(conn, 2))
        conn.execute(sa.text("UPDATE audit_head SET sequence = 7"))
    assert f"first: inserted: record 3 (id {forged_id})" in _refused(log)


def test_a_well_forged_record_past_the_end_is_named(log: Log) -> None:
    forged_id = str(uuid.uuid4())
    with log.engine.begin() as conn:
        drop_triggers(conn)
        conn.execute(
            sa.text(
                "INSERT INTO audit_records SELECT 7, :id, at, actor_subject, actor_name, role, "
                "banners, channel, action, route, object_type, object_ref, before, after, "
                "reason, request_id, outcome, status, prev_hash, :tmp "
                "FROM audit_records WHERE sequence = 6"
            ),
            {"id": forged_id, "tmp": "e" * 64},
        )
        rehash(conn, 7, hash_of(conn, 6))
    assert f"first: inserted: record 7 (id {forged_id})" in _refused(log)


def test_a_chain_rebuilt_after_an_edit_is_caught_by_the_signed_checkpoint(
    private_engine: Callable[[str], Engine], tmp_path: Path
) -> None:
    log = fill(private_engine(f"audit_{next(_labels)}"), tmp_path, 6, checkpoint_at=5)
    with log.engine.begin() as conn:
        drop_triggers(conn)
        conn.execute(sa.text("UPDATE audit_records SET reason = 'approved' WHERE sequence = 2"))
        previous = hash_of(conn, 1)
        for sequence in range(2, 7):  # every hash recomputed: the chain alone looks intact
            previous = rehash(conn, sequence, previous)
        conn.execute(sa.text("UPDATE audit_head SET hash = :h"), {"h": previous})
    output = _refused(log)
    assert f"first: checkpoint: record 5 (id {log.ids[5]})" in output
    assert "the chain up to here is not the one signed at this checkpoint" in output


def test_checkpoints_verify_offline_with_the_exported_public_key_only(
    private_engine: Callable[[str], Engine], tmp_path: Path
) -> None:
    log = fill(private_engine(f"audit_{next(_labels)}"), tmp_path / "server", 4, checkpoint_at=4)
    exported = tmp_path / "auditor" / "server-public.pem"
    exported.parent.mkdir()
    server_key = load_notary(log.data_dir / KEY_FILE, 0).public_key
    exported.write_text(public_pem(server_key))
    assert verify(log, "--public-key", str(exported)).returncode == 0

    wrong = tmp_path / "auditor" / "another-key.pem"
    wrong.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    done = verify(log, "--public-key", str(wrong))
    assert done.returncode == 1
    output = " ".join((done.stdout + done.stderr).split())
    assert "checkpoint: record 4: its checkpoint's signature does not hold" in output


def test_hashes_do_not_depend_on_key_order() -> None:
    fields: dict[str, object] = {name: None for name in HASHED}
    fields |= {"sequence": 1, "id": "x", "before": {"b": 1, "a": [1, 2]}}
    reordered = dict(reversed(list(fields.items())))
    reordered["before"] = {"a": [1, 2], "b": 1}
    assert record_hash(fields) == record_hash(reordered)
