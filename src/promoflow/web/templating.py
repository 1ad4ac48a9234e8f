"""The console's Jinja environment: templates, and how times, clocks and money read.

Times are shown in the person's time zone with the zone named (`pf_tz` cookie,
set by console.js from the browser's zone; UTC until it is known). Money reads
in the configured currency through Babel.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from promoflow.kit.clock import utcnow
from promoflow.kit.money import format_money

TEMPLATES = Path(__file__).parent / "templates"
TZ_COOKIE = "pf_tz"
LOCALE = "en_GB"


def zone_of(request: Request) -> ZoneInfo:
    """The person's time zone from the cookie console.js sets; UTC when unknown or invalid."""
    name = unquote(request.cookies.get(TZ_COOKIE, ""))
    if name and len(name) <= 64:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def when(value: datetime | None, zone: ZoneInfo) -> str:
    """`6 Dec 2026, 21:14 CET`: a moment in the person's zone, the zone named."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_datetime(value, "d MMM y, HH:mm zzz", tzinfo=zone, locale=LOCALE)


def duration(delta: timedelta) -> str:
    """`2 d 3 h`, `3 h 20 min`, `12 min`: a span as a person reads it."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def sla_clock(due: datetime | None, now: datetime) -> Markup:
    """The SLA clock of a deadline: time left, or how long overdue, with its state's class."""
    if due is None:
        return Markup('<span class="clock">no deadline</span>')
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    left = due - now
    if left.total_seconds() < 0:
        return Markup('<span class="clock overdue">overdue by {}</span>').format(duration(left))
    state = "soon" if left < timedelta(hours=4) else "ok"
    return Markup('<span class="clock {}">due in {}</span>').format(state, duration(left))


def money(
    value: Decimal | float | int | dict[str, str] | None, currency: str, locale: str = LOCALE
) -> str:
    """`€1,234.50`: an amount in the configured currency, or a report's
    {"amount", "currency"} in its own."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return format_money(value["amount"], value["currency"], locale)
    return str(format_currency(Decimal(str(value)), currency, locale=locale))


def number(value: Decimal | float | int | None, digits: int = 0) -> str:
    """`1,234`: a count or quantity with grouping."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(Decimal(str(value)), format=pattern, locale=LOCALE))


def percent(value: Decimal | float | None, digits: int = 0) -> str:
    """`25 %`: a share or a depth (given as a fraction)."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f} %"


def build_templates(currency: str, locale: str = LOCALE) -> Jinja2Templates:
    """The environment every page renders with (amounts in PROMOFLOW_CURRENCY and _LOCALE)."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["money"] = lambda value: money(value, currency, locale)
    env.filters["number"] = number
    env.filters["percent"] = percent
    env.filters["duration"] = duration
    env.globals["currency"] = currency
    return templates


def page_context(request: Request, **values: Any) -> dict[str, Any]:
    """What every page's template needs besides its own values."""
    zone = zone_of(request)
    now = utcnow()
    return {
        "request": request,
        "zone": zone,
        "now": now,
        "when": lambda value: when(value, zone),
        "clock": lambda due: sla_clock(due, now),
        **values,
    }


# Scripts only from the console's own origin (htmx, Plotly and console.js are
# served from declared packages); Plotly writes <style> elements as it draws,
# hence 'unsafe-inline' for styles, never for scripts.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def render(
    request: Request, template: str, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """A page (or an htmx fragment) rendered with the console's environment and CSP."""
    templates: Jinja2Templates = request.app.state.console_templates
    response = templates.TemplateResponse(
        request, template, page_context(request, **values), status_code=status_code
    )
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    response.headers["Cache-Control"] = "no-store"
    # The API's no-referrer would make browsers send `Origin: null` with the console's
    # own forms; same-origin keeps the origin (for the sign-in check) inside the site.
    response.headers["Referrer-Policy"] = "same-origin"
    return response
