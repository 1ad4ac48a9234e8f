"""`promoflow forecast backtest`: our demand model against comparators and baselines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import Role

# `forecast train --recipe`: search anew, or refit the champion's recipe.
RECIPE_CHOICES = ("search", "champion")

if TYPE_CHECKING:
    from promoflow.forecasting.backtest import BacktestResult, ModelScore
    from promoflow.forecasting.rolling import RollingResult

app = typer.Typer(no_args_is_help=True)


def _names(text: str) -> tuple[str, ...]:
    """'a, b,,c' -> ('a', 'b', 'c')."""
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


@app.command()
@handles_errors
def backtest(
    data: Path = typer.Option(..., help="Sales history, .csv or .parquet"),
    id_cols: str = typer.Option(..., help="Columns that identify a series, e.g. item,location"),
    time_col: str = typer.Option(..., help="The period column: integers or ISO dates"),
    target: str = typer.Option(..., help="The demand column to forecast, e.g. units"),
    horizon: int = typer.Option(..., help="Periods to hold out and forecast"),
    output: Path = typer.Option(..., help="Where to write metrics.json"),
    known_covariates: str = typer.Option(
        "", help="Columns known ahead for the horizon, e.g. price,on_promo"
    ),
    promo_cols: str = typer.Option(
        "", help="Known covariates that describe the promotion (non-zero = on promotion)"
    ),
    static_cols: str = typer.Option("", help="Columns constant within a series, e.g. region"),
    category_col: str | None = typer.Option(
        None,
        help="A static column whose series share a season and a price elasticity (a category)",
    ),
    censor_col: str | None = typer.Option(
        None, help="Non-zero/true where sales were capped by a stockout"
    ),
    cutoff: str | None = typer.Option(
        None,
        help="Last training period (a period of the data); default: horizon from the end. "
        "With --origins above 1, the last origin's cutoff",
    ),
    origins: int = typer.Option(
        1, help="Cutoffs to backtest at, --step periods apart, ending at --cutoff; metrics averaged"
    ),
    step: int | None = typer.Option(
        None, help="Periods between two origins' cutoffs; default: the horizon"
    ),
    group_col: str = typer.Option(
        "",
        help="Static columns whose shared values make series siblings (e.g. category,store); "
        "default: --category-col",
    ),
    season_length: int | None = typer.Option(
        None, help="Seasonal naive period; default 52 for weekly dates, else no seasonal naive"
    ),
    predictions: Path | None = typer.Option(
        None, help="Also write every scored row's forecasts (.csv or .parquet)"
    ),
) -> None:
    """Hold out the last periods, fit on the rest, score our model, comparators and baselines."""
    # Here, not at the top: the forecasting stack (statsforecast, statsmodels, dask)
    # takes seconds to import, and every other CLI command would pay for it.
    from promoflow.forecasting.backtest import (
        PREDICTION_FORMATS,
        check_output_path,
        run_backtest,
        write_metrics,
        write_predictions,
    )
    from promoflow.forecasting.dataset import load_panel
    from promoflow.forecasting.panel import PanelSpec
    from promoflow.forecasting.rolling import run_rolling_backtest

    check_output_path(output, "output")
    if predictions is not None:
        check_output_path(predictions, "predictions", PREDICTION_FORMATS)
    spec = PanelSpec(
        id_cols=_names(id_cols),
        time_col=time_col.strip(),
        target=target.strip(),
        known_covariates=_names(known_covariates),
        promo_cols=_names(promo_cols),
        static_cols=_names(static_cols),
        category_col=category_col.strip() if category_col else None,
        censor_col=censor_col.strip() if censor_col else None,
        group_cols=_names(group_col),
    )
    loaded = load_panel(data, spec)
    result: BacktestResult | RollingResult
    if origins == 1 and step is None:
        with console.status("fitting and forecasting every model…"):
            result = run_backtest(loaded.panel, horizon, cutoff, season_length)
        title = _title(result.summary)
    else:
        with console.status(f"fitting and forecasting every model at {origins} origins…"):
            result = run_rolling_backtest(
                loaded.panel, horizon, origins, step, cutoff, season_length
            )
        title = _rolling_title(result.summary)
    if predictions is not None:
        write_predictions(result, loaded, predictions)
    write_metrics(result, output)
    console.print(_table(result.scores, title))
    console.print(_verdict(result))
    console.print(f"metrics: {output}" + (f"  predictions: {predictions}" if predictions else ""))


def _title(data: dict[str, object]) -> str:
    return (
        f"{data['series']} series, cutoff {data['cutoff']}, next {data['horizon']} periods: "
        f"{data['scored_rows']} rows scored ({data['promo_rows']} on promotion), "
        f"{data['censored_rows_left_out']} censored left out"
    )


def _rolling_title(data: dict[str, object]) -> str:
    cutoffs = data["cutoffs"]
    assert isinstance(cutoffs, list)
    return (
        f"{data['series']} series, {len(cutoffs)} origins (cutoffs {', '.join(map(str, cutoffs))}),"
        f" next {data['horizon']} periods after each; means over the origins of "
        f"{data['scored_rows']} rows scored in all ({data['promo_rows']} on promotion), "
        f"{data['censored_rows_left_out']} censored left out"
    )


def _table(scores: list[ModelScore], title: str) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        # The box's blank divider is the only gap: eleven columns fit an 80-column terminal.
        padding=0,
        caption=(
            "WAPE over all scored rows, on promotion and other; 80% interval coverage over all "
            "rows, on promotion and other, and mean width in units; seconds to fit and predict"
        ),
        title=title,
    )
    table.add_column("model", no_wrap=True)
    # Short headers keep the table whole in an 80-column terminal.
    headers = ("WAPE", "promo", "other", "bias", "MASE", "cov", "promo", "other", "width", "sec")
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for score in scores:
        m = score.metrics
        name = f"[bold]{score.model}[/]" if score.kind == "model" else score.model
        table.add_row(
            name,
            _pct(m["wape"]),
            _pct(m["wape_promo"]),
            _pct(m["wape_non_promo"]),
            _pct(m["bias"], signed=True),
            _num(m["mase"]),
            _pct(m["coverage_80"], digits=0),
            _pct(m["coverage_80_promo"], digits=0),
            _pct(m["coverage_80_non_promo"], digits=0),
            _width(m["interval_width_80"]),
            f"{score.seconds:.0f}",
        )
    return table


def _verdict(result: BacktestResult | RollingResult) -> str:
    lines = [f"skipped {s.model}: {s.reason}" for s in result.skipped]
    return "\n".join([*lines, result.verdict])


def _pct(value: float | None, *, signed: bool = False, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{100 * value:+.{digits}f}%" if signed else f"{100 * value:.{digits}f}%"


def _width(value: float | None) -> str:
    """Units in at most 6 characters: 2 decimals for slow sellers, then whole units, then
    a power of ten (a runaway interval)."""
    if value is None:
        return "—"
    if abs(value) < 100:
        return f"{value:.2f}"
    return f"{value:,.0f}" if abs(value) < 1e5 else f"{value:.0e}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@app.command()
@handles_errors
def train(
    version: str | None = typer.Option(
        None, help="Registry version (default demand-<date>-<hash>)"
    ),
    weeks: int = typer.Option(104, help="Weeks of sales history to learn from"),
    horizon: int = typer.Option(13, help="Weeks held out for the backtest"),
    max_series: int | None = typer.Option(
        None, help="Train on a random sample of this many item x locations (default: all)"
    ),
    by: str = typer.Option("system", help="Who registers the model"),
    recipe: str = typer.Option(
        "search",
        help="search: choose the recipe anew (about 20 fits); champion: refit the "
        "champion's recipe as it is (one fit), for the weekly retrain",
    ),
    folds: int | None = typer.Option(
        None, help="Validation folds of the recipe search (default 3; fewer: cheaper, noisier)"
    ),
    search_series: int | None = typer.Option(
        None, help="Search the recipe on a random sample of this many series (default: all)"
    ),
) -> None:
    """Search the recipe, train the demand model on the database's sales, backtest it, register.

    The recipe is searched inside the backtest's training window (the held-out weeks
    never choose it); the backtest scores it against the comparators, the baselines
    and the current champion's recipe on the same weeks, so `promoflow models
    promote` can judge the new model fairly. `--recipe champion` skips the search
    and refits the champion's recipe.
    """
    from promoflow.cli.models import recipe_search_table
    from promoflow.forecasting.recipe import FOLDS
    from promoflow.forecasting.registry import describe_recipe
    from promoflow.forecasting.training import (
        champion_recipe,
        load_estate_history,
        register_trained,
        train_demand_model,
    )
    from promoflow.kit.clock import utcnow
    from promoflow.kit.db import transaction
    from promoflow.runtime import open_database

    if recipe not in RECIPE_CHOICES:
        raise InvalidInput("--recipe", recipe, f"use one of {', '.join(RECIPE_CHOICES)}")
    if folds is not None and folds < 1:
        raise InvalidInput("--folds", folds, "use 1 or more")
    if search_series is not None and search_series < 1:
        raise InvalidInput("--search-series", search_series, "use 1 or more, or leave it out")
    runtime = open_database()
    with transaction(runtime.sessions) as session:
        champion = champion_recipe(session)
        if recipe == "champion" and champion is None:
            raise InvalidInput(
                "--recipe", recipe, "there is no champion yet; train with --recipe search"
            )
        history = load_estate_history(session, weeks=weeks)
    doing = "refitting the champion's recipe" if recipe == "champion" else "searching the recipe"
    with console.status(f"{doing} and training on {history.height:,} weekly rows ..."):
        trained = train_demand_model(
            history,
            horizon=horizon,
            max_series=max_series,
            champion=None if recipe == "champion" else champion,
            folds=FOLDS if folds is None else folds,
            search_series=search_series,
            reuse=champion if recipe == "champion" else None,
        )
    now = utcnow()
    name = version or f"demand-{now:%Y%m%d-%H%M}-{trained.data_hash[:8]}"
    with transaction(runtime.sessions) as session:
        register_trained(session, trained, version=name, registered_by=by, now=now)
    console.print(f"[bold]recipe[/] {describe_recipe(trained.search.get('chosen', {}))}")
    if trained.search.get("reused_from"):
        console.print(f"refitted the recipe of {trained.search['reused_from']}: nothing searched")
    else:
        console.print(recipe_search_table(trained.search))
    console.print(_scores_table(trained.backtest))
    verdict = trained.backtest.get("verdict")
    if not isinstance(verdict, str) or not verdict:
        gain = trained.backtest.get("improvement_over_best_baseline_pct")
        said = f"{gain:+.1f} %" if isinstance(gain, int | float) else "n/a"
        verdict = f"best baseline {trained.backtest.get('best_baseline')}; our improvement {said}"
    console.print(f"[bold]verdict[/] {verdict}")
    console.print(
        f"registered [bold]{name}[/] as a candidate: {trained.series:,} series, "
        f"{trained.rows:,} rows, {trained.seconds:.0f} s. Make it the champion with "
        f"`promoflow models promote {name} --by NAME --role {Role.SUPPLY_CHAIN_PLANNER} "
        "--reason ...`."
    )


def _scores_table(document: dict[str, object]) -> Table:
    table = Table(
        "model", "kind", "WAPE", "promo WAPE", "bias", "80% coverage", box=box.SIMPLE,
        title="backtest on the held-out weeks",
    )  # fmt: skip
    models = document.get("models", [])
    assert isinstance(models, list)
    for entry in models:
        table.add_row(
            str(entry["model"]),
            str(entry.get("kind") or "-"),
            _pct(entry.get("wape")),
            _pct(entry.get("wape_promo")),
            _pct(entry.get("bias"), signed=True),
            _pct(entry.get("coverage_80")),
        )
    return table
