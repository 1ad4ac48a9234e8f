"""The console owns no table: it reads the domain packages' tables (see repository.py).

What it adds are two indexes its pages read through, declared here on the owners'
tables so that the metadata and migration 0014 agree:
- a gate round by (promotion, revision, evaluation): "the newest round of the current
  revision", which readiness and risk ask of every promotion a list shows;
- promotions by (start_date, id): the Promotions list's order and keyset, and the
  launch windows of Today and the Calendar.
"""

from __future__ import annotations

import sqlalchemy as sa

from promoflow.gates.models import GateResult
from promoflow.promotions.models import Promotion

GATE_ROUNDS = sa.Index(
    "ix_gate_results_round", GateResult.promotion_id, GateResult.revision, GateResult.evaluation
)
LAUNCH_ORDER = sa.Index("ix_promotions_start_date_id", Promotion.start_date, Promotion.id)
