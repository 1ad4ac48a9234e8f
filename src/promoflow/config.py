"""One Settings object for the whole process (environment prefix PROMOFLOW_)."""

from __future__ import annotations

import re
import socket
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from promoflow.kit.allowlists import (
    ENV_NAME,
    LOOPBACK,
    HostAllowList,
    overlapping,
    split_list,
)
from promoflow.kit.money import check_currency, check_locale
from promoflow.kit.rates import check_rate, check_route_rate

DEFAULT_DATA_DIR = Path(".promoflow")
_SENSITIVE = re.compile("KEY|URL|SECRET|PASSWORD|TOKEN")


class Settings(BaseSettings):
    """Deployment settings; every field can be set as PROMOFLOW_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="PROMOFLOW_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    api_docs: bool | None = Field(
        default=None,
        description="Serve /docs, /redoc and /openapi.json without a credential; default: on "
        "outside production, off in production.",
    )
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
    audit_signing_key: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) signing audit checkpoints; None = a key created "
        "under data_dir on first use.",
    )
    audit_checkpoint_every: int = Field(
        default=1000,
        ge=0,
        description="Sign an audit checkpoint every this many records (0: only on demand).",
    )

    # Money (kit/money.py): prices, costs and margins are kept in one currency; answers
    # carry it beside every amount, and the CLI and reports format amounts for `locale`.
    currency: str = Field(
        default="EUR",
        description="ISO 4217 code of every amount (prices, costs, funding, margins); "
        "requests send plain numbers in it, answers say it beside each amount.",
    )
    # en_GB: English like the rest of the interface, and the same digits as the JSON
    # (point for decimals, comma for thousands), with the symbol first ("€1,183.44").
    locale: str = Field(
        default="en_GB",
        description="How the CLI and reports write amounts (Babel locale): en_GB gives "
        "€1,183.44, de_DE 1.183,44 €.",
    )

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return check_currency(value, "PROMOFLOW_CURRENCY")

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        return check_locale(value, "PROMOFLOW_LOCALE")

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
    nats_subject_prefix: str = Field(
        default="promoflow.events.",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.$",
        description="Subjects of the stream; one per deployment sharing a NATS server "
        "(streams may not overlap).",
    )
    event_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Deliveries of one event to a failing consumer before it is dead-lettered.",
    )

    # Serving under load. A request waits at most api_queue_seconds for one of
    # api_max_concurrency slots, then db_wait_seconds for a connection, then
    # db_lock_seconds for a lock: past any of them it is shed with 503 and
    # Retry-After, having written nothing. Their sum stays well under the 30 s a
    # client typically waits, so every client hears how its request ended.
    api_max_concurrency: int = Field(
        default=16, ge=1, le=512, description="Requests handled at once; more wait their turn."
    )
    api_max_queued: int = Field(
        default=256, ge=0, le=100_000, description="Requests waiting at once; more get 503 at once."
    )
    api_queue_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Longest wait for a request slot before 503."
    )
    api_retry_after_seconds: int = Field(
        default=2, ge=1, le=3600, description="Retry-After sent with a 503."
    )
    api_keep_alive_seconds: int = Field(
        default=65,
        ge=1,
        le=3600,
        description="Idle keep-alive of a client connection; above a load balancer's (often 60 s).",
    )
    db_wait_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Longest wait of a request for a connection."
    )
    db_lock_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Longest wait of a request's statement for a lock."
    )
    db_read_statement_seconds: float = Field(
        default=15.0, gt=0, le=600, description="PostgreSQL: longest read statement of a request."
    )
    workflow_db_connections: int | None = Field(
        default=None,
        ge=1,
        le=200,
        description="Connections of this process's workflow transactions (they queue for "
        "them); None = 4 on SQLite, 8 on PostgreSQL.",
    )
    run_workflows: bool = Field(
        default=True,
        description="Take promotion lifecycles and connection syncs from their queues; false "
        "for an API-only serve beside workers (scaled mode).",
    )
    queue_poll_seconds: float = Field(
        default=0.25, gt=0, le=60, description="How often a process looks for queued work."
    )
    executor_reap_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="PostgreSQL: how often a process looks for dead executors to take over.",
    )
    dbos_system_db_connections: int = Field(
        default=20, ge=2, le=200, description="Connections of DBOS's own system database pool."
    )
    # What the API accepts (api/limits.py): a larger request body is refused with 413.
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body the API reads, in bytes (default 1 MiB).",
    )

    # Idempotency keys (api/idempotency.py): how long a key's first answer is kept.
    idempotency_key_hours: int = Field(
        default=24,
        ge=1,
        le=720,
        description="Hours an Idempotency-Key and its first answer are kept (1 to 720); "
        "a key older than that is a new key.",
    )

    # Rate limits (api/ratelimit.py), per client, in the `limits` notation ("20/second",
    # "1200/minute", "10 per 2 seconds"). A client is its authenticated identity, or its
    # IP address while it has none; every limit is one moving window unless set otherwise.
    rate_limit_enabled: bool = Field(
        default=True, description="Refuse a client over its budget with 429."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        pattern=r"^(memory://|rediss?://\S+)$",
        description="memory:// (per process) or redis://host:port/db, shared by every serve "
        "process that names it.",
    )
    rate_limit_strategy: Literal["moving-window", "sliding-window-counter"] = Field(
        default="moving-window", description="How a window is counted (the limits library)."
    )
    rate_limit_reads: str = Field(
        default="1200/minute", description="Per client: GET and HEAD on any route."
    )
    rate_limit_writes: str = Field(
        default="300/minute", description="Per client: POST, PUT, PATCH and DELETE on any route."
    )
    rate_limit_anonymous: str = Field(
        default="120/minute",
        description="Per client IP address: requests without a recognised credential.",
    )
    rate_limit_routes: dict[str, str] = Field(
        default_factory=dict,
        description="Per client and route, instead of the above: JSON such as "
        '{"POST /api/v1/promotions": "30/minute"} (method, space, the route as documented).',
    )
    # Observability (api/metrics.py, api/request_context.py, kit/tracing.py).
    metrics_token: str = Field(
        default="",
        description="Bearer token a scraper sends to /metrics; empty: loopback clients only.",
    )
    metrics_cache_seconds: float = Field(
        default=10.0, ge=0, le=600, description="How long a scrape reuses the domain gauges."
    )
    otel_exporter: Literal["none", "otlp", "console"] = Field(
        default="none",
        description="Where OpenTelemetry traces go: none, otlp (OTEL_EXPORTER_OTLP_* "
        "variables) or console; otlp and console need the `otel` extra.",
    )

    @field_validator("rate_limit_reads", "rate_limit_writes", "rate_limit_anonymous")
    @classmethod
    def _one_rate(cls, value: str, info: ValidationInfo) -> str:
        check_rate(str(info.field_name), value)
        return value

    @field_validator("rate_limit_routes")
    @classmethod
    def _route_rates(cls, value: dict[str, str]) -> dict[str, str]:
        for route, rate in value.items():
            check_route_rate(route, rate)
        return value

    # Identity (identity/): bearer tokens of an OAuth2/OIDC issuer, checked against its JWKS.
    auth_issuer: str = Field(
        default="", description="Issuer (`iss`) whose bearer tokens are accepted; empty: none."
    )
    auth_jwks_url: str = Field(
        default="", description="The issuer's JWKS (its discovery document's `jwks_uri`)."
    )
    auth_audience: str = Field(
        default="promoflow", min_length=1, description="The `aud` every token must carry."
    )
    auth_subject_claim: str = Field(default="sub", description="Claim with the stable user id.")
    auth_name_claim: str = Field(default="name", description="Claim with the display name.")
    auth_role_claim: str = Field(
        default="promoflow_role", description="Claim (dotted path) naming the promoflow role."
    )
    auth_banner_claim: str = Field(
        default="promoflow_banners", description="Claim listing the banners ('*' = all)."
    )
    auth_clock_skew_seconds: float = Field(
        default=60, ge=0, le=300, description="Leeway on exp and nbf for clocks that differ."
    )
    auth_jwks_cache_seconds: float = Field(
        default=300, gt=0, le=86_400, description="How long fetched signing keys are kept."
    )
    auth_jwks_min_refetch_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="Least time between two JWKS fetches (an unknown kid triggers one).",
    )
    dev_issuer: bool | None = Field(
        default=None,
        description="Trust the built-in development issuer (`promoflow auth token`); "
        "None = outside production only.",
    )
    dev_issuer_outside_development: bool = Field(
        default=False, description="Let dev_issuer=true start in production (not advised)."
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

    # What a connection may reach. Administrators configure connections through the
    # API; only whoever runs the server decides which secrets, hosts and folders those
    # may touch, so `env:PROMOFLOW_API_KEYS` or a listener elsewhere is refused.
    connector_secret_env_prefixes: str = Field(
        default="PROMOFLOW_SECRET_",
        description="Comma-separated prefixes of the environment variables an env: secret "
        "may name (empty: none); no PROMOFLOW_ setting may start with one.",
    )
    connector_secrets_dir: Path | None = Field(
        default=None, description="Folder file: secrets are read from; None = data_dir/secrets."
    )
    connector_allowed_hosts: str | None = Field(
        default=None,
        description="Comma-separated hosts connections may call: names, *.suffix, IP "
        "addresses, CIDR ranges (empty: none); None = loopback only, none in production.",
    )
    connector_allowed_folders: str | None = Field(
        default=None,
        description="Comma-separated folders file and EDI connections may use (empty: none); "
        "None = data_dir/drops.",
    )

    @field_validator("connector_secret_env_prefixes")
    @classmethod
    def _prefixes_spare_settings(cls, value: str) -> str:
        # Compared case-insensitively: pydantic-settings reads its variables that way.
        settings = sorted(f"PROMOFLOW_{name}".upper() for name in cls.model_fields)
        for prefix in split_list(value):
            if not ENV_NAME.match(prefix):
                raise ValueError(f"{prefix!r} is not the start of an environment variable name")
            exposed = [name for name in settings if name.startswith(prefix.upper())]
            if exposed:
                # Name the settings that hold secrets first: they are the danger.
                exposed.sort(key=lambda name: (not _SENSITIVE.search(name), name))
                more = f" and {len(exposed) - 3} more" if len(exposed) > 3 else ""
                raise ValueError(
                    f"{prefix!r} would let a connection read the settings "
                    f"{', '.join(exposed[:3])}{more}; "
                    "choose a prefix no setting starts with, e.g. PROMOFLOW_SECRET_"
                )
        return value

    @field_validator("connector_allowed_hosts")
    @classmethod
    def _hosts_parse(cls, value: str | None) -> str | None:
        if value is not None:
            HostAllowList.parse(split_list(value))
        return value

    @model_validator(mode="after")
    def _secrets_apart_from_folders(self) -> Settings:
        secrets = self.connector_secrets_folder()
        for folder in self.connector_folders():
            if overlapping(folder, secrets):
                raise ValueError(
                    f"connector_allowed_folders: {folder} overlaps the secrets folder {secrets}; "
                    "a file connection there could read or move secret files"
                )
        return self

    def connector_secrets_folder(self) -> Path:
        """Where file: secret references must point."""
        return self.connector_secrets_dir or self.data_dir / "secrets"

    def connector_hosts(self) -> HostAllowList:
        """Hosts connections may call; unset, loopback outside production (the test servers)."""
        if self.connector_allowed_hosts is None:
            return HostAllowList.parse(() if self.environment == "production" else LOOPBACK)
        return HostAllowList.parse(split_list(self.connector_allowed_hosts))

    def connector_folders(self) -> tuple[Path, ...]:
        """Folders path settings of connections must be inside."""
        if self.connector_allowed_folders is None:
            return (self.data_dir / "drops",)
        return tuple(Path(entry) for entry in split_list(self.connector_allowed_folders))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call get_settings.cache_clear())."""
    return Settings()
