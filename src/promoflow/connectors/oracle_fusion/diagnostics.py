"""What Oracle support asks: the REST release and framework version, the pod, the user.

Fusion names the resources' release in the path (`fscmRestApi/resources/11.13.18.05`)
and the behaviour of `q`, paging and links by the `REST-Framework-Version` header
the client sends; both are what the connector was written against.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from promoflow.connectors.framework import ConnectorConfig, SystemDetails

from .client import FRAMEWORK_VERSION, RESOURCES
from .settings import MAX_LIMIT, OracleFusionSettings


def system_details(config: ConnectorConfig) -> SystemDetails:
    read = OracleFusionSettings.read(config)
    return SystemDetails(
        speaks=f"Oracle Fusion Cloud SCM REST {RESOURCES} (REST framework version "
        f"{FRAMEWORK_VERSION}), HTTP basic auth",
        details={
            "pod_host": urlsplit(read.base_url).hostname,
            "resources": RESOURCES,
            "rest_framework_version": FRAMEWORK_VERSION,
            "username": read.username,
            "item_organization": read.item_organization,
            "procurement_bu": read.procurement_bu,
            "buyer": read.buyer,
            "supplier_site": read.supplier_site,
            "page_size": read.page_size,
            "server_page_cap": MAX_LIMIT,
        },
    )
