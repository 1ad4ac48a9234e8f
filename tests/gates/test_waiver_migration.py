"""Migration 0005: waivers given before it keep their content and become records with ids."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from promoflow.migrate import alembic_config, upgrade

PROMOTION = sa.text(
    "INSERT INTO promotions (id, code, name, description, status, status_reason, revision, "
    "requested_by, category, mechanic, start_date, end_date, channels, display_support, "
    "feature_support, vendor_funding_per_unit, timing, created_at, updated_at) VALUES "
    "(1, 'PRM-M1', 'm', '', 'scheduled', '', 1, 'mia', 'snacks', 'percent_off', "
    "'2027-01-04', '2027-01-10', '[]', false, false, 0, '{}', "
    "'2026-12-01 09:00:00+00', '2026-12-01 09:00:00+00')"
)
WAIVER = sa.text(
    "INSERT INTO gate_waivers (promotion_id, revision, gate, waived_by, role, reason, "
    "waived_at) VALUES (1, 1, :gate, :by, 'operations_admin', :reason, :at)"
)


def _to(engine: Engine, revision: str, direction: Callable[..., None]) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        direction(config, revision)


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.text("SELECT gate, waived_by, reason FROM gate_waivers ORDER BY waived_by")
            )
        ]


def test_waivers_survive_the_migration_both_ways(
    private_engine: Callable[[str], Engine],
) -> None:
    engine = private_engine("waiver_migration")
    _to(engine, "0004", command.downgrade)
    with engine.begin() as connection:
        connection.execute(PROMOTION)
        connection.execute(
            WAIVER, {"gate": "store_readiness", "by": "ada", "reason": "first", "at": "2026-12-01"}
        )
    upgrade(engine)
    assert _rows(engine) == [("store_readiness", "ada", "first")]
    with engine.begin() as connection:
        # A second waiver of the same gate is now a row of its own beside the first.
        connection.execute(
            WAIVER, {"gate": "store_readiness", "by": "bo", "reason": "second", "at": "2026-12-02"}
        )
        ids = connection.execute(sa.text("SELECT id FROM gate_waivers")).scalars().all()
    assert len(set(ids)) == 2
    assert _rows(engine) == [
        ("store_readiness", "ada", "first"),
        ("store_readiness", "bo", "second"),
    ]
    # Back to one row per gate and revision: the newest waiver is the one kept.
    _to(engine, "0004", command.downgrade)
    assert _rows(engine) == [("store_readiness", "bo", "second")]
    upgrade(engine)
    assert _rows(engine) == [("store_readiness", "bo", "second")]
