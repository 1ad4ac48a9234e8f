"""The checkpoint key: created once, owner-only, kept across restarts; a wrong file is named."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from promoflow.audit.signing import load_notary, read_public_key, signature_holds
from promoflow.kit.errors import InvalidInput


def test_the_key_is_created_owner_only_and_kept_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "data" / "audit-checkpoint-key.pem"
    first = load_notary(path, 10)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no draft left behind
    load_notary.cache_clear()  # as a restarted process
    again = load_notary(path, 10)
    signature = first.sign(7, "ab" * 32)
    assert signature_holds(again.public_key, 7, "ab" * 32, signature)
    assert not signature_holds(again.public_key, 8, "ab" * 32, signature)


def test_a_public_key_file_that_is_not_one_is_named(tmp_path: Path) -> None:
    wrong = tmp_path / "key.pem"
    wrong.write_text("not a key")
    with pytest.raises(InvalidInput) as refused:
        read_public_key(wrong)
    assert refused.value.field == "public_key" and refused.value.value == str(wrong)
