"""Models: the registry, each version's backtest against its comparators, post-event accuracy.

Mirrors GET /models and GET /models/{version} (forecasting.registry) and
`promoflow models accuracy` (forecasting.post_event_accuracy.accuracy_by_model).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from promoflow.api import deps
from promoflow.forecasting import registry
from promoflow.forecasting.post_event_accuracy import accuracy_by_model
from promoflow.forecasting.registry import KIND_PATTERN, VERSION_PATTERN
from promoflow.forecasting.registry_policy import load_model_policy
from promoflow.forecasting.schemas import MODEL_STATUSES, ModelAccuracy
from promoflow.kit.db import reading
from promoflow.kit.errors import InvalidInput
from promoflow.web.access import ModelsReader
from promoflow.web.templating import render

router = APIRouter()

# The backtest figures the console shows for every model of a backtest, in order.
METRICS = (
    ("wape", "WAPE"),
    ("wape_promo", "WAPE promo"),
    ("wape_non_promo", "WAPE non-promo"),
    ("bias", "Bias"),
    ("coverage_80", "80 % coverage"),
)


@dataclass(frozen=True)
class Comparator:
    """One model of a backtest: its name, kind (model or baseline) and figures."""

    name: str
    kind: str
    figures: dict[str, float | None]
    own: bool


def _figure(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def comparators(backtest: Mapping[str, Any], own: str) -> list[Comparator]:
    """The backtest's models ("models": a list or a mapping), this version's own first."""
    models = backtest.get("models")
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(models, Mapping):
        entries = [(str(k), v) for k, v in models.items() if isinstance(v, Mapping)]
    elif isinstance(models, list):
        entries = [(str(e.get("model")), e) for e in models if isinstance(e, Mapping)]
    found = [
        Comparator(
            name=name,
            kind=str(entry.get("kind") or ("model" if name == own else "comparator")),
            figures={key: _figure(entry.get(key)) for key, _ in METRICS},
            own=name == own,
        )
        for name, entry in entries
    ]
    return sorted(found, key=lambda row: not row.own)


def _accuracy(version: str | None = None) -> dict[str, ModelAccuracy]:
    with reading(deps.read_sessions()) as session:
        return {row.model_version: row for row in accuracy_by_model(session, version)}


def _summary(model: Any, metric: str) -> dict[str, Any]:
    """What the list and the detail page show of a version (read inside the session)."""
    return {
        "version": model.version,
        "kind": model.kind,
        "status": model.status,
        "training_start": model.training_start,
        "training_end": model.training_end,
        "data_hash": model.data_hash,
        "features": list(model.features),
        "backtest_model": model.backtest_model,
        "backtest_cutoff": model.backtest_cutoff,
        "backtest_horizon": model.backtest_horizon,
        "metric": model.metric(metric),
        "created_at": model.created_at,
        "registered_by": model.registered_by,
        "promoted_at": model.promoted_at,
        "approved_by": model.approved_by,
        "approver_role": model.approver_role,
        "policy_version": model.policy_version,
        "retired_at": model.retired_at,
        "retired_by": model.retired_by,
        "status_reason": model.status_reason,
        "notes": model.notes,
        "comparators": comparators(model.backtest_metrics or {}, model.backtest_model),
    }


@router.get("/models")
def model_list(
    request: Request, user: ModelsReader, kind: str | None = None, status: str | None = None
) -> Response:
    """Registered model versions, most recent first, with their backtests and accuracy."""
    if kind and not KIND_PATTERN.match(kind):
        raise InvalidInput("kind", kind, "use a lower-case name such as demand")
    if status and status not in MODEL_STATUSES:
        raise InvalidInput("status", status, f"must be one of {', '.join(MODEL_STATUSES)}")
    metric = load_model_policy().promotion.metric
    with reading(deps.read_sessions()) as session:
        rows = registry.list_versions(session, kind=kind or None, status=status or None)
        models = [_summary(model, metric) for model in rows]
    return render(
        request,
        "models.html",
        user=user,
        section="Models",
        models=models,
        accuracy=_accuracy(),
        metric=metric,
        metrics=METRICS,
        kind=kind or "",
        status=status or "",
        statuses=MODEL_STATUSES,
    )


@router.get("/models/{version}")
def model_detail(request: Request, user: ModelsReader, version: str) -> Response:
    """One version: training window, data hash, backtest per comparator, decisions, accuracy."""
    if not VERSION_PATTERN.match(version):
        raise InvalidInput(
            "version", version, "is not a model version (letters, digits, . _ : + -)"
        )
    metric = load_model_policy().promotion.metric
    with reading(deps.read_sessions()) as session:
        model = _summary(registry.get_version(session, version), metric)
    return render(
        request,
        "models_detail.html",
        user=user,
        section="Models",
        model=model,
        accuracy=_accuracy(version).get(version),
        metric=metric,
        metrics=METRICS,
    )
