"""Can an item be promoted at a location: the item-master and ranging rules, as reasons.

The rule names are the promotion validation's (`promotions.validation.MESSAGES`), so
a merchandiser who checks a SKU here gets the finding a submitted promotion would
get, before writing one. Pure: it judges rows the service read.
"""

from __future__ import annotations

from promoflow.catalog.models import Item, Location
from promoflow.catalog.schemas import Eligibility, IneligibleReason, ItemStatus

# rule -> what is wrong and what to do, naming the SKU and the location.
MESSAGES: dict[str, str] = {
    "item_inactive": "{sku} is inactive; reactivate it in the item master first",
    "item_discontinued": "{sku} is discontinued and cannot be promoted",
    "item_restricted": "{sku} is restricted (e.g. alcohol, tobacco) and may not be discounted",
    "item_not_eligible": "{sku} is not promotion-eligible in the item master",
    "item_not_ranged": "{location} does not carry {sku}; range it there or pick another location",
}
RULES: tuple[str, ...] = tuple(MESSAGES)


def judge(item: Item, location: Location, *, ranged: bool) -> Eligibility:
    """Every reason `item` may not be promoted at `location`; eligible when there is none."""
    broken = [
        rule
        for rule, breaks in (
            ("item_inactive", item.status == ItemStatus.INACTIVE),
            ("item_discontinued", item.status == ItemStatus.DISCONTINUED),
            ("item_restricted", item.restricted),
            ("item_not_eligible", not item.promo_eligible),
            ("item_not_ranged", not ranged),
        )
        if breaks
    ]
    reasons = [
        IneligibleReason(
            rule=rule, message=MESSAGES[rule].format(sku=item.sku, location=location.code)
        )
        for rule in broken
    ]
    return Eligibility(
        sku=item.sku, location_code=location.code, eligible=not reasons, reasons=reasons
    )


def promotable(item: Item) -> bool:
    """The item master's own verdict: active, not restricted, promotion-eligible."""
    return item.status == ItemStatus.ACTIVE and not item.restricted and item.promo_eligible
