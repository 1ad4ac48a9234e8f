"""Trained models kept beside their registry entry, so every worker forecasts with the same one.

The artefact is a pickle of the fitted model, stored in the database (not a file)
because workers on other hosts share the database, not a disk. Only promoflow
writes these rows; loading checks the stored sha256 so a truncated or altered
row is refused rather than unpickled.
"""

from __future__ import annotations

import hashlib
import pickle
from datetime import datetime
from threading import Lock

from sqlalchemy.orm import Session

from promoflow.forecasting import repository
from promoflow.forecasting.model import GlobalDemandModel
from promoflow.forecasting.models import ModelArtifact
from promoflow.kit.errors import Conflict, NotFound

_cache: dict[str, GlobalDemandModel] = {}
_cache_lock = Lock()


def save_artifact(session: Session, version: str, model: GlobalDemandModel, now: datetime) -> str:
    """Store the fitted model under its registry version; returns the payload's sha256."""
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(payload).hexdigest()
    repository.save_artifact(
        session,
        ModelArtifact(
            version=version,
            format="pickle",
            sha256=digest,
            size_bytes=len(payload),
            payload=payload,
            created_at=now,
        ),
    )
    return digest


def load_artifact(session: Session, version: str) -> GlobalDemandModel:
    """The fitted model of `version` (cached per process; versions never change)."""
    with _cache_lock:
        cached = _cache.get(version)
    if cached is not None:
        return cached
    row = repository.get_artifact(session, version)
    if row is None:
        raise NotFound(f"no stored model artefact for version {version!r}; train it again")
    if hashlib.sha256(row.payload).hexdigest() != row.sha256:
        raise Conflict(f"model artefact {version} does not match its sha256; retrain it")
    model = pickle.loads(row.payload)  # noqa: S301 - written by promoflow, hash checked above
    if not isinstance(model, GlobalDemandModel):
        raise Conflict(f"model artefact {version} is not a demand model")
    with _cache_lock:
        _cache[version] = model
    return model
