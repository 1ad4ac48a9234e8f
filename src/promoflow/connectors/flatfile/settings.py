"""The flat-file connection's settings: the drop folder, how CSV is written, page size.

`FlatFileSettings.read(config)` is the one typed reading; it refuses a delimiter
that is not one character, naming the setting and the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promoflow.connectors.framework import ConfigField, ConnectorConfig
from promoflow.kit.errors import InvalidInput

FIELDS = (
    ConfigField("root", "path", description="the drop folder holding the four folders"),
    ConfigField("encoding", default="utf-8", description="text encoding of CSV files"),
    ConfigField("delimiter", default=",", description="CSV field separator"),
    ConfigField(
        "page_size",
        "integer",
        default=5000,
        description="records per page",
        minimum=1,
        maximum=100_000,
    ),
)


@dataclass(frozen=True)
class FlatFileSettings:
    root: Path
    encoding: str
    delimiter: str
    page_size: int

    @classmethod
    def read(cls, config: ConnectorConfig) -> FlatFileSettings:
        delimiter = str(config.get("delimiter"))
        if len(delimiter) != 1:
            raise InvalidInput("config.delimiter", delimiter, "must be one character")
        return cls(
            root=Path(str(config.get("root"))),
            encoding=str(config.get("encoding")),
            delimiter=delimiter,
            page_size=max(1, int(config.get("page_size"))),
        )
