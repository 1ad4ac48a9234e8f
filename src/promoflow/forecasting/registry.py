"""The model registry: register candidates, promote a challenger under policy, retire.

A challenger becomes champion only when it beats the champion's backtest on the
policy's metric, on the same cutoff, and an approver role says yes (DESIGN.md, "AI,
governed"). Never commits; every change records its event in the caller's transaction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from promoflow.events.service import record_event
from promoflow.forecasting.models import ModelVersion, model_scores
from promoflow.forecasting.registry_policy import ModelPolicy, judge, judge_first, load_model_policy
from promoflow.forecasting.repository import find_champion, find_version, query_versions
from promoflow.forecasting.schemas import MODEL_STATUSES, ModelStatus
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound

# Versions appear in URLs and file names: no slashes or spaces.
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$")
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
Period = str | int | date


__all__ = [
    "KIND_PATTERN",
    "SHA256_PATTERN",
    "VERSION_PATTERN",
    "ModelVersion",
    "champion",
    "describe_recipe",
    "find_champion",
    "find_version",
    "get_version",
    "list_versions",
    "promote",
    "query_versions",
    "register_candidate",
    "retire",
    "version_as_dict",
]


def version_as_dict(model: ModelVersion) -> dict[str, Any]:
    """Every column of a registered version but its row id, as the CLI prints it."""
    return {
        column.key: getattr(model, column.key)
        for column in ModelVersion.__table__.columns
        if column.key != "id"
    }


def describe_recipe(recipe: Mapping[str, Any]) -> str:
    """A demand recipe (registered parameters, or recipe search's "chosen") in a planner's words.

    Versions registered before the recipe was searched lack its fields: the
    defaults shown are the recipe they were trained with.
    """
    parts = [
        f"{recipe.get('target', 'ratio')} target",
        f"{recipe.get('objective', 'tweedie')} objective",
        "SCAN*PRO prior " + ("on" if recipe.get("lift_prior", True) else "off"),
        "season " + ("on" if recipe.get("season", True) else "off"),
    ]
    if recipe.get("n_estimators") is not None:
        parts.append(f"{recipe['n_estimators']} trees")
    return ", ".join(parts)


# Service -------------------------------------------------------------------------


def register_candidate(
    session: Session,
    *,
    version: str,
    backtest: Mapping[str, Any],
    data_hash: str,
    training_start: Period,
    training_end: Period,
    features: Sequence[str],
    backtest_model: str = "promoflow",
    backtest_cutoff: Period | None = None,
    parameters: Mapping[str, Any] | None = None,
    kind: str = "demand",
    notes: str = "",
    registered_by: str = "system",
    now: datetime | None = None,
) -> ModelVersion:
    """Register a trained model as a candidate with its backtest; `model.registered` is logged.

    `backtest` is the metrics.json document the backtest wrote ("data" with the
    cutoff and horizon, "models" with each model's metrics); `backtest_model` names
    this version's own entry. `backtest_cutoff` is needed only when "data" lacks it.
    """
    _check_version(version)
    if not KIND_PATTERN.match(kind):
        raise InvalidInput("kind", kind, "use a lower-case name such as demand")
    if find_version(session, version) is not None:
        raise Conflict(
            f"model version {version} is already registered; register the new model under "
            "a new version",
            version=version,
        )
    if not SHA256_PATTERN.match(data_hash):
        raise InvalidInput("data_hash", data_hash, "must be the 64 hex digit sha256 of the data")
    feature_list = _feature_list(features)
    document = _clean_json(dict(backtest))
    own = model_scores(document, backtest_model)
    if own is None:
        raise InvalidInput(
            "backtest_model",
            backtest_model,
            f"is not a model in the backtest (models there: {', '.join(_model_names(document))})",
        )
    cutoff, horizon = _backtest_window(document, backtest_cutoff)
    model = ModelVersion(
        version=version,
        kind=kind,
        status=ModelStatus.CANDIDATE.value,
        training_start=_period("training_start", training_start),
        training_end=_period("training_end", training_end),
        features=feature_list,
        data_hash=data_hash,
        backtest_metrics=document,
        backtest_model=backtest_model,
        backtest_cutoff=cutoff,
        backtest_horizon=horizon,
        parameters=_clean_json(dict(parameters or {})),
        registered_by=registered_by,
        created_at=now or utcnow(),
        notes=notes,
    )
    session.add(model)
    session.flush()
    record_event(
        session,
        "model.registered",
        _subject(model),
        {
            "version": version,
            "kind": kind,
            "training_window": [model.training_start, model.training_end],
            "data_hash": data_hash,
            "backtest_cutoff": cutoff,
            "backtest_horizon": horizon,
            "backtest": own,
        },
        actor=registered_by,
    )
    return model


def list_versions(
    session: Session, *, kind: str | None = None, status: str | None = None
) -> Sequence[ModelVersion]:
    """Registered versions, most recent first, optionally of one kind and status."""
    if status is not None and status not in MODEL_STATUSES:
        raise InvalidInput("status", status, f"must be one of {', '.join(MODEL_STATUSES)}")
    return query_versions(session, kind, status)


def get_version(session: Session, version: str) -> ModelVersion:
    """One registered version, or NotFound."""
    model = find_version(session, version)
    if model is None:
        raise NotFound(
            f"model version {version} is not registered; `promoflow models list` shows them",
            version=version,
        )
    return model


def champion(session: Session, kind: str = "demand") -> ModelVersion | None:
    """The version forecasts of `kind` should use, or None before the first promotion."""
    return find_champion(session, kind)


def promote(
    session: Session,
    version: str,
    *,
    approved_by: str,
    role: str,
    reason: str,
    promoted_by: str | None = None,
    policy: ModelPolicy | None = None,
    now: datetime | None = None,
) -> ModelVersion:
    """Make `version` the champion of its kind if it beats the champion and `role` may approve.

    The replaced champion is retired. Without a champion (the first, or after a
    retirement) the version must beat the best comparator or baseline of its own
    backtest on the policy's metric: forecasts then leave the history-baseline
    forecaster for it. Forbidden when the role may not approve; Conflict when the
    backtests are not comparable or the version does not win.
    """
    policy = policy or load_model_policy()
    _check_decider(role, policy, "approve model promotions")
    approved_by, reason = _who_and_why("approved_by", approved_by, reason)
    model = get_version(session, version)
    if model.status == ModelStatus.CHAMPION:
        raise Conflict(f"model version {version} is already the {model.kind} champion")
    current = find_champion(session, model.kind)
    judgement = judge(model, current, policy) if current is not None else None
    first = judge_first(model, policy) if current is None else None
    moment = now or utcnow()
    if current is not None:
        _retire(session, current, approved_by, f"replaced by {model.version}: {reason}", moment)
        # The retirement reaches the database before the new champion does, so the
        # one-champion-per-kind index never sees two.
        session.flush()
    model.status = ModelStatus.CHAMPION.value
    model.promoted_at = moment
    model.promoted_by = promoted_by or approved_by
    model.approved_by = approved_by
    model.approver_role = role
    model.policy_version = policy.version
    model.status_reason = reason
    model.retired_at = None
    model.retired_by = None
    session.flush()
    record_event(
        session,
        "model.promoted",
        _subject(model),
        {
            "version": model.version,
            "kind": model.kind,
            "previous_champion": current.version if current is not None else None,
            "judgement": asdict(judgement) if judgement is not None else None,
            "against_baseline": asdict(first) if first is not None else None,
            "approved_by": approved_by,
            "role": role,
            "reason": reason,
            "policy_version": policy.version,
        },
        actor=model.promoted_by,
    )
    return model


def retire(
    session: Session,
    version: str,
    *,
    actor: str,
    role: str,
    reason: str,
    policy: ModelPolicy | None = None,
    now: datetime | None = None,
) -> ModelVersion:
    """Retire a candidate or the champion (its kind then has none until the next promotion)."""
    policy = policy or load_model_policy()
    _check_decider(role, policy, "retire models")
    actor, reason = _who_and_why("actor", actor, reason)
    model = get_version(session, version)
    if model.status == ModelStatus.RETIRED:
        raise Conflict(
            f"model version {version} was already retired at {model.retired_at} by "
            f"{model.retired_by}",
            version=version,
        )
    _retire(session, model, actor, reason, now or utcnow())
    session.flush()
    return model


def _retire(session: Session, model: ModelVersion, actor: str, reason: str, now: datetime) -> None:
    was = model.status
    model.status = ModelStatus.RETIRED.value
    model.retired_at = now
    model.retired_by = actor
    model.status_reason = reason
    record_event(
        session,
        "model.retired",
        _subject(model),
        {"version": model.version, "kind": model.kind, "was": was, "reason": reason},
        actor=actor,
    )


def _subject(model: ModelVersion) -> str:
    return f"model/{model.version}"


def _check_decider(role: str, policy: ModelPolicy, action: str) -> None:
    allowed = policy.promotion.approver_roles
    if role not in allowed:
        raise Forbidden(
            f"role {role} may not {action}; model policy {policy.version} allows "
            f"{', '.join(allowed)}",
            role=role,
        )


def _who_and_why(field: str, person: str, reason: str) -> tuple[str, str]:
    if not person.strip():
        raise InvalidInput(field, person, "name the person who decides")
    if not reason.strip():
        raise InvalidInput("reason", reason, "give a reason for the audit trail")
    return person.strip(), reason.strip()


def _check_version(version: str) -> None:
    if not VERSION_PATTERN.match(version):
        raise InvalidInput(
            "version",
            version,
            "use 1-64 letters, digits and . _ : + - (no spaces or slashes), e.g. demand-2026.11.1",
        )


def _period(field: str, value: Period) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value).strip()
    if not text or len(text) > 32:
        raise InvalidInput(field, value, "give a date (YYYY-MM-DD) or a period number")
    return text


def _model_names(document: Mapping[str, Any]) -> list[str]:
    models = document.get("models")
    if isinstance(models, Mapping):
        return [str(name) for name in models]
    if isinstance(models, list):
        return [str(entry.get("model")) for entry in models if isinstance(entry, Mapping)]
    return ["none: the document has no 'models'"]


def _backtest_window(document: Mapping[str, Any], given: Period | None) -> tuple[str, int | None]:
    """The backtest's cutoff (as text) and horizon, from its "data" summary or as given."""
    data = document.get("data")
    summary: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    cutoff = _period("backtest_cutoff", given) if given is not None else None
    if summary.get("cutoff") is not None:
        written = _period("backtest_cutoff", summary["cutoff"])
        if cutoff is not None and cutoff != written:
            raise InvalidInput(
                "backtest_cutoff", given, f"the backtest itself says its cutoff was {written}"
            )
        cutoff = written
    if cutoff is None:
        raise InvalidInput("backtest_cutoff", None, "the backtest does not say its cutoff; give it")
    horizon = summary.get("horizon")
    return cutoff, horizon if isinstance(horizon, int) and not isinstance(horizon, bool) else None


def _feature_list(features: Sequence[str]) -> list[str]:
    names = [str(name).strip() for name in features]
    if any(not name for name in names):
        raise InvalidInput("features", list(features), "feature names must not be empty")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInput("features", list(features), f"lists {', '.join(repeated)} twice")
    return names


def _clean_json(value: Any) -> Any:
    """JSON-safe copy: NaN and infinity (a metric over no rows) become null.

    PostgreSQL's JSON refuses NaN, and a missing figure must read as unknown, not as 0.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(key): _clean_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(item) for item in value]
    return value
