"""Which cells starting with ``=`` are spreadsheet formulas (refused wherever they stand) and which are text that
merely begins so (kept): formulas.is_formula, and Reading.convert refusing a formula in every column."""

from __future__ import annotations

import pytest

from bulkload.chunking import Reading
from bulkload.dates import DateFormat
from bulkload.errors import RowInvalid
from bulkload.formulas import is_formula
from bulkload.numbers import NumberFormat
from bulkload.targets.payorcrm_records import Customers, Invoices

FORMULAS = [
    "=D1",  # a cell reference
    "=$F$1",
    "=A$1",
    "=XFD1048576",
    "=Sheet1!A1",  # on another sheet, named plainly or quoted
    "='My sheet'!B2",
    "='It''s'!B2",
    "=[Book1.xlsx]Rates!$C$3",
    "=A1:B2",
    "=D1 & E1",
    "= D1",  # Excel keeps the spaces a formula was typed with
    "=SUM(A1:A3)",  # a function call
    '=IF(C2>0;"D";"C")',
    "=VLOOKUP(A2;Types!A:B;2)",
    "=TODAY()",
    "=_xlfn.XLOOKUP(A1,B:B,C:C)",
    "=LOG10(100)",
    "=2*3",  # numbers, signs and parentheses
    "=5",
    "=1.5",
    "=.5+1",
    "=10%",
    "=-A1",
    "=+A1",
    "=(A1)",
    "=((1+2))*3",
    "=-SUM(A1:A2)",
    '="a"&"b"',  # strings joined
    '="Invoice "&A2',
    '="x" & "y"',
    '="a"="b"',
    # found by a tester: function names of a Danish/Norwegian sheet, a table's columns, @, booleans, R1C1, arrays
    "=ÅR(F4)",
    '=MÅNED(F2)&"/"&ÅR(F2)',
    '=[@caseId]&"-"&[@nr]',
    "=Table1[Amount]*2",
    "=@SUM(A1:A2)",
    "=TRUE",
    "=R1C1",
    "=R[-1]C",
    "={1,2}",
    "=#N/A",
    "=A1<>B1",
    "=24/7",  # as a spreadsheet reads it, a division
    "=ISO9001",  # and a reference
]

TEXTS = [
    "= see note",
    "===",
    "==",
    "=",
    "=-=-=-=",
    "=+-",
    "=(see note)",
    "=A1 is where it went",
    "=2 items",
    "=see(note)",
    "=Total",
    "=note: call first",
    "=> next step",
    "=ABCD1",  # no column has four letters
    '="',
    '="x"y"',
    # found by a tester: text whose first words a formula might begin with, and then words no formula holds
    "=1/2 of invoice",
    "=50/50 split with seller",
    "=Q1-Q2 report",
    "=A4-ark levert",
    "=CO2-avgift",
    "=3*100 kr",
    "=()",
    "=sum(a1)",
]


def test_a_long_cell_is_told_in_time_proportional_to_its_length() -> None:
    # the tokens are atomic: no backtracking into them however the cell ends
    for text in ("=" + "1" * 20_000 + "x", "=" + "A1+" * 7_000 + "x", "=" + "(" * 20_000 + "x"):
        assert not is_formula(text)


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_is_told_by_its_shape(text: str) -> None:
    assert is_formula(text)


@pytest.mark.parametrize("text", TEXTS)
def test_text_that_merely_begins_with_an_equals_sign_is_no_formula(text: str) -> None:
    assert not is_formula(text)


def test_text_without_an_equals_sign_first_is_no_formula() -> None:
    assert not any(is_formula(text) for text in ("D1", " =D1", "SUM(A1)", "1+1", ""))


@pytest.mark.parametrize("json", [False, True])
@pytest.mark.parametrize("field", ["currency", "debitCreditIndicator", "documentType", "itemText", "invoiceAmount"])
def test_a_formula_is_refused_in_every_column(field: str, json: bool) -> None:
    # found by a tester: currency =D1, debitCreditIndicator =IF(C2>0;"D";"C") and documentType =VLOOKUP(…) were
    # uploaded as those texts, as only number, date, amount, whole-number and key columns were looked at
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json)
    for written in ("=D1", '=IF(C2>0;"D";"C")', "=VLOOKUP(A2;Types!A:B;2)"):
        row = {"customerNumber": "C1", "invoiceNumber": "I1", "invoiceAmount": "100", field: written}
        with pytest.raises(RowInvalid) as caught:
            reading.convert(row)
        assert caught.value.field == field
        assert caught.value.reason == (
            f"{written!r} is a spreadsheet formula, not its value: export the values, not the formulas"
        )


@pytest.mark.parametrize("json", [False, True])
def test_free_text_that_begins_with_an_equals_sign_is_kept(json: bool) -> None:
    row = {"customerno": "C1", "companyname": "= see note", "lastname": "===", "firstname": "=A1 is where it went"}
    Reading.of(Customers(), NumberFormat(), DateFormat(), json=json).convert(row)
    assert row == {
        "customerno": "C1",
        "companyname": "= see note",
        "lastname": "===",
        "firstname": "=A1 is where it went",
    }
