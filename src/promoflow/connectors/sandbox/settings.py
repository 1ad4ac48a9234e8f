"""The sandbox connection's one setting: how many positions a streamed page holds."""

from __future__ import annotations

from dataclasses import dataclass

from promoflow.connectors.framework import ConfigField, ConnectorConfig

FIELDS = (
    ConfigField(
        "page_size",
        "integer",
        required=False,
        default=5000,
        description="Positions per page when streaming stock.",
        minimum=1,
        maximum=100_000,
    ),
)


@dataclass(frozen=True)
class SandboxSettings:
    page_size: int

    @classmethod
    def read(cls, config: ConnectorConfig) -> SandboxSettings:
        return cls(page_size=int(config.get("page_size")))
