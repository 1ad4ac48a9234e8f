"""Any retailer's CSV or Parquet file as a validated `Panel`, and its backtest split.

Every refusal is an `InvalidInput` naming the column (or flag), the value and what
to do; row numbers count data rows from 1 (the header is not a row).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from promoflow.forecasting.panel import SERIES_SEPARATOR, Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

FILE_FORMATS = (".csv", ".parquet")
# Names the panel itself uses; a file column of that name in another role would clash.
RESERVED = ("unique_id", "ds", "y", "censored", "weight", "lift_prior", "season")
TRUE_FALSE = {"true": 1.0, "false": 0.0}


@dataclass(frozen=True)
class LoadedPanel:
    """A panel with its series' original id values (types as in the file)."""

    panel: Panel
    series_keys: pl.DataFrame  # unique_id + every id column


def load_panel(path: Path, spec: PanelSpec) -> LoadedPanel:
    """Read `path` (.csv or .parquet) and build the panel `spec` describes."""
    return build_panel(read_table(path, text_cols=spec.id_cols), spec)


def read_table(path: Path, text_cols: tuple[str, ...] = ()) -> pl.DataFrame:
    """The file as a frame; refuses missing, unreadable, unknown-format or empty files.

    CSV columns in `text_cols` are read as text, so codes such as 00123 keep their zeros.
    """
    if path.suffix.lower() not in FILE_FORMATS:
        raise InvalidInput("data", str(path), "unknown file type; use a .csv or .parquet file")
    if not path.is_file():
        raise InvalidInput("data", str(path), "file not found")
    try:
        if path.suffix.lower() == ".csv":
            # Whole-file inference: a stray text value deep in a numeric column must
            # surface as our error with its row, not as a parse failure.
            table = pl.read_csv(
                path,
                infer_schema_length=None,
                null_values=["NA", "null"],
                schema_overrides=dict.fromkeys(text_cols, pl.String),
            )
        else:
            table = pl.read_parquet(path)
    except pl.exceptions.NoDataError:
        raise InvalidInput("data", str(path), "the file is empty") from None
    except (pl.exceptions.PolarsError, OSError) as error:
        raise InvalidInput("data", str(path), f"cannot be read: {error}") from None
    if table.height == 0:
        raise InvalidInput("data", str(path), "the file has a header but no rows")
    return table


def build_panel(raw: pl.DataFrame, spec: PanelSpec) -> LoadedPanel:
    """Validate `raw` against `spec` and normalise it (see panel.py for the shape)."""
    _check_spec(raw, spec)
    for column in spec.id_cols:
        _refuse_nulls(raw, column)
    _refuse_nulls(raw, spec.time_col)
    periods = _periods(raw[spec.time_col])
    keyed = raw.with_columns(periods.alias(spec.time_col))
    _refuse_duplicates(keyed, spec)
    calendar = (
        periods.unique()
        .sort()
        .to_frame("period")
        .with_row_index("ds")
        .select(pl.col("ds").cast(pl.Int64), "period")
    )
    frame = keyed.select(
        _series_id(spec).alias("unique_id"),
        pl.col(spec.time_col).alias("period"),
        _numeric(raw, spec.target).fill_nan(None).alias("y"),
        _censored(raw, spec.censor_col).alias("censored"),
        *[_numeric(raw, c).alias(c) for c in spec.known_covariates],
        *[pl.col(c) for c in spec.static_cols],
    )
    frame = (
        frame.join(calendar, on="period", how="left")
        .select("unique_id", "ds", pl.exclude("unique_id", "ds", "period"))
        .sort("unique_id", "ds")
    )
    series_keys = keyed.select(_series_id(spec).alias("unique_id"), *spec.id_cols).unique()
    if series_keys.height != series_keys["unique_id"].n_unique():
        raise InvalidInput(
            ",".join(spec.id_cols),
            SERIES_SEPARATOR,
            "id values contain the separator so two series would merge; replace it",
        )
    _check_static(frame, spec)
    return LoadedPanel(
        Panel(spec=spec, frame=frame, calendar=calendar), series_keys.sort("unique_id")
    )


def cutoff_position(panel: Panel, horizon: int, cutoff: Any = None) -> int:
    """The `ds` of the last training period: `cutoff` (a period of the data) or the default.

    By default the last `horizon` periods of the calendar are held out.
    """
    periods = panel.calendar.height
    if horizon < 1 or horizon >= periods:
        raise InvalidInput(
            "horizon",
            horizon,
            f"must be between 1 and {periods - 1}: the data has {periods} periods "
            "and at least one must remain for training",
        )
    if cutoff is None:
        return periods - 1 - horizon
    wanted = _as_period(cutoff, panel.calendar.schema["period"])
    found = panel.calendar.filter(pl.col("period") == wanted) if wanted is not None else None
    first, last = panel.calendar["period"][0], panel.calendar["period"][-1]
    if found is None or found.is_empty():
        raise InvalidInput(
            "cutoff", cutoff, f"is not a period of the data (periods run {first} .. {last})"
        )
    position = int(found["ds"].item())
    if position + horizon > periods - 1:
        latest = panel.calendar["period"][periods - 1 - horizon]
        raise InvalidInput(
            "cutoff",
            cutoff,
            f"leaves {periods - 1 - position} periods to score, fewer than the horizon "
            f"{horizon}; choose a cutoff at or before {latest} or a shorter horizon",
        )
    return position


def split_panel(panel: Panel, cutoff: int, horizon: int) -> tuple[Panel, pl.DataFrame]:
    """Train panel (ds <= cutoff) and the next `horizon` positions' rows.

    The train panel keeps the whole calendar: future period values (dates) are
    known in advance, their demand is not.
    """
    frame = panel.frame
    train = frame.filter(pl.col("ds") <= cutoff)
    test = frame.filter(pl.col("ds").is_between(cutoff + 1, cutoff + horizon))
    return replace(panel, frame=train), test


def period_value(panel: Panel, ds: int) -> Any:
    """The file's own period value at position `ds` (JSON-friendly)."""
    value = panel.calendar["period"][ds]
    return value.isoformat() if isinstance(value, date | datetime) else value


def _check_spec(raw: pl.DataFrame, spec: PanelSpec) -> None:
    wanted = [
        *spec.id_cols,
        spec.time_col,
        spec.target,
        *spec.known_covariates,
        *spec.static_cols,
        *([spec.censor_col] if spec.censor_col else []),
    ]
    missing = [c for c in dict.fromkeys(wanted) if c not in raw.columns]
    if missing:
        raise InvalidInput(
            "columns",
            ", ".join(missing),
            f"not in the file; its columns are: {', '.join(raw.columns)}",
        )
    if not spec.id_cols:
        raise InvalidInput("id_cols", "", "name at least one column that identifies a series")
    stray = [c for c in spec.promo_cols if c not in spec.known_covariates]
    if stray:
        raise InvalidInput(
            "promo_cols",
            ", ".join(stray),
            "promotion columns must also be known covariates (add them to --known-covariates)",
        )
    if spec.target in spec.known_covariates:
        raise InvalidInput(
            "known_covariates",
            spec.target,
            f"{spec.target} is the target (--target {spec.target}); the demand being "
            "forecast cannot be known in advance; remove it from the known covariates",
        )
    if spec.censor_col is not None and spec.censor_col in spec.known_covariates:
        # Whether a future week sells out is an outcome, not a plan: a covariate
        # that knows it leaks the held-out demand into the forecast.
        raise InvalidInput(
            "known_covariates",
            spec.censor_col,
            f"{spec.censor_col} is the censor column (--censor-col {spec.censor_col}); "
            "a stockout is not known in advance; remove it from the known covariates",
        )
    both = [c for c in spec.static_cols if c in spec.known_covariates]
    if both:
        raise InvalidInput(
            "static_cols", ", ".join(both), "is also a known covariate; give each column one role"
        )
    if spec.category_col is not None and spec.category_col not in spec.static_cols:
        raise InvalidInput(
            "category_col", spec.category_col, "the category must be one of the static columns"
        )
    statics = f"--static-cols {','.join(spec.static_cols)}" if spec.static_cols else "none given"
    for column in spec.group_cols:
        if column not in spec.static_cols:
            raise InvalidInput(
                "group_col",
                column,
                f"each group column must be one of the static columns ({statics}); "
                "add it to --static-cols or leave it out",
            )
    clashing = [c for c in (*spec.known_covariates, *spec.static_cols) if c in RESERVED]
    if clashing:
        raise InvalidInput(
            "columns", ", ".join(clashing), f"names {RESERVED} are reserved; rename the column"
        )


def _refuse_nulls(raw: pl.DataFrame, column: str) -> None:
    nulls = raw[column].is_null()
    if nulls.any():
        row = int(nulls.arg_true()[0]) + 1
        raise InvalidInput(
            column, None, f"{nulls.sum()} rows have no value (first: row {row}); fill or drop them"
        )


def _periods(column: pl.Series) -> pl.Series:
    """Integers, dates or datetimes as they are; ISO date strings become dates."""
    dtype = column.dtype
    if dtype.is_integer():
        return column.cast(pl.Int64)
    if dtype in (pl.Date(), pl.Datetime()) or isinstance(dtype, pl.Datetime):
        return column
    if dtype == pl.String():
        text = column.str.strip_chars()
        parsed = text.str.to_date("%Y-%m-%d", strict=False)
        if parsed.null_count():
            parsed = text.str.to_datetime(strict=False)
        if parsed.null_count() == 0:
            return parsed
        bad = int(parsed.is_null().arg_true()[0])
        raise InvalidInput(
            column.name, column[bad], f"row {bad + 1}: not an ISO date (YYYY-MM-DD) or an integer"
        )
    raise InvalidInput(
        column.name, column[0], f"periods must be integers or dates, not {dtype} values"
    )


def _numeric(raw: pl.DataFrame, column: str) -> pl.Expr:
    """`column` as Float64; booleans and true/false text become 1/0."""
    values = raw[column]
    if values.dtype == pl.Boolean():
        return pl.col(column).cast(pl.Float64)
    if values.dtype.is_numeric():
        return pl.col(column).cast(pl.Float64)
    if values.dtype != pl.String():
        raise InvalidInput(column, values[0], f"must hold numbers, not {values.dtype} values")
    text = values.str.strip_chars()
    flags = text.str.to_lowercase().replace_strict(
        TRUE_FALSE, default=None, return_dtype=pl.Float64
    )
    parsed = pl.select(pl.coalesce(flags, text.cast(pl.Float64, strict=False))).to_series()
    bad = values.is_not_null() & parsed.is_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InvalidInput(
            column, values[row], f"row {row + 1}: not a number; {column} must hold numbers"
        )
    return pl.lit(parsed.alias(column))


def _censored(raw: pl.DataFrame, column: str | None) -> pl.Expr:
    if column is None:
        return pl.lit(False)
    return (_numeric(raw, column) != 0).fill_null(False)


def _series_id(spec: PanelSpec) -> pl.Expr:
    return pl.concat_str([pl.col(c).cast(pl.String) for c in spec.id_cols], separator="|")


def _refuse_duplicates(keyed: pl.DataFrame, spec: PanelSpec) -> None:
    key = [*spec.id_cols, spec.time_col]
    repeated = keyed.select(pl.struct(key).is_duplicated()).to_series()
    if not repeated.any():
        return
    first = keyed.row(int(repeated.arg_true()[0]), named=True)
    shown = ", ".join(f"{c}={first[c]}" for c in key)
    keys = keyed.filter(repeated).select(key).n_unique()
    raise InvalidInput(
        ", ".join(key),
        shown,
        f"{keys} keys appear on more than one row ({repeated.sum()} rows); "
        "each series needs one row per period",
    )


def _check_static(frame: pl.DataFrame, spec: PanelSpec) -> None:
    for column in spec.static_cols:
        varying = (
            frame.group_by("unique_id")
            .agg(pl.col(column).n_unique().alias("n"))
            .filter(pl.col("n") > 1)
        )
        if varying.height:
            series = varying.sort("unique_id")["unique_id"][0]
            raise InvalidInput(
                column,
                series,
                f"changes within {varying.height} series; static columns hold one value per "
                "series (pass it as a known covariate instead)",
            )


def _as_period(value: Any, dtype: pl.DataType) -> Any:
    """`value` (often text from the command line) in the calendar's type, or None."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if dtype.is_integer():
            return int(text)
        if dtype == pl.Date():
            return date.fromisoformat(text)
        if isinstance(dtype, pl.Datetime):
            return datetime.fromisoformat(text)
    except ValueError:
        return None
    return text
