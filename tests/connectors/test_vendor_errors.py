"""Vendors' error bodies, shaped as each vendor publishes them, read into code/message/target.

Sources: OData JSON Format 4.01 section "Error Response" (its example body) and
Microsoft Learn "Business Central API error codes" (Internal_RecordNotFound); OData
V2 JSON error as SAP Gateway sends it (SAP Help, "Error Response" with
innererror.errordetails); Oracle REST framework "Error Detail" object (title,
detail, o:errorCode, o:errorPath, o:errorDetails); commercetools "Errors"
(ErrorResponse statusCode/message/errors[], AuthErrorResponse).
"""

from __future__ import annotations

import json

import httpx
import pytest

from promoflow.connectors.http import raise_for_status, status_error
from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable
from promoflow.connectors.vendor_errors import VendorError, describe, parse_error

ODATA_V4 = {
    "error": {
        "code": "err123",
        "message": "Unsupported functionality",
        "target": "query",
        "details": [
            {
                "code": "forty-two",
                "target": "$search",
                "message": "$search query option not supported",
            }
        ],
        "innererror": {"trace": [], "context": {}},
    }
}
BUSINESS_CENTRAL = {
    "error": {
        "code": "Internal_RecordNotFound",
        "message": "The Vendor does not exist. Identification fields and values: No.='99999'  "
        "CorrelationId:  8f1d6a3e-4b7c-4c47-9d54-3a0c1c1f2f00.",
    }
}
SAP_V2 = {
    "error": {
        "code": "ME/083",
        "message": {"lang": "en", "value": "Enter a valid material number"},
        "innererror": {
            "application": {
                "component_id": "MM-PUR-PO",
                "service_namespace": "/SAP/",
                "service_id": "API_PURCHASEORDER_PROCESS_SRV",
                "service_version": "0001",
            },
            "transactionid": "5E0AB1C2D3F4A5B6C7D8E9F0A1B2C3D4",
            "timestamp": "20261206135501.1234560",
            "errordetails": [
                {
                    "code": "ME/083",
                    "message": "Enter a valid material number",
                    "propertyref": "",
                    "severity": "error",
                    "target": "/A_PurchaseOrderItem/Material",
                },
                {
                    "code": "/IWBEP/CX_MGW_BUSI_EXCEPTION",
                    "message": "An exception was raised",
                    "propertyref": "",
                    "severity": "error",
                    "target": "",
                },
            ],
        },
    }
}
ORACLE = {
    "type": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    "title": "Bad Request",
    "detail": "The value of the attribute Supplier is not valid.",
    "o:errorCode": "27023",
    "o:errorPath": "/Supplier",
    "o:errorDetails": [
        {
            "detail": "The value of the attribute Supplier is not valid.",
            "o:errorCode": "27023",
            "o:errorPath": "/Supplier",
        }
    ],
}
COMMERCETOOLS = {
    "statusCode": 400,
    "message": "Request body does not contain valid JSON.",
    "errors": [
        {
            "code": "InvalidField",
            "message": "The value '-1' is not valid for field 'quantity'.",
            "field": "quantity",
            "invalidValue": -1,
        },
        {
            "code": "InvalidOperation",
            "message": "A price with the same scope already exists.",
            "action": {"action": "addPrice", "variantId": 1},
        },
    ],
}


def test_odata_v4_error_with_target_and_details() -> None:
    parsed = parse_error(json.dumps(ODATA_V4))
    assert parsed == VendorError(
        "err123",
        "Unsupported functionality",
        "query",
        (VendorError("forty-two", "$search query option not supported", "$search"),),
    )
    assert str(parsed) == (
        "err123: Unsupported functionality (target query); "
        "forty-two: $search query option not supported (target $search)"
    )


def test_business_central_error() -> None:
    parsed = parse_error(BUSINESS_CENTRAL)
    assert parsed is not None and parsed.code == "Internal_RecordNotFound"
    assert parsed.message.startswith("The Vendor does not exist.")


def test_odata_v2_error_as_sap_gateway_sends_it() -> None:
    parsed = parse_error(json.dumps(SAP_V2).encode())
    assert parsed is not None
    assert (parsed.code, parsed.message) == ("ME/083", "Enter a valid material number")
    assert parsed.details[0].target == "/A_PurchaseOrderItem/Material"
    # The detail repeating the top error lends it its target and is not said twice.
    assert str(parsed) == (
        "ME/083: Enter a valid material number (target /A_PurchaseOrderItem/Material); "
        "/IWBEP/CX_MGW_BUSI_EXCEPTION: An exception was raised"
    )


def test_oracle_rest_error() -> None:
    parsed = parse_error(ORACLE)
    assert parsed is not None
    assert (parsed.code, parsed.target) == ("27023", "/Supplier")
    assert parsed.message == "Bad Request: The value of the attribute Supplier is not valid."
    assert parsed.details == ()  # the one detail only repeated the error


def test_commercetools_errors_with_field_and_action() -> None:
    parsed = parse_error(COMMERCETOOLS)
    assert parsed is not None
    assert (parsed.code, parsed.target) == ("InvalidField", "quantity")
    assert parsed.details == (
        VendorError(
            "InvalidOperation", "A price with the same scope already exists.", "action addPrice"
        ),
    )


def test_an_oauth_token_error() -> None:
    body = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}
    assert str(parse_error(body)) == "invalid_client: AADSTS7000215: Invalid client secret"


@pytest.mark.parametrize(
    "body", ["<html><body>502 Bad Gateway</body></html>", "[]", '{"unexpected": 1}', ""]
)
def test_a_body_of_no_known_shape_is_quoted_as_an_excerpt(body: str) -> None:
    assert parse_error(body) is None
    assert describe(body) == (" ".join(body.split()) or "(empty body)")


def test_the_status_comes_from_the_response_not_the_body() -> None:
    """A commercetools body without statusCode used to be reported as `HTTP None`."""
    body = {k: v for k, v in COMMERCETOOLS.items() if k != "statusCode"}
    error = status_error("ct", "publish prices", 400, json.dumps(body), "/shop/products/p1")
    assert not error.retryable
    assert error.message == (
        "publish prices: HTTP 400 from /shop/products/p1: InvalidField: The value '-1' is not "
        "valid for field 'quantity'. (target quantity); InvalidOperation: A price with the same "
        "scope already exists. (target action addPrice)"
    )


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [(400, ConnectorError, False), (429, ConnectorError, True), (503, ConnectorUnavailable, True)],
)
def test_raise_for_status_quotes_the_parsed_error(
    status: int, kind: type[ConnectorError], retryable: bool
) -> None:
    request = httpx.Request("POST", "https://bc.example/api/v2.0/companies(1)/purchaseOrders")
    response = httpx.Response(status, json=BUSINESS_CENTRAL, request=request)
    with pytest.raises(kind) as raised:
        raise_for_status("bc", "submit_purchase_order", response)
    assert type(raised.value) is kind and raised.value.retryable is retryable
    assert raised.value.message.startswith(
        f"submit_purchase_order: HTTP {status} from /api/v2.0/companies(1)/purchaseOrders: "
        "Internal_RecordNotFound: The Vendor does not exist."
    )
    assert '{"error"' not in raised.value.message


def test_an_already_decoded_body_is_read_the_same() -> None:
    """What the commercetools SDK keeps of a body (`errors`), with the response's status."""
    body = {
        "message": "Version mismatch.",
        "errors": [
            {
                "code": "ConcurrentModification",
                "message": "Object has a different version than expected.",
                "currentVersion": 3,
            }
        ],
    }
    error = status_error("ct", "update product", 409, body)
    assert error.message == (
        "update product: HTTP 409: ConcurrentModification: "
        "Object has a different version than expected."
    )
    assert describe({"odd": True}) == '{"odd": true}'
