"""Which objects each event touches (qualified) and what it changes, as Polars expressions.

The frame these functions read has one row per event in log order: event_id, activity,
family, verb, time, subject, data (JSON text), promotion_id, revision.
"""

from __future__ import annotations

import polars as pl

from promoflow.processmining import vocabulary as v

# Activities whose case_id names a case the event opened rather than the case it is about.
_CASE_QUALIFIER = {
    "approval.escalated": "escalated into",
    "recommendation.escalated": "escalated into",
    "sell_through.checked": "anomaly reported in",
}
_PUBLICATION_STATUS = {
    "publication.attempted": "publishing",
    "publication.published": "published",
    "publication.failed": "failed",
    "publication.skipped": "skipped",
    "publication.reverted": "reverted",
}
_PO_STATUS = {
    "purchase_order.raised": "open",
    "purchase_order.cancelled": "cancelled",
    "purchase_order.received": "received",
}
_TASK_STATUS = {"requested": "pending", "expired": "expired", "escalated": "escalated"}
RELATION_COLUMNS = ["event_id", "object_id", "qualifier"]


# The data members the relations and changes read, decoded once into m_<name> columns.
MEMBERS = (
    "revision",
    "task_id",
    "case_id",
    "channel",
    "recommendation_id",
    "number",
    "to",
    "decision",
    "to_role",
    "status",
)
# Members listing objects: (member, object id prefix, qualifier, lookup of codes to ids).
LISTS = (
    ("purchase_orders", "purchase_order:", "raised", None),
    ("item_ids", "item:", "item", None),
    ("skus", "item:", "item", "item_by_sku"),
    ("location_ids", "location:", "location", None),
    ("stores", "location:", "location", "location_by_code"),
)


def member(name: str) -> pl.Expr:
    """A decoded data member as text (null when absent)."""
    return pl.col(f"m_{name}")


def _ref(prefix: str, *parts: pl.Expr | str) -> pl.Expr:
    return pl.concat_str([pl.lit(prefix), *parts], separator="")


def object_ids() -> list[pl.Expr]:
    """Columns naming each kind of object an event may touch (null where it touches none)."""
    family = pl.col("family")
    promotion = pl.col("promotion_id").cast(pl.String)
    revision = pl.col("revision").cast(pl.String)
    case = pl.coalesce(
        member("case_id"),
        pl.when(family == "exception").then(pl.col("subject").str.extract(r"^exception/(\d+)$")),
    )
    return [
        _ref("promotion:", promotion).alias("o_promotion"),
        _ref("revision:", promotion, pl.lit("."), revision).alias("o_revision"),
        pl.when(family == "approval")
        .then(_ref("approval_task:", member("task_id")))
        .alias("o_task"),
        _ref("exception_case:", case).alias("o_case"),
        pl.when(family == "publication")
        .then(
            _ref(
                "publication:",
                promotion,
                pl.lit("."),
                revision,
                pl.lit("."),
                pl.coalesce(member("channel"), pl.col("subject").str.extract(r"/([^/]+)$")),
            )
        )
        .alias("o_publication"),
        pl.when(family == "recommendation")
        .then(_ref("recommendation:", member("recommendation_id")))
        .alias("o_recommendation"),
        pl.when(family == "purchase_order")
        .then(_ref("purchase_order:", member("number")))
        .alias("o_purchase_order"),
    ]


def direct_relations(events: pl.DataFrame) -> pl.DataFrame:
    """E2O rows for the objects named by one id each (rank keeps their order per event)."""
    case_qualifier = pl.col("activity").replace_strict(_CASE_QUALIFIER, default="case")
    kinds: list[tuple[str, pl.Expr]] = [
        ("o_promotion", pl.lit("promotion")),
        ("o_revision", pl.lit("revision")),
        ("o_task", pl.lit("approval task")),
        ("o_case", case_qualifier),
        ("o_publication", pl.lit("publication")),
        ("o_recommendation", pl.lit("recommendation")),
        ("o_purchase_order", pl.lit("purchase order")),
    ]
    frames = [
        events.filter(pl.col(column).is_not_null()).select(
            "n",
            pl.lit(rank, pl.Int32).alias("rank"),
            "event_id",
            pl.col(column).alias("object_id"),
            qualifier.alias("qualifier"),
        )
        for rank, (column, qualifier) in enumerate(kinds)
    ]
    return pl.concat(frames)


def changes(events: pl.DataFrame) -> pl.DataFrame:
    """(object_id, name, value, time, n): status and the like, set by events."""
    activity, family, verb = pl.col("activity"), pl.col("family"), pl.col("verb")
    promotion_status = (
        pl.when(activity == "promotion.created")
        .then(pl.lit("draft"))
        .when(family == "promotion")
        .then(member("to"))
    )
    task_status = pl.coalesce(member("decision"), verb.replace_strict(_TASK_STATUS, default=None))
    case_status = (
        pl.when(activity == "exception.opened")
        .then(pl.lit("open"))
        .when(activity == "exception.resolved")
        .then(pl.lit("resolved"))
    )
    rules: list[tuple[str, str, pl.Expr]] = [
        ("o_promotion", "status", promotion_status),
        ("o_revision", "status", promotion_status),
        ("o_task", "status", task_status),
        ("o_task", "assigned_role", pl.when(family == "approval").then(member("to_role"))),
        ("o_case", "status", case_status),
        ("o_publication", "status", activity.replace_strict(_PUBLICATION_STATUS, default=None)),
        (
            "o_recommendation",
            "status",
            pl.when(~verb.is_in(["reminded", "escalated"])).then(verb),
        ),
        (
            "o_purchase_order",
            "ack_status",
            pl.when(activity == "purchase_order.acknowledged").then(member("status")),
        ),
        ("o_purchase_order", "status", activity.replace_strict(_PO_STATUS, default=None)),
    ]
    frames = [
        events.select(
            pl.col(column).alias("object_id"),
            pl.lit(name).alias("name"),
            value.alias("value"),
            "time",
            "n",
        ).drop_nulls(["object_id", "value"])
        for column, name, value in rules
    ]
    return pl.concat(frames).sort("object_id", "n", maintain_order=True).drop("n")


ATTRIBUTE_PREFIXES = {
    "promotion": v.PROMOTION,
    "revision": v.REVISION,
    "item": v.ITEM,
    "location": v.LOCATION,
    "purchase_order": v.PURCHASE_ORDER,
    "approval_task": v.APPROVAL_TASK,
    "exception_case": v.EXCEPTION_CASE,
    "publication": v.PUBLICATION,
    "recommendation": v.RECOMMENDATION,
}
