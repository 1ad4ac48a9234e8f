"""Drop folders for the flat-file connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flatfile_support import FlatFileFactory, build_connector, make_drop_folder

from promoflow.connectors.flatfile.connector import FlatFileConnector
from promoflow.connectors.resilience import reset_breakers


@pytest.fixture
def drop(tmp_path: Path) -> Iterator[Path]:
    """An empty drop folder: inbox/, outbox/, archive/, rejected/."""
    yield make_drop_folder(tmp_path / "drop")
    reset_breakers()


@pytest.fixture
def flatfile(drop: Path) -> FlatFileFactory:
    def build(**overrides: Any) -> FlatFileConnector:
        return build_connector(drop, **overrides)

    return build
