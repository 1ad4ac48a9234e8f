"""`promoflow models list|show|register|promote|retire|accuracy`: the model registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Column, Table

from promoflow.cli.common import console, handles_errors
from promoflow.forecasting import registry
from promoflow.forecasting.post_event_accuracy import accuracy_by_model
from promoflow.forecasting.registry import ModelVersion, describe_recipe, version_as_dict
from promoflow.forecasting.registry_policy import load_model_policy
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)

STATUS_STYLE = {"champion": "green", "candidate": "yellow", "retired": "dim"}
MODEL_METRICS = ("wape", "wape_promo", "bias", "mase", "coverage_80")


def _status(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def _figure(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) and not isinstance(value, bool) else "-"


@app.command("list")
@handles_errors
def list_models(
    kind: str | None = typer.Option(None, help="Only models of this kind, e.g. demand"),
    status: str | None = typer.Option(None, help="candidate, champion or retired"),
) -> None:
    """List registered model versions with their backtest figures."""
    metric = load_model_policy().promotion.metric
    with open_database().sessions() as session:
        rows = registry.list_versions(session, kind=kind, status=status)
        # The version unwrapped: it is what every other command takes.
        table = Table(
            Column("version", no_wrap=True), "kind", "status", "cutoff", metric, "wape",
            "approver", box=None, pad_edge=False, header_style="bold",
        )  # fmt: skip
        for model in rows:
            table.add_row(
                model.version,
                model.kind,
                _status(model.status),
                model.backtest_cutoff,
                _figure(model.metric(metric)),
                _figure(model.metric("wape")),
                model.approved_by or "-",
            )
    console.print(
        table if rows else "no model versions yet: see `promoflow models register --help`"
    )


@app.command()
@handles_errors
def show(
    version: str = typer.Argument(..., help="Model version"),
    as_json: bool = typer.Option(False, "--json", help="Print the version as JSON"),
) -> None:
    """Show one version: training window, data hash, backtest per model, decisions."""
    with open_database().sessions() as session:
        model = registry.get_version(session, version)
    if as_json:
        console.print_json(json.dumps(version_as_dict(model), default=str))
    else:
        console.print(_panel(model))


@app.command()
@handles_errors
def register(
    metrics: Path = typer.Option(..., help="metrics.json written by `promoflow forecast backtest`"),
    version: str = typer.Option(..., help="The new version, e.g. demand-2026.11.1"),
    data_hash: str | None = typer.Option(None, help="sha256 of the training data"),
    data: Path | None = typer.Option(None, help="The training data file (its sha256 is used)"),
    model: str = typer.Option("promoflow", help="Which model of the backtest this version is"),
    kind: str = typer.Option("demand", help="What the model forecasts"),
    train_start: str | None = typer.Option(None, help="Default: the backtest's first period"),
    train_end: str | None = typer.Option(None, help="Default: the backtest's cutoff"),
    features: str = typer.Option("", help="Feature names, comma-separated"),
    by: str = typer.Option("cli", help="Who registers it"),
    notes: str = typer.Option("", help="Free text kept with the version"),
) -> None:
    """Register a trained model as a candidate from its backtest's metrics.json."""
    backtest = _read_json(metrics)
    digest = _data_hash(data_hash, data)
    data_summary = backtest.get("data")
    summary: dict[str, Any] = data_summary if isinstance(data_summary, dict) else {}
    with transaction(open_database().sessions) as session:
        created = registry.register_candidate(
            session,
            version=version,
            backtest=backtest,
            data_hash=digest,
            training_start=train_start or str(summary.get("first_period", "")),
            training_end=train_end or str(summary.get("cutoff", "")),
            features=[name.strip() for name in features.split(",") if name.strip()],
            backtest_model=model,
            kind=kind,
            notes=notes,
            registered_by=by,
        )
        metric = load_model_policy().promotion.metric
        figure = _figure(created.metric(metric))
    console.print(f"registered [bold]{version}[/] as a {kind} candidate ({metric} {figure})")


@app.command()
@handles_errors
def promote(
    version: str = typer.Argument(..., help="The challenger's version"),
    by: str = typer.Option(..., "--by", help="Who approves"),
    role: str = typer.Option(..., "--role", help="The approver's role"),
    reason: str = typer.Option(..., "--reason", help="Why, for the audit trail"),
) -> None:
    """Make a version champion: it must beat the champion's backtest, and `role` must approve."""
    with transaction(open_database().sessions) as session:
        previous = registry.champion(session, registry.get_version(session, version).kind)
        model = registry.promote(session, version, approved_by=by, role=role, reason=reason)
        replaced = f"; {previous.version} retired" if previous is not None else ""
        kind = model.kind
    console.print(f"[green]{version}[/] is now the {kind} champion{replaced}")


@app.command()
@handles_errors
def retire(
    version: str = typer.Argument(..., help="The version to retire"),
    by: str = typer.Option(..., "--by", help="Who retires it"),
    role: str = typer.Option(..., "--role", help="Their role"),
    reason: str = typer.Option(..., "--reason", help="Why, for the audit trail"),
) -> None:
    """Retire a version (a retired champion leaves its kind without one)."""
    with transaction(open_database().sessions) as session:
        model = registry.retire(session, version, actor=by, role=role, reason=reason)
        kind = model.kind
    console.print(f"{version} retired; promote another {kind} model to replace it if needed")


@app.command()
@handles_errors
def accuracy(
    version: str | None = typer.Option(None, help="Only this model version"),
) -> None:
    """Post-event accuracy per model version, pooled over the promotions recorded."""
    with open_database().sessions() as session:
        rows = accuracy_by_model(session, version)
    table = Table("model", "promotions", "lines", "forecast", "actual", "wape", "bias", "P10–P90")
    for row in rows:
        table.add_row(
            row.model_version,
            str(row.promotions),
            str(row.lines),
            f"{row.forecast_units:,.0f}",
            f"{row.actual_units:,.0f}",
            _figure(row.wape),
            _figure(row.bias),
            _figure(row.coverage_p10_p90),
        )
    console.print(table if rows else "no post-event accuracy recorded yet")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput("metrics", str(path), f"cannot read it: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise InvalidInput("metrics", str(path), f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise InvalidInput("metrics", str(path), "expected the backtest's metrics.json object")
    return document


def _data_hash(given: str | None, data: Path | None) -> str:
    if given is not None and data is None:
        return given.strip().lower()
    if data is None or given is not None:
        raise InvalidInput("data_hash", given, "give either --data-hash or --data (not both)")
    digest = hashlib.sha256()
    try:
        with data.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise InvalidInput("data", str(data), f"cannot read it: {error.strerror}") from error
    return digest.hexdigest()


def recipe_search_table(search: Mapping[str, Any]) -> Table:
    """Every searched recipe's validation scores (recipe.SearchResult.to_json()), best first."""
    chosen = search.get("chosen")
    picked = dict(chosen) if isinstance(chosen, Mapping) else {}
    folds = search.get("fold_cutoffs")
    count = len(folds) if isinstance(folds, list) else 0
    table = Table(
        "", "target", "objective", "prior", "season", "trees", "score", "wape", "wape_promo",
        "sec", box=None, pad_edge=False, header_style="bold", title="recipes searched",
        caption=(
            f"validation inside the training window: {count} fold{'' if count == 1 else 's'} of "
            f"{search.get('horizon', '?')} periods; score = "
            f"{search.get('criterion', 'lower is better')}"
        ),
    )  # fmt: skip
    entries = search.get("candidates")
    rows = [
        dict(e) for e in (entries if isinstance(entries, list) else []) if isinstance(e, Mapping)
    ]
    for entry in sorted(rows, key=lambda e: _sort_key(e.get("score"))):
        mark = "✓" if all(entry.get(k) == v for k, v in picked.items()) else ""
        cells = [
            str(entry.get("target", "-")),
            str(entry.get("objective", "-")),
            _on(entry.get("lift_prior")),
            _on(entry.get("season")),
            str(entry.get("n_estimators", "-")),
            _figure(entry.get("score")),
            _figure(entry.get("wape")),
            _figure(entry.get("wape_promo")),
            _seconds(entry.get("seconds")),
        ]
        if mark:
            cells = [f"[bold]{cell}[/]" for cell in cells]
        table.add_row(mark, *cells)
    return table


def _seconds(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) and not isinstance(value, bool) else "-"


def _on(value: Any) -> str:
    return "-" if value is None else ("on" if value else "off")


def _sort_key(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 1e9


def _recipe_lines(model: ModelVersion) -> list[Any]:
    """The recipe this version was trained with and, when searched, every candidate's scores."""
    search = model.backtest_metrics.get("recipe_search")
    if isinstance(search, Mapping):
        chosen = search.get("chosen")
        return [
            "[bold]recipe[/] "
            + describe_recipe(chosen if isinstance(chosen, Mapping) else {})
            + " (searched inside the backtest's training window; the held-out weeks did not "
            "choose it)",
            recipe_search_table(search),
        ]
    if model.parameters:
        reused = model.backtest_metrics.get("recipe_reused_from")
        how = f"refitted from {reused}, not searched again" if reused else "not searched"
        return [f"[bold]recipe[/] {describe_recipe(model.parameters)} ({how})"]
    return []


def _panel(model: ModelVersion) -> Panel:
    lines: list[Any] = [
        f"[bold]status[/] {_status(model.status)} {model.status_reason}",
        f"[bold]trained on[/] {model.training_start} → {model.training_end}, "
        f"data sha256 {model.data_hash}",
        f"[bold]features[/] {', '.join(model.features) or '-'}",
        f"[bold]backtest[/] cutoff {model.backtest_cutoff}, horizon "
        f"{model.backtest_horizon or '-'}; this version is `{model.backtest_model}`",
    ]
    table = Table("model", "kind", *MODEL_METRICS, box=None, pad_edge=False)
    entries = model.backtest_metrics.get("models")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            name = str(entry.get("model"))
            label = f"[bold]{name}[/]" if name == model.backtest_model else name
            table.add_row(
                label,
                str(entry.get("kind") or "-"),
                *(_figure(entry.get(metric)) for metric in MODEL_METRICS),
            )
    lines.append(table)
    verdict = model.backtest_metrics.get("verdict")
    if isinstance(verdict, str) and verdict:
        lines.append(f"[bold]verdict[/] {verdict}")
    lines.extend(_recipe_lines(model))
    if model.promoted_at is not None:
        lines.append(
            f"[bold]promoted[/] {model.promoted_at:%Y-%m-%d %H:%M} by {model.promoted_by}, "
            f"approved by {model.approved_by} ({model.approver_role}) under policy "
            f"{model.policy_version}"
        )
    if model.retired_at is not None:
        lines.append(f"[bold]retired[/] {model.retired_at:%Y-%m-%d %H:%M} by {model.retired_by}")
    if model.notes:
        lines.append(f"[bold]notes[/] {model.notes}")
    return Panel(Group(*lines), title=f"{model.version} · {model.kind} · {model.status}")
