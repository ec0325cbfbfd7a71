"""An invoice whose line items are one but for leading zeros, letter case, spaces or Unicode form (tester t52b): the
same invoice exported twice and joined, once through a spreadsheet that showed line items `01`, `02` as `1`, `2`,
was regrouped as one invoice of four lines and uploaded at twice its amount, exit 0. `01` and `1` are one line
written two ways, or two lines, which cannot be told: the invoice is rejected whole, naming both line items; an
invoice whose line items differ otherwise loads."""

from __future__ import annotations

from pathlib import Path

from test_load_payorcrm import INVOICES, load_invoices, rejected, write


async def test_line_items_alike_but_for_zeros_or_case_reject_their_invoice(tmp_path: Path) -> None:
    invoices = write(
        tmp_path / "i.csv",
        [*INVOICES, "lineItem"],
        [
            ["C1", "I-1", "100.50", "DKK", "2026-11-30", "01"],
            ["C1", "I-1", "10.00", "DKK", "2026-11-30", "02"],
            ["C1", "I-2", "5.00", "DKK", "2026-11-30", "1"],
            ["C1", "I-1", "100.50", "DKK", "2026-11-30", "1"],
            ["C1", "I-1", "10.00", "DKK", "2026-11-30", "2"],
            ["C1", "I-3", "7.00", "DKK", "2026-11-30", "A"],
            ["C1", "I-3", "8.00", "DKK", "2026-11-30", "a"],
            ["C1", "I-4", "1.00", "DKK", "2026-11-30", "10"],
            ["C1", "I-4", "2.00", "DKK", "2026-11-30", "1"],
        ],
    )
    report, held = await load_invoices(tmp_path, invoices, amount_unit="major")
    assert sorted((r["invoiceNumber"], r["lineItem"], r["invoiceAmount"]) for r in held) == [
        ("I-2", "1", 500),
        ("I-4", "1", 200),
        ("I-4", "10", 100),
    ]
    assert report.rejected == 6 and report.exit_code == 1, report
    reasons = {row["line"]: row["reason"] for row in rejected(tmp_path)}
    assert set(reasons) == {"2", "3", "5", "6", "7", "8"}, reasons
    assert reasons["5"].startswith("line items '01' and '1' are one but for case, spaces, Unicode form or leading"), (
        reasons
    )
    assert reasons["8"].startswith("line items 'A' and 'a' are one but for"), reasons
    assert reasons["2"].startswith("invoice I-1 rejected: line 5 lineItem: line items '01' and '1'"), reasons


async def test_line_items_alike_but_for_a_zero_fraction_reject_their_invoice(tmp_path: Path) -> None:
    # tester t69a: the same invoice exported twice and joined, once through a float column (pandas writes line item
    # 1 as 1.0): regrouped as one invoice of four lines, LI-1 was uploaded at 300.00 where the file meant 150.00,
    # exit 0. Three zeros are no zero fraction (1.000 may be 1000 with a point between thousands): 1.000 and 1 load
    invoices = write(
        tmp_path / "i.csv",
        [*INVOICES, "lineItem"],
        [
            ["C1", "LI-1", "100.00", "DKK", "2026-11-30", "1"],
            ["C1", "LI-1", "50.00", "DKK", "2026-11-30", "2"],
            ["C1", "LI-1", "100.00", "DKK", "2026-11-30", "1.0"],
            ["C1", "LI-1", "50.00", "DKK", "2026-11-30", "2.0"],
            ["C1", "LI-2", "1.00", "DKK", "2026-11-30", "1.000"],
            ["C1", "LI-2", "2.00", "DKK", "2026-11-30", "1"],
        ],
    )
    report, held = await load_invoices(tmp_path, invoices, amount_unit="major")
    assert sorted((r["invoiceNumber"], r["lineItem"]) for r in held) == [("LI-2", "1"), ("LI-2", "1.000")], held
    assert report.rejected == 4 and report.exit_code == 1, report
    reasons = {row["line"]: row["reason"] for row in rejected(tmp_path)}
    assert reasons["4"].startswith("line items '1' and '1.0' are one but for case, spaces, Unicode form"), reasons
    assert "or a zero fraction" in reasons["4"], reasons


async def test_line_items_alike_but_for_an_invisible_character_are_told_so(tmp_path: Path) -> None:
    # a soft hyphen pasted into a line item: the reason showed 'A' and 'A\xad' (or, on a terminal, 'A' and 'A'),
    # naming no difference the user could see (tester t74g)
    rows = [["C1", "I-1", "1.00", "DKK", "2026-11-30", "A"], ["C1", "I-1", "2.00", "DKK", "2026-11-30", "A\u00ad"]]
    invoices = write(tmp_path / "i.csv", [*INVOICES, "lineItem"], rows)
    report, held = await load_invoices(tmp_path, invoices, amount_unit="major")
    assert held == [] and report.rejected == 2, report
    reason = {row["line"]: row["reason"] for row in rejected(tmp_path)}["3"]
    assert reason.startswith("line items 'A' and 'A\\xad' (it holds the invisible character U+00AD) are one"), reason
