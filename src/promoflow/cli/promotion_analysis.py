"""`promoflow promotions whatif|variance`: a draft's other terms, a launch against its plan.

The services are imported inside the commands: `promotions list` must not load the
forecasting stack (or Polars) that these two need.
"""

from __future__ import annotations

import typer
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.config import get_settings
from promoflow.kit.db import reading
from promoflow.runtime import open_database


@handles_errors
def whatif(
    ref: str = typer.Argument(..., help="Draft promotion id or code"),
    depth: str = typer.Option("", help="Depths to try, % off, comma-separated: 10,20,30"),
    mechanic: str = typer.Option(
        "", help="Mechanics to try, comma-separated (default: the draft's)"
    ),
    display: str = typer.Option("both", help="Display support: on, off or both"),
    feature: str = typer.Option("both", help="Feature (flyer) support: on, off or both"),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON"),
) -> None:
    """Forecast a draft under other depths, mechanics, display and feature (champion model)."""
    from promoflow.whatif.grid import VariantGrid, parse_depths, parse_names
    from promoflow.whatif.service import what_if

    grid = VariantGrid(
        depths=parse_depths(depth), mechanics=parse_names(mechanic), display=display,
        feature=feature,
    )  # fmt: skip
    settings = get_settings()
    runtime = open_database()
    with reading(runtime.sessions) as session:
        answer = what_if(session, ref, grid, currency=settings.currency)
    if as_json:
        console.print_json(answer.model_dump_json())
        return
    model = answer.answered_by
    console.print(
        f"[bold]{answer.promotion}[/] {answer.window}, {answer.items} items x "
        f"{answer.stores} stores; answered by {model.source} {model.model_version}"
        + (f" ({model.note})" if model.note else "")
        + f"; margins in {answer.currency}"
    )
    table = Table("terms", "units P50 (P10-P90)", "uplift", "incr. margin", "stockout", "left")
    for v in answer.variants:
        support = [name for name, on in (("display", v.display), ("feature", v.feature)) if on]
        terms = f"{v.depth_percent:.1f} % {v.mechanic}" + "".join(f" +{s}" for s in support)
        flags = "".join(f" [yellow]! {w.split(':', 1)[0]}[/]" for w in v.warnings)
        table.add_row(
            ("[bold]draft[/] " if v.is_draft else "") + terms + flags,
            f"{v.units_p50:,.0f} ({v.units_p10:,.0f}-{v.units_p90:,.0f})",
            "-" if v.uplift_pct is None else f"{v.uplift_pct:+.0f} %",
            v.incremental_margin.formatted(settings.locale),
            f"{v.stockout_probability_mean:.0%} ({v.item_stores_likely_out} out)",
            f"{v.expected_left_units:,.0f}/{v.available_units:,.0f}",
        )
    console.print(table)


@handles_errors
def variance(
    ref: str = typer.Argument(..., help="Launched promotion id or code"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Planned against actual launch, readiness at launch, lift, sell-through, stockouts."""
    from promoflow.connectors import registry
    from promoflow.execution.variance import execution_variance

    runtime = open_database()
    with reading(runtime.sessions) as session:
        report = execution_variance(session, ref, registry.get_sales_feed(runtime.sessions))
    if as_json:
        console.print_json(report.model_dump_json())
        return
    ready = report.readiness
    console.print(
        f"[bold]{report.promotion}[/] r{report.revision} {report.status}, {report.window}; "
        f"actuals through {report.actuals_through} "
        f"({report.days_covered}/{report.window_days} days)"
    )
    console.print(
        "readiness at launch: "
        + (
            "[green]fully ready[/]"
            if ready.fully_ready
            else f"[red]not ready[/]: {', '.join(ready.not_ready)}"
        )
    )
    launches = Table("channel", "status", "planned launch", "actual launch", "late (h)")
    for c in report.channels:
        launches.add_row(
            c.channel, c.status, _when(c.planned_launch), _when(c.actual_launch),
            "-" if c.late_hours is None else f"{c.late_hours:+.2f}",
        )  # fmt: skip
    console.print(launches)
    stores = Table("store", "channel", "actual launch", "tasks confirmed", "ready")
    for s in report.stores:
        stores.add_row(
            s.store, s.channel, _when(s.actual_launch),
            f"{s.tasks_confirmed_by_launch}/{s.tasks}", "yes" if s.ready_at_launch else "no",
        )  # fmt: skip
    console.print(stores)
    t = report.totals
    console.print(
        f"units: forecast {t.forecast_units:,.0f}, actual {t.actual_units:,.0f}; lift forecast "
        f"{_pct(t.forecast_lift_pct)}, actual {_pct(t.actual_lift_pct)}; sell-through "
        f"{'-' if t.sell_through is None else f'{t.sell_through:.0%}'} of {t.stock_units:,.0f}; "
        f"stockout weeks {t.stockout_weeks} of {t.item_store_weeks} "
        f"({t.item_stores_with_stockout} of {t.item_stores} item x stores)"
    )


def _when(moment: object) -> str:
    return "-" if moment is None else str(moment)[:19]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f} %"
