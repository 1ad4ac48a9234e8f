"""A protocol-faithful Oracle Fusion Cloud SCM REST server for the connector's tests.

Follows Oracle's published "REST API for Oracle Fusion Cloud SCM" and
"... Procurement" (resources 11.13.18.05) and the Oracle REST framework
conventions they share: collection resources `itemsV2`, `inventoryOnhandBalances`,
`purchaseOrders` (child `lines`, custom action `cancel`) and `draftPurchaseOrders`
(child `lines` with `schedules`, custom action `submit`, DELETE of a draft);
collection pages `{items, count, hasMore, limit, offset, links}` plus
`totalResults` with `totalResults=true`; `limit` (default 25; at most 499 rows are
served whatever is asked, and the page's `limit` says what was served) and
`offset`; `onlyData`; `fields` with the child syntax
`A,B;lines:C,D`; `orderBy=Attr:asc|desc`; `q` as a framework-version-2+
row-match expression (`Attr = 'v'`, `>`, `>=`, `<`, `<=`, `!=`, `and`, `or`,
parentheses); HTTP basic authentication with 401 and `WWW-Authenticate: Basic`;
errors as the framework's JSON error (`title`, `detail`, `o:errorCode`, `o:errorDetails`).

Faults are injected per path fragment like the Business Central fake: `fail`
answers with a status, `mangle` rewrites collection pages, `delay` answers slowly.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

USERNAME = "promoflow.integration"
PASSWORD = "0racle-pa55word-never-logged"
RESOURCES = "/fscmRestApi/resources/11.13.18.05"
MAX_LIMIT = 499  # what Fusion serves at most in one page
TOKEN = re.compile(r"\s*(?:(\()|(\))|('(?:[^'])*')|(>=|<=|!=|=|>|<)|([A-Za-z_][A-Za-z0-9_]*))")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and str(a) > b,
    ">=": lambda a, b: a is not None and str(a) >= b,
    "<": lambda a, b: a is not None and str(a) < b,
    "<=": lambda a, b: a is not None and str(a) <= b,
}
Predicate = Callable[[dict[str, Any]], bool]


class RowMatchError(Exception):
    pass


def oracle_error(status: int, title: str, detail: str, code: str = "") -> JSONResponse:
    return JSONResponse(
        {
            "type": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
            "title": title,
            "detail": detail,
            "o:errorCode": code,
            "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
        },
        status_code=status,
        media_type="application/vnd.oracle.adf.error+json",
    )


def parse_rowmatch(text: str) -> Predicate:
    """A predicate for a row-match `q` expression (the subset the connector sends)."""
    tokens: list[tuple[int, str]] = []
    position = 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if match is None:
            raise RowMatchError(f"unexpected text at {position}: {text[position : position + 20]}")
        tokens.extend((group, value) for group, value in enumerate(match.groups()) if value)
        position = match.end()
    cursor = [0]

    def take() -> tuple[int, str]:
        if cursor[0] >= len(tokens):
            raise RowMatchError("unexpected end of expression")
        cursor[0] += 1
        return tokens[cursor[0] - 1]

    def peek() -> str | None:
        return tokens[cursor[0]][1].lower() if cursor[0] < len(tokens) else None

    def disjunction() -> Predicate:
        terms = [conjunction()]
        while peek() == "or":
            take()
            terms.append(conjunction())
        return lambda row: any(t(row) for t in terms)

    def conjunction() -> Predicate:
        terms = [term()]
        while peek() == "and":
            take()
            terms.append(term())
        return lambda row: all(t(row) for t in terms)

    def term() -> Predicate:
        kind, value = take()
        if kind == 0:
            inner = disjunction()
            if take()[0] != 1:
                raise RowMatchError("missing )")
            return inner
        if kind != 4:
            raise RowMatchError(f"attribute expected, found {value}")
        attribute = value
        op_kind, operator = take()
        literal_kind, literal = take()
        if op_kind != 3 or literal_kind != 2:
            raise RowMatchError(f"{attribute}: a comparison with a quoted literal is expected")
        compare, wanted = COMPARE[operator], literal[1:-1]
        return lambda row: compare(row.get(attribute), wanted)

    predicate = disjunction()
    if cursor[0] != len(tokens):
        raise RowMatchError(f"unexpected {tokens[cursor[0]][1]}")
    return predicate


def _fields(row: dict[str, Any], spec: str) -> dict[str, Any]:
    """Apply `fields=A,B;child:C,D`: only those attributes, children only when named."""
    top, *children = spec.split(";")
    shaped = {k: row[k] for k in top.split(",") if k in row}
    for child in children:
        name, _, attributes = child.partition(":")
        shaped[name] = [
            {k: c[k] for k in attributes.split(",") if k in c} for c in row.get(name, [])
        ]
    return shaped


@dataclass
class Fault:
    fragment: str
    status: int
    times: int


@dataclass
class Delay:
    """A slow answer (network or a busy pod), so tests can line up two callers."""

    fragment: str
    method: str
    seconds: float
    times: int


@dataclass
class OracleFusionFake:
    """The state behind the fake: one pod's items, balances and purchase orders."""

    items: list[dict[str, Any]] = field(default_factory=list)
    balances: list[dict[str, Any]] = field(default_factory=list)
    purchase_orders: list[dict[str, Any]] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)
    suppliers: set[str] = field(default_factory=set)
    organizations: set[str] = field(default_factory=set)
    # Rows served at most per page (a resource may serve fewer than the pod-wide 499).
    limit_cap: int = MAX_LIMIT
    faults: list[Fault] = field(default_factory=list)
    delays: list[Delay] = field(default_factory=list)
    manglers: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = field(
        default_factory=list
    )
    requests: list[Request] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(300100184340001))

    def fail(self, fragment: str, status: int, times: int = 1) -> None:
        self.faults.append(Fault(fragment, status, times))

    def mangle(self, fragment: str, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.manglers.append((fragment, fn))

    def delay(self, fragment: str, method: str, seconds: float, times: int = 1) -> None:
        self.delays.append(Delay(fragment, method, seconds, times))

    async def _slow(self, request: Request) -> None:
        for delay in self.delays:
            wanted = delay.method == request.method and delay.fragment in request.url.path
            if delay.times > 0 and wanted:
                delay.times -= 1
                await asyncio.sleep(delay.seconds)
                return

    def _refused(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if header != f"Basic {expected}":
            return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="fusion"'})
        for fault in self.faults:
            if fault.times > 0 and fault.fragment in request.url.path:
                fault.times -= 1
                return oracle_error(fault.status, "Service Unavailable", "Try again later.")
        return None

    async def collection(self, request: Request) -> Response:
        self.requests.append(request)
        if refused := self._refused(request):
            return refused
        await self._slow(request)
        resource = request.path_params["resource"]
        source = {
            "itemsV2": self.items,
            "inventoryOnhandBalances": self.balances,
            "purchaseOrders": self.purchase_orders,
            "draftPurchaseOrders": self.drafts,
        }.get(resource)
        if source is None:
            return oracle_error(404, "Not Found", f"Resource {resource} not found.")
        if request.method == "POST":
            if resource != "draftPurchaseOrders":
                return oracle_error(405, "Method Not Allowed", "POST is not supported here.")
            return await self._create_draft(request)
        query = request.query_params
        rows = copy.deepcopy(source)
        try:
            if "q" in query:
                predicate = parse_rowmatch(query["q"])
                rows = [row for row in rows if predicate(row)]
        except RowMatchError as bad:
            return oracle_error(400, "Bad Request", f"URL request parameter q: {bad}", "27031")
        if "orderBy" in query:
            for clause in reversed(query["orderBy"].split(",")):
                attribute, _, direction = clause.partition(":")
                rows.sort(key=lambda r: str(r.get(attribute, "")), reverse=direction == "desc")
        limit = min(int(query.get("limit", "25")), self.limit_cap)
        offset = int(query.get("offset", "0"))
        page = rows[offset : offset + limit]
        if "fields" in query:
            page = [_fields(row, query["fields"]) for row in page]
        body: dict[str, Any] = {
            "items": page,
            "count": len(page),
            "hasMore": offset + limit < len(rows),
            "limit": limit,
            "offset": offset,
            "links": [
                {"rel": "self", "href": str(request.url), "name": resource, "kind": "collection"}
            ],
        }
        if query.get("totalResults") == "true":
            body["totalResults"] = len(rows)
        for fragment, fn in self.manglers:
            if fragment in request.url.path:
                body = fn(body)
        return JSONResponse(body, media_type="application/vnd.oracle.adf.resourcecollection+json")

    async def _create_draft(self, request: Request) -> Response:
        body = await request.json()
        number = body.get("OrderNumber")
        if any(po["OrderNumber"] == number for po in self.drafts + self.purchase_orders):
            return oracle_error(400, "Bad Request", f"The order number {number} already exists.")
        if body.get("Supplier") not in self.suppliers:
            return oracle_error(
                400,
                "Bad Request",
                f"The value of the attribute Supplier isn't valid: {body.get('Supplier')}.",
                "PO-2055001",
            )
        known_items = {item["ItemNumber"] for item in self.items}
        lines = []
        for line in body.get("lines", []):
            if line.get("Item") not in known_items:
                return oracle_error(400, "Bad Request", f"The item {line.get('Item')} isn't valid.")
            for schedule in line.get("schedules", []):
                if schedule.get("ShipToOrganizationCode") not in self.organizations:
                    return oracle_error(400, "Bad Request", "The ship-to organization isn't valid.")
            lines.append(
                {
                    "POLineId": next(self._ids),
                    "LineNumber": line.get("LineNumber"),
                    "Item": line["Item"],
                    "Quantity": line.get("Quantity"),
                    "StatusCode": "INCOMPLETE",
                    "schedules": line.get("schedules", []),
                }
            )
        draft = {
            "POHeaderId": next(self._ids),
            "OrderNumber": number,
            "Supplier": body["Supplier"],
            "SupplierSite": body.get("SupplierSite"),
            "ProcurementBU": body.get("ProcurementBU"),
            "Buyer": body.get("Buyer"),
            "StatusCode": "INCOMPLETE",
            "Status": "Incomplete",
            "LastUpdateDate": "2026-11-27T09:00:00+00:00",
            "lines": lines,
        }
        self.drafts.append(draft)
        return JSONResponse({k: v for k, v in draft.items() if k != "lines"}, status_code=201)

    async def submit(self, request: Request) -> Response:
        self.requests.append(request)
        if refused := self._refused(request):
            return refused
        if request.headers.get("content-type") != "application/vnd.oracle.adf.action+json":
            return oracle_error(415, "Unsupported Media Type", "Use the action media type.")
        header_id = int(request.path_params["header_id"])
        draft = next((d for d in self.drafts if d["POHeaderId"] == header_id), None)
        if draft is None:
            return oracle_error(404, "Not Found", f"No draft purchase order {header_id}.")
        self.drafts.remove(draft)
        draft.update(StatusCode="PENDING APPROVAL", Status="Pending Approval")
        for line in draft["lines"]:
            line["StatusCode"] = "OPEN"
        self.purchase_orders.append(draft)
        return JSONResponse({"result": "SUCCESS"})

    async def delete_draft(self, request: Request) -> Response:
        """`Delete one header`: a draft goes away; 204 without a body."""
        self.requests.append(request)
        if refused := self._refused(request):
            return refused
        header_id = int(request.path_params["header_id"])
        draft = next((d for d in self.drafts if d["POHeaderId"] == header_id), None)
        if draft is None:
            return oracle_error(404, "Not Found", f"No draft purchase order {header_id}.")
        self.drafts.remove(draft)
        return Response(status_code=204)

    async def cancel(self, request: Request) -> Response:
        """`Cancel one purchase order` (custom action `cancel`): rolls down to every line.

        Which statuses Oracle refuses to cancel is our reading (closed or already
        canceled orders), not taken from Oracle's reference.
        """
        self.requests.append(request)
        if refused := self._refused(request):
            return refused
        if request.headers.get("content-type") != "application/vnd.oracle.adf.action+json":
            return oracle_error(415, "Unsupported Media Type", "Use the action media type.")
        header_id = int(request.path_params["header_id"])
        order = next((o for o in self.purchase_orders if o["POHeaderId"] == header_id), None)
        if order is None:
            return oracle_error(404, "Not Found", f"No purchase order {header_id}.")
        if order["StatusCode"] in ("CANCELED", "CLOSED", "FINALLY CLOSED"):
            return oracle_error(
                400,
                "Bad Request",
                f"The purchase order is {order['Status']}; it can't be canceled.",
            )
        order.update(StatusCode="CANCELED", Status="Canceled")
        for line in order["lines"]:
            line["StatusCode"] = "CANCELED"
        return JSONResponse({"result": "SUCCESS"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    RESOURCES + "/draftPurchaseOrders/{header_id}/action/submit",
                    self.submit,
                    methods=["POST"],
                ),
                Route(
                    RESOURCES + "/purchaseOrders/{header_id}/action/cancel",
                    self.cancel,
                    methods=["POST"],
                ),
                Route(
                    RESOURCES + "/draftPurchaseOrders/{header_id}",
                    self.delete_draft,
                    methods=["DELETE"],
                ),
                Route(RESOURCES + "/{resource}", self.collection, methods=["GET", "POST"]),
            ]
        )
