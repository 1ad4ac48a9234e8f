"""The in-memory ORM behind the Odoo fake: models, domains, search_read, create.

Follows Odoo's ORM reference (developer/reference/backend/orm, "Search domains"
and "Common ORM methods"): domains in prefix notation (`'|'`, `'&'`, `'!'`, an
implicit `&` between terms) over triples `[field, operator, value]` with the
operators `=`, `!=`, `>`, `>=`, `<`, `<=`, `in`, `not in` and `child_of`, and
dotted paths through many2one fields (`product_tmpl_id.write_date`);
`search_read(domain, fields, offset, limit, order)`, `search_count(domain)`,
`read(fields)` on ids, `create(vals_list)` (returns the new ids) with one2many
commands `[0, 0, values]`, and purchase.order's `button_cancel` on ids. Archived
records (`active` false) are left out unless the domain names `active` (the
`active_test` behaviour). A many2one reads as `[id, display_name]`, an empty
value as `false`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any


class OdooException(Exception):
    """An exception as Odoo serializes it: its qualified name and message."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


MANY2ONE: dict[str, dict[str, str]] = {
    "product.product": {"categ_id": "product.category", "product_tmpl_id": "product.template"},
    "stock.location": {"location_id": "stock.location"},
    "stock.quant": {"product_id": "product.product", "location_id": "stock.location"},
    "stock.picking.type": {"default_location_dest_id": "stock.location"},
    "purchase.order": {"partner_id": "res.partner", "picking_type_id": "stock.picking.type"},
    "purchase.order.line": {"order_id": "purchase.order", "product_id": "product.product"},
}
ONE2MANY: dict[str, dict[str, tuple[str, str]]] = {
    "purchase.order": {"order_line": ("purchase.order.line", "order_id")},
}
FIELDS: dict[str, set[str]] = {
    "product.category": {"id", "name", "complete_name"},
    "product.template": {"id", "name", "write_date"},
    "product.product": {
        "id",
        "default_code",
        "name",
        "barcode",
        "list_price",
        "standard_price",
        "categ_id",
        "product_tmpl_id",
        "active",
        "write_date",
    },
    "res.partner": {"id", "name", "ref", "active"},
    "stock.location": {"id", "name", "complete_name", "location_id", "parent_path", "active"},
    "stock.quant": {"id", "product_id", "location_id", "quantity", "reserved_quantity"},
    "stock.picking.type": {"id", "name", "code", "default_location_dest_id", "active"},
    "purchase.order": {
        "id",
        "name",
        "origin",
        "partner_id",
        "picking_type_id",
        "date_planned",
        "state",
        "date_approve",
        "order_line",
    },
    "purchase.order.line": {"id", "order_id", "product_id", "product_qty", "date_planned"},
}
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not False and a is not None and a > b,
    ">=": lambda a, b: a is not False and a is not None and a >= b,
    "<": lambda a, b: a is not False and a is not None and a < b,
    "<=": lambda a, b: a is not False and a is not None and a <= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


def invalid_field(model: str, name: str) -> OdooException:
    return OdooException("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")


class Orm:
    """Tables of records by model, with the ORM methods the external API exposes."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[int, dict[str, Any]]] = {model: {} for model in FIELDS}
        self._ids = itertools.count(1)
        self._po_numbers = itertools.count(1)

    def add(self, model: str, **values: Any) -> int:
        """Insert a record as stored (many2one as an id or False); returns its id."""
        record_id = next(self._ids)
        record = {"id": record_id, **values}
        if "active" in FIELDS[model]:
            record.setdefault("active", True)
        if model == "stock.location":
            parent = values.get("location_id") or False
            prefix = self.tables[model][parent]["parent_path"] if parent else ""
            record["parent_path"] = f"{prefix}{record_id}/"
        self.tables[model][record_id] = record
        return record_id

    # reading

    def _value(self, model: str, record: dict[str, Any], path: str) -> Any:
        name, _, rest = path.partition(".")
        if name not in FIELDS[model]:
            raise invalid_field(model, name)
        value = record.get(name, False)
        if not rest:
            return value
        target = MANY2ONE.get(model, {}).get(name)
        if target is None:
            raise invalid_field(model, path)
        return self._value(target, self.tables[target][value], rest) if value else False

    def _term(self, model: str, record: dict[str, Any], term: list[Any]) -> bool:
        if not isinstance(term, list) or len(term) != 3:
            raise OdooException("builtins.ValueError", f"Invalid leaf {term!r}")
        path, operator, value = term
        actual = self._value(model, record, path)
        if operator == "child_of":
            roots = value if isinstance(value, list) else [value]
            target = model if path == "id" else MANY2ONE[model][path]
            if not actual or target != "stock.location":
                return False
            lineage = self.tables[target][actual]["parent_path"].strip("/").split("/")
            return any(str(root) in lineage for root in roots)
        if operator not in COMPARE:
            raise OdooException("builtins.ValueError", f"Invalid operator {operator!r}")
        return COMPARE[operator](actual, value)

    def _matches(self, model: str, record: dict[str, Any], domain: list[Any]) -> bool:
        def evaluate(position: int) -> tuple[bool, int]:
            item = domain[position]
            if item == "!":
                result, after = evaluate(position + 1)
                return not result, after
            if item in ("|", "&"):
                left, after = evaluate(position + 1)
                right, after = evaluate(after)
                return (left or right) if item == "|" else (left and right), after
            return self._term(model, record, item), position + 1

        position, result = 0, True
        while position < len(domain):
            value, position = evaluate(position)
            result = result and value
        return result

    def search(
        self,
        model: str,
        domain: list[Any],
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        named = {term[0] for term in domain if isinstance(term, list)}
        rows = [
            record
            for record in self.tables[model].values()
            if self._matches(model, record, domain)
            and ("active" in named or record.get("active", True))
        ]
        for part in reversed((order or "id").split(",")):
            name, _, direction = part.strip().partition(" ")
            if name not in FIELDS[model]:
                raise invalid_field(model, name)
            rows.sort(
                key=lambda r: (r.get(name) is False, r.get(name)), reverse=direction == "desc"
            )
        end = None if limit is None else offset + limit
        return rows[offset:end]

    def display_name(self, model: str, record_id: int) -> str:
        record = self.tables[model][record_id]
        if model == "product.product" and record.get("default_code"):
            return f"[{record['default_code']}] {record['name']}"
        return str(record.get("complete_name") or record.get("name") or record_id)

    def render(
        self, model: str, record: dict[str, Any], fields: list[str] | None
    ) -> dict[str, Any]:
        names = fields or sorted(FIELDS[model])
        out: dict[str, Any] = {"id": record["id"]}
        for name in names:
            if name not in FIELDS[model]:
                raise invalid_field(model, name)
            value = record.get(name, False)
            if name in MANY2ONE.get(model, {}) and value:
                value = [value, self.display_name(MANY2ONE[model][name], value)]
            elif name in ONE2MANY.get(model, {}):
                child, inverse = ONE2MANY[model][name]
                value = sorted(
                    r["id"] for r in self.tables[child].values() if r[inverse] == record["id"]
                )
            out[name] = False if value is None else value
        return out

    # the public methods

    def search_read(
        self,
        model: str,
        domain: list[Any] | None = None,
        fields: list[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        found = self.search(model, domain or [], offset, limit, order)
        return [self.render(model, record, fields) for record in found]

    def search_count(self, model: str, domain: list[Any] | None = None) -> int:
        return len(self.search(model, domain or []))

    def read(self, model: str, ids: list[int], fields: list[str] | None = None) -> list[Any]:
        missing = [i for i in ids if i not in self.tables[model]]
        if missing:
            raise OdooException("odoo.exceptions.MissingError", f"Record does not exist: {missing}")
        return [self.render(model, self.tables[model][i], fields) for i in ids]

    def create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        if model != "purchase.order":
            raise OdooException("odoo.exceptions.AccessError", f"no create on {model} here")
        created = []
        for requested in vals_list:
            values = dict(requested)
            for name in values:
                if name not in FIELDS[model]:
                    raise invalid_field(model, name)
            lines = values.pop("order_line", [])
            if values.get("partner_id") not in self.tables["res.partner"]:
                raise OdooException("odoo.exceptions.ValidationError", "a vendor is required")
            order_id = self.add(
                model,
                name=f"P{next(self._po_numbers):05d}",
                state="draft",
                date_approve=False,
                **values,
            )
            for command in lines:
                if not (isinstance(command, list) and command[:2] == [0, 0]):
                    raise OdooException("builtins.ValueError", f"unsupported command {command!r}")
                self.add("purchase.order.line", order_id=order_id, **command[2])
            created.append(order_id)
        return created

    def button_cancel(self, model: str, ids: list[int]) -> None:
        """`purchase.order.button_cancel` on ids: each order's state becomes `cancel`.

        Odoo's purchase module refuses once a vendor bill is posted or a receipt is
        done; orders here have neither, so it always cancels. It returns nothing.
        """
        if model != "purchase.order":
            raise OdooException(
                "builtins.AttributeError", f"no public method {model}.button_cancel"
            )
        missing = [i for i in ids if i not in self.tables[model]]
        if missing:
            raise OdooException("odoo.exceptions.MissingError", f"Record does not exist: {missing}")
        for order_id in ids:
            self.tables[model][order_id]["state"] = "cancel"
