"""Moved to `promoflow.integration` (issue 11): connections are the integration service's.

Kept as re-exports only because `connectors.registry` routes ports through these
three. New code imports `promoflow.integration.service` (rules in the caller's
transaction) or `promoflow.integration.connections` (test, enable, disable).
"""

from __future__ import annotations

from promoflow.integration.service import bindings, build_connector, get_connection

__all__ = ["bindings", "build_connector", "get_connection"]
