"""A drop folder in a temporary directory and connectors configured for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from promoflow.connectors.flatfile.connector import FlatFileConnector
from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.resilience import Guard, RetryPolicy

FlatFileFactory = Callable[..., FlatFileConnector]


def make_drop_folder(root: Path) -> Path:
    for name in ("inbox", "outbox", "archive", "rejected"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return root


def build_connector(root: Path, **overrides: Any) -> FlatFileConnector:
    values: dict[str, Any] = {"root": str(root)}
    values.update(overrides)
    name = f"drop-{uuid.uuid4().hex[:8]}"
    guard = Guard(
        name,
        retry=RetryPolicy(attempts=2, base_seconds=0.0, max_seconds=0.0),
        sleep=lambda _s: None,
    )
    return FlatFileConnector(
        ConnectorConfig(FlatFileConnector.manifest, values), ConnectorContext(name, guard)
    )


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())
