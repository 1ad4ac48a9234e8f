"""The people in the demo: approvers, planners, store and channel operations.

The desk polls the same state an operations team would see and acts through the
same commands the API exposes, so the demo exercises the real paths: approvals
with segregation of duties, store confirmations, exception decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Literal

from promoflow.approvals.models import ApprovalTask
from promoflow.exceptions.models import ExceptionCase
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.kit.errors import PromoflowError
from promoflow.kit.roles import Role
from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion
from promoflow.publications.service import CONFIRMABLE_STATES
from promoflow.recommendations.models import Recommendation
from promoflow.runtime import get_runtime
from promoflow.scenario import repository

# Two people per role, so an escalated task never lands on someone who already
# decided another task on the same promotion (segregation of duties). A `Role`
# member equals its text, so a task's plain `assigned_role` finds its people.
PEOPLE: dict[str, tuple[str, ...]] = {
    Role.PRICING_ANALYST: ("priya.pricing", "omar.pricing"),
    Role.CATEGORY_MANAGER: ("carmen.category", "ken.category"),
    Role.FINANCE_APPROVER: ("frank.finance", "fatima.finance"),
    Role.SUPPLY_CHAIN_PLANNER: ("sasha.supply", "tom.supply"),
    Role.STORE_OPERATIONS: ("sam.stores", "ruth.stores"),
    Role.CHANNEL_OPERATIONS: ("casey.channels", "ivan.channels"),
    Role.OPERATIONS_ADMIN: ("ada.admin", "bo.admin"),
    Role.MERCHANDISER: ("mia.merch", "noah.merch"),
}


@dataclass
class PromotionScript:
    """How the people treat one promotion in the storyline."""

    code: str
    reject_by: str | None = None  # role that rejects instead of approving
    reject_comment: str = ""
    slow_role: str | None = None  # role that never answers until escalated
    stores_confirm: bool = True  # False: the stores leave their readiness tasks open
    on_case: Callable[[ExceptionCase], str | None] | None = None  # returns a decision
    handled_cases: set[int] = field(default_factory=set)
    # The planner's answer to an open recommendation ("accept", "reject", or None to
    # leave it waiting); by default they accept what the model proposes.
    on_recommendation: Callable[[Recommendation], str | None] | None = lambda _: "accept"


class Desk:
    """Acts for every person; `tick()` is called repeatedly by the storyline."""

    def __init__(self, scripts: dict[str, PromotionScript], think_hours: float = 2.0) -> None:
        self.scripts = scripts
        self.think_seconds = think_hours * get_runtime().settings.seconds_per_business_hour
        self.log: list[str] = []

    def tick(self) -> None:
        """Look at the queues once and act on whatever is due."""
        with reading(get_runtime().sessions) as session:
            promotions = {
                p.id: p for p in repository.promotions_by_code(session, list(self.scripts))
            }
            ids = list(promotions)
            tasks = repository.pending_approval_tasks(session, ids)
            cases = repository.open_cases(session, ids)
            # Stores stop confirming once readiness no longer matters.
            open_tasks = repository.promotions_with_open_store_tasks(
                session, ids, CONFIRMABLE_STATES
            )
            deciders = repository.approval_deciders(session, ids)
            proposals = repository.proposed_recommendations(session, ids)
        now = utcnow()
        for task in tasks:
            self._attempt(
                promotions[task.promotion_id],
                partial(self._approval, promotions[task.promotion_id], task, deciders, now),
            )
        for promotion_id in open_tasks:
            if not self.scripts[promotions[promotion_id].code].stores_confirm:
                continue
            self._attempt(
                promotions[promotion_id],
                partial(self._confirm_store_tasks, promotions[promotion_id]),
            )
        for proposal in proposals:
            self._attempt(
                promotions[proposal.promotion_id],
                partial(self._recommendation, promotions[proposal.promotion_id], proposal, now),
            )
        for case in cases:
            self._attempt(
                promotions[case.promotion_id or 0],
                partial(self._case, promotions[case.promotion_id or 0], case),
            )

    def _attempt(self, promotion: Promotion, action: Callable[[], None]) -> None:
        # The workflow moves on while a person looks at their queue (an escalation
        # lands between reading a task and deciding it): they read the refusal and
        # look again on the next round, as a person would.
        try:
            action()
        except PromoflowError as error:
            self.say(f"{promotion.code}: {error.message} (will look again)")

    def _confirm_store_tasks(self, promotion: Promotion) -> None:
        confirmed = commands.confirm_store_tasks(
            promotion.id, None, PEOPLE[Role.STORE_OPERATIONS][0]
        )
        self.say(f"{promotion.code}: stores confirmed {confirmed} readiness tasks")

    def say(self, line: str) -> None:
        self.log.append(line)

    def _approval(
        self, promotion: Promotion, task: ApprovalTask, deciders: dict[int, set[str]], now: datetime
    ) -> None:
        script = self.scripts[promotion.code]
        if (now - task.created_at).total_seconds() < self.think_seconds:
            return
        if task.role == script.slow_role and task.escalated_at is None:
            return  # on holiday: the SLA will remind, then escalate
        taken = deciders.get(promotion.id, set())
        person = next((p for p in PEOPLE[task.assigned_role] if p not in taken), None)
        if person is None:
            return
        if task.role == script.reject_by:
            commands.decide_approval(
                task.id, person, task.assigned_role, "reject", script.reject_comment
            )
            self.say(f"{promotion.code}: {person} ({task.assigned_role}) rejected")
        else:
            commands.decide_approval(
                task.id, person, task.assigned_role, "approve", "ok for launch"
            )
            self.say(
                f"{promotion.code}: {person} ({task.assigned_role}) approved"
                + (" after escalation" if task.escalated_at else "")
            )
        taken.add(person)
        deciders[promotion.id] = taken

    def _recommendation(
        self, promotion: Promotion, proposal: Recommendation, now: datetime
    ) -> None:
        script = self.scripts[promotion.code]
        if script.on_recommendation is None:
            return
        if (now - proposal.created_at).total_seconds() < self.think_seconds:
            return
        answer = script.on_recommendation(proposal)
        if answer not in ("accept", "reject"):
            return
        decision: Literal["accept", "reject"] = "accept" if answer == "accept" else "reject"
        person = PEOPLE[Role.SUPPLY_CHAIN_PLANNER][0]
        units = proposal.summary.get("units", 0.0)
        commands.decide_recommendation(
            proposal.id,
            decision,
            person,
            Role.SUPPLY_CHAIN_PLANNER,
            reason=f"planner {decision}s the {proposal.kind} of {units:,.0f} units",
        )
        self.say(
            f"{promotion.code}: {person} {decision}ed {proposal.kind} recommendation "
            f"#{proposal.id} ({units:,.0f} units)"
        )

    def _case(self, promotion: Promotion, case: ExceptionCase) -> None:
        script = self.scripts[promotion.code]
        if script.on_case is None:
            return
        decision = script.on_case(case)
        if decision is None or case.id in script.handled_cases:
            return
        person = PEOPLE[case.owner_role][0]
        commands.resolve_exception(
            case.id,
            decision,
            person,
            case.owner_role,
            reason=f"{case.owner_role} decided {decision}",
        )
        script.handled_cases.add(case.id)
        self.say(f"{promotion.code}: {person} chose {decision} on case #{case.id} ({case.kind})")
