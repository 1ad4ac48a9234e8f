"""Input checks shared by the planning functions: missing columns and bad values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from promoflow.kit.errors import InvalidInput


def require_columns(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise InvalidInput naming the first column `what` needs and `frame` lacks."""
    for column in columns:
        if column not in frame.columns:
            raise InvalidInput(
                column, None, f"missing from the {what}; it needs columns {', '.join(columns)}"
            )


def _where(frame: pl.DataFrame, row: int, key: Sequence[str]) -> str:
    """' at item_id=3, location_id=7' for the row, so a planner can find it."""
    named = [f"{k}={frame[k][row]}" for k in key if k in frame.columns]
    return f" (at {', '.join(named)})" if named else ""


def numbers(
    frame: pl.DataFrame,
    column: str,
    what: str,
    *,
    key: Sequence[str] = (),
    minimum: float | None = 0.0,
) -> np.ndarray:
    """The column as float64, refusing nulls, NaN and values below `minimum`."""
    require_columns(frame, [column], what)
    series = frame[column]
    if not series.dtype.is_numeric():
        raise InvalidInput(column, str(series.dtype), f"the {what} needs a numeric {column}")
    values = series.cast(pl.Float64).to_numpy()
    bad = np.isnan(values)  # nulls become NaN in to_numpy
    if minimum is not None:
        bad |= values < minimum
    if bad.any():
        row = int(np.argmax(bad))
        value = None if np.isnan(values[row]) else float(values[row])
        floor = "" if minimum is None else f" and at least {minimum:g}"
        raise InvalidInput(
            column, value, f"must be a number{floor}{_where(frame, row, key)} in the {what}"
        )
    return values


def case_packs(frame: pl.DataFrame, what: str, key: Sequence[str]) -> np.ndarray:
    """The case_pack column: whole units, at least 1."""
    pack = numbers(frame, "case_pack", what, key=key, minimum=1.0)
    fractional = pack != np.floor(pack)
    if fractional.any():
        row = int(np.argmax(fractional))
        raise InvalidInput(
            "case_pack", float(pack[row]), f"must be whole units{_where(frame, row, key)}"
        )
    return pack


def forecast_spread(
    frame: pl.DataFrame, what: str, key: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (promoted_units), p10 and p90 of window demand, refusing crossed quantiles."""
    mean = numbers(frame, "promoted_units", what, key=key)
    p10 = numbers(frame, "p10", what, key=key)
    p90 = numbers(frame, "p90", what, key=key)
    crossed = p90 < p10
    if crossed.any():
        row = int(np.argmax(crossed))
        raise InvalidInput(
            "p90",
            float(p90[row]),
            f"is below p10={p10[row]:g}{_where(frame, row, key)}; the forecast's quantiles cross",
        )
    return mean, p10, p90


def unique_keys(frame: pl.DataFrame, key: Sequence[str], what: str) -> None:
    """Raise InvalidInput when two rows share a key (the answer would double count)."""
    require_columns(frame, key, what)
    duplicated = frame.select(key).is_duplicated()
    if duplicated.any():
        row = int(duplicated.arg_true()[0])
        values = tuple(frame[k][row] for k in key)
        raise InvalidInput(
            ", ".join(key),
            values[0] if len(values) == 1 else values,
            f"appears twice in the {what}",
        )
