"""The rejected rows counted by reason (tester t50a: 60,458 rejects, 99 % for one cause, which only the rejects file
said, row by row): the summary, `-q`'s line and the report's `rejects_by_reason` say what most are for."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import HEADER

from bulkload import reject_reasons
from bulkload.cli import main
from bulkload.reject_reasons import Reason, Tally


def test_reasons_that_differ_only_in_their_values_are_one_and_the_most_come_first() -> None:
    tally = Tally()
    tally.add("date", "not a valid date: '2026-13-45'", "a.csv", 9)
    for line, cell in ((2, "1,2x"), (4, "7x"), (6, "x")):
        tally.add("amount", f"not a number: '{cell}'", "a.csv", line)
    assert tally.most() == (
        Reason(3, 0, "amount", "not a number: '1,2x'", "a.csv", 2),
        Reason(1, 0, "date", "not a valid date: '2026-13-45'", "a.csv", 9),
    )


def test_a_row_rejected_with_its_voucher_counts_with_the_reason_of_the_line_named_which_shows_it() -> None:
    """The voucher's other line comes first in the file: counted with the reason, and the line named shows it."""
    tally = Tally()
    tally.add("", "voucher 5001 (journal 1) rejected: line 3 amount: not a number: '1,2x'", "a.csv", 2)
    tally.add("amount", "not a number: '1,2x'", "a.csv", 3)
    tally.add("", "voucher 5002 (journal 1) rejected: line 5 amount: not a number: '9x'", "a.csv", 4)
    tally.add("amount", "not a number: '9x'", "a.csv", 5)
    tally.add("accountNumber", "not a whole number: 'abc'", "a.csv", 7)
    (first, second) = tally.most()
    assert first == Reason(4, 2, "amount", "not a number: '1,2x'", "a.csv", 3), first
    assert second.rows == 1 and second.field == "accountNumber", second
    said = reject_reasons.in_words(first, "voucher")
    along = "2 of them rejected with their voucher's line"
    assert said == f"4 for amount: not a number: '1,2x' ({along}; the first: line 3 of a.csv)", said


def test_reasons_are_told_apart_up_to_most_and_the_report_lists_the_shown_most(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reject_reasons, "MOST", 3)
    tally = Tally()
    for n, field in enumerate(["a", "b", "c", "d", "a", "d"]):
        tally.add(field, "bad", "f", n)
    assert [(r.field, r.rows) for r in tally.most()] == [("a", 2), ("b", 1), ("c", 1)]  # "d" came after 3 reasons
    many = [Reason(n, 0, f"f{n}", "bad", "f", n) for n in range(1, 9)]
    assert [r.rows for r in reject_reasons.most(many)] == [8, 7, 6, 5, 4]
    assert reject_reasons.most([*many[:2], Reason(5, 1, "f1", "bad", "g", 3)])[0] == Reason(6, 1, "f1", "bad", "f", 1)


def test_a_loads_summary_line_and_report_say_what_most_rejects_are_for(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A load against the sandbox: 30 vouchers with a bad amount on their first line (their second line rejected
    with them), 10 rows with no such day; 20 load. The summary names the amount (60 rows, 30 along) and the date
    (10), the first line of each; `-q` the first; the report both, most first."""
    data = tmp_path / "entries.csv"
    with data.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for v in range(1, 51):
            amount = f"{v}x" if v <= 30 else f"{v}.00"
            out.writerow([5, 1, v, "2026-11-02", amount, "DKK", 1010, "", "s", ""])
            out.writerow([5, 1, v, "2026-11-02", f"-{v}.00" if v <= 30 else f"-{v}.00", "DKK", 5820, "", "s", ""])
        for v in range(51, 61):
            out.writerow([5, 1, v, "2026-02-30", "10.00", "DKK", 1010, "", "bad date", ""])
    report = tmp_path / "report.json"
    code = main(["load", "economic", str(data), *base, "--report", str(report)])
    line = capsys.readouterr().out
    assert code == 1, line
    assert (
        "(most: 60 for amount: not a number: '1x' (30 of them rejected with their voucher's line; the first: " in line
    )
    by_reason = json.loads(report.read_text())["rejects_by_reason"]
    assert [(r["rows"], r["along"], r["field"], r["line"]) for r in by_reason] == [
        (60, 30, "amount", 2),
        (10, 0, "date", 102),
    ]
    code = main(["reconcile", "--ledger", str(tmp_path / "entries.csv.ledger.sqlite"), "--no-progress"])
    shown = capsys.readouterr().out
    assert code == 1, shown
    assert (
        "  60 for amount: not a number: '1x' (30 of them rejected with their group's line; the first: line 2 of"
        in shown
    )
    assert "  10 for date: " in shown and "for other reasons" not in shown, shown


def test_api_answers_quoted_as_json_are_told_apart_by_what_they_say() -> None:
    """An API's answer quoted as JSON (one with no detail, message or title: http.error_from quotes its body) says
    its reason in strings: before, every such answer was one reason, `HTTP …: {…: …}`, shown by the first (`100
    for HTTP 400: {"error": "invalid_client"}` where half were refused as closed accounts). Its numbers are values."""
    tally = Tally()
    for line in range(2, 5):
        tally.add("", f'HTTP 400: {{"error": "account {line} is closed"}}', "a.csv", line)
    tally.add("", 'HTTP 400: {"error": "currency unknown"}', "a.csv", 5)
    assert [(r.rows, r.reason, r.line) for r in tally.most()] == [
        (3, 'HTTP 400: {"error": "account 2 is closed"}', 2),
        (1, 'HTTP 400: {"error": "currency unknown"}', 5),
    ]
