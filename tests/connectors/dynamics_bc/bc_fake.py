"""A protocol-faithful Business Central API v2.0 server for the connector's tests.

Follows Microsoft's published references: the API v2.0 resources (item,
location, purchaseOrder with purchaseOrderLines, company) at
`/v2.0/{tenant}/{environment}/api/v2.0/companies({id})/...`; the analytics API's
itemLedgerEntries (`/api/microsoft/analytics/v1.0/...`, with locationCode); OData
V4 server-driven paging (`Prefer: odata.maxpagesize`, `@odata.nextLink` with a
`$skiptoken`, `Preference-Applied`); `$filter/$select/$orderby/$expand/$top/$skip`
(see `bc_odata`); `@odata.etag` on entities; deep insert of a purchase order with
its lines (one transaction: nothing is created if a line is wrong); DELETE of a
purchase order with If-Match (204); a purchase line's unit (`unitOfMeasureCode`,
or, when a line names none, the item card's Purch. Unit of Measure, as Business
Central fills it) checked against the item's units of measure (table 5404, served
by a custom API page at `UNITS_ROUTE`, see `bc_units`); errors as
`{"error": {"code", "message"}}`; bearer tokens from the Microsoft identity
platform's client-credentials token endpoint (form post, `access_token`,
`expires_in`, errors as `{"error", "error_description"}`) and 401 for a missing,
unknown or revoked token.

Faults are injected per path fragment: `fail(fragment, status, times)` answers
the next `times` matching requests with `status`; `mangle(fragment, fn)`
rewrites the body of matching collection pages.
"""

from __future__ import annotations

import copy
import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from bc_odata import ODataError, order_rows, parse_expand, parse_filter
from bc_units import UNITS_ROUTE, line_unit
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TENANT = "contoso.onmicrosoft.com"
ENVIRONMENT = "production"
COMPANY_ID = "f03f6225-081c-ec11-86bc-000d3a2fd6d2"
CLIENT_ID = "6c1f9a2e-0000-4000-8000-promoflow"
CLIENT_SECRET = "s3cr3t-bc-value-never-logged"
SERVER_PAGE_SIZE = 1000
ENTITY_SETS = ("items", "locations", "purchaseOrders", "vendors")
KEYED = re.compile(r"^(\w+)\(([^)]+)\)$")  # purchaseOrders({id})
SYSTEM_OPTIONS = {"$filter", "$select", "$orderby", "$top", "$skip", "$expand", "$skiptoken"}


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def etag() -> str:
    return f'W/"JzQ0O{uuid.uuid4().hex[:24]}MTswMDsn"'


@dataclass
class Fault:
    fragment: str
    status: int
    times: int


@dataclass
class BusinessCentralFake:
    """The state behind the fake: one tenant, one environment, one company."""

    items: list[dict[str, Any]] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    vendors: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    item_units: list[dict[str, Any]] = field(default_factory=list)
    # Item card "Purch. Unit of Measure" per item number (the base unit when absent).
    purchase_units: dict[str, str] = field(default_factory=dict)
    purchase_orders: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    manglers: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = field(
        default_factory=list
    )
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    requests: list[Request] = field(default_factory=list)
    page_size_cap: int = SERVER_PAGE_SIZE
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail(self, fragment: str, status: int, times: int = 1) -> None:
        self.faults.append(Fault(fragment, status, times))

    def mangle(self, fragment: str, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.manglers.append((fragment, fn))

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def entity_set(self, name: str) -> list[dict[str, Any]]:
        return {
            "items": self.items,
            "locations": self.locations,
            "purchaseOrders": self.purchase_orders,
            "vendors": self.vendors,
        }[name]

    # the identity platform's token endpoint

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        if fault := self._fault(request):
            return fault
        # application/x-www-form-urlencoded, parsed here (Starlette's form() needs python-multipart)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "AADSTS70003"}, 400
            )
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
                401,
            )
        access = f"eyJ0eXAi.{next(self._counter)}.{uuid.uuid4().hex}"
        self.tokens.add(access)
        return JSONResponse({"token_type": "Bearer", "expires_in": 3599, "access_token": access})

    # the API

    def _fault(self, request: Request) -> Response | None:
        for fault in self.faults:
            if fault.times > 0 and fault.fragment in request.url.path:
                fault.times -= 1
                if fault.status == 429:
                    return Response(
                        '{"error":{"code":"Application_TooManyRequests",'
                        '"message":"Too many requests reached."}}',
                        429,
                        headers={"Retry-After": "0", "Content-Type": "application/json"},
                    )
                return error(fault.status, "Internal_ServerError", "Something went wrong.")
        return None

    def _authorised(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self.tokens:
            return Response(
                '{"error":{"code":"Authentication_InvalidCredentials",'
                '"message":"The server has rejected the client credentials."}}',
                401,
                headers={
                    "WWW-Authenticate": 'Bearer realm="", error="invalid_token"',
                    "Content-Type": "application/json",
                },
            )
        return None

    async def api(self, request: Request) -> Response:
        self.requests.append(request)
        refused = self._authorised(request) or self._fault(request)
        if refused:
            return refused
        params = request.path_params
        if params["tenant"] != TENANT or params["environment"] != ENVIRONMENT:
            return error(404, "NoEnvironment", f"Environment {params['environment']} not found.")
        if params["company"] != COMPANY_ID:
            return error(404, "Internal_CompanyNotFound", "Cannot find the company.")
        route = params.get("entity")
        try:
            if params["route"] == "microsoft/analytics/v1.0":
                if route != "itemLedgerEntries" or request.method != "GET":
                    return error(404, "BadRequest_NotFound", f"No resource {route}.")
                return self._collection(request, self.ledger)
            if params["route"] == UNITS_ROUTE:
                if route != "itemUnitsOfMeasure" or request.method != "GET":
                    return error(404, "BadRequest_NotFound", f"No resource {route}.")
                return self._collection(request, self.item_units)
            if params["route"] != "v2.0":
                return error(404, "BadRequest_NotFound", "No such API route.")
            if route is None:
                return JSONResponse(
                    {
                        "@odata.context": "…/$metadata#companies/$entity",
                        "id": COMPANY_ID,
                        "systemVersion": "24.0",
                        "name": "CRONUS USA, Inc.",
                        "displayName": "CRONUS USA, Inc.",
                        "businessProfileId": "",
                    }
                )
            keyed = KEYED.match(route)
            if keyed is not None and keyed.group(1) == "purchaseOrders":
                if request.method != "DELETE":
                    return error(405, "BadRequest_MethodNotAllowed", "Method not allowed.")
                return self._delete_purchase_order(request, keyed.group(2))
            if route not in ENTITY_SETS:
                return error(404, "BadRequest_NotFound", f"Resource {route} not found.")
            if request.method == "POST" and route == "purchaseOrders":
                return await self._create_purchase_order(request)
            if request.method != "GET":
                return error(405, "BadRequest_MethodNotAllowed", "Method not allowed.")
            return self._collection(request, self.entity_set(route))
        except ODataError as refused_query:
            return error(400, refused_query.code, str(refused_query))

    def _collection(self, request: Request, source: list[dict[str, Any]]) -> Response:
        query = dict(request.query_params)
        unknown = [k for k in query if k.startswith("$") and k not in SYSTEM_OPTIONS]
        if unknown:
            raise ODataError(f"The query parameter '{unknown[0]}' is not supported.")
        rows = [copy.deepcopy(row) for row in source]
        if "$filter" in query:
            predicate = parse_filter(query["$filter"])
            rows = [row for row in rows if predicate(row)]
        if "$orderby" in query:
            rows = order_rows(rows, query["$orderby"])
        if "$skip" in query:
            rows = rows[int(query["$skip"]) :]
        if "$top" in query:
            rows = rows[: int(query["$top"])]
        skip = int(query.get("$skiptoken", "0"))
        size = self.page_size_cap
        prefer = request.headers.get("prefer", "")
        headers = {}
        if prefer.startswith("odata.maxpagesize="):
            size = min(size, int(prefer.split("=", 1)[1]))
            headers["Preference-Applied"] = f"odata.maxpagesize={size}"
        page = rows[skip : skip + size]
        if "$expand" in query:
            for nav, nested in parse_expand(query["$expand"]).items():
                for row in page:
                    children = row.get(nav, [])
                    row[nav] = [_select(child, nested) for child in children]
        for nav in ("purchaseOrderLines",):
            if "$expand" not in query or nav not in query["$expand"]:
                for row in page:
                    row.pop(nav, None)
        selected = query["$select"].split(",") if "$select" in query else None
        body: dict[str, Any] = {
            "@odata.context": _context(request),
            "value": [_select(row, selected, keep=("purchaseOrderLines",)) for row in page],
        }
        if skip + size < len(rows):
            following = {k: v for k, v in query.items() if k != "$skiptoken"}
            following["$skiptoken"] = str(skip + size)
            body["@odata.nextLink"] = (
                f"{request.url.scheme}://{request.url.netloc}"
                f"{request.url.path}?{urlencode(following)}"
            )
        for fragment, fn in self.manglers:
            if fragment in request.url.path:
                body = fn(body)
        return JSONResponse(body, headers=headers)

    async def _create_purchase_order(self, request: Request) -> Response:
        body = await request.json()
        number = body.get("number")
        if any(po["number"] == number for po in self.purchase_orders):
            return error(
                400,
                "Internal_EntityWithSameKeyExists",
                f"The record already exists: Document Type=Order, No.={number}.",
            )
        vendor = next((v for v in self.vendors if v["number"] == body.get("vendorNumber")), None)
        if vendor is None:
            return error(
                400,
                "Internal_RecordNotFound",
                f"The Vendor does not exist. Identification fields and values: "
                f"No.='{body.get('vendorNumber')}'",
            )
        lines = []
        for index, line in enumerate(body.get("purchaseOrderLines", [])):
            item = next(
                (i for i in self.items if i["number"] == line.get("lineObjectNumber")), None
            )
            if item is None:
                return error(
                    400,
                    "Internal_RecordNotFound",
                    f"The Item does not exist. Identification fields and values: "
                    f"No.='{line.get('lineObjectNumber')}'",
                )
            if not any(loc["id"] == line.get("locationId") for loc in self.locations):
                return error(400, "BadRequest_ResourceNotFound", "The location does not exist.")
            unit = line_unit(self, item, line)
            if isinstance(unit, Response):
                return unit
            lines.append(
                {
                    "@odata.etag": etag(),
                    "id": str(uuid.uuid4()),
                    "documentId": "",
                    "sequence": line.get("sequence", 10000 * (index + 1)),
                    "itemId": item["id"],
                    "lineType": line.get("lineType", "Item"),
                    "lineObjectNumber": item["number"],
                    "description": item["displayName"],
                    "unitOfMeasureCode": unit,
                    "quantity": line.get("quantity", 0),
                    "directUnitCost": item["unitCost"],
                    "expectedReceiptDate": line.get("expectedReceiptDate"),
                    "locationId": line.get("locationId"),
                    "receivedQuantity": 0,
                }
            )
        order = {
            "@odata.etag": etag(),
            "id": str(uuid.uuid4()),
            "number": number,
            "orderDate": "2026-11-27",
            "vendorId": vendor["id"],
            "vendorNumber": vendor["number"],
            "vendorName": vendor["displayName"],
            "requestedReceiptDate": body.get("requestedReceiptDate"),
            "status": "Draft",
            "fullyReceived": False,
            "lastModifiedDateTime": "2026-11-27T09:00:00.000Z",
            "purchaseOrderLines": lines,
        }
        for line in lines:
            line["documentId"] = order["id"]
        self.purchase_orders.append(order)
        created = {k: v for k, v in order.items() if k != "purchaseOrderLines"}
        return JSONResponse(created, status_code=201)

    def _delete_purchase_order(self, request: Request, order_id: str) -> Response:
        """`DELETE purchaseOrders({id})` with If-Match (required): 204 and the order is gone.

        The body of the answer to a missing If-Match is our reading, not Microsoft's.
        """
        order = next((po for po in self.purchase_orders if po["id"] == order_id), None)
        if order is None:
            return error(404, "BadRequest_NotFound", "The purchase order does not exist.")
        match = request.headers.get("if-match")
        if match is None:
            return error(400, "BadRequest", "An If-Match header is required to delete.")
        if match not in ("*", order["@odata.etag"]):
            return error(412, "Request_EntityChanged", "Another user has changed the record.")
        self.purchase_orders.remove(order)
        return Response(status_code=204)

    def app(self) -> Starlette:
        api = "/v2.0/{tenant}/{environment}/api/{route:path}/companies({company})"
        return Starlette(
            routes=[
                Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
                Route(api, self.api, methods=["GET"]),
                Route(api + "/{entity}", self.api, methods=["GET", "POST", "PATCH", "DELETE"]),
            ]
        )


def _context(request: Request) -> str:
    """`{service root}/$metadata#companies({id})/{entitySet}`, as OData V4 JSON puts it."""
    root, _, entity = str(request.url.path).rpartition("/companies(")
    company, _, entity_set = entity.partition(")/")
    return (
        f"{request.url.scheme}://{request.url.netloc}{root}/$metadata"
        f"#companies({company})/{entity_set}"
    )


def _select(
    row: dict[str, Any], fields: list[str] | None, keep: tuple[str, ...] = ()
) -> dict[str, Any]:
    if fields is None:
        return row
    wanted = set(fields) | {"@odata.etag"} | set(keep)
    return {k: v for k, v in row.items() if k in wanted}
