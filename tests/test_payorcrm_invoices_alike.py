"""PayorCRM invoice numbers alike but for case or leading zeros (tester t49a): invoice `0042` of customer C1, one of
whose lines a spreadsheet saved as `42`, loaded as two invoices of C1, exit 0: one invoice split in two. Of one
customer, two numbers alike so are one invoice written two ways, or two, which cannot be told: the run is refused
before the first call, naming both. Of two customers (`0100` of A1, `100` of a1: tester t35) they are two invoices,
as PayorCRM compares numbers exactly, and load."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_load_payorcrm import INVOICES, write

from bulkload.cli import main

ENV = {"PAYORCRM_API_KEY": "k", "PAYORCRM_API_SECRET": "s"}


def dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[list[str]]) -> list[str]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    invoices = write(tmp_path / "i.csv", INVOICES, rows)
    return ["load", "payorcrm", "--kind", "invoices", str(invoices), "--base-url", "http://127.0.0.1:9", "--dry-run"]


@pytest.mark.parametrize(
    ("one", "other"),
    # 7001.0: a float column's export of 7001 (tester t69a: the two loaded as two invoices, exit 0)
    [("0042", "42"), ("K-7", "k-7"), ("ÅR-1", "år-1"), ("7001", "7001.0")],
)
def test_invoice_numbers_alike_of_one_customer_refuse_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], one: str, other: str
) -> None:
    rows = [
        ["C1", one, "100", "DKK", ""],
        ["C2", "7", "5", "DKK", ""],
        ["C1", other, "25", "DKK", ""],
    ]
    code = main([*dry_run(tmp_path, monkeypatch, rows), "-q"])
    said = " ".join(capsys.readouterr().err.split())
    assert code == 2, said
    assert f"invoice {one} (" in said and "line 2) and invoice" in said and "line 4) are one but for case" in said
    assert said.endswith("nothing was sent"), said


def test_invoice_numbers_alike_but_for_an_invisible_character_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a zero-width space pasted after an invoice number: the refusal quoted "invoice I-1 (…) and invoice I-1 (…)",
    # two numbers that look the same, naming no difference the user could see (tester t74g)
    rows = [["C1", "I-1", "100", "DKK", ""], ["C1", "I-1\u200b", "25", "DKK", ""]]
    code = main([*dry_run(tmp_path, monkeypatch, rows), "-q"])
    said = " ".join(capsys.readouterr().err.split())
    assert code == 2, said
    assert "invoice I-1\u200b (it holds the invisible character U+200B) (" in said, said


def test_invoice_numbers_alike_of_two_customers_are_two_invoices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["A1", "0100", "10", "EUR", ""], ["a1", "100", "20", "EUR", ""], ["C1", "0042", "5", "EUR", ""]]
    code = main([*dry_run(tmp_path, monkeypatch, rows), "-q"])
    out = capsys.readouterr().out
    assert code == 0 and "3 would load" in out, out
