"""Generated promotion codes never collide with codes clients chose, nor with each other.

Codes used to be PRM-<row count + 1>: once a client created the code the next create
would have drawn, every create without a code was refused (422 about a code the
client never sent), and two concurrent creates on PostgreSQL drew the same code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session
from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion
from promoflow.promotions.repository import next_code
from promoflow.promotions.schemas import PromotionCreate
from race_support import ROUNDS, one_winner, race, retire


@pytest.fixture(scope="module")
def engine(private_engine: Callable[[str], Engine]) -> Engine:
    """A migrated database of this module's own for the code look-ups (see `private_engine`)."""
    return private_engine("codes")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    yield from rolled_back_session(engine)


def _row(session: Session, code: str) -> None:
    session.add(
        Promotion(
            code=code,
            name="x",
            requested_by="mia.merch",
            mechanic="percent_off",
            discount_percent=Decimal(10),
            start_date=date(2027, 1, 4),
            end_date=date(2027, 1, 10),
            channels=["pos"],
            timing={},
        )
    )
    session.flush()


def test_next_code_is_one_above_the_highest_number_in_use(session: Session) -> None:
    assert next_code(session) == "PRM-00001"
    for code in ("PRM-00003", "PRM-0000012", "PRM-9", "PRM-ABC", "SPRING-99", "PRM-1e9"):
        _row(session, code)
    # Leading zeros do not count; letters, other prefixes and exponents are not numbers.
    assert next_code(session) == "PRM-00013"
    _row(session, "PRM-123456789012345678901234")
    assert next_code(session) == "PRM-123456789012345678901235"


@pytest.fixture
def made(runtime: object) -> Iterator[list[int]]:
    ids: list[int] = []
    yield ids
    retire(ids)


@pytest.fixture
def request_for(seeded: object) -> Callable[[str | None], PromotionCreate]:
    """`request_for(code)`: a valid draft request on two seeded items in one region."""
    from promoflow.runtime import get_runtime
    from promoflow.scenario import picking

    with get_runtime().sessions() as session:
        region = picking.regions(session)[0]
        skus = picking.promotable_skus(session, region=region, count=2)
    start = date.today() + timedelta(days=60)

    def build(code: str | None) -> PromotionCreate:
        return PromotionCreate(
            code=code,
            name="code test",
            mechanic="percent_off",
            discount_percent=Decimal(10),
            start_date=start,
            end_date=start + timedelta(days=6),
            channels=["pos"],
            items=skus,
            regions=[region],
        )

    return build


def _create(
    request_for: Callable[[str | None], PromotionCreate], made: list[int], code: str | None
) -> Promotion:
    promotion = commands.create_promotion(request_for(code), "mia.merch")
    made.append(promotion.id)
    return promotion


def test_a_code_a_client_took_does_not_block_creates_without_one(
    request_for: Callable[[str | None], PromotionCreate], made: list[int]
) -> None:
    drawn = _create(request_for, made, None).code
    number = int(drawn.removeprefix("PRM-"))
    # The client takes a code ahead of the generator (the next-but-one it would draw).
    taken = f"PRM-{number + 2:05d}"
    assert _create(request_for, made, taken).code == taken
    after = [_create(request_for, made, None).code for _ in range(2)]
    assert taken not in after
    assert len(set(after)) == 2
    assert all(code.startswith("PRM-") for code in after)


def test_a_taken_code_chosen_again_is_refused_naming_it(
    request_for: Callable[[str | None], PromotionCreate], made: list[int]
) -> None:
    from promoflow.kit.errors import InvalidInput

    code = f"T-{uuid.uuid4().hex[:8]}"
    _create(request_for, made, code)
    with pytest.raises(InvalidInput) as refused:
        _create(request_for, made, code)
    assert (refused.value.field, refused.value.value) == ("code", code)


def test_concurrent_creates_without_a_code_both_succeed_with_distinct_codes(
    request_for: Callable[[str | None], PromotionCreate], made: list[int]
) -> None:
    for _ in range(ROUNDS):
        first, second = race(
            partial(_create, request_for, made, None), partial(_create, request_for, made, None)
        )
        assert first.won and second.won, (first, second)
        assert first.value.code != second.value.code


def test_concurrent_creates_choosing_one_code_one_wins(
    request_for: Callable[[str | None], PromotionCreate], made: list[int]
) -> None:
    from promoflow.kit.errors import InvalidInput

    for _ in range(ROUNDS):
        code = f"T-{uuid.uuid4().hex[:8]}"
        outcomes = race(
            partial(_create, request_for, made, code), partial(_create, request_for, made, code)
        )
        _, winner, loser = one_winner(outcomes)
        assert winner.value.code == code
        assert isinstance(loser.error, InvalidInput)
        assert loser.error.field == "code"
