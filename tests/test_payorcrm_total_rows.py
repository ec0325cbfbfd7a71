"""An invoice one of whose lines names no lineItem while its others do (tester t42a): an ERP report or a spreadsheet
writes a total row below an invoice's lines, with the invoice's number and their sum ("Total", 150.00 below 100.00
and 50.00). It was uploaded as a third line: the invoice held 300.00, exit 0. Now the invoice is rejected whole,
the reason naming the line; an invoice whose lines all name a lineItem, or all none (one line), loads."""

from __future__ import annotations

from pathlib import Path

from test_load_payorcrm import INVOICES, load_invoices, rejected, write


async def test_an_invoice_total_row_without_a_line_item_is_refused_with_its_invoice(tmp_path: Path) -> None:
    invoices = write(
        tmp_path / "i.csv",
        [*INVOICES, "lineItem", "itemText"],
        [
            ["C1", "I-1", "100.00", "DKK", "2026-11-30", "1", "Widget"],
            ["C1", "I-1", "50.00", "DKK", "2026-11-30", "2", "Gadget"],
            ["C1", "I-1", "150.00", "DKK", "2026-11-30", "", "Total"],
            ["C1", "I-2", "70.00", "DKK", "2026-11-30", "", "One line"],
            ["C1", "I-3", "10.00", "DKK", "2026-11-30", "1", "a"],
            ["C1", "I-3", "20.00", "DKK", "2026-11-30", "2", "b"],
        ],
    )
    report, held = await load_invoices(tmp_path, invoices, amount_unit="major")
    assert report.rejected == 3 and report.exit_code == 1, report
    assert sorted((r["invoiceNumber"], r["invoiceAmount"]) for r in held) == [
        ("I-2", 7000),
        ("I-3", 1000),
        ("I-3", 2000),
    ]
    reasons = {row["line"]: row["reason"] for row in rejected(tmp_path)}
    assert reasons["4"].startswith(
        "no lineItem, where the invoice's other lines name theirs and its invoiceAmount is the sum"
    )
    assert reasons["2"].startswith("invoice I-1 rejected: line 4 lineItem: no lineItem"), reasons
