"""The approval matrix: a versioned policy that maps a promotion's figures to roles.

Every role a fired rule names must approve; the roles are independent and decide
in parallel. Pure code: no database, no clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promoflow.kit.errors import PolicyError
from promoflow.kit.roles import ROLES

BUNDLED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "approvals.yaml"


@dataclass(frozen=True)
class PromotionFacts:
    """The figures of one promotion revision the matrix decides on."""

    max_discount_depth: float
    margin_impact: Decimal
    below_cost_items: int
    vendor_funding_total: Decimal
    category: str
    display_support: bool = False
    feature_support: bool = False
    item_count: int = 0
    location_count: int = 0
    # Every item category in scope; a "mixed" promotion still meets category rules.
    categories: tuple[str, ...] = ()
    # False when margin and funding used the 1 unit per item-location fallback.
    forecast_used: bool = False

    def all_categories(self) -> tuple[str, ...]:
        """The item categories in scope, or the promotion's category when none are known."""
        return self.categories or (self.category,)


@dataclass(frozen=True)
class RequiredApproval:
    """One role that must approve, why, and its SLA (all in business hours)."""

    role: str
    reasons: list[str]
    sla_hours: float
    reminder_after_hours: float
    escalate_to: str
    expire_after_hours: float
    rules: list[str] = field(default_factory=list)
    policy_version: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for events and workflow checkpoints."""
        return asdict(self)


class RolePolicy(BaseModel):
    """How long a role has, when it is reminded, and where it escalates."""

    model_config = ConfigDict(extra="forbid")

    sla_hours: float = Field(gt=0)
    reminder_at_fraction: float = Field(gt=0, lt=1)
    escalate_to: str
    expire_after_hours: float = Field(gt=0)


class RuleCondition(BaseModel):
    """Conditions of one rule; every condition given must hold for the rule to fire."""

    model_config = ConfigDict(extra="forbid")

    always: bool = False
    discount_depth_at_least: float | None = Field(default=None, gt=0, le=1)
    margin_impact_below: Decimal | None = None
    below_cost_items_at_least: int | None = Field(default=None, ge=1)
    vendor_funding_above: Decimal | None = Field(default=None, ge=0)
    category_in: list[str] | None = Field(default=None, min_length=1)
    display_support: bool | None = None
    feature_support: bool | None = None
    item_count_at_least: int | None = Field(default=None, ge=1)
    location_count_at_least: int | None = Field(default=None, ge=1)

    def given(self) -> list[str]:
        """Names of the conditions set on this rule (besides `always`)."""
        return [
            name
            for name in type(self).model_fields
            if name != "always" and getattr(self, name) is not None
        ]

    def holds(self, facts: PromotionFacts) -> bool:
        """True when every condition given holds for the facts."""
        checks = [
            self.always or bool(self.given()),
            _at_least(facts.max_discount_depth, self.discount_depth_at_least),
            self.margin_impact_below is None or facts.margin_impact < self.margin_impact_below,
            _at_least(facts.below_cost_items, self.below_cost_items_at_least),
            self.vendor_funding_above is None
            or facts.vendor_funding_total > self.vendor_funding_above,
            self.category_in is None or _any_category(facts, self.category_in),
            self.display_support is None or facts.display_support == self.display_support,
            self.feature_support is None or facts.feature_support == self.feature_support,
            _at_least(facts.item_count, self.item_count_at_least),
            _at_least(facts.location_count, self.location_count_at_least),
        ]
        return all(checks)


class ApprovalRule(BaseModel):
    """When a role must approve, and the reason shown to the approver."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    role: str
    when: RuleCondition
    reason: str = Field(min_length=1)

    def reason_for(self, facts: PromotionFacts) -> str:
        """The reason text with the promotion's figures filled in."""
        return self.reason.format_map(_reason_fields(facts))


class ApprovalPolicy(BaseModel):
    """The whole approval matrix as loaded from YAML."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1)
    roles: dict[str, RolePolicy] = Field(min_length=1)
    rules: list[ApprovalRule] = Field(min_length=1)


def _at_least(value: float, threshold: float | None) -> bool:
    return threshold is None or value >= threshold


def _any_category(facts: PromotionFacts, wanted: list[str]) -> bool:
    wanted_folded = {name.casefold() for name in wanted}
    return any(category.casefold() in wanted_folded for category in facts.all_categories())


def _reason_fields(facts: PromotionFacts) -> dict[str, Any]:
    fields = asdict(facts)
    fields["categories"] = ", ".join(facts.all_categories())
    return fields


_SAMPLE_FACTS = PromotionFacts(
    max_discount_depth=0.25,
    margin_impact=Decimal("-1.00"),
    below_cost_items=1,
    vendor_funding_total=Decimal("1.00"),
    category="Sample",
    item_count=1,
    location_count=1,
)


def required_approvals(facts: PromotionFacts, policy: ApprovalPolicy) -> list[RequiredApproval]:
    """The roles that must approve, one entry per role with the reasons of every fired rule."""
    fired: dict[str, list[ApprovalRule]] = {}
    for rule in policy.rules:
        if rule.when.holds(facts):
            fired.setdefault(rule.role, []).append(rule)
    required: list[RequiredApproval] = []
    for role, rules in fired.items():
        sla = policy.roles[role]
        reasons = list(dict.fromkeys(rule.reason_for(facts) for rule in rules))
        required.append(
            RequiredApproval(
                role=role,
                reasons=reasons,
                sla_hours=sla.sla_hours,
                reminder_after_hours=sla.sla_hours * sla.reminder_at_fraction,
                escalate_to=sla.escalate_to,
                expire_after_hours=sla.expire_after_hours,
                rules=[rule.id for rule in rules],
                policy_version=policy.version,
            )
        )
    return required


def load_approval_policy(path: Path | None = None) -> ApprovalPolicy:
    """Load and check the approval policy; None loads the bundled file."""
    source = path or BUNDLED_POLICY
    raw = _read_yaml(source)
    try:
        policy = ApprovalPolicy.model_validate(raw)
    except ValidationError as error:
        problems = [
            (_dotted(issue["loc"]), issue.get("input"), issue["msg"]) for issue in error.errors()
        ]
        raise _policy_error(source, problems) from error
    problems = _semantic_problems(policy)
    if problems:
        raise _policy_error(source, problems)
    return policy


def _read_yaml(source: Path) -> Any:
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(
            f"{source}: cannot read the approval policy ({error.strerror})", file=str(source)
        ) from error
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyError(
            f"{source}: not valid YAML{where}: {problem}", file=str(source)
        ) from error
    if not isinstance(raw, dict):
        raise _policy_error(
            source, [("(top level)", raw, "expected a mapping with version, roles and rules")]
        )
    return raw


def _semantic_problems(policy: ApprovalPolicy) -> list[tuple[str, Any, str]]:
    known = f"known roles: {', '.join(ROLES)}"
    problems: list[tuple[str, Any, str]] = []
    for role, sla in policy.roles.items():
        if role not in ROLES:
            problems.append((f"roles.{role}", role, f"unknown role; {known}"))
        if sla.escalate_to not in ROLES:
            problems.append(
                (f"roles.{role}.escalate_to", sla.escalate_to, f"unknown role; {known}")
            )
        elif sla.escalate_to == role:
            problems.append(
                (
                    f"roles.{role}.escalate_to",
                    sla.escalate_to,
                    "a role cannot escalate to itself; name another role",
                )
            )
        if sla.expire_after_hours <= sla.sla_hours:
            problems.append(
                (
                    f"roles.{role}.expire_after_hours",
                    sla.expire_after_hours,
                    f"must be later than sla_hours ({sla.sla_hours:g}) so the "
                    "escalation has time to act",
                )
            )
    seen: set[str] = set()
    for index, rule in enumerate(policy.rules):
        problems.extend(_rule_problems(index, rule, policy, seen))
    return problems


def _rule_problems(
    index: int, rule: ApprovalRule, policy: ApprovalPolicy, seen: set[str]
) -> list[tuple[str, Any, str]]:
    where = f"rules[{index}]"
    problems: list[tuple[str, Any, str]] = []
    if rule.id in seen:
        problems.append((f"{where}.id", rule.id, "rule ids must be unique"))
    seen.add(rule.id)
    if rule.role not in ROLES:
        problems.append((f"{where}.role", rule.role, f"unknown role; known: {', '.join(ROLES)}"))
    elif rule.role not in policy.roles:
        problems.append((f"{where}.role", rule.role, "role has no SLA; add it under `roles`"))
    given = rule.when.given()
    if rule.when.always and given:
        problems.append(
            (f"{where}.when.always", True, f"`always` cannot be combined with {sorted(given)}")
        )
    if not rule.when.always and not given:
        problems.append((f"{where}.when", {}, "give at least one condition, or always: true"))
    try:
        rule.reason_for(_SAMPLE_FACTS)
    except (KeyError, ValueError, IndexError, AttributeError) as error:
        problems.append(
            (
                f"{where}.reason",
                rule.reason,
                f"placeholder cannot be filled ({error!r}); allowed: "
                f"{', '.join(sorted(_reason_fields(_SAMPLE_FACTS)))}",
            )
        )
    return problems


def _dotted(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _policy_error(source: Path, problems: list[tuple[str, Any, str]]) -> PolicyError:
    lines = [f"{path}={value!r}: {reason}" for path, value, reason in problems]
    return PolicyError(
        f"{source}: invalid approval policy: " + "; ".join(lines),
        file=str(source),
        errors=[
            {"field": path, "value": value, "reason": reason} for path, value, reason in problems
        ],
    )
