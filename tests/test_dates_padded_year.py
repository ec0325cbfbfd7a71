"""A date whose year is written in four digits of which the first two are zeros ("05.11.0026"): a two-digit year
padded, as an export or a spreadsheet's text-to-date conversion writes it. Found by a tester (t57b): Visma Core
booked an entry on 0026-11-05 and PayorCRM stored an invoice due 0026-12-13. Such a date is refused with its row,
naming the year; an ISO date is read as written (HaloPSA's .NET exports write 0001-01-01 for no date)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_load_visma_core import load_entries

from bulkload.dates import DateFormat


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ("dmy", "05.11.0026"),
        ("dmy", "5/11/0026 10:00"),
        ("mdy", "11-05-0099"),
        ("%d.%m.%Y", "05.11.0026"),
    ],
)
def test_a_year_of_two_digits_padded_with_zeros_is_refused(spec: str, text: str) -> None:
    with pytest.raises(ValueError, match=r"its year is written 00\d\d"):
        DateFormat(spec).parse(text)


@pytest.mark.parametrize(
    ("spec", "text", "read"),
    [
        ("dmy", "0001-01-01", "0001-01-01"),  # ISO, as written
        ("dmy", "05.11.2026", "2026-11-05"),
        ("dmy", "05.11.1026", "1026-11-05"),
    ],
)
def test_other_years_read_as_written(spec: str, text: str, read: str) -> None:
    assert DateFormat(spec).parse(text) == read


async def test_visma_core_books_no_entry_in_year_26(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    data.write_text(
        "caseId;accountingCostType;amount;description;note;entryDate\r\n"
        "1493;FEE;8,00;Gebyr;n;05.11.0026\r\n"
        "1494;FEE;9,00;Gebyr;n;13.11.2026\r\n",
        encoding="utf-8",
    )
    report, entries = await load_entries(tmp_path, data)
    assert [(e["CaseId"], e["EntryDate"]) for e in entries] == [(1494, "2026-11-13T00:00:00")], entries
    assert (report.loaded, report.rejected, report.exit_code) == (1, 1, 1), report
    reasons = (tmp_path / "rejects.csv").read_text()
    assert "its year is written 0026" in reasons, reasons
