"""Oracle Fusion Cloud SCM (REST 11.13.18.05) as item master, on-hand stock and POs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.odata import text
from promoflow.connectors.oracle_fusion import diagnostics, mapping
from promoflow.connectors.oracle_fusion.client import (
    ACTION_TYPE,
    OracleFusionClient,
    SecretBasicAuth,
    any_of,
    quoted,
)
from promoflow.connectors.oracle_fusion.manifest import MANIFEST
from promoflow.connectors.oracle_fusion.settings import OracleFusionSettings
from promoflow.connectors.ports import (
    ConnectorError,
    ItemRecord,
    MalformedPayload,
    PositionRecord,
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
    item_change,
)
from promoflow.connectors.stock import StockRow, sum_positions
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import get_logger
from promoflow.kit.sequences import chunked

log = get_logger(__name__)
# Values per `or` expression: keeps each URL well under proxies' 2,048-character limits.
FILTER_CHUNK = 40
ITEM_FIELDS = "ItemId,ItemNumber,ItemDescription,ItemStatusValue,ItemClass,OrganizationCode"
ONHAND_FIELDS = "ItemNumber,OrganizationCode,SubinventoryCode,PrimaryQuantity,PrimaryUOMCode"
PO_FIELDS = "POHeaderId,OrderNumber,StatusCode,LastUpdateDate;lines:Item,Quantity,StatusCode"


class OracleFusionConnector:
    """Items of the item master organization, on-hand per inventory organization, and POs."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.config = config
        self.system = context.name
        self.settings = read = OracleFusionSettings.read(config)
        self.item_organization = read.item_organization
        self.client = OracleFusionClient(
            self.system,
            context.guard,
            base_url=read.base_url,
            auth=SecretBasicAuth(read.username, lambda: config.secret("password")),
            page_size=read.page_size,
            outbound=config.policy,
            timeout=read.timeout_seconds,
            transport=context.extras.get("transport"),
        )

    def __repr__(self) -> str:
        return f"OracleFusionConnector({self.system!r}, {self.config!r})"

    def check_connection(self) -> ConnectionCheck:
        """Read one item of the item master organization."""

        def probe() -> str:
            body = self.client.get(
                "check_connection",
                "itemsV2",
                {
                    "q": self._master_organization(),
                    "fields": "ItemNumber",
                    "onlyData": "true",
                    "limit": "1",
                },
            )
            rows, _ = mapping.collection_page(self.system, body, limit=1, offset=0)
            return f"itemsV2 answers for {self.item_organization} ({len(rows)} item read)"

        return timed_check(probe)

    # ItemMaster / ItemStream

    def _master_organization(self) -> str:
        return f"OrganizationCode = {quoted('item_organization', self.item_organization)}"

    def _item_pages(self, fields: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        where = self._master_organization()
        if since is not None:
            stamp = since.astimezone(UTC).isoformat(timespec="seconds")
            where += f" and LastUpdateDateTime > '{stamp}'"
        params = {"q": where, "fields": fields, "orderBy": "ItemNumber:asc"}
        yield from self.client.collection("items", "itemsV2", params)

    def stream_items(self, since: datetime | None) -> Iterator[Sequence[ItemRecord]]:
        """Pages of items changed after `since` (all when None), in item number order."""
        for rows in self._item_pages(ITEM_FIELDS, since):
            yield mapping.item_page(self.system, rows, source=self.system)

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        """Item master records changed since a time (None = all)."""
        return [item_change(item) for page in self.stream_items(since) for item in page]

    # InventorySource / PositionStream

    def _onhand(self, skus: Sequence[str], organizations: Sequence[str] | None) -> list[StockRow]:
        rows: list[StockRow] = []
        for chunk in chunked(list(skus), FILTER_CHUNK):
            where = any_of("ItemNumber", chunk)
            if organizations:
                where += " and " + any_of("OrganizationCode", organizations)
            params = {"q": where, "fields": ONHAND_FIELDS}
            for page in self.client.collection("onhand", "inventoryOnhandBalances", params):
                rows.extend(mapping.onhand_rows(self.system, page))
        return rows

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """On hand per item x inventory organization (0 where Oracle has no balance)."""
        if not skus or not location_codes:
            return []
        as_of = utcnow()
        scope = [(sku, location) for sku in skus for location in location_codes]
        return sum_positions(
            self._onhand(skus, location_codes), source=self.system, as_of=as_of, scope=scope
        )

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        """Positions one page of items at a time: their balances summed per organization."""
        for rows in self._item_pages("ItemNumber", None):
            skus = [text(self.system, row, "ItemNumber") for row in rows]
            as_of = utcnow()
            positions = sum_positions(
                self._onhand(skus, location_codes), source=self.system, as_of=as_of
            )
            if positions:
                yield positions

    # PurchaseOrderSystem

    def _find(self, resource: str, number: str, fields: str) -> dict[str, Any] | None:
        params = {"q": f"OrderNumber = {quoted('order.number', number)}", "fields": fields}
        for rows in self.client.collection("purchase_order_lookup", resource, params):
            return rows[0] if rows else None
        return None

    def _submit_draft(self, key: str, draft: dict[str, Any]) -> None:
        header_id = draft.get("POHeaderId")
        if not isinstance(header_id, int | str) or isinstance(header_id, bool):
            raise MalformedPayload(
                self.system,
                "a draft without POHeaderId",
                payload=draft,
                field="POHeaderId",
                value=header_id,
            )
        answer = self.client.post(
            "submit_purchase_order",
            f"draftPurchaseOrders/{header_id}/action/submit",
            {},
            content_type=ACTION_TYPE,
        )
        if answer.get("result") != "SUCCESS":
            raise ConnectorError(
                self.system,
                f"draft PO {draft.get('OrderNumber')} was not submitted: result="
                f"{answer.get('result')!r}; fix it in Oracle, the next retry submits it again",
                retryable=False,
            )
        log.info("oracle_purchase_order_submitted", connection=self.system, key=key)

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Create the order as a draft with its lines and submit it, once per order number."""
        if not order.lines:
            raise InvalidInput("order.lines", [], "a purchase order needs at least one line")
        for sku, quantity in order.lines:
            if quantity <= 0:
                raise InvalidInput(f"order.lines[{sku}].quantity", quantity, "must be positive")
        if self._find("purchaseOrders", order.number, "OrderNumber,StatusCode") is not None:
            return order.number
        draft = self._find("draftPurchaseOrders", order.number, "POHeaderId,OrderNumber")
        if draft is None:
            body = mapping.draft_purchase_order(
                order,
                procurement_bu=self.settings.procurement_bu,
                buyer=self.settings.buyer,
                supplier_site=self.settings.supplier_site,
            )
            draft = self.client.post("create_purchase_order", "draftPurchaseOrders", body)
        self._submit_draft(key, draft)
        return text(self.system, draft, "OrderNumber")

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """Answered orders among `numbers` (open and later, rejected, canceled)."""
        acks: list[PurchaseOrderAck] = []
        for chunk in chunked(sorted(set(numbers)), FILTER_CHUNK):
            params = {"q": any_of("OrderNumber", chunk), "fields": PO_FIELDS}
            for rows in self.client.collection("acknowledgements", "purchaseOrders", params):
                for row in rows:
                    ack = mapping.acknowledgement(self.system, row)
                    if ack is not None:
                        acks.append(ack)
        return acks

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Cancel the order before it is open (dispatched); a draft left behind is deleted."""
        order = self._find("purchaseOrders", number, PO_FIELDS)
        if order is None:
            draft = self._find("draftPurchaseOrders", number, "POHeaderId,OrderNumber")
            if draft is None:
                return PurchaseOrderCancellation(number, "cancelled", "no such order in Oracle")
            self.client.delete(
                "cancel_purchase_order", f"draftPurchaseOrders/{_header(self.system, draft)}"
            )
            return PurchaseOrderCancellation(number, "cancelled", "its draft deleted, never sent")
        status = order.get("StatusCode")
        if status in mapping.REFUSED:
            return PurchaseOrderCancellation(number, "cancelled", f"already {status}")
        if mapping.acknowledgement(self.system, order) is not None:
            return PurchaseOrderCancellation(number, "confirmed", f"the order is {status}")
        answer = self.client.post(
            "cancel_purchase_order",
            f"purchaseOrders/{_header(self.system, order)}/action/cancel",
            {},
            content_type=ACTION_TYPE,
        )
        if answer.get("result") != "SUCCESS":
            return PurchaseOrderCancellation(
                number, "refused", f"Oracle answered result={answer.get('result')!r}"
            )
        log.info("oracle_purchase_order_cancelled", connection=self.system, key=key, po=number)
        return PurchaseOrderCancellation(number, "cancelled")


def _header(system: str, order: dict[str, Any]) -> str:
    header_id = order.get("POHeaderId")
    if not isinstance(header_id, int | str) or isinstance(header_id, bool) or header_id == "":
        raise MalformedPayload(
            system, "an order without POHeaderId", payload=order, field="POHeaderId"
        )
    return str(header_id)
