"""The what-if tests' champion: its version, its few trees and its backtest document."""

from __future__ import annotations

from promoflow.forecasting.model import ModelConfig

CHAMPION = "demand-whatif-1"
FAST = ModelConfig(n_estimators=60, learning_rate=0.12, num_leaves=15)
BACKTEST = {
    "data": {"cutoff": "2026-06-28", "horizon": 8},
    "models": [
        {"model": "promoflow", "kind": "model", "wape": 0.25, "wape_promo": 0.3},
        {"model": "seasonal_naive", "kind": "baseline", "wape": 0.5, "wape_promo": 0.6},
    ],
    "best_baseline": "seasonal_naive",
}
