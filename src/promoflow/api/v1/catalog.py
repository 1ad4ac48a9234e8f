"""The catalogue, read-only: items, locations, suppliers, ranging and eligibility.

So that a client finds a valid SKU or store code, and learns whether an item may be
promoted somewhere, without querying the database.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from promoflow.api.deps import OMITTABLE, Currency, OneOf, SessionDep
from promoflow.api.pagination import Pagination
from promoflow.api.permissions import Reader
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import Page
from promoflow.catalog import service as catalog_service
from promoflow.catalog.schemas import (
    ITEM_STATUSES,
    LOCATION_KINDS,
    Eligibility,
    ItemFilter,
    ItemView,
    LocationFilter,
    LocationView,
    RangingView,
    SupplierView,
)
from promoflow.kit.bounds import LINE_PATTERN

router = APIRouter(prefix="/catalog", tags=["catalog"])


# Printable text on one line: PostgreSQL cannot even compare a string holding NUL.
def _code(description: str) -> Any:
    """A filter on a SKU or location code (items.sku and locations.code hold 32)."""
    return Query(min_length=1, max_length=32, pattern=LINE_PATTERN, description=description)


def _name(description: str) -> Any:
    """A filter on a category, region or banner name (their columns hold 64 to 80)."""
    return Query(min_length=1, max_length=80, pattern=LINE_PATTERN, description=description)


@router.get("/items", response_model=Page[ItemView])
def list_items(
    session: SessionDep,
    _actor: Reader,
    page: Pagination,
    currency: Currency,
    category: Annotated[str | None, _name("Only this category"), OMITTABLE] = None,
    status: Annotated[
        str | None, Query(description="Only items in this status"), OneOf(ITEM_STATUSES)
    ] = None,
    sku_prefix: Annotated[
        str | None, _code("Only SKUs starting with this (case-sensitive)"), OMITTABLE
    ] = None,
) -> Page[ItemView]:
    """Items in SKU order with hierarchy, cost, regular price, status and eligibility flags."""
    where = ItemFilter(category=category, status=status, sku_prefix=sku_prefix)
    rows, total = catalog_service.items_page(
        session, where, page.fetch, currency=currency, after=page.after_code()
    )
    return page.of(ItemView, rows, total, key=lambda row: (row.sku,))


@router.get("/items/{sku}", response_model=ItemView, responses=problem_responses(404))
def get_item(
    session: SessionDep,
    _actor: Reader,
    currency: Currency,
    sku: Annotated[
        str, Path(min_length=1, max_length=32, pattern=LINE_PATTERN, description="the item's SKU")
    ],
) -> ItemView:
    """One item by SKU."""
    return catalog_service.get_item(session, sku, currency=currency)


@router.get("/locations", response_model=Page[LocationView])
def list_locations(
    session: SessionDep,
    _actor: Reader,
    page: Pagination,
    kind: Annotated[
        str | None, Query(description="Only this type of location"), OneOf(LOCATION_KINDS)
    ] = None,
    region: Annotated[str | None, _name("Only this region"), OMITTABLE] = None,
    banner: Annotated[str | None, _name("Only this banner"), OMITTABLE] = None,
) -> Page[LocationView]:
    """Stores, distribution centres and e-commerce nodes in code order."""
    where = LocationFilter(kind=kind, region=region, banner=banner)
    after = page.after_code()
    rows, total = catalog_service.locations_page(session, where, page.fetch, after=after)
    return page.of(LocationView, rows, total, key=lambda row: (row.code,))


@router.get("/suppliers", response_model=Page[SupplierView])
def list_suppliers(session: SessionDep, _actor: Reader, page: Pagination) -> Page[SupplierView]:
    """Suppliers in code order, with lead time, capacity, on-time and fill rates."""
    rows, total = catalog_service.suppliers_page(session, page.fetch, after=page.after_code())
    return page.of(SupplierView, rows, total, key=lambda row: (row.code,))


@router.get("/ranging", response_model=Page[RangingView])
def list_ranging(
    session: SessionDep,
    _actor: Reader,
    page: Pagination,
    sku: Annotated[str | None, _code("Only where this item is carried"), OMITTABLE] = None,
    location: Annotated[str | None, _code("Only what this location carries"), OMITTABLE] = None,
) -> Page[RangingView]:
    """Which items which locations carry, in SKU then location order."""
    key = page.position(str, str)
    after = None if key is None else (str(key[0]), str(key[1]))
    rows, total = catalog_service.ranging_page(session, sku, location, page.fetch, after=after)
    return page.of(RangingView, rows, total, key=lambda row: (row.sku, row.location_code))


@router.get("/eligibility", response_model=Eligibility, responses=problem_responses(404))
def eligibility(
    session: SessionDep,
    _actor: Reader,
    sku: Annotated[str, _code("the item's SKU")],
    location: Annotated[str, _code("a location code")],
) -> Eligibility:
    """Can the item be promoted at the location; if not, each rule it breaks and what to do."""
    return catalog_service.item_eligibility(session, sku, location)
