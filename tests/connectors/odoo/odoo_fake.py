"""A protocol-faithful Odoo external API server (both protocols) for the connector's tests.

Follows Odoo's published documentation:

- "External JSON-2 API" (odoo.com/documentation/19.0/developer/reference/
  external_api.html): `POST /json/2/<model>/<method>` with `Authorization: bearer
  <API key>`, `Content-Type: application/json` and `X-Odoo-Database`; the body is
  a JSON object of the method's named arguments plus `ids` and `context`; success
  is 200 with the JSON return value (a recordset as its ids); an error is a
  4xx/5xx status with the error object `{name, message, arguments, context,
  debug}` (401 `werkzeug.exceptions.Unauthorized` "Invalid apikey"); `GET
  /web/version` answers `{version_info, version}`.
- "External RPC API" (.../external_rpc_api.html, deprecated in 19.0): `POST
  /jsonrpc` with a JSON-RPC 2.0 `call` whose params are `{service, method,
  args}`: `common.version()`, `common.login(db, login, password)` -> uid or
  false, `object.execute_kw(db, uid, password, model, method, args, kw)`. An
  error is the `error` member on HTTP 200, `{code: 200, message: "Odoo Server
  Error", data: {name, message, arguments, context, debug}}`, as odoo/http.py's
  JSON-RPC dispatcher renders an exception.
- The ORM methods and domains of `odoo_orm` (developer/reference/backend/orm).

Faults are injected per `model.method` (or path) fragment: `fail` answers with an
HTTP status, `raise_odoo` raises an Odoo exception (rendered per protocol),
`mangle` rewrites a method's return value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from odoo_orm import OdooException, Orm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DATABASE = "retail-prod"
LOGIN = "promoflow-bot"
API_KEY = "6f64-real-looking-odoo-api-key-never-logged"
UID = 7
API_MODEL_METHODS = frozenset({"search_read", "search_count", "create", "context_get"})
# JSON-2 answers a UserError with its `http_code`; these values are our reading (the
# published page gives only the 401 example), not checked against Odoo 19 source.
HTTP_CODE = {
    "odoo.exceptions.AccessDenied": 401,
    "odoo.exceptions.AccessError": 403,
    "odoo.exceptions.MissingError": 404,
    "odoo.exceptions.UserError": 422,
    "odoo.exceptions.ValidationError": 422,
    "builtins.ValueError": 422,
}


@dataclass
class Call:
    protocol: str
    model: str
    method: str
    params: dict[str, Any]
    ids: list[int] | None
    headers: dict[str, str]


@dataclass
class Fault:
    fragment: str
    times: int
    status: int = 0
    exception: OdooException | None = None
    mangle: Callable[[Any], Any] | None = None


def error_object(name: str, message: str) -> dict[str, Any]:
    return {
        "name": name,
        "message": message,
        "arguments": [message],
        "context": {},
        "debug": f"Traceback (most recent call last):\n  ...\n{name}: {message}\n",
    }


@dataclass
class OdooFake:
    orm: Orm = field(default_factory=Orm)
    calls: list[Call] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)  # every request, as `model.method` or service
    faults: list[Fault] = field(default_factory=list)
    version: str = "19.0"

    def fail(self, fragment: str, status: int, times: int = 1) -> None:
        self.faults.append(Fault(fragment, times, status=status))

    def raise_odoo(self, fragment: str, name: str, message: str, times: int = 1) -> None:
        self.faults.append(Fault(fragment, times, exception=OdooException(name, message)))

    def mangle(self, fragment: str, rewrite: Callable[[Any], Any], times: int = 1) -> None:
        self.faults.append(Fault(fragment, times, mangle=rewrite))

    def calls_to(self, model: str, method: str) -> list[Call]:
        return [c for c in self.calls if (c.model, c.method) == (model, method)]

    def _fault(self, target: str, kind: str) -> Fault | None:
        for fault in self.faults:
            active = {"status": fault.status, "exception": fault.exception, "mangle": fault.mangle}
            if fault.times > 0 and fault.fragment in target and active[kind]:
                fault.times -= 1
                return fault
        return None

    def _execute(
        self, model: str, method: str, ids: list[int] | None, params: dict[str, Any]
    ) -> Any:
        target = f"{model}.{method}"
        raised = self._fault(target, "exception")
        if raised is not None and raised.exception is not None:
            raise raised.exception
        if model not in self.orm.tables:
            raise OdooException(
                "werkzeug.exceptions.NotFound", f"the model {model!r} does not exist"
            )
        params = {k: v for k, v in params.items() if k != "context"}
        if method in API_MODEL_METHODS and ids:
            raise OdooException("builtins.TypeError", f"cannot call {target} with ids")
        try:
            if method == "read":
                result = self.orm.read(model, ids or [], **params)
            elif method in ("search_read", "search_count", "create"):
                result = getattr(self.orm, method)(model, **params)
            elif method == "button_cancel":
                result = self.orm.button_cancel(model, ids or [])
            else:
                raise OdooException("builtins.AttributeError", f"no public method {target}")
        except TypeError as error:
            raise OdooException("builtins.TypeError", str(error)) from None
        rewrite = self._fault(target, "mangle")
        if rewrite is not None and rewrite.mangle is not None:
            result = rewrite.mangle(result)
        return result

    # JSON-2

    async def json2(self, request: Request) -> Response:
        model, method = request.path_params["model"], request.path_params["method"]
        self.hits.append(f"{model}.{method}")
        headers = {k.lower(): v for k, v in request.headers.items()}
        status = self._fault(f"{model}.{method}", "status")
        if status is not None:
            return JSONResponse(
                error_object("werkzeug.exceptions.HTTPException", "injected"), status.status
            )
        if headers.get("authorization") != f"bearer {API_KEY}":
            return JSONResponse(
                error_object("werkzeug.exceptions.Unauthorized", "Invalid apikey"), 401
            )
        if headers.get("x-odoo-database", DATABASE) != DATABASE:
            return JSONResponse(
                error_object("werkzeug.exceptions.NotFound", "database not found"), 404
            )
        if not headers.get("content-type", "").startswith("application/json"):
            return JSONResponse(error_object("werkzeug.exceptions.NotFound", "no json route"), 404)
        body = json.loads(await request.body() or b"{}")
        if not isinstance(body, dict):
            return JSONResponse(
                error_object("werkzeug.exceptions.BadRequest", "expecting a json object"), 400
            )
        ids = body.pop("ids", None)
        self.calls.append(Call("json2", model, method, body, ids, headers))
        try:
            return JSONResponse(self._execute(model, method, ids, body))
        except OdooException as error:
            code = HTTP_CODE.get(error.name, 404 if "NotFound" in error.name else 500)
            return JSONResponse(error_object(error.name, error.message), code)

    async def web_version(self, _request: Request) -> Response:
        major, minor = (int(part) for part in self.version.split("."))
        return JSONResponse(
            {"version_info": [major, minor, 0, "final", 0, ""], "version": self.version}
        )

    # JSON-RPC

    def _rpc_result(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common" and method == "version":
            return {
                "server_version": self.version,
                "server_version_info": [*map(int, self.version.split(".")), 0, "final", 0, ""],
                "server_serie": self.version,
                "protocol_version": 1,
            }
        if service == "common" and method == "login":
            db, login, password = args
            return UID if (db, login, password) == (DATABASE, LOGIN, API_KEY) else False
        if service == "object" and method == "execute_kw":
            db, uid, password, model, model_method, positional, kw = (*args, {})[:7]
            self.calls.append(Call("jsonrpc", model, model_method, dict(kw), None, {}))
            if (db, uid, password) != (DATABASE, UID, API_KEY):
                raise OdooException("odoo.exceptions.AccessDenied", "Access Denied")
            ids = None
            if model_method not in API_MODEL_METHODS and positional:
                ids = positional[0]
            self.calls[-1].ids = ids
            return self._execute(model, model_method, ids, dict(kw))
        raise OdooException("werkzeug.exceptions.NotFound", f"{service}.{method}")

    async def jsonrpc(self, request: Request) -> Response:
        payload = json.loads(await request.body())
        params = payload.get("params", {})
        target = f"{params.get('service')}.{params.get('method')}"
        if params.get("method") == "execute_kw":
            target = f"{params['args'][3]}.{params['args'][4]}"
        self.hits.append(target)
        status = self._fault(target, "status")
        if status is not None:
            return Response("<html>502 Bad Gateway</html>", status.status, media_type="text/html")
        answer: dict[str, Any] = {"jsonrpc": "2.0", "id": payload.get("id")}
        try:
            answer["result"] = self._rpc_result(params["service"], params["method"], params["args"])
        except OdooException as error:
            answer["error"] = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": error_object(error.name, error.message),
            }
        return JSONResponse(answer)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/json/2/{model}/{method}", self.json2, methods=["POST"]),
                Route("/web/version", self.web_version, methods=["GET"]),
                Route("/jsonrpc", self.jsonrpc, methods=["POST"]),
            ]
        )
