"""One person, however their name is typed: the comparison segregation of duties uses."""

from __future__ import annotations

import pytest

from promoflow.kit.identity import identity, same_person


@pytest.mark.parametrize(
    "spelling",
    ["mia.merch", "Mia.Merch", "MIA.MERCH", "  mia.merch\t", "\uff4d\uff49\uff41.merch"],
)
def test_spellings_of_one_name_are_one_identity(spelling: str) -> None:
    assert identity(spelling) == "mia.merch"
    assert same_person(spelling, "mia.merch")


def test_different_people_and_missing_names_are_not_the_same_person() -> None:
    assert not same_person("mia.merch", "noah.merch")
    assert not same_person("mia.merch", None)
    assert not same_person(None, None)
    # Case folding is full, not just lower(): the German sharp s folds to "ss".
    assert same_person("Strauß", "STRAUSS")
