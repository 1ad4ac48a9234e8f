"""The SDK follows redirects (requests does): every hop is checked against the allowed hosts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ct_backend_support import CLIENT_ID, PROJECT, SECRET

from listener_support import listening
from promoflow.config import Settings
from promoflow.connectors.commercetools.connector import CommercetoolsConnector
from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.outbound import OutboundPolicy
from promoflow.connectors.resilience import Guard, RetryPolicy


def _redirecting_to(target: str) -> Iterator[str]:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", f"{target}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self.do_POST()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_to_a_host_not_allowed_sends_nothing_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMOFLOW_TEST_CT_SECRET", SECRET)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    policy = OutboundPolicy.from_settings(Settings(connector_allowed_hosts="127.0.0.1"))
    with listening("127.0.0.2") as elsewhere:
        for shop in _redirecting_to(elsewhere.url):
            values = {
                "project_key": PROJECT,
                "api_url": shop,
                "auth_url": shop,
                "client_id": CLIENT_ID,
                "client_secret": "env:PROMOFLOW_TEST_CT_SECRET",
                "timeout_seconds": 2,
            }
            guard = Guard("web-shop-reach", retry=RetryPolicy(attempts=1), sleep=lambda _s: None)
            connector = CommercetoolsConnector(
                ConnectorConfig(CommercetoolsConnector.manifest, values, policy),
                ConnectorContext("web-shop-reach", guard),
            )

            check = connector.check_connection()

    assert not check.ok
    assert "127.0.0.2" in check.detail and "nothing sent" in check.detail
    assert elsewhere.heard == []
