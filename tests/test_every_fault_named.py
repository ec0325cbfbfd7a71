"""A rejected row names every field it is refused for, not only the first: a finance user fixing a large export fixes
each row once, not once a field. One line a row in the rejects file (never one a field: loaded again, it would double
rows); the summary counts a row for its first fault."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from bulkload.chunking import Planner
from bulkload.cli import main
from bulkload.errors import first_fault, joined
from bulkload.reject_reasons import Tally
from bulkload.targets.base import Target
from bulkload.targets.economic import Economic
from bulkload.targets.halopsa import HaloPSA
from bulkload.targets.payorcrm import PayorCRM
from bulkload.targets.visma_core import VismaCore

_DATE = "not a valid date: '2026-13-45' (no such day in the calendar)"
_OUTLAY = {"OUTLAY": {"Id": 19, "IsDraft": False, "MergeOrderLinesToOneEntry": True}}

#: per target: the target, a row with several bad fields, and each (field, reason) in the order met
CASES: dict[str, tuple[Any, dict[str, str], list[tuple[str, str]]]] = {
    "economic": (
        Economic(),
        {
            "entryTypeNumber": "5",
            "journalNumber": "1",
            "voucherNumber": "1",
            "date": "2026-13-45",
            "amount": "12.x4",
            "currency": "DKK",
            "accountNumber": "abc",
            "text": "hi",
        },
        [("amount", "not a number: '12.x4'"), ("date", _DATE), ("accountNumber", "not a whole number: 'abc'")],
    ),
    "halopsa": (
        HaloPSA(["XeroDetails"]),
        {"name": "A", "client_top_level": "abc", "token_expiry": "2026-13-45", "authorized": "maybe"},
        [
            ("token_expiry", _DATE),
            ("client_top_level", "not a whole number: 'abc'"),
            ("authorized", "not true/false: 'maybe'"),
        ],
    ),
    "visma-core": (
        VismaCore(definitions=_OUTLAY),
        {
            "caseId": "4000",
            "accountingCostType": "OUTLAY",
            "amount": "12.x4",
            "entryDate": "2026-13-45",
            "orderId": "O",
        },
        [("amount", "not a number: '12.x4'"), ("entryDate", _DATE)],
    ),
    "payorcrm": (
        PayorCRM(["invoices"]),
        {"customerNumber": "C1", "invoiceNumber": "I1", "invoiceAmount": "12.x4", "currency": "DKK"}
        | {"dueDate": "2026-13-45", "status": "[1", "billAddr": "{not json"},
        [
            ("invoiceAmount", "not a number: '12.x4'"),
            ("dueDate", _DATE),
            ("billAddr", "not valid JSON: JSON is malformed: object keys must be strings (byte 1)"),
        ],
    ),
}


def refused(target: Target, row: dict[str, Any]) -> tuple[str, str]:
    """The field and reason the planner rejects `row` (line 2 of the first file) with."""
    planner = Planner(target, 500, 2_000_000)
    assert [c for c in planner.plan(0, [(2, dict(row))]) if c is not None] == []
    (outcome,) = planner.rejected
    assert outcome.bucket == "rejected"
    return outcome.field, outcome.reason


@pytest.mark.parametrize("name", list(CASES))
def test_a_rejected_row_names_every_bad_field_of_it_in_every_target(name: str) -> None:
    # found by a tester: `5,1,1,2026-13-45,12.x4,DKK,abc,hi` was rejected for amount alone; fixed and loaded again,
    # it was rejected for the date, then for the account
    target, row, faults = CASES[name]
    field, reason = refused(target, row)
    assert (field, reason) == joined(faults), (field, reason)
    assert field == "; ".join(f for f, _ in faults)
    assert first_fault(field, reason) == faults[0]


def test_an_amount_converted_to_minor_units_is_not_converted_twice_when_the_rows_other_fields_are_read() -> None:
    # the row read again for its other faults read its amount as the first reading left it: 90,000,000,000,000.00
    # DKK in major units, converted to minor units a second time, was named as past 2^53 minor units: no fault of it
    target = PayorCRM(["invoices"], amount_unit="major")
    row = {"customerNumber": "C1", "invoiceNumber": "I1", "invoiceAmount": "90000000000000", "currency": "DKK"}
    row |= {"dueDate": "2026-01-01T10:00:00+02:00", "billAddr": "{not json"}
    field, reason = refused(target, row)
    assert field == "dueDate; billAddr", reason


def test_a_fault_only_taking_a_refused_field_out_makes_is_not_named() -> None:
    # a Visma Core cost whose Amount is refused has nothing else to change once the Amount is taken out: that is no
    # fault of the row (IsOptional is left empty), and the row is named for its Amount alone
    row = {"caseId": "1500", "type": "Buyer", "costId": "150003", "Amount": "12.x4"}
    assert refused(VismaCore(kind="costs"), row) == ("Amount", "not a number: '12.x4'")
    field, _ = refused(VismaCore(kind="costs"), row | {"Comment": "=D1"})
    assert field == "Comment; Amount"


def test_a_secret_quoted_by_a_later_fault_is_scrubbed() -> None:
    row = {"name": "A", "client_top_level": "abc", "new_client_secret": "s3cr3t-value", "authorized": "s3cr3t-value"}
    field, reason = refused(HaloPSA(["XeroDetails"]), row)
    assert field == "client_top_level; authorized" and "s3cr3t-value" not in reason, reason


def test_a_row_refused_for_several_fields_is_counted_for_its_first() -> None:
    tally = Tally()
    several = joined([("amount", "not a number: '12.x4'"), ("date", _DATE)])
    tally.add(*several, "f.csv", 2)
    tally.add("amount", "not a number: '7,1x'", "f.csv", 3)
    tally.add("", f"voucher 1 (journal 1) rejected: line 2 {several[0]}: {several[1]}", "f.csv", 4)
    (reason,) = tally.most()
    assert (reason.rows, reason.along, reason.field, reason.reason) == (3, 1, "amount", "not a number: '12.x4'")


def test_the_rejects_file_holds_one_line_a_row_naming_each_field_and_the_summary_its_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "f.csv"
    header = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text"
    data.write_text(f"{header}\n5,1,1,2026-13-45,12.x4,DKK,abc,hi\n5,1,1,2026-11-01,-12.34,DKK,1010,ok\n")
    rejects, report = tmp_path / "r.csv", tmp_path / "report.json"
    flags = ["--rejects", str(rejects), "--report", str(report), "--no-progress"]
    assert main(["load", "economic", str(data), "--dry-run", *flags]) == 1
    out = capsys.readouterr().out
    with open(tmp_path / "r.dry-run.csv", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [line["line"] for line in lines] == ["2", "3"]  # one a row: the voucher's other line with it
    assert lines[0]["field"] == "amount; date; accountNumber"
    assert lines[0]["reason"] == (
        f"not a number: '12.x4'; also date: {_DATE}; also accountNumber: not a whole number: 'abc'"
    )
    assert lines[1]["field"] == "" and lines[1]["reason"].startswith("voucher 1 (journal 1) rejected: line 2 amount")
    assert lines[0]["amount"] == "12.x4" and lines[0]["date"] == "2026-13-45"  # the cells as written, to fix
    (reason,) = json.loads((tmp_path / "report.dry-run.json").read_text())["rejects_by_reason"]
    assert (reason["rows"], reason["along"], reason["field"]) == (2, 1, "amount"), reason
    assert "2 for amount: not a number: '12.x4' (1 of them rejected with their" in out, out
