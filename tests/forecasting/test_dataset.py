"""Reading a retailer's file into a panel: what is accepted, what is refused and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from promoflow.forecasting.dataset import cutoff_position, load_panel, split_panel
from promoflow.forecasting.panel import PanelSpec
from promoflow.kit.errors import InvalidInput

SPEC = PanelSpec(
    id_cols=("item", "store"),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo"),
    promo_cols=("on_promo",),
    static_cols=("region",),
    censor_col="stockout",
)
CSV = """item,store,week,units,price,on_promo,stockout,region
A,1,2025-01-06,5,2.0,false,0,North
A,1,2025-01-13,,2.0,FALSE,0,North
A,1,2025-01-27,9,1.5,true,1,North
B,1,2025-01-06,3,4.0,false,0,North
B,1,2025-01-13,4,4.0,false,0,North
B,1,2025-01-20,6,3.0,true,0,North
B,1,2025-01-27,2,4.0,false,0,North
"""


def write(tmp_path: Path, text: str, name: str = "sales.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refusal(path: Path, spec: PanelSpec = SPEC) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        load_panel(path, spec)
    return caught.value


def test_a_csv_becomes_a_panel_on_the_files_own_calendar(tmp_path: Path) -> None:
    loaded = load_panel(write(tmp_path, CSV), SPEC)
    panel = loaded.panel
    assert panel.calendar["period"].to_list() == [
        date(2025, 1, 6),
        date(2025, 1, 13),
        date(2025, 1, 20),
        date(2025, 1, 27),
    ]
    a = panel.frame.filter(pl.col("unique_id") == "A|1")
    # A skips 2025-01-20 (position 2) and its 2025-01-13 sales were not recorded.
    assert a["ds"].to_list() == [0, 1, 3]
    assert a["y"].to_list() == [5.0, None, 9.0]
    assert a["on_promo"].to_list() == [0.0, 0.0, 1.0]
    assert a["censored"].to_list() == [False, False, True]
    assert a["region"].to_list() == ["North"] * 3
    assert panel.promo_mask(a).to_list() == [False, False, True]
    assert loaded.series_keys.to_dicts() == [
        {"unique_id": "A|1", "item": "A", "store": "1"},
        {"unique_id": "B|1", "item": "B", "store": "1"},
    ]


def test_csv_ids_are_text_so_codes_keep_their_leading_zeros(tmp_path: Path) -> None:
    loaded = load_panel(write(tmp_path, CSV.replace("A,1,", "A,007,")), SPEC)
    assert loaded.series_keys["store"].to_list() == ["007", "1"]
    assert loaded.series_keys["unique_id"].to_list() == ["A|007", "B|1"]


def test_parquet_with_integer_periods_and_boolean_columns(tmp_path: Path) -> None:
    path = tmp_path / "sales.parquet"
    pl.DataFrame(
        {
            "item": [7, 7, 7],
            "store": [1, 1, 1],
            "week": [202501, 202502, 202504],
            "units": [1.0, 2.0, 3.0],
            "price": [1, 1, 1],
            "on_promo": [True, False, True],
            "stockout": [False, True, None],
            "region": ["N", "N", "N"],
        }
    ).write_parquet(path)
    panel = load_panel(path, SPEC).panel
    assert panel.calendar["period"].to_list() == [202501, 202502, 202504]
    assert not panel.periods_are_dates
    assert panel.frame["ds"].to_list() == [0, 1, 2]
    assert panel.frame["on_promo"].to_list() == [1.0, 0.0, 1.0]
    assert panel.frame["censored"].to_list() == [False, True, False]


def test_the_split_holds_out_the_next_horizon_calendar_positions(tmp_path: Path) -> None:
    panel = load_panel(write(tmp_path, CSV), SPEC).panel
    cutoff = cutoff_position(panel, horizon=2)
    train, test = split_panel(panel, cutoff, horizon=2)
    assert cutoff == 1
    assert train.frame["ds"].max() == 1
    assert sorted(test["ds"].unique().to_list()) == [2, 3]
    assert train.frame.height + test.height == panel.frame.height
    assert cutoff_position(panel, 1, "2025-01-13") == 1


@pytest.mark.parametrize(
    ("horizon", "cutoff", "field", "value", "says"),
    [
        (0, None, "horizon", 0, "between 1 and 3"),
        (4, None, "horizon", 4, "the data has 4 periods"),
        (1, "2025-01-14", "cutoff", "2025-01-14", "not a period of the data"),
        (1, "last week", "cutoff", "last week", "periods run 2025-01-06 .. 2025-01-27"),
        (2, "2025-01-20", "cutoff", "2025-01-20", "choose a cutoff at or before 2025-01-13"),
    ],
)
def test_horizon_and_cutoff_must_fit_the_calendar(
    tmp_path: Path, horizon: int, cutoff: str | None, field: str, value: object, says: str
) -> None:
    panel = load_panel(write(tmp_path, CSV), SPEC).panel
    with pytest.raises(InvalidInput) as caught:
        cutoff_position(panel, horizon, cutoff)
    assert (caught.value.field, caught.value.value) == (field, value)
    assert says in caught.value.reason


def test_missing_and_unknown_files_are_refused(tmp_path: Path) -> None:
    missing = refusal(tmp_path / "nope.csv")
    assert (missing.field, missing.value) == ("data", str(tmp_path / "nope.csv"))
    assert "not found" in missing.reason
    excel = refusal(write(tmp_path, "x", "sales.xlsx"))
    assert "use a .csv or .parquet file" in excel.reason


def test_empty_files_are_refused(tmp_path: Path) -> None:
    assert "empty" in refusal(write(tmp_path, "")).reason
    header_only = refusal(write(tmp_path, CSV.splitlines()[0] + "\n"))
    assert "no rows" in header_only.reason


def test_missing_columns_are_named_with_the_ones_available(tmp_path: Path) -> None:
    spec = PanelSpec(("item", "shop"), "week", "qty", ("price",))
    error = refusal(write(tmp_path, CSV), spec)
    assert (error.field, error.value) == ("columns", "shop, qty")
    assert "item, store, week, units, price, on_promo, stockout, region" in error.reason


def test_a_text_value_in_the_target_names_column_value_and_row(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, CSV.replace("B,1,2025-01-13,4,", "B,1,2025-01-13,four,")))
    assert (error.field, error.value) == ("units", "four")
    assert "row 5" in error.reason


def test_a_text_value_in_a_covariate_is_refused(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, CSV.replace("true,1,North", "maybe,1,North")))
    assert (error.field, error.value) == ("on_promo", "maybe")
    assert "row 3" in error.reason


def test_duplicate_keys_give_the_first_key_and_how_many(tmp_path: Path) -> None:
    twice = CSV + "B,1,2025-01-20,1,3.0,true,0,North\nA,1,2025-01-06,1,2.0,false,0,North\n"
    error = refusal(write(tmp_path, twice))
    assert error.field == "item, store, week"
    assert error.value == "item=A, store=1, week=2025-01-06"
    assert "2 keys appear on more than one row (4 rows)" in error.reason


@pytest.mark.parametrize(
    ("covariates", "promo", "static", "field", "value"),
    [
        (("price",), ("on_promo",), (), "promo_cols", "on_promo"),
        (("price", "units"), (), (), "known_covariates", "units"),
        (("price", "region"), (), ("region",), "static_cols", "region"),
    ],
)
def test_each_column_has_one_sensible_role(
    tmp_path: Path,
    covariates: tuple[str, ...],
    promo: tuple[str, ...],
    static: tuple[str, ...],
    field: str,
    value: str,
) -> None:
    spec = PanelSpec(("item", "store"), "week", "units", covariates, promo, static)
    error = refusal(write(tmp_path, CSV), spec)
    assert (error.field, error.value) == (field, value)


def test_the_target_as_a_known_covariate_names_both_roles(tmp_path: Path) -> None:
    spec = PanelSpec(("item", "store"), "week", "units", ("price", "units"))
    error = refusal(write(tmp_path, CSV), spec)
    assert (error.field, error.value) == ("known_covariates", "units")
    assert "units is the target (--target units)" in error.reason


def test_the_censor_column_as_a_known_covariate_is_refused(tmp_path: Path) -> None:
    # A stockout is an outcome of the week; knowing it ahead leaks the held-out demand.
    spec = replace(SPEC, known_covariates=("price", "on_promo", "stockout"))
    error = refusal(write(tmp_path, CSV), spec)
    assert (error.field, error.value) == ("known_covariates", "stockout")
    assert "stockout is the censor column (--censor-col stockout)" in error.reason


def test_a_group_column_must_be_a_static_column(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, CSV), replace(SPEC, group_cols=("region", "store")))
    assert (error.field, error.value) == ("group_col", "store")
    assert "--static-cols region" in error.reason
    loaded = load_panel(write(tmp_path, CSV), replace(SPEC, group_cols=("region",)))
    assert loaded.panel.spec.sibling_cols == ("region",)


@pytest.mark.parametrize(
    ("before", "after", "field", "says"),
    [
        ("A,1,2025-01-27", ",1,2025-01-27", "item", "first: row 3"),
        ("B,1,2025-01-20", "B,1,", "week", "first: row 6"),
    ],
)
def test_null_ids_or_periods_are_refused_with_the_row(
    tmp_path: Path, before: str, after: str, field: str, says: str
) -> None:
    error = refusal(write(tmp_path, CSV.replace(before, after)))
    assert error.field == field
    assert says in error.reason


def test_periods_that_are_neither_integers_nor_iso_dates_are_refused(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, CSV.replace("2025-01-20", "20/01/2025")))
    assert (error.field, error.value) == ("week", "20/01/2025")
    assert "row 6" in error.reason


def test_a_static_column_that_changes_within_a_series_is_refused(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, CSV.replace("true,1,North", "true,1,South")))
    assert (error.field, error.value) == ("region", "A|1")
