"""`promoflow forecast backtest` as a planner runs it on their own sales file."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from forecast_support import synthetic_sales, with_integer_periods
from promoflow.cli.main import app
from promoflow.forecasting import backtest
from promoflow.forecasting.model import GlobalDemandModel, ModelConfig

runner = CliRunner()
COLUMNS = [
    "--id-cols",
    "item,store",
    "--time-col",
    "week",
    "--target",
    "units",
    "--known-covariates",
    "price,on_promo,display",
    "--promo-cols",
    "on_promo,display",
    "--static-cols",
    "region",
    "--censor-col",
    "stockout",
]
MODELS = [
    "promoflow",
    "history_lift",
    "plain_lightgbm",
    "naive",
    "moving_average_4",
    "seasonal_naive_52",
    "auto_ets",
]
METRICS = [
    "wape",
    "wape_promo",
    "wape_non_promo",
    "bias",
    "mase",
    "coverage_80",
    "coverage_80_promo",
    "coverage_80_non_promo",
    "interval_width_80",
    "seconds",
]


def said(output: str) -> str:
    """The command's output on one line (rich wraps long lines at the terminal's width)."""
    return " ".join(output.split())


def backtest_command(data: Path, *flags: str) -> list[str]:
    """The command line for `data` with our columns and `flags`."""
    return ["forecast", "backtest", "--data", str(data), *COLUMNS, *flags]


@pytest.fixture(autouse=True)
def quick_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real model, smaller: few trees and one thread keep the test fast."""
    monkeypatch.setattr(
        backtest,
        "default_model",
        lambda horizon=13: GlobalDemandModel(ModelConfig(n_estimators=30, threads=1)),
    )


@pytest.fixture(scope="module")
def weekly_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sales") / "sales.parquet"
    synthetic_sales().write_parquet(path)
    return path


def test_backtest_on_weekly_dates_reports_every_model(weekly_file: Path, tmp_path: Path) -> None:
    metrics, predictions = tmp_path / "metrics.json", tmp_path / "predictions.parquet"
    result = runner.invoke(
        app,
        backtest_command(
            weekly_file,
            *("--horizon", "13", "--output", str(metrics)),
            *("--predictions", str(predictions)),
            *("--category-col", "region"),  # seasons and elasticities per region
        ),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(metrics.read_text())
    assert set(report) >= {
        "data",
        "models",
        "best_baseline",
        "improvement_over_best_baseline_pct",
        "verdict",
    }
    data = report["data"]
    rows = pl.read_parquet(weekly_file).height  # 30 series x 79 weeks, less a few holes
    assert (data["rows"], data["series"], data["horizon"]) == (rows, 30, 13)
    assert (data["first_period"], data["last_period"]) == ("2024-01-01", "2025-07-07")
    assert data["cutoff"] == "2025-04-07"
    assert data["censored_rows_left_out"] > 0
    assert [m["model"] for m in report["models"]] == MODELS
    assert all(set(METRICS) <= set(m) for m in report["models"])
    assert report["models"][0]["version"] == "promoflow-lgbm-4"
    assert report["models"][0]["coverage_80"] is not None
    assert report["best_baseline"] in MODELS[1:]
    assert [m["kind"] for m in report["models"][:4]] == [
        "model",
        "comparator",
        "comparator",
        "baseline",
    ]
    written = pl.read_parquet(predictions)
    assert written.height == data["scored_rows"] * len(MODELS)
    assert written.columns[:3] == ["item", "store", "week"]
    assert written["on_promotion"].sum() == data["promo_rows"] * len(MODELS)
    for name in MODELS:
        assert name in result.output
    assert report["verdict"].startswith("promoflow ")
    assert f"{report['best_baseline']}, the best" in report["verdict"]
    assert report["verdict"] in said(result.output)


def integer_file(tmp_path: Path) -> Path:
    """A small sales file (3 items x 2 stores) keyed by week numbers, as CSV."""
    data = tmp_path / "sales.csv"
    with_integer_periods(synthetic_sales(items=3, stores=2)).write_csv(data)
    return data


def test_integer_periods_and_a_chosen_cutoff(tmp_path: Path) -> None:
    data = integer_file(tmp_path)
    metrics, predictions = tmp_path / "metrics.json", tmp_path / "predictions.csv"
    result = runner.invoke(
        app,
        backtest_command(
            data,
            *("--horizon", "6", "--cutoff", "70"),
            *("--output", str(metrics), "--predictions", str(predictions)),
        ),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(metrics.read_text())
    assert (report["data"]["cutoff"], report["data"]["last_scored_period"]) == (70, 76)
    assert [m["model"] for m in report["models"]] == [
        "promoflow",
        "history_lift",
        "plain_lightgbm",
        "naive",
        "moving_average_4",
        "auto_ets",
    ]
    written = pl.read_csv(predictions)
    assert written["week"].min() == 71
    assert written.height == report["data"]["scored_rows"] * 6


def test_rolling_origins_end_at_the_cutoff_and_report_the_means(tmp_path: Path) -> None:
    data = integer_file(tmp_path)
    metrics, predictions = tmp_path / "metrics.json", tmp_path / "predictions.csv"
    result = runner.invoke(
        app,
        backtest_command(
            data,
            *("--horizon", "6", "--cutoff", "70", "--origins", "3", "--step", "4"),
            *("--static-cols", "region", "--group-col", "region"),
            *("--output", str(metrics), "--predictions", str(predictions)),
        ),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(metrics.read_text())
    assert report["data"]["cutoffs"] == [62, 66, 70]
    assert report["data"]["cutoff"] == 70
    assert [o["data"]["cutoff"] for o in report["origins"]] == [62, 66, 70]
    ours = report["models"][0]
    per_origin = [o["models"][0]["wape"] for o in report["origins"]]
    assert ours["wape"] == pytest.approx(sum(per_origin) / 3, abs=1e-6)
    assert ours["origins_scored"] == 3
    assert "(mean over 3 origins; promoflow best at" in report["verdict"]
    assert "3 origins (cutoffs 62, 66, 70)" in said(result.output)
    assert report["verdict"] in said(result.output)
    written = pl.read_csv(predictions)
    assert sorted(written["cutoff"].unique()) == [62, 66, 70]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (["--target", "qty"], "columns='qty': not in the file"),
        (["--cutoff", "2031-01-01"], "cutoff='2031-01-01': is not a period of the data"),
        (["--horizon", "0"], "horizon=0"),
        (["--promo-cols", "feature"], "promo_cols='feature'"),
        (["--category-col", "store"], "category_col='store'"),
        (
            ["--known-covariates", "price,on_promo,display,stockout"],
            "known_covariates='stockout': stockout is the censor column (--censor-col stockout)",
        ),
        (
            ["--known-covariates", "price,on_promo,display,units"],
            "known_covariates='units': units is the target (--target units)",
        ),
        (["--group-col", "region,store"], "group_col='store': each group column must be one"),
        (["--origins", "0"], "origins=0: must be 1 or more"),
        (["--origins", "20"], "origins=20: 20 origins 13 periods apart"),
        (["--origins", "2", "--step", "0"], "step=0: must be 1 or more"),
    ],
)
def test_bad_input_exits_2_names_the_field_and_writes_nothing(
    weekly_file: Path, tmp_path: Path, change: list[str], says: str
) -> None:
    metrics = tmp_path / "metrics.json"
    args = backtest_command(weekly_file, "--horizon", "13")
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    result = runner.invoke(app, [*args, "--output", str(metrics)])
    assert result.exit_code == 2
    assert says in said(result.output)
    assert not metrics.exists()


def test_a_malformed_file_names_the_column_value_and_row(tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    sales = synthetic_sales(items=1, stores=1, weeks=20).with_columns(
        pl.col("units").cast(pl.String)
    )
    sales.with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("n/a")).otherwise("units").alias("units")
    ).write_csv(data)
    metrics = tmp_path / "metrics.json"
    result = runner.invoke(
        app,
        backtest_command(data, "--horizon", "4", "--output", str(metrics)),
    )
    assert result.exit_code == 2
    assert "units='n/a': row 5: not a number" in " ".join(result.output.split())
    assert not metrics.exists()


def test_an_unwritable_predictions_file_is_refused_before_any_work(
    weekly_file: Path, tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics.json"
    result = runner.invoke(
        app,
        backtest_command(
            weekly_file,
            *("--horizon", "13", "--output", str(metrics)),
            *("--predictions", str(tmp_path / "p.xlsx")),
        ),
    )
    assert result.exit_code == 2
    assert "predictions=" in result.output and "use a .csv or .parquet file" in result.output
    assert not metrics.exists()


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--recipe", "best"], "--recipe='best': use one of search, champion"),
        (["--folds", "0"], "--folds=0: use 1 or more"),
        (["--search-series", "0"], "--search-series=0: use 1 or more"),
        (["--recipe", "champion"], "--recipe='champion': there is no champion yet"),
    ],
)
def test_train_refuses_a_bad_recipe_flag_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], says: str
) -> None:
    from promoflow.config import get_settings

    database = tmp_path / "promoflow.db"
    monkeypatch.setenv("PROMOFLOW_DATABASE_URL", f"sqlite:///{database}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["forecast", "train", *flags])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert says in said(result.output)
    if flags[0] != "--recipe" or flags[1] != "champion":
        assert not database.exists()  # refused before the database is opened
