"""The promotion forecaster the workflow uses: the global model on our own sales history.

It turns the weekly_sales history of the promotion's items, their category peers
and its stores into a panel (promotion depth, mechanic, display, feature and the
number of items promoted together in the category, which is where
cannibalisation shows), fits the global model and forecasts every week up to
the end of the window, with the promotion and without it. Weekly rows are
summed over the window; window quantiles treat weekly errors as correlated
(WEEK_ERROR_CORRELATION). Item x locations without history fall back to the
history-baseline forecaster, which borrows from the item and category.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from promoflow.forecasting.base import PromotionScenario
from promoflow.forecasting.baseline import HistoryBaselineForecaster
from promoflow.forecasting.model import GlobalDemandModel, ModelConfig
from promoflow.forecasting.panel import SERIES_SEPARATOR, Panel, PanelSpec

MECHANIC_CODES = {"percent_off": 1, "amount_off": 2, "fixed_price": 3, "multi_buy": 4, "bundle": 5}
COVARIATES = ("price", "on_promo", "display", "feature", "mechanic_code", "category_promotions")
PROMO_COLUMNS = ("on_promo", "display", "feature", "mechanic_code")
# Weekly errors inside one promotion move together (a misjudged lift misses every
# week); 0.5 sits between independent weeks and one error repeated.
WEEK_ERROR_CORRELATION = 0.5
Z80 = 1.2815515655446004  # P90 - P10 spans 2 x Z80 standard deviations
Z_P80 = 0.8416212335729143
SPEC = PanelSpec(
    id_cols=("item_id", "location_id"),
    time_col="week",
    target="units",
    known_covariates=COVARIATES,
    promo_cols=PROMO_COLUMNS,
    promo_context_cols=("category_promotions",),
    static_cols=("category",),
    category_col="category",
    censor_col="stockout",
)


class GlobalPromotionForecaster:
    """DemandForecaster backed by GlobalDemandModel (see forecasting/base.py).

    Given a trained `model` (the registry's champion) it forecasts from the
    promotion's fresh history without refitting; without one it fits a model on
    that history first (slower, and it learns lifts from fewer promotions).
    """

    history_weeks = 104  # lag 52 needs a year before the year it learns from

    def __init__(
        self,
        config: ModelConfig | None = None,
        *,
        model: GlobalDemandModel | None = None,
        version: str | None = None,
    ) -> None:
        self.config = model.config if model is not None else config or ModelConfig()
        self.model = model
        self.model_version = version or GlobalDemandModel(self.config).model_version

    def forecast(self, history: pl.DataFrame, scenario: PromotionScenario) -> pl.DataFrame:
        """Window totals per item x location: baseline, promoted, p10, p50, p80, p90."""
        panel = history_panel(history)
        scope = _scope(scenario)
        known = scope.join(_series_ids(history), on=["item_id", "location_id"], how="inner")
        lines = []
        if known.height and panel.frame.height:
            future, weights = _future_rows(panel, history, scenario, known)
            if self.model is None:
                weekly = GlobalDemandModel(self.config).fit(panel).predict(future)
            else:
                weekly = self.model.predict(future, history=panel)
            lines.append(_window_totals(weekly.join(weights, on=["unique_id", "ds"])))
        covered = pl.concat(lines) if lines else _empty_lines()
        missing = scope.join(covered, on=["item_id", "location_id"], how="anti")
        if missing.height:
            fallback = HistoryBaselineForecaster().forecast(
                history,
                PromotionScenario(
                    **{
                        **scenario.__dict__,
                        "item_ids": missing["item_id"].unique().to_list(),
                        "location_ids": missing["location_id"].unique().to_list(),
                    }
                ),
            )
            fallback = fallback.join(missing, on=["item_id", "location_id"]).with_columns(
                (pl.col("p50") + Z_P80 / Z80 * (pl.col("p90") - pl.col("p50"))).alias("p80")
            )
            covered = pl.concat([covered, fallback.select(covered.columns)])
        return covered.sort("item_id", "location_id")


def history_panel(history: pl.DataFrame) -> Panel:
    """The weekly_sales history (with category) as a panel over its own week calendar."""
    weeks = (
        history.select(pl.col("week").alias("period")).unique().sort("period").with_row_index("ds")
    ).with_columns(pl.col("ds").cast(pl.Int64))
    # Other items of the category on promotion at the store that week (cannibalisation).
    promoted = pl.col("on_promo").cast(pl.Float64)
    in_category = promoted.sum().over("category", "location_id", "week") - promoted
    frame = history.join(weeks, left_on="week", right_on="period").select(
        _series_id(),
        "ds",
        pl.col("units").cast(pl.Float64).alias("y"),
        pl.col("stockout").cast(pl.Boolean).alias("censored"),
        pl.col("price").cast(pl.Float64),
        pl.col("on_promo").cast(pl.Float64),
        pl.col("display").cast(pl.Float64),
        pl.col("feature").cast(pl.Float64),
        pl.col("mechanic")
        .replace_strict(MECHANIC_CODES, default=0)
        .cast(pl.Float64)
        .alias("mechanic_code"),
        in_category.alias("category_promotions"),
        pl.col("category"),
    )
    return Panel(SPEC, frame, weeks.select("ds", "period"))


def _series_id() -> pl.Expr:
    return pl.concat_str(
        [pl.col("item_id").cast(pl.String), pl.col("location_id").cast(pl.String)],
        separator=SERIES_SEPARATOR,
    ).alias("unique_id")


def _series_ids(history: pl.DataFrame) -> pl.DataFrame:
    return history.select("item_id", "location_id").unique().with_columns(_series_id())


def _scope(scenario: PromotionScenario) -> pl.DataFrame:
    items = pl.DataFrame({"item_id": scenario.item_ids}, schema={"item_id": pl.Int64})
    locations = pl.DataFrame(
        {"location_id": scenario.location_ids}, schema={"location_id": pl.Int64}
    )
    return items.join(locations, how="cross")


def _future_rows(
    panel: Panel, history: pl.DataFrame, scenario: PromotionScenario, known: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Future weekly covariates up to the window's end, and each week's share of the window."""
    last_week: date = panel.calendar["period"].max()  # type: ignore[assignment]
    last_ds = int(panel.calendar["ds"].max())  # type: ignore[arg-type]
    weeks, shares = [], []
    week = last_week + timedelta(days=7)
    while week <= scenario.end:
        overlap = (min(week + timedelta(days=6), scenario.end) - max(week, scenario.start)).days + 1
        weeks.append(week)
        shares.append(max(0, overlap) / 7.0)
        week += timedelta(days=7)
    if not weeks:  # the window lies inside the history: nothing left to forecast
        weeks, shares = [last_week + timedelta(days=7)], [0.0]
    calendar = pl.DataFrame(
        {"ds": [last_ds + k + 1 for k in range(len(weeks))], "share": shares},
        schema={"ds": pl.Int64, "share": pl.Float64},
    )
    usual = (
        history.filter(~pl.col("on_promo"))
        .group_by("item_id", "location_id")
        .agg(pl.col("price").median().alias("usual_price"))
    )
    promoted_together = len(scenario.item_ids) - 1
    on = pl.col("share") > 0
    future = (
        known.join(calendar, how="cross")
        .join(usual, on=["item_id", "location_id"], how="left")
        .with_columns(
            pl.when(on)
            .then(pl.col("usual_price") * (1.0 - scenario.discount_depth))
            .otherwise(pl.col("usual_price"))
            .alias("price"),
            on.cast(pl.Float64).alias("on_promo"),
            (on & scenario.display).cast(pl.Float64).alias("display"),
            (on & scenario.feature).cast(pl.Float64).alias("feature"),
            pl.when(on)
            .then(float(MECHANIC_CODES.get(scenario.mechanic, 0)))
            .otherwise(0.0)
            .alias("mechanic_code"),
            pl.when(on).then(float(promoted_together)).otherwise(0.0).alias("category_promotions"),
        )
    )
    return (
        future.select("unique_id", "ds", *COVARIATES),
        future.select("unique_id", "ds", "share", "item_id", "location_id"),
    )


def _window_totals(weekly: pl.DataFrame) -> pl.DataFrame:
    """Sum weekly rows weighted by their share of the window; quantiles of the sum."""
    rho = WEEK_ERROR_CORRELATION
    share = pl.col("share")
    sd = (pl.col("p90") - pl.col("p10")) / (2 * Z80) * share
    totals = weekly.group_by("item_id", "location_id").agg(
        (pl.col("baseline") * share).sum().alias("baseline_units"),
        (pl.col("forecast") * share).sum().alias("promoted_units"),
        (pl.col("p50") * share).sum().alias("median_units"),
        (sd**2).sum().alias("variance"),
        sd.sum().alias("sd_sum"),
    )
    window_sd = ((1 - rho) * pl.col("variance") + rho * pl.col("sd_sum") ** 2).sqrt()
    return totals.select(
        "item_id",
        "location_id",
        "baseline_units",
        "promoted_units",
        (pl.col("promoted_units") - Z80 * window_sd).clip(lower_bound=0.0).alias("p10"),
        pl.col("median_units").alias("p50"),
        (pl.col("promoted_units") + Z_P80 * window_sd).alias("p80"),
        (pl.col("promoted_units") + Z80 * window_sd).alias("p90"),
    ).with_columns(
        # The median of the weekly medians may fall outside the normal's band; clamp it.
        pl.col("p50").clip(pl.col("p10"), pl.col("p80"))
    )


def _empty_lines() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "item_id": pl.Int64,
            "location_id": pl.Int64,
            **{
                c: pl.Float64
                for c in ("baseline_units", "promoted_units", "p10", "p50", "p80", "p90")
            },
        }
    )
