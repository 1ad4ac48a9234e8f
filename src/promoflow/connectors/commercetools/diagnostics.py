"""What commercetools support asks about a connection: project, region, client scopes.

commercetools has one unversioned HTTP API and reports no version of it, so the
version that matters is the SDK's (it decides the request and model shapes).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from promoflow.connectors.framework import ConnectorConfig, SystemDetails

from .settings import CommercetoolsSettings

SPEAKS = "commercetools Composable Commerce HTTP API (unversioned), OAuth 2 client credentials"
SDK = "commercetools"  # the distribution of the official Python SDK


def _sdk_version() -> str | None:
    try:
        return version(SDK)
    except PackageNotFoundError:
        return None


def region(api_url: str) -> str | None:
    """`europe-west1.gcp` of `https://api.europe-west1.gcp.commercetools.com`, if it is one."""
    host = urlsplit(api_url).hostname or ""
    prefix, _, rest = host.partition(".")
    if prefix != "api" or not rest.endswith(".commercetools.com"):
        return None
    return rest.removesuffix(".commercetools.com")


def system_details(config: ConnectorConfig) -> SystemDetails:
    read = CommercetoolsSettings.read(config)
    return SystemDetails(
        speaks=SPEAKS,
        details={
            "project_key": read.project_key,
            "region": region(read.api_url),
            "api_host": urlsplit(read.api_url).hostname,
            "auth_host": urlsplit(read.auth_url).hostname,
            "client_id": read.client_id,
            "scopes": list(read.scopes),
            "currency": read.currency,
            "fraction_digits": read.fraction_digits,
            "timezone": read.timezone,
            "channel_key_prefix": read.channel_key_prefix,
        },
        libraries={"commercetools-sdk": _sdk_version()},
    )
