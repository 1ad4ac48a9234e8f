"""The commercetools connection's settings: project, region URLs, client, prices' currency.

`CommercetoolsSettings.read(config)` is the one typed reading; `endpoint()` gives
the client what it needs to reach the project (the secret stays a reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from promoflow.connectors.framework import ConfigField, ConnectorConfig, timeout_field

from .client import Endpoint

DEFAULT_SCOPES = (
    "manage_products:{project} manage_key_value_documents:{project} "
    "view_channels:{project} view_project_settings:{project} "
    "manage_standalone_prices:{project}"
)

FIELDS = (
    ConfigField("project_key", description="the commercetools project key"),
    ConfigField(
        "api_url",
        "url",
        default="https://api.europe-west1.gcp.commercetools.com",
        description="the region's API URL",
    ),
    ConfigField(
        "auth_url",
        "url",
        default="https://auth.europe-west1.gcp.commercetools.com",
        description="the region's auth URL (the token endpoint is /oauth/token)",
    ),
    ConfigField("client_id", description="API client id"),
    ConfigField("client_secret", secret=True, description="API client secret (env: or file:)"),
    ConfigField(
        "scopes",
        required=False,
        description="space-separated scopes; default: manage_products, "
        "manage_key_value_documents, view_channels, view_project_settings, "
        "manage_standalone_prices (for products in Standalone price mode)",
    ),
    ConfigField("currency", default="EUR", description="ISO 4217 currency of prices"),
    ConfigField(
        "fraction_digits",
        "integer",
        default=2,
        description="the currency's decimals (ISO 4217: 0 to 4)",
        minimum=0,
        maximum=4,
    ),
    ConfigField(
        "timezone",
        default="UTC",
        description="IANA zone in which a promotion day starts at 00:00",
    ),
    ConfigField(
        "channel_key_prefix",
        required=False,
        default="",
        description="channel key = prefix + our location code",
    ),
    timeout_field(),
)


@dataclass(frozen=True)
class CommercetoolsSettings:
    project_key: str
    api_url: str
    auth_url: str
    client_id: str
    client_secret: str  # the reference (env:NAME or file:PATH), never the secret
    scopes: tuple[str, ...]
    currency: str
    fraction_digits: int
    timezone: str
    channel_key_prefix: str
    timeout_seconds: float

    @classmethod
    def read(cls, config: ConnectorConfig) -> CommercetoolsSettings:
        project = str(config.get("project_key"))
        scopes = str(config.get("scopes") or DEFAULT_SCOPES.format(project=project)).split()
        return cls(
            project_key=project,
            api_url=str(config.get("api_url")).rstrip("/"),
            auth_url=str(config.get("auth_url")).rstrip("/"),
            client_id=str(config.get("client_id")),
            client_secret=str(config.get("client_secret")),
            scopes=tuple(scopes),
            currency=str(config.get("currency")),
            fraction_digits=int(config.get("fraction_digits")),
            timezone=str(config.get("timezone")),
            channel_key_prefix=str(config.get("channel_key_prefix") or ""),
            timeout_seconds=float(config.get("timeout_seconds")),
        )

    @property
    def token_url(self) -> str:
        return self.auth_url + "/oauth/token"

    def endpoint(self) -> Endpoint:
        return Endpoint(
            project_key=self.project_key,
            api_url=self.api_url,
            auth_url=self.token_url,
            client_id=self.client_id,
            scopes=self.scopes,
            secret_reference=self.client_secret,
            timeout_seconds=self.timeout_seconds,
        )
