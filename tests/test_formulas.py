"""Which cells starting with ``=`` are spreadsheet formulas (refused wherever they stand) and which are text that
merely begins so (kept): formulas.is_formula, and Reading.convert refusing a formula in every column; and which cells
are a spreadsheet's error value (#N/A, Err:502: refused wherever they stand), formulas.is_error_value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from bulkload.chunking import Reading
from bulkload.dates import DateFormat
from bulkload.errors import RowInvalid
from bulkload.formulas import error_value_reason, formula_reason, is_error_value, is_formula, signed_dde
from bulkload.numbers import NumberFormat
from bulkload.sources import Source
from bulkload.targets.economic_entries import DraftEntries
from bulkload.targets.halopsa_records import Resource
from bulkload.targets.payorcrm_records import Customers, Invoices
from bulkload.targets.visma_core_records import Entries

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
    # found by a tester: function names in small letters (LibreOffice, Google Sheets) were read as text and sent
    "=sum(A1:A3)",
    "=if(B2>0;1;2)",
    "=vlookup(A2;Types!A:B;2)",
    # found by a tester: a table's columns whose names hold a space, its special items, and a spilled range were sent
    # as text
    "=[@[Unit Price]]*[@Qty]",
    "=Table1[[#This Row],[Amount]]",
    "=SUM(Sales[[Jan]:[Mar]])",
    "=Table1[[#Headers],[#Data],[Qty]:[Unit Price]]",
    "=Table1[@[Qty]:[Unit Price]]",
    "=SUM(Table1[#All])",
    "=[@[Price '[USD']]]*2",  # ' escapes a bracket in a column's name
    "=Table1[ [Qty] , [Price] ]",
    "=A1#*2",
    "=Sheet1!A1#",
    "=SUM($B$2#)",
    "=@A1:A10",  # Excel's implicit intersection: @ before an operand
    "=@Total",
    "=SUM(@A1:A10)",
    "=1+@A1",
    "=Faktura(1001)",  # a function no spreadsheet has, read as one all the same: refused, saying how to write text
    # found by a tester (t29a): a DDE link to another program, the CSV-injection payload, was sent as text and booked
    "=cmd|' /C calc'!A0",
    "=MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe'!''",
    "=cmd|calc!A0",
    "=@SUM(1+9)*cmd|' /C calc'!A0",
]

#: formulas holding a name a sheet may define (or references in small letters, which a spreadsheet reads as one):
#: told from text by no shape, so refused, the reason saying how to write the cell as text (found by a tester:
#: =Total and =Rate*2 were sent as text)
NAMED = ["=Total", "=Rate*2", "=ABCD1", "=CO2-avgift", "=see(note)", "=sum(a1)", "=Sheet1!Total", "=Net+Vat"]

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
    "=note: call first",
    "=> next step",
    '="',
    '="x"y"',
    # found by a tester: text whose first words a formula might begin with, and then words no formula holds
    "=1/2 of invoice",
    "=50/50 split with seller",
    "=Q1-Q2 report",
    "=A4-ark levert",
    "=3*100 kr",
    "=()",
    "=== header ===",
    "=Net of VAT",
    # found by a tester: an e-mail address and a web address, which no spreadsheet takes for a formula (@ between two
    # operands, two operators side by side), were refused as formulas holding a name
    "=ole@firma.dk",
    "=http://firma.dk/faktura/1001",
    "=A1@B1",
    "=SUM(A1)@B1",
    "=Total@",
    "=1//2",
    "=A1*/B1",
    "=A1==B1",
    "=a|b",  # a bar, but no link: no topic and item
    "=see | note!",
]


def test_a_long_cell_is_told_in_time_proportional_to_its_length() -> None:
    # the tokens are atomic: no backtracking into them however the cell ends
    # (each ends in two words side by side, no formula's: "=A1+…+x" alone is one, x a name a sheet may define)
    for text in (
        "=" + "1" * 20_000 + "x y",
        "=" + "A1+" * 7_000 + "x y",
        "=" + "(" * 20_000 + "x y",
        "=" + "[@[Unit Price]]*" * 2_000 + "x y",
        "=" + "T[[#This Row],[A]]+" * 1_000 + "x y",
        "=T[" + "[A]," * 5_000 + "x y",
        "=" + "[" * 20_000 + "x y",
        "=" + "A1#*" * 5_000 + "x y",
        "=" + "@A1+" * 5_000 + "x y",
    ):
        assert not is_formula(text)


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_is_told_by_its_shape(text: str) -> None:
    assert is_formula(text)


@pytest.mark.parametrize(
    ("text", "dde"),
    [
        # found by tester t31: OWASP's payload begun with +, - or @, which Excel runs as it runs =, was booked as text
        ("+cmd|' /C calc'!A0", True),
        ("-cmd|' /C calc'!A0", True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ("@SUM(1+1)*cmd|' /C calc'!A0", True),
        ("+MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe /c calc'!''", True),
        ("-100.00", False),  # a negative amount, a phone number, prose with a bar: text
        ("+45 70 20 30 40", False),
        ("-5 items | see note!", False),
        ("+a|b", False),
        ("@x|y!z w", False),
    ],
)
def test_a_dde_link_begun_with_a_sign_or_at_is_a_formula(text: str, dde: bool) -> None:
    assert signed_dde(text) is dde


@pytest.mark.parametrize("text", NAMED)
def test_a_formula_with_a_name_is_one(text: str) -> None:
    assert is_formula(text)


@pytest.mark.parametrize("text", ["=Total", "=SUM(A1:A3)", "=Faktura(1001)", '="Invoice "&A2'])
def test_a_formula_is_refused_saying_how_to_write_it_as_text(text: str) -> None:
    # found by a tester: =Faktura(1001), a function no spreadsheet has, is text as likely as =Total, but only =Total's
    # reason said how to write a cell as text. Every reason says so, and where: Excel saves ="=Total" typed in a cell
    # as its value, =Total, a formula again
    as_text = '="' + text.replace('"', '""') + '"'
    assert formula_reason(text) == (
        f"{text!r} is a spreadsheet formula, not its value: export the values, not the formulas; text: write the CSV "
        f"cell as {as_text} in a text editor, or in Excel in a cell formatted as Text (in any other cell Excel saves "
        f"it as its value, {text})"
    )


def test_a_formula_written_as_text_in_a_text_editor_is_that_text(tmp_path: Path) -> None:
    # what the reason tells: ="=Faktura(1001)" typed into a CSV file as it stands, unquoted, is the text
    path = tmp_path / "c.csv"
    path.write_text('customerno;companyname\nC1;="=Faktura(1001)"\n')
    ((_, row),) = list(Source(path))
    assert isinstance(row, dict)
    Reading.of(Customers(), NumberFormat(), DateFormat()).convert(row)
    assert row == {"customerno": "C1", "companyname": "=Faktura(1001)"}


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
        assert caught.value.reason == formula_reason(written)


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


@pytest.mark.parametrize("json", [False, True])
def test_a_formula_in_small_letters_or_with_a_name_is_refused_in_every_column(json: bool) -> None:
    # found by a tester: =sum(A1:A3), =if(B2>0;1;2), =Total and =Rate*2 were uploaded as those texts
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json)
    for field in ("currency", "invoiceAmount"):
        for written in ("=sum(A1:A3)", "=if(B2>0;1;2)", "=Total", "=Rate*2"):
            row = {"customerNumber": "C1", "invoiceNumber": "I1", "invoiceAmount": "100", field: written}
            with pytest.raises(RowInvalid) as caught:
                reading.convert(row)
            assert caught.value.field == field and caught.value.reason == formula_reason(written)


def test_a_csv_cell_of_excels_text_formula_holding_an_equals_sign_is_that_text(tmp_path: Path) -> None:
    # the way a refused =Total is written as text: ="=Total" (Excel's text formula), read as =Total and sent so
    path = tmp_path / "c.csv"
    path.write_text('customerno,companyname,lastname\nC1,"=""=Total""","=""=Say """"hi"""" """\n')
    ((_, row),) = list(Source(path))
    assert isinstance(row, dict)
    Reading.of(Customers(), NumberFormat(), DateFormat()).convert(row)
    assert row == {"customerno": "C1", "companyname": "=Total", "lastname": '=Say "hi"'}


def test_a_csv_cell_of_excels_text_formula_holding_an_error_value_is_that_text(tmp_path: Path) -> None:
    # found by a tester: ="#N/A" and ="Err:502", Excel's way to write them as text (as ="=Total" is), were refused as
    # the error values they spell: the check is of the cell as written, and the text formula's is that text
    path = tmp_path / "c.csv"
    path.write_text('customerno,companyname,lastname\nC1,"=""#N/A""","=""Err:502"""\n')
    ((_, row),) = list(Source(path))
    assert isinstance(row, dict)
    Reading.of(Customers(), NumberFormat(), DateFormat()).convert(row)
    assert row == {"customerno": "C1", "companyname": "#N/A", "lastname": "Err:502"}


def test_a_jsonl_string_of_excels_text_formula_is_refused_never_guessed() -> None:
    # found by a tester: '="00888"' in a JSON string was refused as any formula, saying to export the values. A JSON
    # string needs no text formula, and which of the two it means (the text 00888, or those eight characters) cannot
    # be told: refused, saying to write the text itself
    reading = Reading.of(Customers(), NumberFormat(), DateFormat(), json=True)
    with pytest.raises(RowInvalid) as caught:
        reading.convert({"customerno": '="00888"', "companyname": "A"})
    assert (caught.value.field, caught.value.reason) == (
        "customerno",
        '\'="00888"\' is Excel\'s text formula, which a JSON string has no need of: write the text itself, "00888"',
    )


@pytest.mark.parametrize("json", [False, True])
def test_a_row_refused_for_a_formula_names_every_field_that_would_be_refused(json: bool) -> None:
    # found by a tester: amount =100.00 and text =SUM(A1) named the amount only; fixed and loaded again as the doc
    # says, the row was refused again for the text. Every field is named at once (looked for only in a row already
    # refused), so one round of fixing is enough; the field column names each, in the order met
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json)
    row = {"customerNumber": "C1", "invoiceNumber": "I1", "invoiceAmount": "=100.00", "currency": "=SUM(A1)"}
    row |= {"documentType": "= see note", "dueDate": "31/31/2026"}
    with pytest.raises(RowInvalid) as caught:
        reading.convert(row)
    first, *more = caught.value.reason.split("; also ")
    assert caught.value.field == "invoiceAmount; currency; dueDate", caught.value.field
    assert first == formula_reason("=100.00"), caught.value.reason
    assert more[0] == f"currency: {formula_reason('=SUM(A1)')}", more
    assert len(more) == 2 and more[1].startswith("dueDate: "), more  # a later check's fault too; free text is none


def test_a_row_refused_for_a_formula_reads_excels_text_formula_as_its_text_when_naming_the_rest() -> None:
    # ="=Total" is the text =Total, read in place before a later cell is refused: naming the other faults does not
    # take it for the formula it spells
    path_row = {"customerNumber": "C1", "invoiceNumber": "I1", "invoiceAmount": "100", "documentType": '="=Total"'}
    row = path_row | {"currency": "=D1"}
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat())
    with pytest.raises(RowInvalid) as caught:
        reading.convert(row)
    assert (caught.value.field, caught.value.reason) == ("currency", formula_reason("=D1"))


#: what a spreadsheet shows, and saves in a CSV, for a formula that failed: Excel's, Google Sheets' #ERROR!,
#: LibreOffice's Err:NNN, and Excel's in the languages of the Nordic and nearby markets (its #N/A: #I/T, #NV,
#: #SAKNAS!, #N/B)
ERROR_VALUES = [
    "#N/A",
    "#REF!",
    "#NAME?",
    "#DIV/0!",
    "#VALUE!",
    "#NUM!",
    "#NULL!",
    "#ERROR!",
    "#SPILL!",
    "#CALC!",
    "#GETTING_DATA",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#BUSY!",
    "#UNKNOWN!",
    "#n/a",  # in any case
    "#Ref!",
    "Err:502",
    "Err:504",
    "Err:9",
    "#I/T",  # Danish, Norwegian
    "#VÆRDI!",
    "#REFERENCE!",
    "#NAVN?",
    "#DIVISION/0!",
    "#SAKNAS!",  # Swedish
    "#VÄRDEFEL!",
    "#NV",  # German
    "#BEZUG!",
    "#WERT!",
    "#N/B",  # Dutch
    "#PUUTTUU!",  # Finnish
    "#VALEUR!",  # French
]

#: found by a tester: Excel's newer error values in the languages above were booked as text, and Visma Core lines
#: whose orderId was #KALK! loaded as one order. Each language's #SPILL!, #CALC!, #GETTING_DATA (with and without a
#: closing !), #FIELD!, #BLOCKED!, #CONNECT!, #UNKNOWN!, #EXTERNAL! where it has a name of its own
LOCALISED_NEWER_ERROR_VALUES = [
    *("#OVERLØB!", "#BEREGN!", "#HENTER_DATA", "#HENTER_DATA!", "#FELT!", "#BLOKERET!", "#OPRETFORBINDELSE!"),  # da
    *("#EKSTERN!", "#NUMMER!"),
    *("#OVERFLYT!", "#KOBLE_TIL!", "#BLOKKERT!", "#UKJENT!", "#EKSTERNT!"),  # Norwegian
    *("#KALK!", "#HÄMTAR_DATA", "#HÄMTAR_DATA!", "#ANSLUT!", "#BLOCKERAD!", "#OKÄNT!"),  # Swedish
    *("#LEVITTYMINEN!", "#LASKE!", "#HAETAAN_TIETOJA", "#KENTTÄ!", "#ESTETTY!", "#YHDISTÄ!", "#TUNTEMATON!"),  # fi
    "#ULKOINEN!",
    *("#ÜBERLAUF!", "#überlauf!", "#DATEN_ABRUFEN", "#DATEN_ABRUFEN!", "#FELD!", "#BLOCKIERT!", "#VERBINDEN!"),  # de
    *("#OVERLOPEN!", "#BEREKENEN!", "#GEGEVENS.OPHALEN", "#VELD!", "#GEBLOKKEERD!", "#ONBEKEND!"),  # Dutch
    "#DELING.DOOR.0!",
    *("#PROPAGATION!", "#PROPAGATION !", "#CHARGEMENT_DONNEES", "#CHAMP!", "#BLOQUÉ!", "#CONNEXION!"),  # French
    *("#INCONNU!", "#EXTERNE!", "#PYTHON!", "#EXTERNAL!"),
]

#: text that merely begins as an error value does: a cell is one only wholly
NOT_ERROR_VALUES = [
    "#123 invoice",
    "#1",
    "#",
    "#N/A please check",
    "N/A",
    "#N/A!",
    "#NA",
    "REF!",
    "Err:",
    "Err:50x",
    "ERR:502",
    "Err: 502",
    "Error 502",
    "Errata",
    "E1010",
    "#REF",
    "Note: #N/A",
]


@pytest.mark.parametrize("text", ERROR_VALUES + LOCALISED_NEWER_ERROR_VALUES)
def test_a_spreadsheets_error_value_is_told_wholly(text: str) -> None:
    assert is_error_value(text)


@pytest.mark.parametrize("text", NOT_ERROR_VALUES)
def test_text_that_merely_begins_as_an_error_value_is_none(text: str) -> None:
    assert not is_error_value(text)


@pytest.mark.parametrize("json", [False, True])
@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (DraftEntries(), "text"),
        (DraftEntries(), "vatCode"),
        (DraftEntries(), "customerInvoiceNumber"),
        (DraftEntries(), "amount"),
        (Entries(), "orderId"),
        (Invoices(), "invoiceNumber"),
        (Invoices(), "currency"),
        (Resource("XeroDetails"), "tenant_id"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_a_spreadsheets_error_value_is_refused_in_every_column(kind: Any, field: str, json: bool) -> None:
    # found by a tester: text '#N/A', vatCode '#N/A', customerInvoiceNumber '#REF!' were booked, and three Visma Core
    # lines whose orderId was '#N/A' (a failed lookup on each row) merged into one entry: a failed formula's value is
    # no data, in a text or key column as in a number one (where it was "not a number: '#N/A'")
    reading = Reading.of(kind, NumberFormat(), DateFormat(), json=json)
    for written in ("#N/A", "#ref!", "Err:502", "#ERROR!"):
        with pytest.raises(RowInvalid) as caught:
            reading.convert({field: written})
        assert (caught.value.field, caught.value.reason) == (field, error_value_reason(written))
        assert "spreadsheet's error value" in caught.value.reason


@pytest.mark.parametrize("json", [False, True])
def test_text_beginning_with_a_hash_or_err_is_kept(json: bool) -> None:
    row = {"customerNumber": "#1", "invoiceNumber": "#123 invoice", "currency": "DKK", "itemText": "Errata"}
    Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json).convert(row)
    assert row == {"customerNumber": "#1", "invoiceNumber": "#123 invoice", "currency": "DKK", "itemText": "Errata"}


@pytest.mark.parametrize("json", [False, True])
def test_a_row_refused_for_an_error_value_names_every_field_that_would_be_refused(json: bool) -> None:
    # as for formulas: one round of fixing is enough
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json)
    row = {"customerNumber": "C1", "invoiceNumber": "#N/A", "invoiceAmount": "100", "currency": "=D1"}
    row |= {"documentType": "#REF!", "dueDate": "31/31/2026"}
    with pytest.raises(RowInvalid) as caught:
        reading.convert(row)
    first, *more = caught.value.reason.split("; also ")
    assert caught.value.field == "invoiceNumber; currency; documentType; dueDate", caught.value.field
    assert first == error_value_reason("#N/A"), caught.value.reason
    assert more[:2] == [f"currency: {formula_reason('=D1')}", f"documentType: {error_value_reason('#REF!')}"], more
    assert len(more) == 3 and more[2].startswith("dueDate: "), more


def invoice_addressed(address: Any, json: bool, **more: str) -> dict[str, Any]:
    """A PayorCRM invoice row billed to `address`: in a CSV file (not `json`) the nested value is its JSON text."""
    return {
        "customerNumber": "C1",
        "invoiceNumber": "I1",
        "billAddr": address if json else msgspec.json.encode(address).decode(),
        **more,
    }


@pytest.mark.parametrize("json", [False, True])
def test_an_error_value_inside_a_nested_value_is_refused_naming_where_and_every_field(json: bool) -> None:
    # found by a lead: {"city": "#N/A"} in billAddr was sent, where "#N/A" in a column is refused. In a CSV file the
    # nested value is its JSON text; a key is no value, and text that merely begins as an error value is kept
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json)
    address: Any = {"#N/A": "Vej 1", "lines": ["#1", {"zip": "Err:502"}], "city": "#n/a"}
    row = invoice_addressed(address, json, documentType="#REF!")
    with pytest.raises(RowInvalid) as caught:
        reading.convert(row)
    assert caught.value.field == "billAddr; documentType"
    first, *more = caught.value.reason.split("; also ")
    assert first == error_value_reason("Err:502", "billAddr.lines[1].zip"), caught.value.reason
    assert more == ["'#n/a' at billAddr.city", f"documentType: {error_value_reason('#REF!')}"], more
    kept: Any = {"#N/A": "Vej 1", "lines": ["#1", {"zip": "Errata"}], "city": "#123 Main"}
    row = invoice_addressed(kept, json)
    reading.convert(row)


@pytest.mark.parametrize("value", [v for v in ERROR_VALUES + LOCALISED_NEWER_ERROR_VALUES if v[:1] == "#"])
def test_a_formula_of_an_error_value_is_one_in_every_language_and_case(value: str) -> None:
    # found by a lead: =#ÜBERLAUF! (and =#kalk!, =#VÆRDI!, =#HENTER_DATA) were read as text and sent, where =#N/A
    # is refused: the formula's error operand was matched in capital ASCII letters alone. An error operand is any
    # error value is_error_value takes, in any case; text after it is still prose
    assert is_formula(f"={value}") and is_formula(f"=IF(A1;{value};1)") and is_formula(f"=@{value}")
    assert not is_formula(f"={value} bitte prüfen")


@pytest.mark.parametrize("json", [False, True])
def test_a_formula_of_a_localised_error_value_is_refused_as_a_formula(json: bool) -> None:
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json)
    for written in ("=#ÜBERLAUF!", "=#kalk!", "=#VÆRDI!", "=#HENTER_DATA", "=#GEGEVENS.OPHALEN"):
        with pytest.raises(RowInvalid) as caught:
            reading.convert({"customerNumber": "C1", "invoiceNumber": "I1", "itemText": written})
        assert (caught.value.field, caught.value.reason) == ("itemText", formula_reason(written))


@pytest.mark.parametrize("json", [False, True])
def test_a_formula_inside_a_nested_value_is_refused_naming_where_and_every_field(json: bool) -> None:
    # found by a lead: {"city": "=SUM(A1)"} in billAddr was sent, where "=SUM(A1)" in a column is refused; prose that
    # merely begins with "=" is kept, and so is a key
    reading = Reading.of(Invoices(), NumberFormat(), DateFormat(), json=json)
    address: Any = {"=A1": "Vej 1", "lines": ["= see note", {"zip": "=#ÜBERLAUF!"}], "city": "=SUM(A1)", "n": "#N/A"}
    row = invoice_addressed(address, json, documentType="=D1")
    with pytest.raises(RowInvalid) as caught:
        reading.convert(row)
    assert caught.value.field == "billAddr; documentType"
    first, *more = caught.value.reason.split("; also ")
    assert first == formula_reason("=#ÜBERLAUF!", "billAddr.lines[1].zip"), caught.value.reason
    assert more == [
        "'=SUM(A1)' at billAddr.city",
        error_value_reason("#N/A", "billAddr.n"),
        f"documentType: {formula_reason('=D1')}",
    ], more
    assert first.startswith("'=#ÜBERLAUF!' at billAddr.lines[1].zip is a spreadsheet formula, not its value")
    kept: Any = {"=A1": "Vej 1", "lines": ["= see note", {"zip": "=== header ==="}], "city": "=ole@firma.dk"}
    row = invoice_addressed(kept, json)
    reading.convert(row)


@pytest.mark.parametrize("json", [False, True])
def test_a_formula_inside_a_halopsa_object_or_array_field_is_refused(json: bool) -> None:
    reading = Reading.of(Resource("ExactDetails"), NumberFormat(), DateFormat(), json=json)
    for field, value, at in [
        ("sync_entities_list", [{"key": "invoices", "value": "=VLOOKUP(A2;T!A:B;2)"}], "sync_entities_list[0].value"),
        ("division_object", {"my code": "=Total"}, 'division_object["my code"]'),
    ]:
        row = {"name": "E1", field: value if json else msgspec.json.encode(value).decode()}
        with pytest.raises(RowInvalid) as caught:
            reading.convert(row)
        text = value[0]["value"] if isinstance(value, list) else value["my code"]
        assert (caught.value.field, caught.value.reason) == (field, formula_reason(text, at))
