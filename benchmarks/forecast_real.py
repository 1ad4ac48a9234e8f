"""Demand model accuracy on real retail panels (and our generated retailer), rolling origins.

    uv run python benchmarks/forecast_real.py [--dataset cheese|tuna|generated|all]
        [--final] [--output figures.json]

Each dataset is backtested at several cutoffs (`real_panels.py` declares them):
fit on every period up to the cutoff, forecast the next `horizon` periods, score
every model on the same recorded, uncensored rows. Our model searches its recipe
inside each training window (recipe.py), so no scored week ever chooses it.
Figures are means over the origins of each origin's metrics.

`--final` runs only each real panel's last origin, the final check that was run
once when the recipe was settled and never while choosing it. The generated
retailer has no final origin: it is our own data, whose demand is built in the
same form as the model's SCAN*PRO prior, so its figures flatter the model.

Printed per dataset: every model's WAPE (all, promotion weeks, other weeks),
bias, 80 % interval coverage on promotion and other rows, seconds; then our
model against the plain LightGBM comparator (the targets of issue 14) and the
share of our time spent searching the recipe.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import real_panels
from sqlalchemy.orm import sessionmaker

from promoflow.forecasting.comparators import PLAIN_LIGHTGBM
from promoflow.forecasting.dataset import period_value
from promoflow.forecasting.panel import Panel
from promoflow.forecasting.promotion_model import history_panel
from promoflow.forecasting.recipe import SearchedDemandModel
from promoflow.forecasting.rolling import run_rolling_backtest
from promoflow.forecasting.training import load_estate_history
from promoflow.kit.db import make_engine, transaction
from promoflow.migrate import upgrade
from promoflow.scenario.generator import ScenarioSize, generate

OURS = "promoflow"
SHOWN = (
    "wape",
    "wape_promo",
    "wape_non_promo",
    "bias",
    "coverage_80_promo",
    "coverage_80_non_promo",
    "seconds",
)
GENERATED = real_panels.Origins(horizon=13, last_dev_cutoff=90, dev_origins=4, final_cutoff=90)


def generated_panel(size: ScenarioSize, seed: int) -> Panel:
    """The scenario generator's retailer, as `promoflow forecast train` sees it."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/real.db")
        upgrade(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        generate(sessions, size, seed=seed, today=date(2026, 11, 2))
        with transaction(sessions) as session:
            history = load_estate_history(session)
        engine.dispose()
    return history_panel(history)


class TimedSearch(SearchedDemandModel):
    """Our default model; remembers how long each fit spent searching the recipe."""

    searches: list[float] = []  # noqa: RUF012 (one list for the run, read by main)
    chosen: list[dict[str, Any]] = []  # noqa: RUF012

    def fit(self, history: Panel) -> TimedSearch:
        super().fit(history)
        assert self.search is not None
        TimedSearch.searches.append(self.search.seconds)
        TimedSearch.chosen.append(self.search.to_json()["chosen"])
        return self


def run(name: str, panel: Panel, origins: real_panels.Origins, *, final: bool) -> dict[str, Any]:
    """Backtest one dataset on its origins; the figures and the comparison."""
    TimedSearch.searches, TimedSearch.chosen = [], []
    cutoff = origins.final_cutoff if final else origins.last_dev_cutoff
    started = time.perf_counter()
    result = run_rolling_backtest(
        panel,
        origins.horizon,
        origins=1 if final else origins.dev_origins,
        last_cutoff=period_value(panel, cutoff - 1) if panel.periods_are_dates else cutoff,
        model_factory=lambda: TimedSearch(horizon=origins.horizon),
    )
    document = result.to_json()
    models = {m["model"]: m for m in document["models"]}
    ours, plain = models[OURS], models[PLAIN_LIGHTGBM]
    search = sum(TimedSearch.searches)
    fit_alone = ours["seconds"] * len(TimedSearch.searches) - search
    return {
        "dataset": name,
        "origins": document["data"].get("cutoffs"),
        "horizon": origins.horizon,
        "final_check": final,
        "models": [
            {"model": m["model"], **{k: m.get(k) for k in SHOWN}} for m in document["models"]
        ],
        "chosen_recipes": TimedSearch.chosen,
        "per_origin": [_origin(o) for o in document.get("origins", [])],
        "against_plain_lightgbm": {
            "promo_wape_lower_pct": _lower(ours["wape_promo"], plain["wape_promo"]),
            "wape_lower_pct": _lower(ours["wape"], plain["wape"]),
            "seconds_ratio_with_search": _ratio(ours["seconds"], plain["seconds"]),
            "seconds_ratio_chosen_recipe_only": _ratio(
                fit_alone / max(len(TimedSearch.searches), 1), plain["seconds"]
            ),
        },
        "verdict": document.get("verdict"),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _origin(document: dict[str, Any]) -> dict[str, Any]:
    """One origin: its cutoff, our figures and the plain comparator's promotion WAPE."""
    models = {m["model"]: m for m in document["models"]}
    ours, plain = models[OURS], models.get(PLAIN_LIGHTGBM, {})
    keys = ("wape", "wape_promo", "coverage_80_promo", "coverage_80_non_promo")
    return {
        "cutoff": document["data"]["cutoff"],
        **{k: ours.get(k) for k in keys},
        "plain_wape_promo": plain.get("wape_promo"),
    }


def _lower(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or not theirs:
        return None
    return round(100 * (theirs - ours) / theirs, 1)


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or not theirs:
        return None
    return round(ours / theirs, 2)


def _print(figures: dict[str, Any]) -> None:
    title = "FINAL CHECK" if figures["final_check"] else "development origins"
    print(f"\n{figures['dataset']}: {title} {figures['origins']}, horizon {figures['horizon']}")
    print(f"{'model':<22}" + "".join(f"{k[:14]:>16}" for k in SHOWN))
    for model in figures["models"]:
        cells = "".join(f"{'-' if model[k] is None else round(model[k], 3):>16}" for k in SHOWN)
        print(f"{model['model']:<22}{cells}")
    for origin in figures["per_origin"]:
        print("  origin", json.dumps(origin))
    print("against plain LightGBM:", json.dumps(figures["against_plain_lightgbm"]))
    print("verdict:", figures["verdict"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", choices=("cheese", "tuna", "generated", "all"), default="all")
    parser.add_argument("--final", action="store_true", help="the held-back last origins only")
    parser.add_argument("--data-dir", type=Path, default=real_panels.REAL)
    # The small retailer (600 item x stores): the search fits 21 models per origin.
    parser.add_argument("--size", choices=("small", "default"), default="small")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    wanted = ("cheese", "tuna", "generated") if args.dataset == "all" else (args.dataset,)
    report = []
    for name in wanted:
        if name == "generated":
            if args.final:
                continue
            size = ScenarioSize.small() if args.size == "small" else ScenarioSize.default()
            figures = run(name, generated_panel(size, 7), GENERATED, final=False)
        else:
            loaded = (
                real_panels.cheese(args.data_dir)
                if name == "cheese"
                else real_panels.tuna(args.data_dir)
            )
            origins = real_panels.CHEESE if name == "cheese" else real_panels.TUNA
            figures = run(name, loaded.panel, origins, final=args.final)
        _print(figures)
        report.append(figures)
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
