"""A commercetools error names the HTTP status it came with (issue 11, item 7).

An error body from a gateway or proxy in front of the API has no `statusCode`;
the SDK then builds its error with a status of None and the connector reported
"HTTP None". The status now comes from the response itself.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from ct_backend_support import ConnectorFactory

from promoflow.connectors.ports import ConnectorError


def test_an_error_body_without_a_status_is_reported_with_the_response_status(
    ct_connector: ConnectorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = ct_connector(attempts=1)
    assert connector.check_connection().ok  # a token is held; the next call is the API's
    real_send = requests.adapters.HTTPAdapter.send

    def gateway(self: Any, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if "/oauth/" in (request.url or ""):
            return real_send(self, request, **kwargs)
        response = requests.Response()
        response.status_code = 403
        response.headers["Content-Type"] = "application/json"
        response._content = b'{"message": "insufficient_scope: manage_products"}'
        response.request = request
        response.url = request.url or ""
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", gateway)
    with pytest.raises(ConnectorError) as raised:
        connector.client.project()

    message = str(raised.value)
    assert "HTTP 403" in message
    assert "HTTP None" not in message
    assert "insufficient_scope" in message
    assert raised.value.retryable is False
