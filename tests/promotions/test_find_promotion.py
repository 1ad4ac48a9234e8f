"""A ref finds one promotion: ASCII digits are an id, anything else a code (issue 10, defect 7).

On PostgreSQL a ref with NUL used to reach the query and fail there (a 500), and
`"¹".isdigit()` is true while int("¹") raises: neither may reach the database.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from promoflow.kit.errors import NotFound
from promoflow.promotions.models import Promotion
from promoflow.promotions.service import find_promotion


def _promotion(session: Session, code: str) -> Promotion:
    row = Promotion(
        code=code,
        name=code,
        status="draft",
        revision=1,
        requested_by="tester",
        mechanic="percent_off",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 1, 11),
        channels=["pos"],
        timing={},
    )
    session.add(row)
    session.flush()
    return row


def test_digits_name_the_id_even_when_an_old_code_is_those_digits(session: Session) -> None:
    first = _promotion(session, "REF-FIRST")
    legacy = _promotion(session, "REF-LEGACY")
    legacy.code = str(first.id)  # written before codes had to hold a letter
    session.flush()

    assert find_promotion(session, str(first.id)).id == first.id
    assert find_promotion(session, "REF-FIRST").id == first.id


@pytest.mark.parametrize("ref", ["¹", "٣", "x\x00", "a b", str(2**63), str(2**31), "0", "PRM-404"])
def test_a_ref_that_names_nothing_is_not_found(session: Session, ref: str) -> None:
    with pytest.raises(NotFound):
        find_promotion(session, ref)
