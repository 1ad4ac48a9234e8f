"""Who a person is, as opposed to how their name was typed.

Segregation of duties compares people: `Mia.Merch`, `mia.merch ` and `ｍｉａ.ｍｅｒｃｈ`
(full-width) are one person. Display names are kept as given everywhere; only the
comparison goes through `identity`, so when stable subject ids arrive they replace
this one function.
"""

from __future__ import annotations

import unicodedata


def identity(name: str) -> str:
    """The comparable identity of an actor name: NFKC, case-folded, outer whitespace removed."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    # Case folding can produce characters NFKC would compose differently (e.g. 'ß' -> 'ss'
    # is fine, but some folds decompose), so normalise once more after folding.
    return unicodedata.normalize("NFKC", folded).strip()


def same_person(first: str | None, second: str | None) -> bool:
    """True when both names are given and name the same person."""
    if first is None or second is None:
        return False
    return identity(first) == identity(second)
