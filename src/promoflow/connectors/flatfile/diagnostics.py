"""What to know about a drop folder when files do not arrive: where, and what waits where.

Counts the files in each of the four folders (a listing, nothing is read or moved),
so a ticket shows whether files pile up in inbox/ or land in rejected/.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from promoflow.connectors.framework import ConnectorConfig, SystemDetails

from .client import FOLDERS
from .settings import FlatFileSettings

SPEAKS = "CSV (RFC 4180) and Apache Parquet, one file per kind (flatfile schema v1)"


def _count(folder: Path) -> int | str:
    try:
        return sum(1 for entry in folder.iterdir() if entry.is_file())
    except OSError as error:
        return f"unreadable: {type(error).__name__}"


def system_details(config: ConnectorConfig) -> SystemDetails:
    read = FlatFileSettings.read(config)
    return SystemDetails(
        speaks=SPEAKS,
        details={
            "root": str(read.root),
            "encoding": read.encoding,
            "delimiter": read.delimiter,
            "page_size": read.page_size,
            "files": {name: _count(read.root / name) for name in FOLDERS},
        },
        libraries={"polars": pl.__version__},
    )
