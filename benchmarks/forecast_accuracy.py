"""Forecast accuracy on the scenario generator's retailer, where the true lift is known.

Seeds a retailer into a scratch SQLite database, holds out the last `--horizon`
weeks, backtests our model against the baselines on them (promotion-week WAPE
and the rest, as `promoflow forecast backtest` reports) and compares each
held-out promotion's forecast uplift with the generator's ground truth
(`scenario_promotion_truth`: expected demand with and without the promotion).

Two readings of "uplift within ±15 % of truth", both printed:
- lift: forecast (promoted / baseline) against true (promoted / baseline);
- incremental units: forecast (promoted - baseline) against the true difference.

And, row by row over the held-out promoted weeks, stockout weeks included:
WAPE and bias of the forecast against the true expected demand and against the
demand shoppers actually brought (before the shelf capped it), and of the
baseline against the true baseline. The backtest's promotion-week WAPE scores
only uncensored weeks, whose sales are the low side of demand, so it rewards a
forecast that is too low; these do not.

    uv run python benchmarks/forecast_accuracy.py [--size small|default] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import sessionmaker

from promoflow.forecasting.backtest import run_backtest
from promoflow.forecasting.model import GlobalDemandModel
from promoflow.forecasting.panel import Panel
from promoflow.forecasting.promotion_model import history_panel
from promoflow.forecasting.training import load_estate_history
from promoflow.kit.db import make_engine, transaction
from promoflow.migrate import upgrade
from promoflow.scenario.generator import ScenarioSize, generate

TOLERANCE = 0.15


class RecordingModel(GlobalDemandModel):
    """The real model; keeps its last predictions so the benchmark can read the baseline."""

    last: pl.DataFrame | None = None

    def predict(self, future: pl.DataFrame, history: Panel | None = None) -> pl.DataFrame:
        predicted = super().predict(future, history)
        RecordingModel.last = predicted
        return predicted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=("small", "default"), default="default")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--horizon", type=int, default=13)
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument(
        "--events", type=Path, default=None, help="write each held-out promotion's errors as CSV"
    )
    args = parser.parse_args()
    size = ScenarioSize.small() if args.size == "small" else ScenarioSize.default()

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/accuracy.db")
        upgrade(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        started = time.perf_counter()
        generate(sessions, size, seed=args.seed, today=date(2026, 11, 2))
        seeded = time.perf_counter() - started
        with transaction(sessions) as session:
            history = load_estate_history(session)
            truth = pl.read_database(
                "select t.item_id, t.location_id, t.week, t.event_id, t.true_baseline_units, "
                "t.true_demand_units, t.realised_demand_units from scenario_promotion_truth t",
                session.connection(),
            )
        engine.dispose()

    panel = history_panel(history)
    started = time.perf_counter()
    result = run_backtest(panel, args.horizon, model_factory=RecordingModel)
    backtest_seconds = time.perf_counter() - started
    assert RecordingModel.last is not None
    events = uplift_by_event(panel, RecordingModel.last, truth)
    if args.events:
        events.join(describe_events(panel, truth), on="event_id", how="left").write_csv(args.events)
    report = figures(result.to_json(), events, panel, seeded, backtest_seconds, args)
    report["promoted_rows_against_truth"] = against_truth(panel, RecordingModel.last, truth)
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2))


def _with_truth(panel: Panel, predicted: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Held-out promoted rows: the model's forecast and baseline beside the generator's truth."""
    weeks = panel.calendar.select("ds", pl.col("period").alias("week"))
    if truth.schema["week"] == pl.String:  # SQLite hands dates back as text
        truth = truth.with_columns(pl.col("week").str.to_date())
    keyed = truth.join(weeks, on="week").with_columns(
        pl.concat_str(
            [pl.col("item_id").cast(pl.String), pl.col("location_id").cast(pl.String)],
            separator="|",
        ).alias("unique_id")
    )
    return keyed.join(predicted, on=["unique_id", "ds"], how="inner")


def against_truth(
    panel: Panel, predicted: pl.DataFrame, truth: pl.DataFrame
) -> dict[str, dict[str, float]]:
    """WAPE and bias on every held-out promoted row, stockout weeks included."""
    rows = _with_truth(panel, predicted, truth)

    def score(forecast: str, actual: str) -> dict[str, float]:
        error = rows.select(
            ((pl.col(forecast) - pl.col(actual)).abs().sum() / pl.col(actual).sum()).alias("w"),
            (pl.col(forecast).sum() / pl.col(actual).sum() - 1).alias("b"),
        ).row(0, named=True)
        return {"wape": round(float(error["w"]), 4), "bias": round(float(error["b"]), 4)}

    return {
        "forecast_vs_expected_demand": score("forecast", "true_demand_units"),
        "forecast_vs_realised_demand": score("forecast", "realised_demand_units"),
        "baseline_vs_true_baseline": score("baseline", "true_baseline_units"),
    }


def uplift_by_event(panel: Panel, predicted: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Per held-out promotion event: true and forecast lift and incremental units."""
    joined = _with_truth(panel, predicted, truth)
    return (
        joined.group_by("event_id")
        .agg(
            pl.len().alias("item_location_weeks"),
            pl.col("true_baseline_units").sum().alias("true_baseline"),
            pl.col("true_demand_units").sum().alias("true_promoted"),
            pl.col("baseline").sum().alias("forecast_baseline"),
            pl.col("forecast").sum().alias("forecast_promoted"),
        )
        .with_columns(
            (
                (pl.col("forecast_promoted") / pl.col("forecast_baseline"))
                / (pl.col("true_promoted") / pl.col("true_baseline"))
                - 1
            ).alias("lift_error"),
            (
                (pl.col("forecast_promoted") - pl.col("forecast_baseline"))
                / (pl.col("true_promoted") - pl.col("true_baseline"))
                - 1
            ).alias("incremental_error"),
        )
        .sort("event_id")
    )


def describe_events(panel: Panel, truth: pl.DataFrame) -> pl.DataFrame:
    """Per event, what it promised (mean relative price, mechanic, display, feature, siblings)."""
    keyed = truth.select(
        "event_id",
        pl.concat_str(
            [pl.col("item_id").cast(pl.String), pl.col("location_id").cast(pl.String)],
            separator="|",
        ).alias("unique_id"),
        "week",
    ).unique()
    weeks = panel.calendar.select("ds", pl.col("period").alias("week"))
    if keyed.schema["week"] == pl.String:
        keyed = keyed.with_columns(pl.col("week").str.to_date())
    rows = keyed.join(weeks, on="week").join(panel.frame, on=["unique_id", "ds"])
    usual = (
        panel.frame.filter(pl.col("on_promo") == 0)
        .group_by("unique_id")
        .agg(pl.col("price").median().alias("usual_price"))
    )
    return (
        rows.join(usual, on="unique_id", how="left")
        .group_by("event_id")
        .agg(
            (1 - pl.col("price") / pl.col("usual_price")).mean().alias("discount_depth"),
            pl.col("mechanic_code").mode().first().alias("mechanic_code"),
            pl.col("display").mean().alias("display"),
            pl.col("feature").mean().alias("feature"),
            pl.col("category_promotions").mean().alias("category_promotions"),
            pl.col("unique_id").n_unique().alias("item_locations"),
            pl.col("censored").mean().alias("stockout_share"),
        )
    )


def figures(
    backtest: dict[str, Any],
    events: pl.DataFrame,
    panel: Panel,
    seeded: float,
    seconds: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """What the README records."""
    within = events.select(
        (pl.col("lift_error").abs() <= TOLERANCE).mean().alias("lift"),
        (pl.col("incremental_error").abs() <= TOLERANCE).mean().alias("incremental"),
        pl.col("lift_error").abs().median().alias("median_abs_lift_error"),
        pl.col("incremental_error").abs().median().alias("median_abs_incremental_error"),
    ).row(0, named=True)
    return {
        "retailer": {
            "size": args.size,
            "seed": args.seed,
            "series": panel.frame["unique_id"].n_unique(),
            "rows": panel.frame.height,
            "seed_seconds": round(seeded, 1),
        },
        "horizon_weeks": args.horizon,
        "backtest_seconds": round(seconds, 1),
        "models": {
            m["model"]: {
                k: m[k] for k in ("wape", "wape_promo", "bias", "mase", "coverage_80", "seconds")
            }
            for m in backtest["models"]
        },
        "best_baseline": backtest["best_baseline"],
        "promo_wape_improvement_over_best_baseline_pct": backtest[
            "improvement_over_best_baseline_pct"
        ],
        "held_out_promotions": events.height,
        "share_within_15pct": {k: round(float(within[k]), 3) for k in ("lift", "incremental")},
        "median_abs_error": {
            "lift": round(float(within["median_abs_lift_error"]), 3),
            "incremental": round(float(within["median_abs_incremental_error"]), 3),
        },
    }


if __name__ == "__main__":
    main()
