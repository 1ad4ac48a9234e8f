"""An approver's queue: each pending task with the figures its decision rests on.

One page costs a fixed number of statements (the page and its count, then the scopes,
location counts, forecasts and stock coverage of the page's revisions, each in one
read), however many tasks the page holds: a queue of 500 never issues 500 reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from promoflow.approvals import repository, service
from promoflow.approvals.facts import figures
from promoflow.approvals.matrix import BUNDLED_POLICY, load_approval_policy
from promoflow.approvals.models import ApprovalTask
from promoflow.approvals.schemas import (
    ApprovalPreview,
    ApprovalQueueItem,
    QueueRules,
    SlaState,
    StockRisk,
)
from promoflow.catalog.models import Item
from promoflow.gates.policy import BUNDLED_POLICY as BUNDLED_GATE_POLICY
from promoflow.gates.policy import load_gate_policy
from promoflow.identity.schemas import BannerScope
from promoflow.kit.errors import InvalidInput
from promoflow.kit.money import MoneyAmount
from promoflow.kit.roles import ROLES
from promoflow.promotions.models import Promotion, PromotionItem


def sla_state(task: ApprovalTask, now: datetime, rules: QueueRules) -> SlaState:
    """Overdue past `due_at`; due soon past the role's reminder point (or once reminded)."""
    if now >= task.due_at:
        return SlaState.OVERDUE
    fraction = rules.reminder_at_fraction.get(task.role, rules.default_reminder_at_fraction)
    remind_at = task.created_at + (task.due_at - task.created_at) * fraction
    if task.reminded_at is not None or now >= remind_at:
        return SlaState.DUE_SOON
    return SlaState.ON_TIME


def stock_risk(
    coverage: tuple[int, int] | None, rules: QueueRules
) -> tuple[StockRisk, float | None]:
    """The risk level and covered share from (forecast item-locations, covered ones)."""
    if not coverage or coverage[0] == 0:
        return StockRisk.UNKNOWN, None
    total, covered = coverage
    share = covered / total
    if covered == total:
        return StockRisk.LOW, 1.0
    level = StockRisk.HIGH if share < rules.min_share_covered else StockRisk.MEDIUM
    return level, round(share, 4)


def _uplift(forecast: dict[int, tuple[float, float]]) -> float | None:
    baseline = sum(units[0] for units in forecast.values())
    promoted = sum(units[1] for units in forecast.values())
    if not forecast or baseline <= 0:
        return None
    return round(100 * (promoted / baseline - 1), 1)


def queue_page(
    session: Session,
    role: str | None,
    limit: int,
    offset: int,
    *,
    now: datetime,
    rules: QueueRules,
    currency: str,
    banners: BannerScope | None = None,
    after: tuple[datetime, int] | None = None,
) -> tuple[list[ApprovalQueueItem], int]:
    """One page of pending tasks (of `role`, or every role's), soonest due first; with
    `banners`, only those of promotions within them; after the task whose (due_at, id)
    is `after`. Margin impacts are in `currency`, the deployment's."""
    if role is not None and role not in ROLES:
        raise InvalidInput("role", role, f"unknown role; known: {', '.join(ROLES)}")
    rows, total = repository.pending_page(
        session, role, limit, offset, banners=banners, after=after
    )
    return _entries(session, rows, now, rules, currency), total


def _entries(
    session: Session,
    rows: Sequence[tuple[ApprovalTask, Promotion]],
    now: datetime,
    rules: QueueRules,
    currency: str,
) -> list[ApprovalQueueItem]:
    """The tasks with their figures (money in `currency`), each kind read once for all."""
    if not rows:
        return []
    promotion_ids = {promotion.id for _, promotion in rows}
    keys = {(task.promotion_id, task.revision) for task, _ in rows}
    scopes: dict[int, list[tuple[PromotionItem, Item]]] = defaultdict(list)
    for line, item in repository.scopes_of(session, promotion_ids):
        scopes[line.promotion_id].append((line, item))
    locations = repository.location_counts(session, promotion_ids)
    forecasts = repository.forecast_units_of(session, keys)
    coverage = repository.stock_coverage_of(session, keys, rules.min_coverage_ratio)
    return [
        _entry(task, promotion, scopes, locations, forecasts, coverage, now, rules, currency)
        for task, promotion in rows
    ]


def preview_approvals(
    session: Session,
    task_ids: Sequence[int],
    actor: str,
    role: str,
    *,
    now: datetime,
    rules: QueueRules,
    currency: str,
    banners: BannerScope | None = None,
) -> list[ApprovalPreview]:
    """What approving each task would do, in the order given, deciding nothing: the task
    with its figures, why `actor` as `role` may not approve it (if so), and which of its
    revision's approvals would still be pending afterwards."""
    rows = repository.tasks_with_promotions(session, set(task_ids), banners=banners)
    items = {item.id: item for item in _entries(session, rows, now, rules, currency)}
    keys = {(task.promotion_id, task.revision) for task, _ in rows}
    pending: dict[tuple[int, int], list[ApprovalTask]] = defaultdict(list)
    for task in repository.pending_of_revisions(session, keys) if keys else ():
        pending[(task.promotion_id, task.revision)].append(task)
    previews = []
    for task_id in dict.fromkeys(task_ids):  # each once, in the order given
        item = items.get(task_id)
        others = [] if item is None else pending[(item.promotion_id, item.revision)]
        previews.append(
            ApprovalPreview(
                task_id=task_id,
                item=item,
                refusal=service.decision_refusal(session, task_id, actor, role, banners=banners),
                still_pending=[other.role for other in others if other.id != task_id],
            )
        )
    return previews


def _entry(
    task: ApprovalTask,
    promotion: Promotion,
    scopes: dict[int, list[tuple[PromotionItem, Item]]],
    locations: dict[int, int],
    forecasts: dict[tuple[int, int], dict[int, tuple[float, float]]],
    coverage: dict[tuple[int, int], tuple[int, int]],
    now: datetime,
    rules: QueueRules,
    currency: str,
) -> ApprovalQueueItem:
    key = (task.promotion_id, task.revision)
    forecast = forecasts.get(key, {})
    found = figures(
        scopes[promotion.id],
        forecast,
        locations.get(promotion.id, 0),
        Decimal(promotion.vendor_funding_per_unit or 0),
    )
    risk, covered_share = stock_risk(coverage.get(key), rules)
    return ApprovalQueueItem(
        id=task.id,
        promotion_id=task.promotion_id,
        revision=task.revision,
        role=task.role,
        assigned_role=task.assigned_role,
        reason=task.reason,
        status=task.status,
        sla_hours=task.sla_hours,
        due_at=task.due_at,
        reminded_at=task.reminded_at,
        escalated_at=task.escalated_at,
        decided_by=task.decided_by,
        decided_at=task.decided_at,
        comment=task.comment,
        created_at=task.created_at,
        promotion_code=promotion.code,
        promotion_name=promotion.name,
        mechanic=promotion.mechanic,
        start_date=promotion.start_date,
        end_date=promotion.end_date,
        depth=found.max_discount_depth,
        forecast_uplift_pct=_uplift(forecast),
        margin_impact=MoneyAmount.of(found.margin_impact, currency),
        risk=risk,
        stock_covered_share=covered_share,
        sla_state=sla_state(task, now, rules),
    )


def queue_rules(approval_policy: Path | None, gate_policy: Path | None) -> QueueRules:
    """The queue's rules from the approval and gate policy files (None: the bundled ones).

    Read again only when a file changes, so a queue request costs no YAML parsing.
    """
    approvals = approval_policy or BUNDLED_POLICY
    gates = gate_policy or BUNDLED_GATE_POLICY
    return _rules_cached(approvals, _stamp(approvals), gates, _stamp(gates))


def _stamp(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1  # the loader reports the missing file, naming it


@lru_cache(maxsize=8)
def _rules_cached(approvals: Path, _a: int, gates: Path, _g: int) -> QueueRules:
    roles = load_approval_policy(approvals).roles
    coverage = load_gate_policy(gates).gates.inventory_coverage
    return QueueRules(
        reminder_at_fraction={role: sla.reminder_at_fraction for role, sla in roles.items()},
        min_coverage_ratio=coverage.min_coverage_ratio,
        min_share_covered=coverage.min_share_covered,
    )
