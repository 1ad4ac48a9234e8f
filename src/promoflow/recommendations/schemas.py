"""What crosses the recommendations boundary: kinds, statuses and who may decide.

Each member equals its text, so rows, events and API payloads keep plain strings.
"""

from __future__ import annotations

from enum import StrEnum

from promoflow.kit.roles import Role


class RecommendationKind(StrEnum):
    ALLOCATION = "allocation"
    REPLENISHMENT = "replenishment"


class RecommendationStatus(StrEnum):
    PROPOSED = "proposed"
    AUTO_APPLIED = "auto_applied"
    ACCEPTED = "accepted"
    EDITED = "edited"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


RECOMMENDATION_KINDS: tuple[RecommendationKind, ...] = tuple(RecommendationKind)
RECOMMENDATION_STATUSES: tuple[RecommendationStatus, ...] = tuple(RecommendationStatus)
# Only a proposed recommendation waits for a decision; every other status is final.
OPEN_STATUS = RecommendationStatus.PROPOSED
# Who may accept, edit or reject a recommendation.
DECIDER_ROLES: tuple[Role, ...] = (Role.SUPPLY_CHAIN_PLANNER, Role.OPERATIONS_ADMIN)
