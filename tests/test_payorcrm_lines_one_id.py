"""PayorCRM: an invoice's lines answered with one id (t42b). A server keyed by invoiceNumber kept each invoice's
last line only, answering every line with that record's id and every count as sent: 360.00 held where 720.00 was
meant, and the run said `reconciled yes` with no word of it. No answer can tell such a server from one that holds
every line of the invoice in one record (seed 004 documents no answer), so the summary names those rows not proven,
and the report counts them (`rows_not_checked.lines_one_id`). Judged by what the sandbox holds."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from conftest import sandbox_read, spawn_sandbox
from test_load_payorcrm import CUSTOMERS, ENV, write

from bulkload.cli import main

INVOICES = ["customerNumber", "invoiceNumber", "lineItem", "invoiceAmount", "currency", "dueDate"]
#: two invoices of three lines, one of one: 6000 and 100 minor units meant
LINES = [
    ["C1", "I-1", "1", "1000", "EUR", "2026-12-01"],
    ["C1", "I-1", "2", "2000", "EUR", "2026-12-01"],
    ["C1", "I-1", "3", "3000", "EUR", "2026-12-01"],
    ["C1", "I-2", "1", "100", "EUR", "2026-12-01"],
    ["C1", "I-3", "1", "500", "EUR", "2026-12-01"],
    ["C1", "I-3", "2", "500", "EUR", "2026-12-01"],
]


def _loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[int, str, dict[str, object], list[int]]:
    """Load the customer and LINES into a sandbox started with `flags`: exit code, summary, the report's
    `reconcile`, and the invoice amounts the sandbox holds."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.csv", CUSTOMERS, [["C1", "a@example.com", "Alpha"]])
    write(tmp_path / "i.csv", INVOICES, LINES)
    sandbox = spawn_sandbox(*flags, target="payorcrm")
    try:
        words = ["load", "payorcrm", "--customers", "c.csv", "--invoices", "i.csv", "--base-url", sandbox.url]
        code = main([*words, "--report", "rep.json", "--no-progress"])
        out = capsys.readouterr().out
        held = anyio.run(sandbox_read, sandbox.url, "invoices")
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    return code, out, json.loads((tmp_path / "rep.json").read_text())["reconcile"], [i["invoiceAmount"] for i in held]


@pytest.mark.parametrize("answer", ["results", "ids"])
def test_lines_answered_with_their_invoices_one_id_are_named_not_proven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answer: str
) -> None:
    code, out, rec, held = _loaded(tmp_path, monkeypatch, capsys, "--invoice-lines-replaced", "--answer", answer)
    assert sorted(held) == [100, 500, 3000]  # the last line of each: 3600 held of 6600 meant
    assert code == 0  # the answers said what a server holding every line would: nothing differs
    assert rec["rows_not_checked"]["lines_one_id"] == 5
    note = " ".join(str(rec["note"]).split())
    # the first record's own lines, not those of the call that carried it (lines 2-7, I-2's and I-3's too)
    assert "5 rows, the lines of 2 records, were answered with one id a record (the first: lines 2, 3, 4 of " in note
    assert "whether payorcrm holds every row of each, or only one" in note, note
    assert "check those records' amounts in payorcrm" in note
    said = " ".join(out.split())
    assert "yes, but 5 rows not proven (below)" in said.replace("│ │", ""), out


def test_lines_answered_with_ids_of_their_own_are_no_such_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, rec, held = _loaded(tmp_path, monkeypatch, capsys)
    assert sorted(held) == [100, 500, 500, 1000, 2000, 3000]
    assert code == 0
    assert rec["rows_not_checked"]["lines_one_id"] == 0
    assert "one id a record" not in str(rec["note"]) and "not proven (below)" not in out
