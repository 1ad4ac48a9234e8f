"""The EDI connector over real folders: send once per key, read, confirm, reject malformed files."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from edi_support import CROSSWALK, OURS

from promoflow.connectors.edi.client import DropFolders
from promoflow.connectors.edi.connector import EdiConnector
from promoflow.connectors.edi.documents import Malformed
from promoflow.connectors.edi.edifact import read_edifact
from promoflow.connectors.edi.x12 import read_x12
from promoflow.connectors.framework import ENTRY_POINT_GROUP, ConnectorConfig, ConnectorContext
from promoflow.connectors.ports import (
    ConnectorError,
    MalformedPayload,
    PurchaseOrderRequest,
    PurchaseOrderSystem,
    SalesRecord,
    SupplierCollaboration,
)
from promoflow.connectors.resilience import Guard, reset_breakers

FOLDERS = ("inbox", "outbox", "archive", "rejected", "state")
ORDER = PurchaseOrderRequest("PO-1001", "ACME", "DC1", date(2024, 5, 20), (("SKU-0001", 24.0),))


def connect(root: Path, **overrides: str) -> EdiConnector:
    for name in FOLDERS:
        (root / name).mkdir(exist_ok=True)
    # Beside the partner's folders: paths of a connection stay inside the allowed folders.
    crosswalk = shutil.copy(CROSSWALK, root / CROSSWALK.name)
    values = {
        "supplier_code": "ACME",
        "our_id": "PROMOFLOWRTL",
        "partner_id": "ACMESUPPLY",
        "item_crosswalk": str(crosswalk),
        **{name: str(root / name) for name in FOLDERS},
        **overrides,
    }
    reset_breakers()
    guard = Guard(f"edi-{root.name}", sleep=lambda _: None)
    return EdiConnector(
        ConnectorConfig(EdiConnector.manifest, values), ConnectorContext(f"edi-{root.name}", guard)
    )


def drop(root: Path, fixture: str, name: str | None = None) -> Path:
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    target = root / "inbox" / (name or fixture)
    shutil.copy(OURS / fixture, target)
    return target


def files(root: Path, folder: str) -> list[str]:
    return sorted(p.name for p in (root / folder).iterdir() if not p.name.startswith("."))


def test_discovered_through_its_entry_point_and_implements_both_ports(tmp_path: Path) -> None:
    # Load our entry point only: discover() would import every other connector too.
    (point,) = entry_points(group=ENTRY_POINT_GROUP, name="edi")
    assert point.load() is EdiConnector
    assert EdiConnector.manifest.slug == "edi"
    connector = connect(tmp_path)
    assert isinstance(connector, PurchaseOrderSystem)
    assert isinstance(connector, SupplierCollaboration)


def test_connection_check_names_a_missing_folder_and_a_bad_setting(tmp_path: Path) -> None:
    connector = connect(tmp_path)
    assert connector.check_connection().ok
    (tmp_path / "rejected").rmdir()
    check = connector.check_connection()
    assert not check.ok and "rejected folder" in check.detail
    bad = connect(tmp_path, partner_id="A-PARTNER-ID-TOO-LONG")
    assert "config.partner_id" in bad.check_connection().detail


def test_a_purchase_order_is_written_once_per_key(tmp_path: Path) -> None:
    connector = connect(tmp_path)
    reference = connector.submit_purchase_order("po-key-1", ORDER)
    again = connector.submit_purchase_order("po-key-1", ORDER)
    assert again == reference
    (written,) = files(tmp_path, "outbox")
    text = (tmp_path / "outbox" / written).read_text(encoding="latin-1")
    (interchange,) = read_x12(text, Malformed("edi", text))
    assert interchange.recipient == ("ZZ", "ACMESUPPLY")
    beg = interchange.transactions[0].segments[1]
    assert (beg.tag, beg.text(3)) == ("BEG", "PO-1001")
    # A second instance (another worker) sees the same ledger.
    assert connect(tmp_path).submit_purchase_order("po-key-1", ORDER) == reference
    assert len(files(tmp_path, "outbox")) == 1


def test_a_cancellation_is_not_sent_by_edi_and_says_so(tmp_path: Path) -> None:
    connector = connect(tmp_path)
    connector.submit_purchase_order("po-key-1", ORDER)
    answer = connector.cancel_purchase_order("cancel-1", "PO-1001")
    assert answer.outcome == "unsupported" and "X12 860" in answer.detail
    assert len(files(tmp_path, "outbox")) == 1  # nothing more went to the supplier


def test_control_numbers_increase_across_documents(tmp_path: Path) -> None:
    connector = connect(tmp_path)
    connector.submit_purchase_order("k1", ORDER)
    connector.submit_purchase_order(
        "k2",
        PurchaseOrderRequest("PO-1002", "ACME", "DC1", date(2024, 5, 21), (("SKU-0002", 1.0),)),
    )
    controls = []
    for name in files(tmp_path, "outbox"):
        text = (tmp_path / "outbox" / name).read_text(encoding="latin-1")
        (interchange,) = read_x12(text, Malformed("edi", text))
        controls.append(int(interchange.control_number))
    assert sorted(controls) == [1, 2]


def test_a_key_reused_for_another_order_is_refused(tmp_path: Path) -> None:
    connector = connect(tmp_path)
    connector.submit_purchase_order("k1", ORDER)
    other = PurchaseOrderRequest("PO-2000", "ACME", "DC1", date(2024, 5, 20), (("SKU-0001", 1.0),))
    with pytest.raises(ConnectorError, match="already sent 850 for 'PO-1001'"):
        connector.submit_purchase_order("k1", other)


def test_a_prepared_but_unsent_document_is_sent_with_the_same_bytes_on_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = connect(tmp_path)
    real_write = DropFolders.write_outbound

    def outbox_down(self: DropFolders, name: str, content: str) -> None:
        raise ConnectorError("edi", "write outbox: share unreachable", retryable=False)

    monkeypatch.setattr(DropFolders, "write_outbound", outbox_down)
    with pytest.raises(ConnectorError, match="share unreachable"):
        connector.submit_purchase_order("k1", ORDER)
    assert files(tmp_path, "outbox") == []
    monkeypatch.setattr(DropFolders, "write_outbound", real_write)
    reference = connector.submit_purchase_order("k1", ORDER)
    (written,) = files(tmp_path, "outbox")
    assert reference.endswith(written.rsplit(".", 1)[0])
    assert written.endswith("_000000001.x12")  # the prepared control number, not a new one


def test_an_order_for_another_supplier_is_refused(tmp_path: Path) -> None:
    other = PurchaseOrderRequest("PO-1", "OTHER", "DC1", date(2024, 5, 20), (("S", 1.0),))
    with pytest.raises(ConnectorError, match="not this partner's"):
        connect(tmp_path).submit_purchase_order("k", other)


def test_stock_is_archived_only_after_the_caller_confirms(tmp_path: Path) -> None:
    drop(tmp_path, "846-004010-inventory-advice.x12")
    connector = connect(tmp_path)
    first = connector.supplier_stock()
    assert [r.sku for r in first] == ["SKU-0001", "SKU-0002", "SKU-0003"]
    assert files(tmp_path, "inbox") == ["846-004010-inventory-advice.x12"]
    # A restarted worker that never confirmed reads the same content again.
    assert connect(tmp_path).supplier_stock() == first
    assert connector.price_catalogue() == []  # nothing of this kind; the 846 is untouched
    assert connector.confirm_delivered() == ["846-004010-inventory-advice.x12"]
    assert files(tmp_path, "archive") == ["846-004010-inventory-advice.x12"]
    assert connector.supplier_stock() == []


def test_prices_and_edifact_stock_come_from_the_same_inbox(tmp_path: Path) -> None:
    drop(tmp_path, "832-004010-price-catalog.x12")
    prices = connect(tmp_path).price_catalogue()
    assert [(p.sku, p.unit_cost) for p in prices] == [
        ("SKU-0001", Decimal("5.25")),
        ("SKU-0002", Decimal("12.5")),
    ]
    edifact_root = tmp_path / "edifact"
    edifact_root.mkdir()
    partner = connect(
        edifact_root,
        our_id="5410738000005",
        our_qualifier="14",
        partner_id="5412345000013",
        partner_qualifier="14",
    )
    drop(edifact_root, "INVRPT-D96A-EAN004-inventory-report.edi")
    assert [r.available for r in partner.supplier_stock()] == [320.0, 0.0, 12.0]


def test_a_malformed_file_is_rejected_with_its_reason_and_nothing_is_returned(
    tmp_path: Path,
) -> None:
    good = drop(tmp_path, "846-004010-inventory-advice.x12", "a-good.x12")
    bad = drop(tmp_path, "846-004010-inventory-advice.x12", "b-bad.x12")
    bad.write_text(bad.read_text().replace("QTY*33*0*EA", "QTY*33*none*EA"))
    connector = connect(tmp_path)
    with pytest.raises(MalformedPayload) as caught:
        connector.supplier_stock()
    assert (caught.value.field, caught.value.value) == ("QTY02", "none")
    assert files(tmp_path, "rejected") == ["b-bad.x12", "b-bad.x12.reason.txt"]
    reason = (tmp_path / "rejected" / "b-bad.x12.reason.txt").read_text()
    assert "QTY02 = 'none'" in reason and "must be numeric" in reason
    assert connector.confirm_delivered() == []  # nothing was returned, so nothing is archived
    assert files(tmp_path, "inbox") == [good.name]
    assert len(connector.supplier_stock()) == 3


def test_an_interchange_from_another_partner_is_rejected(tmp_path: Path) -> None:
    path = drop(tmp_path, "846-004010-inventory-advice.x12")
    path.write_text(path.read_text().replace("*ZZ*ACMESUPPLY     *", "*ZZ*SOMEONEELSE    *"))
    with pytest.raises(MalformedPayload, match="is not this partner"):
        connect(tmp_path).supplier_stock()
    assert files(tmp_path, "rejected") == [path.name, f"{path.name}.reason.txt"]


def test_acknowledgements_are_read_for_the_asked_numbers_and_archived_when_all_returned(
    tmp_path: Path,
) -> None:
    connector = connect(tmp_path)
    connector.submit_purchase_order("k1", ORDER)
    sent = (tmp_path / "outbox" / files(tmp_path, "outbox")[0]).read_text(encoding="latin-1")
    # The supplier answers with an 855 for our PO and one for another PO, in one interchange.
    reply = (
        sent.replace(
            "*ZZ*PROMOFLOWRTL   *ZZ*ACMESUPPLY     *", "*ZZ*ACMESUPPLY     *ZZ*PROMOFLOWRTL   *"
        )
        .replace("GS*PO*PROMOFLOWRTL*ACMESUPPLY", "GS*PR*ACMESUPPLY*PROMOFLOWRTL")
        .replace("ST*850*0001", "ST*855*0001")
        .replace("BEG*00*SA*PO-1001**", "BAK*00*AC*PO-1001*")
    )
    segments = reply.splitlines()
    body = segments[2:-2]
    second = [s.replace("PO-1001", "PO-7777").replace("*0001~", "*0002~") for s in body]
    reply = "\n".join([*segments[:2], *body, *second, "GE*2*1~", segments[-1]]) + "\n"
    (tmp_path / "inbox" / "855.x12").write_text(reply)
    (ack,) = connector.acknowledgements(["PO-1001"])
    assert (ack.number, ack.status, ack.confirmed) == (
        "PO-1001",
        "acknowledged",
        (("SKU-0001", 24.0),),
    )
    assert connector.confirm_delivered() == []  # PO-7777's acknowledgement was not returned yet
    assert [a.number for a in connector.acknowledgements(["PO-7777"])] == ["PO-7777"]
    assert connector.confirm_delivered() == ["855.x12"]


def test_product_activity_goes_out_once_as_852_or_slsrpt(tmp_path: Path) -> None:
    sales = [SalesRecord("SKU-0001", "S012", date(2024, 5, 1), 3.0, Decimal("10.00"))]
    connector = connect(tmp_path)
    receipt = connector.send_product_activity("sales-1", "ACME", sales)
    repeat = connector.send_product_activity("sales-1", "ACME", sales)
    assert (receipt.accepted, receipt.duplicate, repeat.duplicate) == (1, False, True)
    assert repeat.external_ref == receipt.external_ref
    (written,) = files(tmp_path, "outbox")
    assert written.startswith("852_")
    edifact_root = tmp_path / "edifact"
    edifact_root.mkdir()
    partner = connect(
        edifact_root, standard="edifact", our_id="5410738000005", partner_id="5412345000013"
    )
    partner.send_product_activity("sales-1", "ACME", sales)
    (slsrpt,) = files(edifact_root, "outbox")
    text = (edifact_root / "outbox" / slsrpt).read_text(encoding="latin-1")
    (interchange,) = read_edifact(text, Malformed("edi", text))
    assert interchange.transactions[0].kind == "SLSRPT"
    assert interchange.recipient == ("ZZ", "5412345000013")


def test_diagnostics_count_what_waits_and_what_the_ledger_sent(tmp_path: Path) -> None:
    """The partner's folders and our ledger as a support ticket shows them, after one 850."""
    connector = connect(tmp_path)
    connector.submit_purchase_order("po-key-1", ORDER)
    connector.submit_purchase_order("po-key-1", ORDER)  # the same key: nothing new is sent
    shutil.copy(OURS / "846-004010-inventory-advice.x12", tmp_path / "inbox" / "846.x12")

    details = EdiConnector.system_details(connector.config)

    assert details.speaks.startswith("ASC X12 004010")
    assert details.details["files"] == {"inbox": 1, "outbox": 1, "archive": 0, "rejected": 0}
    assert details.details["ledger"] == {"850": 1}
    assert details.details["last_control_number"] == 1
    assert details.details["partner_id"] == "ZZ:ACMESUPPLY"
