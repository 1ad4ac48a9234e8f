"""Odoo's external API over JSON-2 (`/json/2/<model>/<method>`) or JSON-RPC (`/jsonrpc`).

Both protocols call the same ORM methods with named arguments, so the connector
speaks one interface, `OdooApi.execute(model, method, params, ids)`:

- JSON-2 (Odoo 19+): POST a JSON object of the method's named arguments (plus
  `ids` and `context`) with `Authorization: bearer <API key>` and, when one server
  hosts several databases, `X-Odoo-Database`.
- JSON-RPC (deprecated since 19, removed in 22): `common.login(db, login, key)`
  once for the uid, then `object.execute_kw(db, uid, key, model, method, args, kw)`
  with every argument in `kw`.

`execute` makes one attempt; `OdooClient.call` runs it under the connection's
Guard, and `OdooClient.guarded` runs a whole read-then-write step under it, so a
retry after a timed-out create looks again before creating again. The key is
resolved for each request and kept nowhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import httpx

from promoflow.connectors.http import json_body
from promoflow.connectors.odoo.errors import (
    authentication_refused,
    json2_error,
    jsonrpc_error,
    scrub,
)
from promoflow.connectors.ports import ConnectorUnavailable, MalformedPayload
from promoflow.connectors.resilience import Guard

T = TypeVar("T")
USER_AGENT = "promoflow-odoo-connector"


class OdooApi(Protocol):
    protocol: str

    def execute(
        self, model: str, method: str, params: dict[str, Any], ids: list[int] | None = None
    ) -> Any:
        """Call `model.method(**params)` on `ids` (None for an @api.model method), once."""
        ...

    def version(self) -> str:
        """The server's version, e.g. `19.0`."""
        ...

    def close(self) -> None: ...


def _post(http: httpx.Client, system: str, operation: str, url: str, **kwargs: Any) -> Any:
    try:
        return http.post(url, **kwargs)
    except httpx.TransportError as error:
        raise ConnectorUnavailable(system, f"{operation}: {error}") from error


class Json2Api:
    """JSON-2: one POST per call, bearer API key, optional `X-Odoo-Database`."""

    protocol = "json2"

    def __init__(
        self,
        system: str,
        http: httpx.Client,
        *,
        base_url: str,
        database: str | None,
        api_key: Callable[[], str],
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.database = database
        self._http = http
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"Json2Api({self.base_url!r}, database={self.database!r})"

    def close(self) -> None:
        self._http.close()

    def execute(
        self, model: str, method: str, params: dict[str, Any], ids: list[int] | None = None
    ) -> Any:
        operation = f"{model}.{method}"
        key = self._api_key()
        headers = {"Authorization": f"bearer {key}"}
        if self.database:
            headers["X-Odoo-Database"] = self.database
        body = {**params, **({"ids": ids} if ids is not None else {})}
        url = f"{self.base_url}/json/2/{model}/{method}"
        response = _post(self._http, self.system, operation, url, json=body, headers=headers)
        if response.status_code >= 400:
            raise json2_error(self.system, operation, response, key)
        return json_body(self.system, operation, response)

    def version(self) -> str:
        try:
            response = self._http.get(f"{self.base_url}/web/version")
        except httpx.TransportError as error:
            raise ConnectorUnavailable(self.system, f"version: {error}") from error
        if response.status_code >= 400:
            raise json2_error(self.system, "version", response, None)
        body = json_body(self.system, "version", response)
        version = body.get("version") if isinstance(body, dict) else None
        if not isinstance(version, str):
            raise MalformedPayload(
                self.system, "/web/version without `version`", payload=body, field="version"
            )
        return version


class JsonRpcApi:
    """JSON-RPC 2.0 on `/jsonrpc`: services `common` (version, login) and `object`."""

    protocol = "jsonrpc"

    def __init__(
        self,
        system: str,
        http: httpx.Client,
        *,
        base_url: str,
        database: str,
        username: str,
        api_key: Callable[[], str],
    ) -> None:
        self.system = system
        self.url = base_url.rstrip("/") + "/jsonrpc"
        self.database = database
        self.username = username
        self._http = http
        self._api_key = api_key
        self._uid: int | None = None
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"JsonRpcApi({self.url!r}, database={self.database!r}, user={self.username!r})"

    def close(self) -> None:
        self._http.close()

    def _rpc(self, operation: str, service: str, method: str, args: list[Any], key: str) -> Any:
        request_id = next(self._ids)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": request_id,
        }
        response = _post(self._http, self.system, operation, self.url, json=payload)
        if response.status_code >= 400:
            raise json2_error(self.system, operation, response, key)
        body = json_body(self.system, operation, response)
        if not isinstance(body, dict) or body.get("id") != request_id:
            raise MalformedPayload(
                self.system,
                f"{operation}: not the JSON-RPC answer to request {request_id}",
                payload=body if isinstance(body, dict | list) else None,
                field="id",
                value=body.get("id") if isinstance(body, dict) else scrub(repr(body), key),
            )
        if "error" in body:
            raise jsonrpc_error(self.system, operation, body["error"], key)
        if "result" not in body:
            raise MalformedPayload(
                self.system, f"{operation}: neither result nor error", payload=body, field="result"
            )
        return body["result"]

    def _login(self, key: str) -> int:
        if self._uid is None:
            uid = self._rpc("login", "common", "login", [self.database, self.username, key], key)
            if uid is False or uid is None:
                raise authentication_refused(self.system, "login", "common.login returned false")
            if not isinstance(uid, int) or isinstance(uid, bool):
                raise MalformedPayload(
                    self.system, "login: the uid is not an integer", field="uid", value=uid
                )
            self._uid = uid
        return self._uid

    def execute(
        self, model: str, method: str, params: dict[str, Any], ids: list[int] | None = None
    ) -> Any:
        operation = f"{model}.{method}"
        key = self._api_key()
        uid = self._login(key)
        args: list[Any] = [ids] if ids is not None else []
        return self._rpc(
            operation,
            "object",
            "execute_kw",
            [self.database, uid, key, model, method, args, params],
            key,
        )

    def version(self) -> str:
        body = self._rpc("version", "common", "version", [], "")
        version = body.get("server_version") if isinstance(body, dict) else None
        if not isinstance(version, str):
            raise MalformedPayload(
                self.system, "common.version without `server_version`", payload=body
            )
        return version


class OdooClient:
    """One Odoo database through either protocol, every call under the connection's Guard."""

    def __init__(self, system: str, guard: Guard, api: OdooApi, *, page_size: int) -> None:
        self.system = system
        self.guard = guard
        self.api = api
        self.page_size = page_size

    def __repr__(self) -> str:
        return f"OdooClient({self.api!r})"

    def close(self) -> None:
        self.api.close()

    def call(self, model: str, method: str, ids: list[int] | None = None, **params: Any) -> Any:
        """One ORM call with retries and the circuit breaker."""
        return self.guard.call(
            f"{model}.{method}", lambda: self.api.execute(model, method, params, ids)
        )

    def guarded(self, operation: str, step: Callable[[], T]) -> T:
        """Several calls retried together (a lookup and the create it decides on)."""
        return self.guard.call(operation, step)
