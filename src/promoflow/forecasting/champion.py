"""Which forecaster the workflow uses: the registry's champion, else the history baseline."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from promoflow.forecasting import registry
from promoflow.forecasting.base import DemandForecaster
from promoflow.forecasting.baseline import HistoryBaselineForecaster
from promoflow.kit.errors import NotFound

log = structlog.get_logger(__name__)


def champion_forecaster(session: Session, kind: str = "demand") -> DemandForecaster:
    """The champion demand model with its artefact; the history baseline when there is none.

    A champion registered without an artefact (from a backtest file alone) cannot
    forecast; the workflow then uses the baseline and says so in the log, and the
    forecast lines record which model actually ran.
    """
    entry = registry.champion(session, kind)
    if entry is None:
        return HistoryBaselineForecaster()
    # Imported here: LightGBM and mlforecast load only where a trained model runs.
    from promoflow.forecasting.artifacts import load_artifact
    from promoflow.forecasting.promotion_model import GlobalPromotionForecaster

    try:
        model = load_artifact(session, entry.version)
    except NotFound:
        log.warning(
            "champion has no trained artefact; using the history baseline", version=entry.version
        )
        return HistoryBaselineForecaster()
    return GlobalPromotionForecaster(model=model, version=entry.version)
