"""`promoflow simulate roi`: business as usual against promoflow on the same seeded calendar."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from promoflow.cli.common import console, err_console, handles_errors

if TYPE_CHECKING:
    from promoflow.simulation.service import RoiReport

app = typer.Typer(no_args_is_help=True)
# The sensitivity table's short names for the assumptions (ArmPolicy fields).
LEVERS = {
    "launch_gates": "gates",
    "pre_launch_planning": "planning",
    "live_monitoring": "monitoring",
    "approvals_in_parallel": "approvals at once",
    "approval_escalation_at_sla": "SLA escalation",
    "approval_handoff_days": "no e-mail handoff",
    "supplier_order_days_before_launch": "PO at submission",
    "price_publication_days_before_launch": "prices week early",
    "late_price_store_share": "no late prices",
    "late_price_days": "late by 0 days",
    "partial_publication_share": "full publication",
}
# Column headers of the sensitivity table (the metric names are too wide for 80 columns).
SHORT = {
    "lost_sales": "lost",
    "stockout_rate": "out %",
    "leftover_units": "left",
    "markdown": "mkdn",
    "margin": "margin",
    "cycle_time_days": "cycle",
    "price_error_rate": "price %",
}


@app.command()
@handles_errors
def roi(
    seeds: int = typer.Option(10, help="Seeded worlds to run (at least 2: the CI is over seeds)"),
    promotions: int = typer.Option(12, help="Promotions on each seed's calendar"),
    seed: int = typer.Option(1, help="First seed; the run uses seed … seed + seeds − 1"),
    sensitivity: bool = typer.Option(
        True, help="Also run BAU with each assumption at promoflow's value"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables"),
    overrides: list[str] = typer.Option(
        [],
        "--set",
        help="NAME=VALUE: a shared setting or a BAU assumption (docs/roi-simulation.md), "
        "e.g. --set gate_expedite_share=0 --set late_price_store_share=0.05",
    ),
) -> None:
    """Lost sales, stockouts, leftovers, margin, cycle time and price errors, both arms."""
    # Imported here so `promoflow --help` does not load SciPy and the planning stack.
    from promoflow.simulation.overrides import apply_overrides
    from promoflow.simulation.service import check_run, simulate_roi

    check_run(seeds, promotions, seed)
    settings, business_as_usual = apply_overrides(overrides)

    def report_progress(done: int, total: int) -> None:
        if not as_json:
            err_console.print(f"seed {done}/{total}", highlight=False)

    report = simulate_roi(
        seeds=seeds,
        promotions=promotions,
        seed=seed,
        sensitivity=sensitivity,
        settings=settings,
        business_as_usual=business_as_usual,
        progress=report_progress,
    )
    if as_json:
        console.print_json(json.dumps(report.as_json()))
        return
    _print(report)


def _number(value: float) -> str:
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def _compact(value: float) -> str:
    """At most seven characters: 16,364 -> 16.4k."""
    return f"{value / 1000:.1f}k" if abs(value) >= 1000 else _number(value)


def _print(report: RoiReport) -> None:
    first, last = report.seeds[0], report.seeds[-1]
    table = Table(
        title=f"ROI simulation: {len(report.seeds)} seeds ({first}–{last}) x "
        f"{report.promotions} promotions, {report.seconds:.1f} s",
        box=box.SIMPLE_HEAVY,
        pad_edge=False,
    )
    for header in ("metric", "BAU", "promoflow", "difference", "95 % CI"):
        table.add_column(header, justify="left" if header == "metric" else "right", no_wrap=True)
    for c in report.comparisons:
        table.add_row(
            c.label,
            _number(c.business_as_usual),
            _number(c.promoflow),
            _number(c.difference),
            f"{_number(c.ci_low)} … {_number(c.ci_high)}",
        )
    console.print(table)
    console.print("difference = promoflow − BAU (business as usual), paired by seed, t-interval")
    if not report.sensitivity:
        return
    sens = Table(
        title="What drives it: BAU with one assumption at promoflow's value (mean change)",
        box=box.SIMPLE_HEAVY,
        pad_edge=False,
    )
    sens.add_column("assumption", no_wrap=True)
    for c in report.comparisons:
        sens.add_column(SHORT[c.metric], justify="right", no_wrap=True)
    for line in report.sensitivity:
        sens.add_row(
            LEVERS[line.assumption], *(_compact(line.effect[c.metric]) for c in report.comparisons)
        )
    console.print(sens)
    for name, short in LEVERS.items():
        console.print(f"  {short}: {name}", highlight=False)
    for metric, assumption in report.drivers().items():
        console.print(f"{metric}: driven most by {assumption}", highlight=False)
