"""The bundled approval matrix on hand-checkable promotion figures."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from promoflow.approvals.matrix import (
    ApprovalPolicy,
    PromotionFacts,
    RequiredApproval,
    load_approval_policy,
    required_approvals,
)

# A promotion nothing but the always-on rule should catch: 10 % off, margin loss of
# 100.00, no vendor money, an ordinary category, no in-store support.
QUIET = PromotionFacts(
    max_discount_depth=0.10,
    margin_impact=Decimal("-100.00"),
    below_cost_items=0,
    vendor_funding_total=Decimal("0.00"),
    category="Snacks",
    item_count=3,
    location_count=12,
    categories=("Snacks",),
)


@pytest.fixture(scope="module")
def policy() -> ApprovalPolicy:
    return load_approval_policy()


def by_role(required: list[RequiredApproval]) -> dict[str, RequiredApproval]:
    return {need.role: need for need in required}


def test_bundled_policy_is_versioned_and_names_its_sla(policy: ApprovalPolicy) -> None:
    assert policy.version == "2026.11-1"
    finance = policy.roles["finance_approver"]
    assert (finance.sla_hours, finance.escalate_to, finance.expire_after_hours) == (
        24,
        "operations_admin",
        48,
    )


def test_quiet_promotion_needs_only_pricing(policy: ApprovalPolicy) -> None:
    required = required_approvals(QUIET, policy)
    assert [need.role for need in required] == ["pricing_analyst"]
    pricing = required[0]
    assert pricing.reasons == ["Every promotion price is checked by pricing"]
    assert pricing.sla_hours == 8
    assert pricing.reminder_after_hours == 4  # half of the 8 h SLA
    assert pricing.expire_after_hours == 24
    assert pricing.escalate_to == "operations_admin"
    assert pricing.rules == ["promo_price_check"]
    assert pricing.policy_version == "2026.11-1"


@pytest.mark.parametrize(("depth", "fires"), [(0.29, False), (0.30, True), (0.45, True)])
def test_discount_depth_threshold(policy: ApprovalPolicy, depth: float, fires: bool) -> None:
    roles = by_role(required_approvals(replace(QUIET, max_discount_depth=depth), policy))
    assert ("category_manager" in roles) is fires
    if fires:
        assert roles["category_manager"].reasons == [
            f"Deepest discount is {depth:.0%}; 30 % or more needs the category manager"
        ]


@pytest.mark.parametrize(
    ("margin", "fires"), [("-5000.00", False), ("-5000.01", True), ("250.00", False)]
)
def test_margin_loss_threshold(policy: ApprovalPolicy, margin: str, fires: bool) -> None:
    roles = by_role(required_approvals(replace(QUIET, margin_impact=Decimal(margin)), policy))
    assert ("finance_approver" in roles) is fires
    if fires:
        assert roles["finance_approver"].reasons == [
            "Margin impact -5,000.01 versus baseline is below -5,000.00"
        ]


def test_any_item_below_cost_needs_finance(policy: ApprovalPolicy) -> None:
    roles = by_role(required_approvals(replace(QUIET, below_cost_items=2), policy))
    assert roles["finance_approver"].reasons == ["2 item(s) priced below unit cost"]


@pytest.mark.parametrize(("funding", "fires"), [("10000.00", False), ("10000.01", True)])
def test_vendor_funding_threshold(policy: ApprovalPolicy, funding: str, fires: bool) -> None:
    facts = replace(QUIET, vendor_funding_total=Decimal(funding))
    assert ("finance_approver" in by_role(required_approvals(facts, policy))) is fires


@pytest.mark.parametrize(
    ("categories", "fires"),
    [
        (("Baby",), True),
        (("Beer & Wine", "Snacks"), True),  # a mixed promotion still counts
        (("beer & wine",), True),  # category names match regardless of case
        (("Snacks", "Soft Drinks"), False),
    ],
)
def test_sensitive_categories(
    policy: ApprovalPolicy, categories: tuple[str, ...], fires: bool
) -> None:
    facts = replace(QUIET, category="mixed", categories=categories)
    roles = by_role(required_approvals(facts, policy))
    assert ("category_manager" in roles) is fires
    if fires:
        assert roles["category_manager"].reasons == [
            f"Includes a regulated or sensitive category ({', '.join(categories)})"
        ]


def test_category_without_item_categories_uses_the_promotion_category(
    policy: ApprovalPolicy,
) -> None:
    facts = replace(QUIET, category="Baby", categories=())
    assert "category_manager" in by_role(required_approvals(facts, policy))


def test_display_and_feature_support_need_store_operations(policy: ApprovalPolicy) -> None:
    display = by_role(required_approvals(replace(QUIET, display_support=True), policy))
    assert display["store_operations"].reasons == [
        "Secondary displays must be built in every store in scope (12)"
    ]
    assert display["store_operations"].reminder_after_hours == 12  # 0.75 x 16 h


def test_several_rules_for_one_role_merge_into_one_approval(policy: ApprovalPolicy) -> None:
    facts = replace(
        QUIET,
        margin_impact=Decimal("-8000.00"),
        below_cost_items=1,
        vendor_funding_total=Decimal("12500.00"),
        display_support=True,
        feature_support=True,
    )
    required = required_approvals(facts, policy)
    assert [need.role for need in required] == [
        "pricing_analyst",
        "finance_approver",
        "store_operations",
    ]
    finance = by_role(required)["finance_approver"]
    assert finance.rules == ["margin_loss", "below_cost", "vendor_funding"]
    assert finance.reasons == [
        "Margin impact -8,000.00 versus baseline is below -5,000.00",
        "1 item(s) priced below unit cost",
        "Vendor funding of 12,500.00 is above 10,000.00 and must be reconciled",
    ]
    assert len(by_role(required)["store_operations"].reasons) == 2


def test_every_role_of_a_big_promotion_is_required_once(policy: ApprovalPolicy) -> None:
    facts = replace(
        QUIET,
        max_discount_depth=0.5,
        below_cost_items=1,
        categories=("Baby",),
        display_support=True,
    )
    required = required_approvals(facts, policy)
    roles = [need.role for need in required]
    assert sorted(roles) == [
        "category_manager",
        "finance_approver",
        "pricing_analyst",
        "store_operations",
    ]
    # Two rules for the category manager give two reasons on one approval.
    assert by_role(required)["category_manager"].rules == ["deep_discount", "sensitive_category"]
    # Independent roles: each carries its own SLA, none waits for another.
    assert {need.role: need.sla_hours for need in required} == {
        "pricing_analyst": 8,
        "category_manager": 16,
        "finance_approver": 24,
        "store_operations": 16,
    }
