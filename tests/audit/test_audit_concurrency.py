"""Writers appending at once keep one chain: the head row's lock serialises them."""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from promoflow.audit import service
from promoflow.audit.schemas import Actor, AuditEntry
from promoflow.audit.verification import verify
from promoflow.kit.db import make_sessionmaker, reading, transaction

WRITERS = 8
EACH = 15


def test_concurrent_appends_never_fork_the_chain(
    private_engine: Callable[[str], Engine],
) -> None:
    engine = private_engine("audit_concurrency")
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        start.wait()
        try:
            for n in range(EACH):
                entry = AuditEntry(Actor(f"writer-{number}", "merchandiser"), f"test.{n}")
                with transaction(sessions) as session:
                    service.record(session, entry)
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors[:3]
    with engine.connect() as conn:
        sequences = conn.execute(
            sa.text("SELECT sequence FROM audit_records ORDER BY sequence")
        ).scalars()
        assert list(sequences) == list(range(1, WRITERS * EACH + 1))
        links = conn.execute(sa.text("SELECT count(DISTINCT prev_hash) FROM audit_records"))
        assert links.scalar_one() == WRITERS * EACH  # no two records follow the same one
    with reading(sessions) as session:
        result = verify(session, None)
    assert result.intact, [str(finding) for finding in result.findings]
    assert result.records == WRITERS * EACH
