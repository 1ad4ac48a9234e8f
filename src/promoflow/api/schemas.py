"""Request and response bodies of the v1 API (responses read ORM rows directly)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from promoflow.approvals.schemas import Decision
from promoflow.exceptions.schemas import CaseAction
from promoflow.kit.bounds import Hours, Text
from promoflow.kit.money import MoneyAmount, Priced
from promoflow.promotions.schemas import (
    MAX_SCOPE,
    CatalogueCode,
    PromotionCreate,
    PromotionOut,
    check_window,
)

T = TypeVar("T")


class CursorPage(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (null: the last page)."""

    items: list[T]
    limit: int
    next_cursor: str | None = Field(
        description="the `cursor` of the next page, also in the Link header; null on the last"
    )


class Page(CursorPage[T], Generic[T]):
    """One page of a list, with how many rows match in all."""

    total: int


class PromotionCreateBody(PromotionCreate):
    """PromotionCreate, with the promotion window reported against `end_date` itself."""

    @field_validator("end_date")
    @classmethod
    def _ends_after_start(cls, end_date: date, info: ValidationInfo) -> date:
        # PromotionCreate checks this across the whole body; checking it on the
        # field lets the error name `end_date` and the refused value.
        start = info.data.get("start_date")
        if start is not None:
            check_window(start, end_date)
        return end_date


class ScopeItemOut(BaseModel):
    sku: str
    name: str
    regular_price: MoneyAmount
    promo_price: MoneyAmount


class ScopeLocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: str
    region: str


class PromotionDetail(PromotionOut):
    """A promotion's terms; its amounts carry the currency (validate with context currency)."""

    description: str
    discount_percent: Decimal | None
    discount_amount: Priced | None
    fixed_price: Priced | None
    buy_quantity: int | None
    get_quantity: int | None
    bundle_price: Priced | None
    vendor_funding_per_unit: Priced
    timing: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    items: list[ScopeItemOut] = Field(default_factory=list)
    locations: list[ScopeLocationOut] = Field(default_factory=list)


class SubmitBody(BaseModel):
    """Optional time compression for demos; production leaves both empty."""

    model_config = ConfigDict(extra="forbid")

    launch_lead_hours: Annotated[Hours, Field(ge=0)] | None = None
    live_hours: Annotated[Hours, Field(gt=0)] | None = None


class SubmissionAccepted(BaseModel):
    workflow_id: str
    status_url: str


# Why a person acted, kept for the audit trail.
Reason = Annotated[str, Text(2000, min_length=1, lines=True)]


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Reason


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    revision: int
    rule: str
    severity: str
    item_sku: str | None
    location_code: str | None
    message: str
    details: dict[str, Any]
    created_at: datetime


class GateResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    gate: str
    status: str
    blocking: bool
    score: float | None
    threshold: float | None
    summary: str
    evidence: dict[str, Any]
    policy_version: str
    revision: int
    evaluation: int
    evaluated_at: datetime
    waived_by: str | None
    waiver_reason: str | None
    waived_at: datetime | None


class GateWaiverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    promotion_id: int
    revision: int
    gate: str
    waived_by: str
    role: str
    reason: str
    waived_at: datetime


class ApprovalTaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    promotion_id: int
    revision: int
    role: str
    assigned_role: str
    reason: str
    status: str
    sla_hours: float
    due_at: datetime
    reminded_at: datetime | None
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    comment: str
    created_at: datetime


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Decision
    comment: Annotated[str, Text(2000, lines=True)] = ""


class CloudEventOut(BaseModel):
    """A CloudEvents 1.0 JSON event."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: str
    datacontenttype: str
    data: dict[str, Any]


class PublicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    revision: int
    channel: str
    publication_key: str
    status: str
    attempts: int
    item_count: int
    last_error: str
    external_ref: str | None
    published_at: datetime | None
    created_at: datetime


class ExceptionCaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    severity: str
    status: str
    owner_role: str
    assignee: str | None
    promotion_id: int | None
    revision: int | None
    workflow_id: str | None
    title: str
    detail: str
    linked: dict[str, Any]
    allowed_actions: list[str]
    resolution: str | None
    resolved_by: str | None
    resolution_reason: str | None
    opened_at: datetime
    resolved_at: datetime | None


class ExceptionActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: CaseAction = Field(description="one of these, as the case allows (allowed_actions)")
    reason: Annotated[str, Text(2000, lines=True)] = ""
    assignee: Annotated[str, Text(80, min_length=1)] | None = None


class StoreTasksConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location_codes: list[CatalogueCode] | None = Field(
        default=None,
        max_length=MAX_SCOPE,
        description="Store codes to confirm; null confirms every open task",
    )


class StoreTasksConfirmed(BaseModel):
    confirmed: int
