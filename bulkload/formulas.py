"""Spreadsheet formulas in a file's cells: Excel's ``="…"`` is the text inside it, any other formula is no value.

A CSV keeps a key's leading zeros through Excel as ``="00888"``: a formula whose value is the text inside the
quotes (``""`` inside standing for one ``"``), so nothing is lost and the cell is read as that text (sources.py,
for every CSV cell, before anything looks at it). Any other formula (``=SUM(A1:A3)``, ``=D1``) is not the value a
spreadsheet shows for it, and a file holding one is a formulas export: its row is refused with its group, whatever
the column (`cell_value`: chunking.Reading.convert, where every value of a row is read, looks at a cell's first
character, and only at a cell starting with ``=`` any further). Text that merely begins with ``=`` (``= see note``,
``===``, ``=Q1-Q2 report``) is no formula: a formula is told by its shape (`is_formula`). One may still be text
(``=Total``, a name a sheet may define; ``=Faktura(1001)``, a function no sheet has), so every formula is refused
saying how to write it as text: ``="=Total"``, which a CSV cell holds for the text ``=Total`` (`cell_text` leaves it
to `cell_value`). A JSONL string needs no ``="…"``, and one holding it is refused, never guessed to be either its
text or those characters; so is a formula inside a nested value, naming where it is (`sheet_values`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

#: a cell that is wholly Excel's text formula ="…", the text inside as group 1 (its quotes doubled)
_TEXT_FORMULA = re.compile(r'="((?:[^"]|"")*)"').fullmatch

#: the error values a spreadsheet shows, and saves in a CSV, for a lookup or formula that failed, in capitals: Excel's
#: (its newer ones too: #SPILL!, #CALC!, #GETTING_DATA …), Google Sheets' #ERROR!, LibreOffice's (the same names);
#: and Excel's in the languages of the Nordic and nearby markets: Danish, Norwegian, Swedish, Finnish, German, Dutch,
#: French (its #N/A: #I/T, #SAKNAS!, #PUUTTUU!, #NV, #N/B), the newer ones too (#ÜBERLAUF!, #KALK!, #DATEN_ABRUFEN),
#: where a language names one its own way (else it keeps the English name), as PhpSpreadsheet's tables of Excel's
#: names give them (github.com/idovdw/PhpSpreadsheet, src/PhpSpreadsheet/Locale/Formula/locale_da_dk.php, _nb_no,
#: _sv_se, _fi_fi, _de_de, _nl_nl, _fr_fr: error_codes_current). Those write each #GETTING_DATA with a closing !,
#: which Excel's English name has not (other tables, Excel's own #GETTING_DATA: none), so both are here; and French
#: #SPILL! with a space before the ! as French typography puts it, and without
_ERROR_VALUES = frozenset(
    {
        *("#N/A", "#REF!", "#NAME?", "#DIV/0!", "#VALUE!", "#NUM!", "#NULL!", "#ERROR!", "#SPILL!", "#CALC!"),
        *("#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!", "#EXTERNAL!"),
        # Danish, Norwegian (#NUL!: French too)
        *("#I/T", "#VÆRDI!", "#VERDI!", "#REFERENCE!", "#NAVN?", "#DIVISION/0!", "#NUL!", "#NUMMER!"),
        *("#HENTER_DATA", "#HENTER_DATA!", "#OVERLØB!", "#OVERFLYT!", "#BEREGN!", "#FELT!", "#BLOKERET!"),
        *("#BLOKKERT!", "#OPRETFORBINDELSE!", "#KOBLE_TIL!", "#UKJENT!", "#EKSTERN!", "#EKSTERNT!"),
        # Swedish
        *("#SAKNAS!", "#VÄRDEFEL!", "#REFERENS!", "#NAMN?", "#OGILTIGT!", "#SKÄRNING!"),
        *("#HÄMTAR_DATA", "#HÄMTAR_DATA!", "#KALK!", "#BLOCKERAD!", "#ANSLUT!", "#OKÄNT!", "#EXTERN!"),
        # Finnish
        *("#PUUTTUU!", "#ARVO!", "#VIITTAUS!", "#NIMI?", "#JAKO/0!", "#LUKU!", "#TYHJÄ!"),
        *("#HAETAAN_TIETOJA", "#HAETAAN_TIETOJA!", "#LEVITTYMINEN!", "#LASKE!", "#KENTTÄ!", "#ESTETTY!"),
        *("#YHDISTÄ!", "#TUNTEMATON!", "#ULKOINEN!"),
        # German (#KALK!, #EXTERN! as Swedish)
        *("#NV", "#WERT!", "#BEZUG!", "#ZAHL!"),
        *("#DATEN_ABRUFEN", "#DATEN_ABRUFEN!", "#ÜBERLAUF!", "#FELD!", "#BLOCKIERT!", "#VERBINDEN!"),
        # Dutch (#VERBINDEN! as German)
        *("#N/B", "#WAARDE!", "#VERW!", "#NAAM?", "#DEEL/0!", "#DELING.DOOR.0!", "#GETAL!", "#LEEG!"),
        *("#GEGEVENS.OPHALEN", "#GEGEVENS.OPHALEN!", "#OVERLOPEN!", "#BEREKENEN!", "#VELD!", "#GEBLOKKEERD!"),
        "#ONBEKEND!",
        # French
        *("#VALEUR!", "#NOM?", "#NOMBRE!"),
        *("#CHARGEMENT_DONNEES", "#CHARGEMENT_DONNEES!", "#PROPAGATION!", "#PROPAGATION !", "#CHAMP!"),
        *("#BLOQUÉ!", "#CONNEXION!", "#INCONNU!", "#EXTERNE!"),
    }
)
#: a name a sheet defines, or a function's (Excel's rule: a letter, "_" or "\" first, then letters, digits, "." and
#: "_"), in any case: LibreOffice and Google Sheets keep a function's name as it was typed (=sum(A1:A3))
_NAME = r"(?:[^\W\d]|\\)[\w.]*"
#: a function call opening: SUM( sum( ÅR( _xlfn.XLOOKUP(
_CALL = rf"{_NAME}\("
#: a reference, perhaps on a sheet (Sheet1! 'My sheet'! [Book1]S!): D1 $F$1 A:B 1:1 R1C1, and a cell's spilled range
#: (Excel 365's A1#)
_SHEET = r"(?:(?:\[[^\]]+\])?(?:'(?:[^']|'')+'|[\w.]+)!)?"
_REF = rf"""{_SHEET}(?:\$?[A-Z]{{1,3}}\$?[0-9]+\#?|\$?[A-Z]{{1,3}}:\$?[A-Z]{{1,3}}|\$?[0-9]+:\$?[0-9]+
      |R(?:\[-?[0-9]+\]|[0-9]+)?C(?:\[-?[0-9]+\]|[0-9]+)?)(?![\w])"""
#: an item of a table's structured reference, in brackets: a column ([Unit Price], ' escaping a bracket: [Price
#: '[USD']]) or a special item ([#This Row] [#All])
_ITEM = r"\[(?:[^\[\]']|'.)*\]"
#: a table's structured reference: [@caseId] Table1[Amount] [@[Unit Price]] Table1[[#This Row],[Amount]]
#: Sales[[Jan]:[Mar]]
_TABLE = rf"(?:{_NAME})?\[(?:(?:[^\[\]']|'.)*|\s*@?{_ITEM}(?:\s*[,:]\s*{_ITEM})*\s*)\]"
#: an error value as an operand (=#N/A, =IF(A1;#ÜBERLAUF!;1)): every one `is_error_value` takes, in any case (the
#: longest first, so that #DATEN_ABRUFEN! is not read as #DATEN_ABRUFEN and a !)
_ERROR = "|".join(re.escape(e) for e in sorted(_ERROR_VALUES, key=len, reverse=True))
#: a quoted part of a DDE link: 'a topic', '' for none (a ' inside doubled)
_QUOTED = r"'(?:[^']|'')*'"
#: a DDE link to another program, application|topic!item: =cmd|' /C calc'!A0, =MSEXCEL|'\..\cmd.exe'!'' (the
#: CSV-injection payload of OWASP's "CSV Injection" page; Excel runs the program when the link is updated)
_DDE = rf"{_NAME}\|(?:{_QUOTED}|[\w.\\/-]+)!(?:{_QUOTED}|[\w.$]+)"
#: the other operands: a DDE link, a table's columns, TRUE, FALSE, a number (2 1.5 .5 10%), a string ("Invoice "), an
#: error value (#N/A #ÜBERLAUF! #kalk!: `_ERROR`), and # followed by capitals, digits and / (#FOO!: no list here holds
#: it)
_OTHER = rf"""{_DDE}
  | {_TABLE}
  | (?:TRUE|FALSE)(?![\w])
  | (?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?%?
  | "(?:[^"]|"")*"
  | (?i:{_ERROR})(?![\w])
  | \#[A-Z0-9/]+[!?]?"""
#: Excel's implicit intersection (=@A1:A10 =@SUM(…)): a prefix of the operand that follows, never between two operands
#: (ole@firma.dk is no formula)
_AT = r"(?:@(?=[\w$'\[\"\#.\\]))?"
#: what joins operands: operators, a range's colon, separators of a function's arguments, brackets. An operator that
#: needs an operand on both sides is never followed by one (http://firma.dk is no formula); after the ones an
#: operand follows, @ may stand
_JOIN = rf"""(?>(?:[<>]=|<>|[*/^&=<>:])(?!\s*(?:[*/^&=<>:]))|[-+,;({{])\s*{_AT}|[%)}}!]"""
#: a cell wholly a formula of calls, references and the other operands, and what joins them (each token atomic: no
#: backtracking into it, so a long cell costs its length, never more)
_FORMULA = re.compile(rf"=\s*{_AT}(?:(?>{_CALL}\s*{_AT}|{_REF}|{_OTHER}|{_JOIN})\s*)++", re.VERBOSE).fullmatch
#: ... or one that holds names too, where no operand stands next to another: words side by side are prose
#: ("=Q1-Q2 report", "=2 items"), a formula joins its operands ("=Rate*2", "=Total"); nor does one start or end
#: with an operator that needs an operand on that side ("=== header ===")
_NAMED = re.compile(
    rf"""=\s*{_AT}(?![*/^&=<>:,;)}}%!])
    (?:(?>{_CALL}\s*{_AT}|{_JOIN})\s*|(?>{_REF}|{_OTHER}|{_SHEET}{_NAME})\s*(?={_JOIN}|\Z))++
    (?<![-+*/^&=<>:,;({{!])""",
    re.VERBOSE,
).fullmatch


def cell_text(cell: str) -> str:
    """The value of a trimmed cell: the text inside ``="…"`` (trimmed, ``""`` read as ``"``), else the cell. One
    whose text begins with ``=`` or is an error value's is left as written, for `cell_value` to read where formulas
    and error values are looked for: read here, it would be taken for the formula or the error value it spells
    (``="=Total"`` is the text ``=Total``, ``="#N/A"`` the text ``#N/A``)."""
    m = _TEXT_FORMULA(cell)
    if m is None:
        return cell
    text = m[1].replace('""', '"').strip()
    return cell if text[:1] == "=" or is_error_value(text) else text


def read_text_formulas(row: dict[str, str]) -> dict[str, str]:
    """A row's trimmed cells with each ``="…"`` read as its text (`cell_text`); one that holds nothing is absent."""
    return {name: text for name, cell in row.items() if (text := cell_text(cell))}


def is_formula(text: str) -> bool:
    """Whether `text` (trimmed) is wholly a spreadsheet formula: ``=``, then operands (function calls, a name in any
    case and ``(``: ``=SUM(``, ``=sum(``, ``=IF(``, ``=ÅR(``, ``=_xlfn.XLOOKUP(``; references ``D1``, ``$F$1``,
    ``A:B``, ``1:1``, ``R1C1``, ``A1#``, perhaps on a sheet: ``Sheet1!A1``, ``'My sheet'!A1``; a table's columns
    ``[@caseId]``, ``[@[Unit Price]]``, ``Table1[[#This Row],[Amount]]``; ``TRUE``, ``FALSE``; numbers ``2``,
    ``1.5``, ``10%``; strings in quotes; errors ``#N/A``; a DDE link to another program, ``cmd|' /C calc'!A0``;
    names a sheet defines, ``Total``, ``Rate``), perhaps with ``@`` before them, joined by operators (``+ - * / ^ & =
    < > <= >= <> % :``, never two needing an operand on both sides in a row), argument separators and brackets, at
    least one operand, and nothing else; a name (a word) never beside another operand. ``= see note``, ``===``,
    ``=A1 is where it went``, ``=2 items``, ``=1/2 of invoice``, ``=Q1-Q2 report``, ``=ole@firma.dk``,
    ``=http://firma.dk`` are text; ``=ISO9001``, ``=24/7``, ``=Total`` and ``=Rate*2`` are formulas, as a spreadsheet
    may read them (`formula_reason` says how to write such a cell as text)."""
    return (_FORMULA(text) is not None or _NAMED(text) is not None) and any(c.isalnum() or c == '"' for c in text)


def formula_reason(text: str, at: str = "") -> str:
    """Why `text` (a cell that `is_formula`) gives no value, and how to write it as text, which it may be
    (``=Faktura(1001)``, ``=Total``): Excel's ``="…"``, in a CSV cell read as the text inside. Excel saves ``="…"``
    typed in a cell as its value, that formula again, unless the cell is formatted as Text. Of a value inside a
    nested one, `at` that place (`sheet_values`): a JSON string there is sent as written, and has no way to be
    told text."""
    if at:
        return (
            f"{text!r} at {at} is a spreadsheet formula, not its value: export the values, not the formulas (a text "
            "of a formula's shape inside a nested value is never guessed to be text)"
        )
    as_text = '="' + text.replace('"', '""') + '"'
    return (
        f"{text!r} is a spreadsheet formula, not its value: export the values, not the formulas; text: write the CSV "
        f"cell as {as_text} in a text editor, or in Excel in a cell formatted as Text (in any other cell Excel saves "
        f"it as its value, {text})"
    )


def cell_value(text: str, *, json: bool) -> str:
    """The value of a cell starting with ``=`` (trimmed; `json`: a JSONL string): itself where it is no formula; in
    a CSV cell, the text inside Excel's ``="…"`` (one that begins with ``=`` itself, or an error value's:
    `cell_text` left it; the cell as written is no error value, so that text is sent). Raises
    ValueError with the reason for a formula (`formula_reason`), and for ``="…"`` in a JSONL string, which may mean
    its text or those characters: a JSON string needs no text formula, so neither is guessed."""
    if (m := _TEXT_FORMULA(text)) is not None:
        inner = m[1].replace('""', '"')
        if not json:
            return inner.strip()
        shown = msgspec.json.encode(inner).decode()
        raise ValueError(
            f"{text!r} is Excel's text formula, which a JSON string has no need of: write the text itself, {shown}"
        )
    if is_formula(text):
        raise ValueError(formula_reason(text))
    return text


#: a DDE link anywhere in a text (`signed_dde`)
_DDE_IN = re.compile(_DDE).search


def signed_dde(text: str) -> bool:
    """Whether `text` (trimmed) is a formula holding a DDE link that begins with ``+``, ``-`` or ``@`` rather than
    ``=``: Excel takes such a cell typed or opened from a CSV for a formula too, and runs the link
    (``+cmd|' /C calc'!A0``, ``-2+3+cmd|' /C calc'!A0``, ``@SUM(1+1)*cmd|' /C calc'!A0``: OWASP's CSV injection
    page). Other text so begun (``-100.00``, ``-5 items | see note!``) is none."""
    return text[:1] in "+-@" and "|" in text and _DDE_IN(text) is not None and is_formula("=" + text)


#: LibreOffice's other errors: Err: and the error's code (Err:502, an invalid argument)
_ERR_CODE = re.compile(r"Err:[0-9]+").fullmatch
#: the first characters of a cell that may be no value: a formula's (=), an error value's (#N/A, Err:502); only a
#: cell starting so is looked at any further (`is_formula`, `is_error_value`)
SHEET_STARTS = frozenset("=#E")


def is_error_value(text: str) -> bool:
    """Whether `text` (a trimmed cell) is wholly a spreadsheet's error value: ``#N/A``, ``#REF!``, ``#NAME?``,
    ``#DIV/0!``, ``#VALUE!``, ``#NUM!``, ``#NULL!``, ``#ERROR!`` (Google Sheets), ``#SPILL!``, ``#CALC!``,
    ``#GETTING_DATA`` and the rest of Excel's, in any case, or in Excel's Nordic, German, Dutch and French names
    (``#I/T``, ``#SAKNAS!``, ``#NV``, ``#ÜBERLAUF!``, ``#KALK!``, ``#DATEN_ABRUFEN``, ``#PROPAGATION!``); or
    LibreOffice's ``Err:`` and a code (``Err:502``). Text that merely begins so
    (``#1``, ``#123 invoice``, ``#N/A please check``, ``Errata``) is none."""
    if text[:1] == "#":
        return text.upper() in _ERROR_VALUES
    return text[:4] == "Err:" and _ERR_CODE(text) is not None


def error_value_reason(text: str, at: str = "") -> str:
    """Why `text` (a cell that `is_error_value`, or a value inside a nested one `at` that place: `sheet_values`) gives
    no value."""
    where = f" at {at}" if at else ""
    return (
        f"{text!r}{where} is a spreadsheet's error value, not data: a lookup or formula failed in the sheet the file "
        "was saved from; correct it there and export again"
    )


def sheet_values(value: Any, at: str) -> list[tuple[str, str]]:
    """Each spreadsheet error value (`is_error_value`) and formula (`is_formula`: a JSON string needs no ``="…"``, so
    that too is one) a nested value holds, of the text as written, at any depth, as (where, the text), in its order:
    `value` an object, a list or text (decoded JSON), `at` its place (a field's name), followed by an object's key as
    ``.key`` (``["my key"]``, in JSON's quotes, where it is no name) and a list's item as ``[0]``:
    ``billAddr.city``, ``sync_entities_list[0].value``. Keys are no values, and not looked at. Read without
    recursion: a value nested as deep as its decoder took costs no stack."""
    found = []
    #: (a value, the place of what holds it, its key or index there: None for `value` itself); a place is written
    #: out only for a value that holds more, or is found
    stack: list[tuple[Any, str, str | int | None]] = [(value, at, None)]
    while stack:
        item, holder, key = stack.pop()
        of = type(item)
        if of is str:
            if item[:1] in SHEET_STARTS and (is_formula(item) if item[0] == "=" else is_error_value(item)):
                found.append((_place(holder, key), item))
        elif of is dict:
            here = _place(holder, key)
            stack.extend((v, here, k) for k, v in reversed(item.items()))
        elif of is list:
            here = _place(holder, key)
            stack.extend((v, here, i) for i, v in reversed(list(enumerate(item))))
    return found


def sheet_reason(text: str, at: str) -> str:
    """Why `text`, found `at` a place inside a nested value (`sheet_values`), gives no value: an error value's reason
    or a formula's."""
    return error_value_reason(text, at) if is_error_value(text) else formula_reason(text, at)


def _place(holder: str, key: str | int | None) -> str:
    """Where the value of `key` in what `holder` names is (`sheet_values`): ``holder.key``, ``holder["my key"]``,
    ``holder[0]``; `holder` itself for None."""
    if key is None:
        return holder
    if isinstance(key, int):
        return f"{holder}[{key}]"
    return f"{holder}.{key}" if key.isidentifier() else f"{holder}[{_encode(key).decode()}]"


_encode = msgspec.json.encode
