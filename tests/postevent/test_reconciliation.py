"""Three-way reconciliation: a broken posting opens one exception case, once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from postevent_support import History

from promoflow.connectors.sandbox.ledger import alter_posting, drop_posting
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseKind, CaseStatus
from promoflow.kit.db import reading, transaction
from promoflow.kit.roles import Role
from promoflow.postevent import service


def _report(history: History, code: str) -> dict[str, Any]:
    ledger = service.read_ledger(service.sandbox_ledger(history.sessions), code)
    with transaction(history.sessions) as session:
        return service.promotion_report(session, code, ledger, currency="EUR")


def _cases(history: History, code: str) -> list[ExceptionCase]:
    with reading(history.sessions) as session:
        cases = exceptions_service.list_cases(session, kind=CaseKind.RECONCILIATION_MISMATCH)
        return [c for c in cases if c.linked.get("promotion_ref") == code]


def _code(history: History, index: int) -> str:
    with reading(history.sessions) as session:
        return service.event_codes(session)[index]


def test_a_ledger_the_erp_booked_from_the_pos_reconciles(history: History) -> None:
    code = _code(history, 3)
    report = _report(history, code)
    reconciliation = report["reconciliation"]
    totals = reconciliation["totals"]
    assert reconciliation["status"] == "matched", reconciliation["mismatches"]
    assert totals["pos_units"] == totals["erp_units"]
    assert float(totals["pos_units"]) == report["units"]["sold"]
    assert totals["posted_margin"] == totals["expected_margin"]
    assert report["vendor_funding"]["claimed"] == report["vendor_funding"]["earned"] > 0
    assert _cases(history, code) == []


def test_an_altered_funding_claim_opens_one_case_and_a_rerun_opens_none(
    history: History,
) -> None:
    code = _code(history, 4)
    earned = Decimal(_report(history, code)["reconciliation"]["totals"]["vendor_funding_earned"])
    alter_posting(history.sessions, code, vendor_funding=earned + Decimal("75.00"))

    first = _report(history, code)["reconciliation"]
    assert first["status"] == "mismatched"
    assert [m["check"] for m in first["mismatches"]] == ["vendor_funding"]
    (case,) = _cases(history, code)
    assert case.status == CaseStatus.OPEN
    assert case.owner_role == Role.FINANCE_APPROVER
    assert case.linked["finance"] == str(earned + Decimal("75.00"))
    assert first["mismatches"][0]["case_id"] == case.id

    again = _report(history, code)["reconciliation"]
    assert [m["case_id"] for m in again["mismatches"]] == [case.id]
    assert [c.id for c in _cases(history, code)] == [case.id]


def test_a_dropped_posting_opens_a_missing_posting_case_once(history: History) -> None:
    code = _code(history, 5)
    _report(history, code)  # the ERP books the promotion on first ask
    drop_posting(history.sessions, code)

    for _ in range(2):
        reconciliation = _report(history, code)["reconciliation"]
        assert [m["check"] for m in reconciliation["mismatches"]] == ["posting_missing"]
        assert reconciliation["totals"]["document_number"] == ""
    (case,) = _cases(history, code)
    assert code in case.title


def test_an_altered_margin_is_told_apart_from_the_funding(history: History) -> None:
    code = _code(history, 6)
    posted = Decimal(_report(history, code)["reconciliation"]["totals"]["posted_margin"])
    alter_posting(history.sessions, code, margin=posted - Decimal("10.00"))
    reconciliation = _report(history, code)["reconciliation"]
    assert [m["check"] for m in reconciliation["mismatches"]] == ["margin"]
    assert len(_cases(history, code)) == 1
