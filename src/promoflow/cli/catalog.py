"""`promoflow catalog items|locations|suppliers|eligibility`: browse the master data.

The same services as `/api/v1/catalog`, so a merchandiser at a terminal finds a valid
SKU or store code, and learns why an item cannot be promoted somewhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import typer
from pydantic import BaseModel
from rich.table import Table

from promoflow.catalog import service
from promoflow.catalog.schemas import ItemFilter, LocationFilter
from promoflow.cli.common import console, handles_errors
from promoflow.config import get_settings
from promoflow.kit.errors import InvalidInput
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)

MAX_LIMIT = 500  # the API's page bound
LIMIT = typer.Option(50, "--limit", help=f"Rows to show (1 to {MAX_LIMIT})")
OFFSET = typer.Option(0, "--offset", help="Rows to skip")
AS_JSON = typer.Option(False, "--json", help="Print the page as JSON")


def _bounded(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("--limit", limit, f"must be 1 to {MAX_LIMIT}")
    if offset < 0:
        raise InvalidInput("--offset", offset, "cannot be negative")


def _print(rows: Sequence[BaseModel], total: int, offset: int, table: Table, as_json: bool) -> None:
    if as_json:
        page = {"items": [row.model_dump(mode="json") for row in rows], "total": total}
        console.print_json(json.dumps(page))
        return
    console.print(table if rows else "nothing matches")
    if total > offset + len(rows):
        console.print(f"{len(rows)} of {total}; next page: --offset {offset + len(rows)}")


@app.command()
@handles_errors
def items(
    category: str | None = typer.Option(None, help="Only this category"),
    status: str | None = typer.Option(None, help="active, inactive or discontinued"),
    sku_prefix: str | None = typer.Option(None, "--sku-prefix", help="SKUs starting with this"),
    limit: int = LIMIT,
    offset: int = OFFSET,
    as_json: bool = AS_JSON,
) -> None:
    """Items with hierarchy, cost, regular price, status and whether they may be promoted."""
    _bounded(limit, offset)
    where = ItemFilter(category=category, status=status, sku_prefix=sku_prefix)
    settings = get_settings()
    with open_database().sessions() as session:
        rows, total = service.items_page(session, where, limit, offset, currency=settings.currency)
    table = Table("sku", "name", "category", "cost", "price", "status", "promotable")
    for row in rows:
        table.add_row(
            row.sku,
            row.name,
            f"{row.department} / {row.category} / {row.subcategory}",
            row.unit_cost.formatted(settings.locale),
            row.regular_price.formatted(settings.locale),
            row.status,
            "yes" if row.promotable else "no",
        )
    _print(rows, total, offset, table, as_json)


@app.command()
@handles_errors
def locations(
    kind: str | None = typer.Option(None, help="store, dc or ecommerce"),
    region: str | None = typer.Option(None, help="Only this region"),
    banner: str | None = typer.Option(None, help="Only this banner"),
    limit: int = LIMIT,
    offset: int = OFFSET,
    as_json: bool = AS_JSON,
) -> None:
    """Stores, distribution centres and e-commerce nodes."""
    _bounded(limit, offset)
    where = LocationFilter(kind=kind, region=region, banner=banner)
    with open_database().sessions() as session:
        rows, total = service.locations_page(session, where, limit, offset)
    table = Table("code", "name", "kind", "region", "banner", "price zone")
    for row in rows:
        table.add_row(row.code, row.name, row.kind, row.region, row.banner, row.price_zone)
    _print(rows, total, offset, table, as_json)


@app.command()
@handles_errors
def suppliers(limit: int = LIMIT, offset: int = OFFSET, as_json: bool = AS_JSON) -> None:
    """Suppliers with lead time, weekly capacity, on-time and fill rates."""
    _bounded(limit, offset)
    with open_database().sessions() as session:
        rows, total = service.suppliers_page(session, limit, offset)
    table = Table("code", "name", "lead time (days)", "capacity/week", "on time", "fill")
    for row in rows:
        table.add_row(
            row.code,
            row.name,
            str(row.lead_time_days),
            f"{row.weekly_capacity_units:,.0f}",
            f"{row.on_time_rate:.0%}",
            f"{row.fill_rate:.0%}",
        )
    _print(rows, total, offset, table, as_json)


@app.command()
@handles_errors
def eligibility(
    sku: str = typer.Argument(..., help="The item's SKU"),
    location: str = typer.Argument(..., help="A location code"),
) -> None:
    """Can the item be promoted at the location; if not, every reason why."""
    with open_database().sessions() as session:
        answer = service.item_eligibility(session, sku, location)
    if answer.eligible:
        console.print(f"{answer.sku} can be promoted at {answer.location_code}")
        return
    console.print(f"{answer.sku} cannot be promoted at {answer.location_code}:")
    for reason in answer.reasons:
        console.print(f"  {reason.rule}: {reason.message}")
