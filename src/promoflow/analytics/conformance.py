"""Conformance of each revision to the reference lifecycle (promotions/states.py).

A revision conforms when every move it recorded is one the state machine allows
and, where it reached `approved`, every approval it asked for was decided in
favour before that. A log whose events were edited or lost shows as skipped steps
(a state jumped over), repeated steps or out-of-order steps.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from promoflow.analytics.log import CASE, ProcessLog
from promoflow.promotions.states import ALLOWED, STATES
from promoflow.promotions.states import PromotionState as S

# The path a promotion takes when nothing goes wrong: what a skip is measured against.
REFERENCE_PATH: tuple[str, ...] = tuple(str(s) for s in STATES[: STATES.index(S.CLOSED) + 1])


def _deviation(previous: str, state: str, seen: set[str]) -> dict[str, Any] | None:
    """What is wrong with moving from `previous` to `state`, or None when it is allowed."""
    # Only `on_hold` leads back to a state already passed (where the workflow waited).
    if state == previous or (state in seen and previous != S.ON_HOLD):
        return {"kind": "repeated", "step": state, "after": previous}
    if state in ALLOWED.get(previous, set()):
        return None
    if previous in REFERENCE_PATH and state in REFERENCE_PATH:
        start, end = REFERENCE_PATH.index(previous), REFERENCE_PATH.index(state)
        if end > start + 1:
            return {
                "kind": "skipped",
                "step": state,
                "after": previous,
                "skipped": list(REFERENCE_PATH[start + 1 : end]),
            }
    return {"kind": "out_of_order", "step": state, "after": previous}


def _path_deviations(moves: pl.DataFrame) -> dict[tuple[int, int], list[dict[str, Any]]]:
    found: dict[tuple[int, int], list[dict[str, Any]]] = {}
    paths = moves.group_by(CASE).agg(
        pl.col("from_state").first().alias("start"), pl.col("to_state"), pl.col("time")
    )
    for promotion_id, revision, start, states, times in paths.iter_rows():
        previous = start or S.DRAFT.value
        seen = {previous}
        for state, at in zip(states, times, strict=True):
            deviation = _deviation(previous, state, seen)
            if deviation is not None:
                deviation["at"] = at.isoformat()
                found.setdefault((promotion_id, revision), []).append(deviation)
            seen.add(state)
            previous = state
    return found


def _approval_deviations(log: ProcessLog) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Revisions that reached `approved` without every requested approval in favour."""
    events = log.events
    approved = (
        events.filter(pl.col("to_state") == S.APPROVED.value)
        .group_by(CASE)
        .agg(pl.col("time").min().alias("approved_at"))
    )
    requested = events.filter(pl.col("activity") == "approval.requested").select(
        *CASE, "task_id", "role"
    )
    decided = events.filter(
        (pl.col("activity") == "approval.decided") & (pl.col("decision") == "approved")
    ).select("task_id", pl.col("time").alias("decided_at"))
    tasks = approved.join(requested, on=CASE, how="left").join(decided, on="task_id", how="left")
    missing = tasks.filter(
        pl.col("task_id").is_null()
        | pl.col("decided_at").is_null()
        | (pl.col("decided_at") > pl.col("approved_at"))
    )
    found: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for promotion_id, revision, approved_at, role in missing.select(
        *CASE, "approved_at", "role"
    ).iter_rows():
        found.setdefault((promotion_id, revision), []).append(
            {
                "kind": "skipped",
                "step": "approval.decided",
                "after": S.IN_APPROVAL.value,
                "skipped": [f"approval by {role}" if role else "every approval"],
                "at": approved_at.isoformat(),
            }
        )
    return found


def conformance(log: ProcessLog) -> dict[str, Any]:
    """Per revision: conforming or not, with each skipped, repeated or out-of-order step."""
    moves = log.transitions.select(*CASE, "time", "from_state", "to_state")
    cases = log.events.group_by(CASE).agg(pl.col("code").first()).sort(CASE)
    paths = _path_deviations(moves)
    approvals = _approval_deviations(log)
    revisions = []
    for promotion_id, revision, code in cases.iter_rows():
        deviations = paths.get((promotion_id, revision), []) + approvals.get(
            (promotion_id, revision), []
        )
        revisions.append(
            {
                "case": f"{code} r{revision}",
                "code": code,
                "revision": revision,
                "conforms": not deviations,
                "deviations": deviations,
            }
        )
    deviating = [r for r in revisions if not r["conforms"]]
    kinds: dict[str, int] = {}
    for row in deviating:
        for deviation in row["deviations"]:
            kinds[deviation["kind"]] = kinds.get(deviation["kind"], 0) + 1
    return {
        "cases": len(revisions),
        "conforming": len(revisions) - len(deviating),
        "conformance_rate": round(1 - len(deviating) / len(revisions), 4) if revisions else None,
        "deviations_by_kind": kinds,
        "deviating": deviating,
    }
