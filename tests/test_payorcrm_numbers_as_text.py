"""PayorCRM's text fields that hold a number (a document or reference number, a phone number, a fiscal year and
period) as a spreadsheet saves them: a long number in its exponent form (`1,23457E+11`, its last digits dropped),
and a whole number with the file's thousands separator or a zero fraction (`2.026`, `11,0`). Found by a tester
(t57b): each was sent as that text, exit 0. The real sandbox holds what was sent."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from test_load_payorcrm import ENV, job, rejected, stored

from bulkload import load
from bulkload.sandbox import SandboxOptions, running

CUSTOMERS = "customerno;emailaddress1;companyname;phoneno;cocode\r\n"
INVOICES = "customerNumber;invoiceNumber;invoiceAmount;currency;dueDate;{field}\r\n"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference1", "1,23457E+11"),
        ("reference2", "1,23457E+11"),
        ("accountingDocNumber", "5,1E+09"),
        ("referenceDocNo", "1,00E+03"),
        ("soldTo", "2,31231E+08"),
        ("companyCode", "1,00E+03"),
        ("profitCenter", "1,00E+03"),
        ("fiscalYear", "2,03E+03"),
    ],
)
async def test_an_invoice_field_in_exponent_form_rejects_its_invoice(tmp_path: Path, field: str, value: str) -> None:
    customers = tmp_path / "c.csv"
    customers.write_text(CUSTOMERS + "K1;a@example.com;A;;US01\r\n", encoding="utf-8")
    invoices = tmp_path / "i.csv"
    invoices.write_text(
        INVOICES.format(field=field) + f"K1;F-1;1.234,50;DKK;05.12.2026;{value}\r\nK1;F-2;250,00;DKK;13.12.2026;\r\n",
        encoding="utf-8",
    )
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            files = {"customers": customers, "invoices": invoices}
            report = await load(job(tmp_path, url, files, amount_unit="major"), env=ENV)
            held = await stored(url, "invoices")
    assert [i["invoiceNumber"] for i in held] == ["F-2"], held
    assert report.exit_code == 1, report
    (row,) = rejected(tmp_path, ";")
    assert (row["line"], row["field"]) == ("2", field), row
    assert f"'{value}' is written with an exponent" in row["reason"], row


async def test_a_customer_field_in_exponent_form_rejects_the_customer(tmp_path: Path) -> None:
    customers = tmp_path / "c.csv"
    customers.write_text(
        CUSTOMERS + "K1;a@example.com;A;4,51234E+11;US01\r\nK2;b@example.com;B;+4512345678;1,00E+03\r\n"
        "K3;c@example.com;C;+4587654321;US01\r\n",
        encoding="utf-8",
    )
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            report = await load(job(tmp_path, url, {"customers": customers}), env=ENV)
            held = await stored(url, "customers")
    assert [c["customerno"] for c in held] == ["K3"], held
    assert report.exit_code == 1, report
    assert [(r["line"], r["field"]) for r in rejected(tmp_path, ";")] == [("2", "phoneno"), ("3", "cocode")]


@pytest.mark.parametrize(
    ("year", "period", "sent", "reason"),
    [
        # a spreadsheet's number format with separators: the year 2026 grouped by the file's thousands separator
        ("2.026", "11", None, "'2.026' is 2026 with a point between thousands"),
        ("2026", "11,5", None, "not a whole number: '11,5'"),
        # a zero fraction after the file's decimal mark is the whole number, as in a whole-number field
        ("2026", "11,0", ("2026", "11"), None),
        ("2026,0", "011", ("2026", "011"), None),  # leading zeros are the text's: "01" is the period 1
        ("2026", "P11", ("2026", "P11"), None),  # text that is no number is sent as written
    ],
)
async def test_a_fiscal_year_or_period_is_read_as_the_whole_number_it_writes(
    tmp_path: Path, year: str, period: str, sent: tuple[str, str] | None, reason: str | None
) -> None:
    customers = tmp_path / "c.csv"
    customers.write_text(CUSTOMERS + "K1;a@example.com;A;;US01\r\n", encoding="utf-8")
    invoices = tmp_path / "i.csv"
    invoices.write_text(
        "customerNumber;invoiceNumber;invoiceAmount;currency;fiscalYear;fiscalPeriod\r\n"
        f"K1;F-1;1.234,50;DKK;{year};{period}\r\nK1;F-2;250,00;DKK;2026;11\r\n",
        encoding="utf-8",
    )
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            files = {"customers": customers, "invoices": invoices}
            report = await load(job(tmp_path, url, files, amount_unit="major"), env=ENV)
            held = {i["invoiceNumber"]: (i["fiscalYear"], i["fiscalPeriod"]) for i in await stored(url, "invoices")}
    if sent is None:
        assert held == {"F-2": ("2026", "11")}, held
        (row,) = rejected(tmp_path, ";")
        assert row["line"] == "2" and reason is not None and reason in row["reason"], row
        assert report.exit_code == 1, report
    else:
        assert held == {"F-1": sent, "F-2": ("2026", "11")}, held
        assert report.exit_code == 0, report
