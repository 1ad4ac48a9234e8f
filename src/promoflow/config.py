"""One Settings object for the whole process (environment prefix PROMOFLOW_)."""

from __future__ import annotations

import socket
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".promoflow")


class Settings(BaseSettings):
    """Deployment settings; every field can be set as PROMOFLOW_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="PROMOFLOW_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file under data_dir.",
    )
    executor_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-local",
        description="Stable DBOS executor id; unique per process on shared PostgreSQL.",
    )
    application_version: str = "promoflow-0.1"
    # Wall-clock seconds that stand for one business hour. 3600 in production; the
    # demo compresses time so that a 24 h approval SLA takes about a second.
    seconds_per_business_hour: float = 3600.0
    notification_poll_seconds: float = 0.05
    dbos_log_level: str = Field(default="WARNING", description="DBOS's own log level.")
    publication_part_size: int = Field(
        default=250, ge=1, description="Prices per publication call (each with its own key)."
    )
    policy_dir: Path | None = Field(
        default=None, description="Folder with gate and approval policy YAML; None = bundled."
    )
    api_keys: str = Field(
        default="",
        description="Comma-separated 'key:actor:role' triples accepted by the API.",
    )

    event_bus: Literal["inprocess", "nats"] = Field(
        default="inprocess",
        description="Where the outbox is relayed: the in-process bus or NATS JetStream.",
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="NATS server when event_bus is 'nats'."
    )
    nats_stream: str = Field(
        default="PROMOFLOW_EVENTS", description="JetStream stream holding promoflow's events."
    )
    event_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Deliveries of one event to a failing consumer before it is dead-lettered.",
    )

    # What the API accepts (api/limits.py): a larger request body is refused with 413.
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body the API reads, in bytes (default 1 MiB).",
    )

    @field_validator("seconds_per_business_hour")
    @classmethod
    def _positive_scale(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"seconds_per_business_hour must be > 0, got {value}")
        return value

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'promoflow.db').resolve()}"

    def policy_path(self, name: str) -> Path | None:
        """A policy file from policy_dir, or None for the bundled default."""
        return self.policy_dir / name if self.policy_dir else None

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call get_settings.cache_clear())."""
    return Settings()
