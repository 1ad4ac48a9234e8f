"""Reads from Odoo: checked offset/limit pages, products by SKU, the mapped locations.

Odoo's `search_read` has no page envelope, so a collection is read after a
`search_count` of the same domain: each page must hold `min(limit, total -
offset)` rows (more only if records were added meanwhile, never more than the
limit). A shorter page is partial and refused whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from promoflow.connectors.odoo import mapping
from promoflow.connectors.odoo.client import OdooClient
from promoflow.connectors.ports import MalformedPayload
from promoflow.kit.errors import InvalidInput
from promoflow.kit.sequences import chunked

Domain = list[Any]
# Values per `in` condition: keeps each request body and SQL statement small.
CHUNK = 200
ANY_ACTIVE = ["active", "in", [True, False]]


def pages(
    client: OdooClient, model: str, domain: Domain, fields: list[str], order: str = "id"
) -> Iterator[list[dict[str, Any]]]:
    """Each page of `model` records matching `domain`, fetched when asked for."""
    system, limit = client.system, client.page_size
    total = mapping.count(system, client.call(model, "search_count", domain=domain), model)
    offset = 0
    while offset < total:
        body = client.call(
            model,
            "search_read",
            domain=domain,
            fields=fields,
            offset=offset,
            limit=limit,
            order=order,
        )
        rows = mapping.records(system, body, f"{model}.search_read")
        expected = min(limit, total - offset)
        if len(rows) < expected or len(rows) > limit:
            raise MalformedPayload(
                system,
                f"{model}: {len(rows)} rows at offset {offset} where {expected} were due "
                f"(search_count {total}, limit {limit}): partial page",
                payload=body,
                field="rows",
                value=len(rows),
            )
        if not rows:
            return
        yield rows
        offset += len(rows)


def products_by_sku(client: OdooClient, skus: Sequence[str]) -> dict[str, int]:
    """Product ids of the SKUs (internal references) Odoo knows, archived ones included."""
    found: dict[str, int] = {}
    for chunk in chunked(sorted(set(skus)), CHUNK):
        domain = [["default_code", "in", list(chunk)], ANY_ACTIVE]
        for rows in pages(client, "product.product", domain, ["id", "default_code"]):
            for row in rows:
                found[mapping.char(client.system, row, "default_code")] = mapping.record_id(
                    client.system, row
                )
    return found


def skus_by_id(client: OdooClient, product_ids: Sequence[int]) -> dict[int, str]:
    """The SKU (internal reference) of each product id."""
    found: dict[int, str] = {}
    for chunk in chunked(sorted(set(product_ids)), CHUNK):
        domain = [["id", "in", list(chunk)], ANY_ACTIVE]
        for rows in pages(client, "product.product", domain, ["id", "default_code"]):
            for row in rows:
                found[mapping.record_id(client.system, row)] = mapping.char(
                    client.system, row, "default_code"
                )
    return found


def mapped_locations(client: OdooClient, location_map: Mapping[str, str]) -> dict[str, int]:
    """The id of each mapped Odoo location, or InvalidInput naming one Odoo does not have."""
    domain = [["complete_name", "in", sorted(location_map)]]
    found: dict[str, int] = {}
    for rows in pages(client, "stock.location", domain, ["id", "complete_name"]):
        for row in rows:
            found[mapping.char(client.system, row, "complete_name")] = mapping.record_id(
                client.system, row
            )
    for name in location_map:
        if name not in found:
            raise InvalidInput(
                "config.location_map",
                name,
                "Odoo has no location with this full name (Inventory > Configuration > "
                "Locations, e.g. WH/Stock)",
            )
    return found


def location_codes(
    client: OdooClient, location_map: Mapping[str, str], codes: Sequence[str] | None = None
) -> dict[int, str]:
    """Every location under a mapped one -> the code of its nearest mapped ancestor.

    Stock kept on a shelf (`WH/Stock/Shelf 1`) counts for the location mapped
    above it; a location mapped inside another one keeps its own stock.
    """
    ids = mapped_locations(client, location_map)
    roots = {ids[name]: code for name, code in location_map.items()}
    if codes is not None:
        wanted = set(codes)
        roots = {key: code for key, code in roots.items() if code in wanted}
    if not roots:
        return {}
    resolved: dict[int, str] = {}
    domain = [["id", "child_of", sorted(roots)]]
    for rows in pages(client, "stock.location", domain, ["id", "parent_path"]):
        for row in rows:
            path = mapping.char(client.system, row, "parent_path")
            try:
                lineage = [int(part) for part in path.strip("/").split("/")]
            except ValueError:
                raise MalformedPayload(
                    client.system,
                    f"stock.location parent_path={path!r} is not ids separated by /",
                    payload=row,
                    field="parent_path",
                    value=path,
                ) from None
            for ancestor in reversed(lineage):
                if ancestor in roots:
                    resolved[mapping.record_id(client.system, row)] = roots[ancestor]
                    break
    return resolved
