"""EDI with one supplier over a drop folder: X12 846/832/855 and EDIFACT INVRPT/PRICAT in,
X12 850 and 852 (or EDIFACT SLSRPT) out.

Reading is two-step so nothing is lost between reading a file and applying it:
`supplier_stock()`, `price_catalogue()` and `acknowledgements()` return records and
note which transactions of which inbox files they returned; once the caller has
stored them it calls `confirm_delivered()`, which moves every file whose whole
content this instance returned to archive/. A file never confirmed stays in the
inbox and is returned again on the next read (the records are idempotent: stock
snapshots, catalogue lines and acknowledgements).

A file that cannot be read (bad envelope, count mismatch, missing mandatory
element, non-numeric quantity, unknown item, a transaction set we do not take)
is moved to rejected/ with its reason and raises MalformedPayload; nothing from
it is returned. The other files stay in the inbox for the next call.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from promoflow.connectors.edi import diagnostics
from promoflow.connectors.edi import edifact_mapping as efm
from promoflow.connectors.edi import mapping as x12m
from promoflow.connectors.edi.client import DropFolders, InboundFile
from promoflow.connectors.edi.documents import Interchange, Malformed, Transaction
from promoflow.connectors.edi.edifact import EdifactEnvelope, read_edifact, write_edifact
from promoflow.connectors.edi.items import Crosswalk
from promoflow.connectors.edi.manifest import MANIFEST
from promoflow.connectors.edi.settings import EdiSettings, check_partner
from promoflow.connectors.edi.x12 import X12Envelope, clean, read_x12, write_x12
from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.ports import (
    CatalogPriceRecord,
    ConnectorError,
    MalformedPayload,
    PublicationReceipt,
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
    SalesRecord,
    SupplierStockRecord,
)
from promoflow.kit.clock import utcnow

R = TypeVar("R")
STOCK_KINDS = frozenset({"846", "INVRPT"})
PRICE_KINDS = frozenset({"832", "PRICAT"})
ACK_KINDS = frozenset({"855"})
INBOUND_KINDS = STOCK_KINDS | PRICE_KINDS | ACK_KINDS
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class EdiConnector:
    """A trading partner over EDI: PurchaseOrderSystem and SupplierCollaboration."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.config = config
        self.system = context.name
        self.settings = read = EdiSettings.read(config)
        self.folders = DropFolders(self.system, context.guard, read.folders)
        self.crosswalk = Crosswalk.load(read.item_crosswalk) if read.item_crosswalk else Crosswalk()
        self.supplier_code = read.supplier_code
        self.ours = read.ours
        self.partner = read.partner
        self._lock = threading.Lock()
        self._returned: dict[str, set[int]] = {}  # file -> indexes of transactions returned
        self._contents: dict[str, int] = {}  # file -> number of transactions in it

    # -- connection -------------------------------------------------------------------------

    def check_connection(self) -> ConnectionCheck:
        """The folders exist and take files, and the partner settings are usable."""

        def probe() -> str:
            problems = check_partner(self.config)
            if problems:
                raise ConnectorError(self.system, "; ".join(problems), retryable=False)
            return (
                f"partner {self.partner[1]} ({self.config.get('standard')}); {self.folders.check()}"
            )

        return timed_check(probe)

    # -- inbound ----------------------------------------------------------------------------

    def supplier_stock(self) -> list[SupplierStockRecord]:
        """Inventory advice waiting in the inbox (X12 846, EDIFACT INVRPT)."""

        def stock(t: Transaction, m: x12m.Mapping) -> list[SupplierStockRecord]:
            return x12m.stock_from_846(t, m) if t.kind == "846" else efm.stock_from_invrpt(t, m)

        return [r for _, _, records in self._read(STOCK_KINDS, stock) for r in records]

    def price_catalogue(self) -> list[CatalogPriceRecord]:
        """Price catalogue lines waiting in the inbox (X12 832, EDIFACT PRICAT)."""

        def prices(t: Transaction, m: x12m.Mapping) -> list[CatalogPriceRecord]:
            return x12m.prices_from_832(t, m) if t.kind == "832" else efm.prices_from_pricat(t, m)

        return [r for _, _, records in self._read(PRICE_KINDS, prices) for r in records]

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """855s in the inbox for these PO numbers; only those are counted as returned."""
        wanted = set(numbers)
        read = self._read(ACK_KINDS, lambda t, m: [x12m.ack_from_855(t, m)], mark=False)
        acks: list[PurchaseOrderAck] = []
        for name, index, records in read:
            if records[0].number in wanted:
                acks.append(records[0])
                self._mark(name, index)
        return acks

    def acknowledge(self) -> None:
        """The sync stored what it read (after its commit): archive the files it came from."""
        self.confirm_delivered()

    def confirm_delivered(self) -> list[str]:
        """Archive each inbox file whose whole content this instance returned (after storing it)."""
        with self._lock:
            done = [
                n for n, count in self._contents.items() if len(self._returned.get(n, ())) >= count
            ]
            for name in done:
                self._contents.pop(name)
                self._returned.pop(name, None)
        for name in done:
            self.folders.archive_file(name)
        return done

    def _mapping(self, malformed: Malformed) -> x12m.Mapping:
        codes = frozenset(self.settings.cost_price_codes)
        currency = self.settings.currency
        return x12m.Mapping(self.supplier_code, currency, codes, self.crosswalk, malformed)

    def _read(
        self,
        kinds: frozenset[str],
        mapper: Callable[[Transaction, x12m.Mapping], Sequence[R]],
        *,
        mark: bool = True,
    ) -> list[tuple[str, int, Sequence[R]]]:
        """(file, transaction index, records) for every wanted transaction; rejects bad files."""
        results: list[tuple[str, int, Sequence[R]]] = []
        failures: list[MalformedPayload] = []
        for inbound in self.folders.pending():
            malformed = Malformed(self.system, inbound.text)
            try:
                transactions = self._transactions(inbound, malformed)
                if not kinds & {t.kind for t in transactions}:
                    continue
                mapping = self._mapping(malformed)
                mapped = [
                    (i, mapper(t, mapping)) for i, t in enumerate(transactions) if t.kind in kinds
                ]
            except MalformedPayload as error:
                self.folders.reject_file(inbound.name, f"{inbound.name}: {error.message}")
                failures.append(error)
                continue
            with self._lock:
                self._contents[inbound.name] = len(transactions)
            results += [(inbound.name, i, records) for i, records in mapped]
        if failures:
            raise failures[0]
        if mark:
            for name, index, _ in results:
                self._mark(name, index)
        return results

    def _mark(self, name: str, index: int) -> None:
        with self._lock:
            self._returned.setdefault(name, set()).add(index)

    def _transactions(self, inbound: InboundFile, malformed: Malformed) -> list[Transaction]:
        text = inbound.text.lstrip()
        if text.startswith("ISA"):
            interchanges = read_x12(text, malformed)
        elif text.startswith(("UNA", "UNB")):
            interchanges = read_edifact(text, malformed)
        else:
            raise malformed.envelope(
                "ISA/UNB", text[:3], "neither an X12 nor an EDIFACT interchange"
            )
        transactions: list[Transaction] = []
        for interchange in interchanges:
            self._check_parties(interchange, malformed)
            for transaction in interchange.transactions:
                if transaction.kind not in INBOUND_KINDS:
                    raise malformed.at(
                        transaction.segments[0],
                        1 if interchange.standard == "x12" else 2,
                        f"we take {', '.join(sorted(INBOUND_KINDS))} from suppliers, not this",
                    )
                transactions.append(transaction)
        return transactions

    def _check_parties(self, interchange: Interchange, malformed: Malformed) -> None:
        header = "ISA" if interchange.standard == "x12" else "UNB"
        sender, recipient = interchange.sender, interchange.recipient
        if sender[1].strip() != self.partner[1] or sender[0] != self.partner[0]:
            raise malformed.envelope(
                f"{header} sender",
                ":".join(sender),
                f"is not this partner ({':'.join(self.partner)})",
            )
        if recipient[1].strip() != self.ours[1] or recipient[0] != self.ours[0]:
            raise malformed.envelope(
                f"{header} recipient", ":".join(recipient), f"is not us ({':'.join(self.ours)})"
            )

    # -- outbound ---------------------------------------------------------------------------

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Write an 850 to the outbox once per key; a repeated key returns the same reference."""
        self._own_supplier(order.supplier_code)
        if self.config.get("standard") != "x12":
            raise ConnectorError(
                self.system,
                "purchase orders go out as X12 850 only; this partner is set to EDIFACT "
                "(ORDERS is not implemented): set standard=x12 or order another way",
                retryable=False,
            )
        for what, value in (("PO number", order.number), ("destination", order.destination_code)):
            clean(self.system, what, value)
        for sku, _ in order.lines:
            clean(self.system, "SKU", sku)

        def build(control: int) -> tuple[str, str]:
            body = x12m.document_850(order, self.crosswalk, utcnow().date())
            content = write_x12(
                self.system, self._x12_envelope(control), "PO", [("850", body)], utcnow()
            )
            return f"850_{UNSAFE_NAME.sub('_', order.number)}_{control:09d}.x12", content

        entry = self._send_once("850", key, order.number, build)
        return str(entry["reference"])

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Not sent by EDI here: a cancellation (an X12 860) goes to the supplier by hand."""
        return PurchaseOrderCancellation(
            number,
            "unsupported",
            f"{self.system} sends purchase orders as X12 850 and has no cancellation (X12 860 "
            "with purpose code 01) to send: ask the supplier to cancel it",
        )

    def send_product_activity(
        self, key: str, supplier_code: str, sales: list[SalesRecord]
    ) -> PublicationReceipt:
        """Write an 852 (or SLSRPT for an EDIFACT partner) once per key."""
        self._own_supplier(supplier_code)
        if not sales:
            return PublicationReceipt(key, self.system, 0, "")
        for record in sales:
            clean(self.system, "SKU", record.sku)
            clean(self.system, "location", record.location_code)
        edifact = self.config.get("standard") == "edifact"
        kind = "SLSRPT" if edifact else "852"

        def build(control: int) -> tuple[str, str]:
            now = utcnow()
            if edifact:
                body = efm.document_slsrpt(
                    sales, self.crosswalk, (self.partner[1], self.ours[1]),
                    str(self.config.get("currency")), f"SR{control}", now.date(),
                )  # fmt: skip
                envelope = EdifactEnvelope(self.ours, self.partner, control, test=self._test())
                content = write_edifact(envelope, [(efm.SLSRPT_IDENTIFIER, body)], now)
                return f"SLSRPT_{control:09d}.edi", content
            bodies = x12m.documents_852(sales, self.crosswalk)
            transactions = [("852", body) for body in bodies]
            content = write_x12(self.system, self._x12_envelope(control), "PD", transactions, now)
            return f"852_{control:09d}.x12", content

        before = self.folders.ledger_entry(kind, _digest(key))
        entry = self._send_once(kind, key, f"{len(sales)} sales lines", build)
        duplicate = before is not None and before.get("status") == "sent"
        return PublicationReceipt(key, self.system, len(sales), str(entry["reference"]), duplicate)

    def _send_once(
        self, kind: str, key: str, subject: str, build: Callable[[int], tuple[str, str]]
    ) -> dict[str, Any]:
        """Ledger first, then the outbox: a retry re-places the same bytes (same control number),
        which the partner's duplicate-interchange check discards; a sent key writes nothing."""
        digest = _digest(key)
        with self.folders.locked():
            entry = self.folders.ledger_entry(kind, digest)
            if entry is not None and entry.get("subject") != subject:
                raise ConnectorError(
                    self.system,
                    f"idempotency key {key!r} already sent {kind} for {entry.get('subject')!r}, "
                    f"not {subject!r}: use a new key for a different document",
                    retryable=False,
                )
            if entry is None:
                control = self.folders.next_control_number()
                name, content = build(control)
                reference = f"{kind}:{name.rsplit('.', 1)[0]}"
                entry = {"key": key, "subject": subject, "file": name, "content": content,
                         "reference": reference, "status": "prepared"}  # fmt: skip
                self.folders.write_ledger(kind, digest, entry)
            if entry["status"] != "sent":
                self.folders.write_outbound(str(entry["file"]), str(entry["content"]))
                entry = {**entry, "status": "sent"}
                self.folders.write_ledger(kind, digest, entry)
        return entry

    def _x12_envelope(self, control: int) -> X12Envelope:
        return X12Envelope(
            self.ours,
            self.partner,
            self.settings.gs_our_code,
            self.settings.gs_partner_code,
            control,
            usage="T" if self._test() else "P",
        )

    def _test(self) -> bool:
        return self.settings.usage == "T"

    def _own_supplier(self, supplier_code: str) -> None:
        if supplier_code != self.supplier_code:
            raise ConnectorError(
                self.system,
                f"supplier {supplier_code!r} is not this partner's ({self.supplier_code!r}): "
                "send through that supplier's EDI connection",
                retryable=False,
            )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
