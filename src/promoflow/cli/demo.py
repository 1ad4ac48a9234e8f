"""`promoflow demo`: seed the retailer and run the storyline, narrated."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url

from promoflow.cli.common import console, handles_errors
from promoflow.cli.render import promotion_panel, styled
from promoflow.config import Settings, get_settings
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import configure_logging
from promoflow.kit.roles import Role
from promoflow.kit.words import clip

if TYPE_CHECKING:
    from promoflow.runtime import Runtime

# The demo's recipe search is bounded: every candidate recipe costs a fit per fold.
# Measured on the demo's 1,500 series on a loaded 2-core machine: training took
# 127 s with the fixed recipe, 575 s with the full search (recipe.FOLDS folds on
# every series), 170 s with one fold on 500 series. One fold on a sample of the
# series chooses the recipe; the backtest and the champion are still fitted on all
# `--train-series`. `promoflow forecast train` searches in full.
DEMO_SEARCH_FOLDS = 1
DEMO_SEARCH_SERIES = 300


def _demo_settings(fresh: bool) -> Settings:
    """The database every command reads, with time compressed: one business hour lasts 0.1 s.

    The demo writes where `promoflow promotions list`, `serve` and every other command
    read (PROMOFLOW_DATABASE_URL, or the SQLite file under the data directory), so its
    promotions are there afterwards. `fresh` deletes that SQLite file first; never in
    production, and never a server database (its rows stay; the demo adds its own).
    """
    os.environ.setdefault("PROMOFLOW_SECONDS_PER_BUSINESS_HOUR", "0.1")
    # Step retries are part of the story and land in the event log; DBOS's own
    # retry warnings would only scribble over the live status table.
    os.environ.setdefault("PROMOFLOW_DBOS_LOG_LEVEL", "ERROR")
    get_settings.cache_clear()
    settings = get_settings()
    if fresh:
        _wipe(settings)
    return settings


def _wipe(settings: Settings) -> None:
    """Delete the SQLite database file (and its journal) the demo is about to fill."""
    url = make_url(settings.resolved_database_url())
    shown = url.render_as_string(hide_password=True)
    if settings.environment == "production":
        raise InvalidInput(
            "--fresh",
            shown,
            "PROMOFLOW_ENVIRONMENT is production: the demo wipes no production database; "
            "run it elsewhere, or with --no-fresh against a database of its own",
        )
    if not settings.is_sqlite:
        console.print(f"--fresh: {shown} is not a SQLite file; nothing is deleted")
        return
    path = Path(url.database or "")
    files = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
    if any(file.exists() for file in files):
        console.print(f"--fresh: deleting {path} (the database every command reads)")
    for file in files:
        file.unlink(missing_ok=True)


def _status_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(expand=True)
    table.add_column("promotion", no_wrap=True)
    table.add_column("story", ratio=2, overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("why", ratio=3, overflow="fold")
    for row in rows:
        table.add_row(row["code"], row["story"], styled(row["status"]), clip(row["reason"], 120))
    return table


@handles_errors
def demo(
    stores: int = typer.Option(50, min=2, help="Stores in the seeded retailer"),
    skus: int = typer.Option(500, min=40, help="SKUs in the seeded retailer"),
    seed: int = typer.Option(42, help="Random seed of the retailer"),
    fresh: bool = typer.Option(
        True,
        help="Delete the SQLite database first (the one every command reads; never in production)",
    ),
    report: Path | None = typer.Option(None, help="Where to write the JSON report"),
    train_series: int = typer.Option(
        1500,
        help="Item x locations the demand model trains on (a sample keeps the demo quick; "
        "0 keeps the history-baseline forecaster)",
    ),
    serve: bool = typer.Option(
        False, "--serve", help="Afterwards, open the web console on the demo's data"
    ),
    port: int = typer.Option(8000, min=1, max=65535, help="The console's port with --serve"),
) -> None:
    """Seed a retailer and run six promotions through the whole lifecycle."""
    from promoflow.migrate import upgrade
    from promoflow.planning.solver import swallow_banner
    from promoflow.runtime import open_database, start_runtime, stop_runtime
    from promoflow.scenario import demo_checks, storyline
    from promoflow.scenario.generator import ScenarioSize, generate

    configure_logging(level="WARNING")
    started = time.monotonic()
    settings = _demo_settings(fresh)
    console.rule("[bold]promoflow demo")
    console.print(f"database: {settings.resolved_database_url()}")
    # The sandbox estate and the scenario tables are the demo migration branch:
    # installed before DBOS launches, so no recovered workflow finds them missing.
    upgrade(open_database(settings).engine, demo=True)
    runtime = start_runtime(settings)
    try:
        size = ScenarioSize(stores=stores, skus=skus, regions=min(5, max(2, stores // 10)))
        with Progress(
            TextColumn("{task.description:<36}"), BarColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("seeding the retailer", total=1.0)

            def on_seed(label: str, fraction: float) -> None:
                progress.update(task, description=label, completed=fraction)

            summary = generate(runtime.sessions, size, seed=seed, progress=on_seed)
        console.print(
            f"retailer: {summary.stores} stores, {summary.dcs} DCs, {summary.skus} "
            f"SKUs, {summary.suppliers} suppliers, {summary.sales_rows:,} item-store-weeks of "
            "sales history"
        )
        if train_series:
            _train_champion(runtime, train_series)
        tag = "DEMO-" + datetime.now().strftime("%H%M%S")
        story = storyline.plan(runtime, summary.today, tag)
        storyline.prepare_stock(story)
        storyline.submit_all(story)
        stories = {p.promotion_id: p.story for p in story.promotions}
        swallow_banner()  # HiGHS's, before the live table shares stdout with the workflows
        with Live(console=console, refresh_per_second=8) as live:

            def on_status(rows: list[dict[str, Any]]) -> None:
                for row in rows:
                    row["story"] = stories[row["id"]]
                live.update(_status_table(rows))

            finished = storyline.run(story, on_status)
        if not console.is_terminal:
            console.line()  # the live table's last frame ends without one
        reports = demo_checks.reports(story)
        for item in reports:
            console.print(promotion_panel(item, settings.locale))
        checks = demo_checks.checks(story, reports)
        for name, check in checks.items():
            mark = "[green]✓[/]" if check["ok"] else "[red]✗[/]"
            console.print(f"{mark} {name}: {check['detail']}")
        path = report or settings.data_dir / f"promoflow-report-{tag}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "retailer": summary.as_json(),
                    "promotions": reports,
                    "checks": checks,
                    "seconds": round(time.monotonic() - started, 1),
                },
                indent=2,
                default=str,
            )
        )
        _write_post_event_reports(runtime, reports, path)
        console.print(f"report: [bold]{path.resolve()}[/] ({time.monotonic() - started:.0f} s)")
        succeeded = finished and all(c["ok"] for c in checks.values())
    finally:
        stop_runtime()
    if serve:
        _serve_console(settings, port, succeeded)
    if not succeeded:
        raise typer.Exit(code=1)


def _write_post_event_reports(runtime: Runtime, reports: list[dict[str, Any]], path: Path) -> None:
    """Each closed promotion's post-event report (`report promotion`'s JSON) beside the
    demo's report: `<report>.<code>.post-event.json`."""
    from promoflow.connectors import registry
    from promoflow.kit.errors import PromoflowError
    from promoflow.postevent import commands, service

    for item in reports:
        if item["status"] != "closed":
            continue
        code = str(item["code"])
        try:
            report = commands.report_for(
                runtime.sessions,
                code,
                currency=runtime.settings.currency,
                sales_feed=registry.get_sales_feed(runtime.sessions),
                ledger=service.sandbox_ledger(runtime.sessions),
            )
        except PromoflowError as error:  # the demo's story stands; say what is missing
            console.print(f"[red]post-event report of {code} not written: {error}[/]")
            continue
        target = path.with_name(f"{path.stem}.{code}.post-event.json")
        target.write_text(json.dumps(report, indent=2) + "\n")
        units = report["units"]
        console.print(
            f"post-event {code}: {units['sold']:,.0f} sold, {units['incremental']:,.1f} "
            f"incremental, reconciliation {report['reconciliation']['status']} -> {target.name}"
        )


def _serve_console(settings: Settings, port: int, succeeded: bool) -> None:
    """Become `promoflow serve` on the demo's database: the console, until Ctrl-C."""
    url = f"http://127.0.0.1:{port}/"
    console.rule("[bold]the console")
    if not succeeded:
        console.print("[red]some of the demo's checks failed (see above)[/]")
    console.print(f"open [bold]{url}[/] (Ctrl-C stops it)")
    if settings.environment == "development":
        console.print("sign in with the role picker: any role, every banner (development only)")
    else:
        console.print("sign in with an API key: `promoflow auth keys create --help`")
    sys.stdout.flush()
    # A new process, not this one: the demo's runtime has stopped, and DBOS is not
    # launched twice in one process. Same environment, so the same database.
    command = "from promoflow.cli.main import app; app()"
    os.execv(sys.executable, [sys.executable, "-c", command, "serve", "--port", str(port)])  # noqa: S606 (argv, no shell)


def _train_champion(runtime: Runtime, series: int) -> None:
    """Train the demand model on a sample, register it, and promote it only if it wins.

    The bar is the first champion's (registry.promote): the backtest's promotion-week
    WAPE below the best comparator's or baseline's. A model that does not clear it
    stays a candidate and the workflow keeps the history-baseline forecaster; the
    demo's story runs either way.
    """
    from promoflow.forecasting import registry
    from promoflow.forecasting.backtest import OUR_MODEL
    from promoflow.forecasting.registry_policy import against_baselines, load_model_policy
    from promoflow.forecasting.training import (
        load_estate_history,
        register_trained,
        train_demand_model,
    )
    from promoflow.kit.clock import utcnow
    from promoflow.kit.db import transaction
    from promoflow.kit.errors import Conflict
    from promoflow.scenario.desk import PEOPLE

    with transaction(runtime.sessions) as session:
        current = registry.champion(session)
        if current is not None:
            console.print(f"demand model: champion {current.version} (already trained)")
            return
        history = load_estate_history(session)
    with console.status(f"training the demand model on {series:,} item x locations ..."):
        trained = train_demand_model(
            history,
            max_series=series,
            folds=DEMO_SEARCH_FOLDS,
            search_series=min(series, DEMO_SEARCH_SERIES),
        )
    now = utcnow()
    version = f"demand-demo-{trained.data_hash[:8]}"
    planner = PEOPLE[Role.SUPPLY_CHAIN_PLANNER][0]
    policy = load_model_policy()
    with transaction(runtime.sessions) as session:
        register_trained(session, trained, version=version, registered_by="demo", now=now)
    recipe = registry.describe_recipe(trained.search.get("chosen", {}))
    console.print(
        f"demand model: {version} trained on {trained.series:,} series in "
        f"{trained.seconds:.0f} s; recipe chosen inside the backtest's training window: {recipe}"
    )
    try:
        judgement = against_baselines(trained.backtest, OUR_MODEL, policy, version=version)
    except Conflict as refused:
        console.print(
            f"demand model: {version} stays a candidate, not promoted: {refused.message}. "
            "The workflow keeps forecasting with the history-baseline forecaster."
        )
        return
    reason = judgement.reason()
    with transaction(runtime.sessions) as session:
        registry.promote(
            session,
            version,
            approved_by=planner,
            role=Role.SUPPLY_CHAIN_PLANNER,
            reason=reason,
            now=now,
        )
    console.print(f"demand model: {version} is the champion, approved by {planner}: {reason}")
