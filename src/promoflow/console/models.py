"""The console owns no table: it reads the domain packages' tables (see repository.py).

What it adds are three indexes its pages read through, declared here on the owners'
tables so that the metadata and migrations 0014 and 0015 agree:
- a gate round by (promotion, revision, evaluation): "the newest round of the current
  revision", which readiness and risk ask of every promotion a list shows;
- promotions by (start_date, id): the Promotions list's order and keyset, and the
  launch windows of Today and the Calendar;
- a role's pending approval tasks by due time: Today's (and the inbox's) first page
  read in order, instead of sorting every pending task of the role.
"""

from __future__ import annotations

import sqlalchemy as sa

from promoflow.approvals.models import ApprovalTask
from promoflow.gates.models import GateResult
from promoflow.promotions.models import Promotion

GATE_ROUNDS = sa.Index(
    "ix_gate_results_round", GateResult.promotion_id, GateResult.revision, GateResult.evaluation
)
LAUNCH_ORDER = sa.Index("ix_promotions_start_date_id", Promotion.start_date, Promotion.id)
ROLE_QUEUE = sa.Index(
    "ix_approval_tasks_role_queue",
    ApprovalTask.assigned_role,
    ApprovalTask.status,
    ApprovalTask.due_at,
    ApprovalTask.id,
)
