"""The demo's storyline: six promotions that together show the whole lifecycle.

1. a clean launch, its thin shelves topped up from the DC by an allocation the
policy applies by itself; 2. a launch blocked by low coverage (stores and DC both
short) until the replenishment the workflow proposes, a planner accepts and the
supplier acknowledges arrives; 3. an approval that breaches its SLA and escalates;
4. a POS outage in the launch window that lands in the exception queue and
publishes exactly once after an operator retry; 5. a promotion finance rejects;
6. a promotion validation stops (a restricted item).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from promoflow.connectors.sandbox import supplier_portal, wms
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseAction, CaseKind
from promoflow.inventory import service as inventory_service
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import Role
from promoflow.lifecycle import commands
from promoflow.promotions.models import TERMINAL_STATES
from promoflow.promotions.schemas import PromotionCreate
from promoflow.runtime import Runtime
from promoflow.scenario import estate_actions, picking, repository
from promoflow.scenario.desk import Desk, PromotionScript

REPLENISH_WEEKS = 8.0
CLEAN_WEEKS = 1.0  # a week on the shelf: the workflow's allocation tops it up
LOW_WEEKS = 0.2
CLEAN_SPARE_UNITS = 1.0
SUPPLIER_ACK_HOURS = 10.0
StatusCallback = Callable[[list[dict[str, Any]]], None]


@dataclass
class DemoPromotion:
    story: str
    request: PromotionCreate
    script: PromotionScript
    launch_lead_hours: float = 48.0
    live_hours: float = 72.0
    promotion_id: int = 0
    workflow_id: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Storyline:
    """The planned promotions plus the state the storyline's hooks keep."""

    runtime: Runtime
    promotions: list[DemoPromotion]
    outage: tuple[datetime, datetime] | None = None
    replenishment: dict[str, list[str]] = field(default_factory=dict)  # code -> PO numbers
    replenished: set[str] = field(default_factory=set)  # codes whose POs were seen

    def by_code(self, code: str) -> DemoPromotion:
        return next(p for p in self.promotions if p.request.code == code)


def plan(runtime: Runtime, today: date, tag: str) -> Storyline:
    """Choose items and scopes from the seeded retailer and write the six requests."""
    with runtime.sessions() as session:
        regions = picking.regions(session)
        cats = picking.categories(session)
        restricted = picking.restricted_sku(session)
        used: set[str] = set()

        def skus(region: str, count: int, category: str) -> list[str]:
            chosen = picking.promotable_skus(
                session, region=region, count=count, category=category, exclude=used
            )
            if not chosen:
                # A small seeded retailer may range no item of a category in every
                # store of a region; the stories cannot be told without one.
                raise InvalidInput(
                    "skus",
                    f"{category} in {region}",
                    "no promotable item of that category is carried by every store of the "
                    "region and the web shop: seed more SKUs (--skus) or fewer stores (--stores)",
                )
            used.update(chosen)
            return chosen

        region = [regions[i % len(regions)] for i in range(6)]
        cat = [cats[i % len(cats)] for i in range(6)]
        clean_skus = skus(region[0], 8, cat[0])
        low_skus = skus(region[1], 6, cat[1])
        sla_skus = skus(region[2], 6, cat[2])
        outage_skus = skus(region[3], 6, cat[3])
        reject_skus = skus(region[4], 5, cat[4])
        invalid_skus = skus(region[0], 3, cat[5])
        cheapest = picking.lowest_regular_price(session, outage_skus)
    # A fifth of the cheapest item's price, in 5-cent steps: a real discount on every item.
    amount_off = max(
        Decimal("0.05"),
        (cheapest / 5 / Decimal("0.05")).to_integral_value(rounding=ROUND_FLOOR) * Decimal("0.05"),
    )
    start = today + timedelta(days=14 - today.weekday())
    end = start + timedelta(days=6)

    def request(n: int, name: str, items: list[str], where: str, **terms: Any) -> PromotionCreate:
        return PromotionCreate(
            code=f"{tag}-{n}",
            name=name,
            start_date=start,
            end_date=end,
            items=items,
            regions=[where],
            **terms,
        )

    both = ["pos", "ecommerce"]
    promotions = [
        DemoPromotion(
            "clean launch",
            request(
                1,
                f"{cat[0]} 20 % off",
                clean_skus,
                region[0],
                mechanic="percent_off",
                discount_percent=Decimal(20),
                # No display support: the sandbox's sales feed sees prices only, so a
                # display's lift would be forecast and never sold (a false shortfall).
                channels=both,
            ),
            PromotionScript(f"{tag}-1"),
        ),
        DemoPromotion(
            "blocked by low coverage, cleared by replenishment",
            request(
                2,
                f"{cat[1]} buy 2 get 1 free",
                low_skus,
                region[1],
                mechanic="multi_buy",
                buy_quantity=2,
                get_quantity=1,
                channels=both,
            ),
            PromotionScript(f"{tag}-2"),
        ),
        DemoPromotion(
            "approval breaches its SLA and escalates",
            request(
                3,
                f"{cat[2]} deep deal 30 % off",
                sla_skus,
                region[2],
                mechanic="percent_off",
                discount_percent=Decimal(30),
                channels=both,
            ),
            PromotionScript(f"{tag}-3", slow_role=Role.CATEGORY_MANAGER),
        ),
        DemoPromotion(
            "POS outage in the launch window, retried by an operator",
            request(
                4,
                f"{cat[3]} {amount_off} off",
                outage_skus,
                region[3],
                mechanic="amount_off",
                discount_amount=amount_off,
                channels=["pos"],
            ),
            PromotionScript(f"{tag}-4"),
            launch_lead_hours=120.0,
        ),
        DemoPromotion(
            "finance rejects a below-cost deal",
            request(
                5,
                f"{cat[4]} clearance 45 % off",
                reject_skus,
                region[4],
                mechanic="percent_off",
                discount_percent=Decimal(45),
                channels=both,
            ),
            PromotionScript(
                f"{tag}-5",
                reject_by=Role.FINANCE_APPROVER,
                reject_comment="below cost on most items; no vendor funding",
            ),
        ),
        DemoPromotion(
            "validation stops a restricted item",
            request(
                6,
                f"{cat[5]} 15 % off",
                invalid_skus + ([restricted] if restricted else []),
                region[0],
                mechanic="percent_off",
                discount_percent=Decimal(15),
                channels=both,
            ),
            PromotionScript(f"{tag}-6"),
        ),
    ]
    return Storyline(runtime=runtime, promotions=promotions)


def prepare_stock(story: Storyline) -> None:
    """Stock the stores of each demo promotion as its story needs.

    The clean launch has a week on the shelf (its DC tops it up); the low-coverage
    story has almost nothing in its stores and nothing in their DC, and its suppliers
    take a while to acknowledge; the others are stocked well.
    """
    for index, promo in enumerate(story.promotions):
        weeks = {0: CLEAN_WEEKS, 1: LOW_WEEKS}.get(index, REPLENISH_WEEKS)
        estate_actions.set_cover(
            story.runtime,
            promo.request.items,
            promo.request.regions,
            weeks_of_cover=weeks,
            # The clean launch's shelves hold one unit more than a week: the allocation
            # ships whole case packs where a line is short by units, never for a
            # fraction of one, and the coverage gate compares stock with a P90 such
            # as 2.18, which a shelf of 2 misses at the default size.
            spare_units=CLEAN_SPARE_UNITS if index == 0 else 0.0,
        )
    low = story.promotions[1]
    _empty_dc(story.runtime, low.request.items, low.request.regions)
    hour = story.runtime.settings.seconds_per_business_hour
    for code in _supplier_codes(story.runtime, low.request.items):
        supplier_portal.set_supplier_behaviour(
            story.runtime.sessions, code, ack_after_seconds=SUPPLIER_ACK_HOURS * hour
        )


def _empty_dc(runtime: Runtime, skus: list[str], regions: list[str]) -> None:
    """The DCs serving `regions` hold none of `skus` (nothing on the way either)."""
    with runtime.sessions() as session:
        dcs = repository.serving_dc_codes(session, regions)
    records = [
        wms.set_stock(
            runtime.sessions, sku, dc, on_hand=0.0, on_order=0.0, in_transit=0.0, allocated=0.0
        )
        for sku in skus
        for dc in dcs
    ]
    with transaction(runtime.sessions) as session:
        inventory_service.apply_positions(session, records, "sandbox-wms")


def _supplier_codes(runtime: Runtime, skus: list[str]) -> list[str]:
    with runtime.sessions() as session:
        return repository.supplier_codes_of(session, skus)


def submit_all(story: Storyline, actor: str = "mia.merch") -> None:
    """Create and submit every promotion; arm the POS outage around promotion 4's launch."""
    for promo in story.promotions:
        created = commands.create_promotion(promo.request, actor)
        promo.promotion_id = created.id
        promo.workflow_id = commands.submit_promotion(
            created.id,
            actor,
            launch_lead_hours=promo.launch_lead_hours,
            live_hours=promo.live_hours,
        )
    outage_promo = story.promotions[3]
    hour = story.runtime.settings.seconds_per_business_hour
    launch = utcnow() + timedelta(seconds=outage_promo.launch_lead_hours * hour)
    story.outage = (launch - timedelta(seconds=20 * hour), launch + timedelta(seconds=120 * hour))
    estate_actions.pos_outage(story.runtime, *story.outage)
    low = story.promotions[1]
    # Any promotion whose launch slips into the outage (a slow machine, a late delivery)
    # is retried once the POS is back, as channel operations would.
    for promo in story.promotions:
        promo.script.on_case = lambda case: _retry_after_outage(story, case)
    low.script.on_case = lambda case: _expedite(case) or _retry_after_outage(story, case)


def _expedite(case: ExceptionCase) -> str | None:
    """A supplier cannot land the order in time: the planner has it expedited and goes on."""
    return CaseAction.WAIVE if case.kind == CaseKind.SUPPLIER_SHORTFALL else None


def _retry_after_outage(story: Storyline, case: ExceptionCase) -> str | None:
    """Channel operations retry once the POS is back (the outage window has passed)."""
    if case.kind != CaseKind.CHANNEL_PUBLICATION_ERROR or story.outage is None:
        return None
    return CaseAction.RETRY if utcnow() > story.outage[1] else None


def advance(story: Storyline, desk: Desk) -> None:
    """One round of the people and the physical world: decisions, deliveries."""
    desk.tick()
    _watch_replenishment(story, story.promotions[1])
    for code, numbers in list(story.replenishment.items()):
        if estate_actions.deliver_if_acknowledged(story.runtime, numbers, REPLENISH_WEEKS):
            story.by_code(code).notes.append(
                f"supplier acknowledged {', '.join(numbers)}; DC delivered to the stores"
            )
            del story.replenishment[code]


def _watch_replenishment(story: Storyline, promo: DemoPromotion) -> None:
    """The purchase orders the workflow raised go to the physical world's delivery list."""
    code = str(promo.request.code)
    if code in story.replenished:
        return
    with story.runtime.sessions() as session:
        numbers = inventory_service.promotion_purchase_orders(session, promo.promotion_id)
    if numbers:
        story.replenished.add(code)
        story.replenishment[code] = numbers
        promo.notes.append(f"workflow raised replenishment {', '.join(sorted(numbers))}")


def statuses(story: Storyline) -> list[dict[str, Any]]:
    """Current state of each demo promotion, for the progress display."""
    return estate_actions.promotion_states(
        story.runtime, [p.promotion_id for p in story.promotions]
    )


def run(story: Storyline, on_status: StatusCallback, timeout_seconds: float = 150.0) -> bool:
    """Drive the storyline until every promotion has reached a final state."""
    desk = Desk({str(p.request.code): p.script for p in story.promotions})
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        advance(story, desk)
        rows = statuses(story)
        on_status(rows)
        if all(row["status"] in TERMINAL_STATES for row in rows):
            _collect_desk_log(story, desk)
            return True
        time.sleep(0.1)
    _collect_desk_log(story, desk)
    return False


def _collect_desk_log(story: Storyline, desk: Desk) -> None:
    for line in desk.log:
        code = line.split(":", 1)[0]
        for promo in story.promotions:
            if promo.request.code == code:
                promo.notes.append(line.split(": ", 1)[1])
