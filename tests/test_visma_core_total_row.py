"""A merged order's total row. Found by a tester (t70d): an export of order T1 as OUTLAY lines of 100.00 (Takst) and
40.00 (Porto) with a row "Sum ordre" of 140.00 below them, its orderId given as the lines', was merged into one entry
of 280.00, exit 0: twice the order. A last line whose amount is the sum of the order's other lines (two or more)
may be a total row or a line, which cannot be told: the order is rejected whole, never booked. A line of that amount
written before another of the order's lines is a line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from test_load_visma_core import accounted, load_entries, read_csv, write


async def test_an_order_whose_last_line_is_the_sum_of_the_others_is_rejected_whole(tmp_path: Path) -> None:
    data = write(
        tmp_path / "e.csv",
        [
            [1004, "OUTLAY", "100.00", "Takst", "", "2026-11-30", "T1"],
            [1004, "OUTLAY", "40.00", "Porto", "", "2026-11-30", "T1"],
            [1004, "OUTLAY", "140.00", "Sum ordre", "", "2026-11-30", "T1"],
            [1005, "OUTLAY", "150.00", "I alt", "", "2026-11-30", "T2"],
            [1005, "OUTLAY", "100.00", "Takst", "", "2026-11-30", "T2"],
            [1005, "OUTLAY", "50.00", "Porto", "", "2026-11-30", "T2"],
            [1006, "OUTLAY", "100.00", "Takst", "", "2026-11-30", "T3"],
            [1006, "OUTLAY", "150.00", "a line of the order", "", "2026-11-30", "T3"],
            [1006, "OUTLAY", "50.00", "Porto", "", "2026-11-30", "T3"],
            [1007, "OUTLAY", "100.00", "Takst", "", "2026-11-30", "T4"],
            [1007, "OUTLAY", "-100.00", "Kreditnota", "", "2026-11-30", "T4"],
            [1007, "OUTLAY", "0.00", "zero", "", "2026-11-30", "T4"],
        ],
    )
    report, entries = await load_entries(tmp_path, data)
    assert sorted((e["CaseId"], e["Amount"]) for e in entries) == [
        (1005, Decimal("300.00")),
        (1006, Decimal("300.00")),
        (1007, Decimal("0.00")),
    ], entries
    assert (report.loaded, report.rejected, report.exit_code) == (9, 3, 1) and accounted(report), report
    rejects = {int(r["line"]): r for r in read_csv(tmp_path / "rejects.csv")}
    assert rejects[4]["field"] == "amount", rejects
    assert rejects[4]["reason"].startswith(
        "the order's last line's amount is the sum of its other lines': a total row of the export, or a line of the "
        "order, which cannot be told"
    ), rejects
    assert "rejected: line 4 amount: the order's last line" in rejects[2]["reason"], rejects
    assert set(rejects) == {2, 3, 4}, rejects
