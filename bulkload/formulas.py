"""Spreadsheet formulas in a file's cells: Excel's ``="…"`` is the text inside it, any other formula is no value.

A CSV keeps a key's leading zeros through Excel as ``="00888"``: a formula whose value is the text inside the
quotes (``""`` inside standing for one ``"``), so nothing is lost and the cell is read as that text (sources.py,
for every CSV cell, before anything looks at it). Any other formula (``=SUM(A1:A3)``, ``=D1``) is not the value a
spreadsheet shows for it, and a file holding one is a formulas export: its row is refused with its group, whatever
the column (`is_formula`, `formula_reason`: chunking.Reading.convert, where every value of a row is read, looks at a
cell's first character, and only at a cell starting with ``=`` any further). Text that merely begins with ``=``
(``= see note``, ``===``) is no formula: a formula is told by its shape (`is_formula`).
"""

from __future__ import annotations

import re

#: a cell that is wholly Excel's text formula ="…", the text inside as group 1 (its quotes doubled)
_TEXT_FORMULA = re.compile(r'="((?:[^"]|"")*)"').fullmatch

#: what follows an operand in a formula: an operator, a range's colon, a closing parenthesis, or the end
_AFTER = r"""\s*(?:[-+*/^&=<>:%)]|$)"""
#: the start of a formula as spreadsheets write one (in capitals, as Excel, LibreOffice and Google Sheets export
#: them): "=", any spaces, signs and opening parentheses, then a first operand that is a formula's:
_FORMULA = re.compile(
    rf"""=[\s(+-]*(?:
        (?:_xl[a-z]+\.)?[A-Z][A-Z0-9_.]*\(                    # a function call: SUM( IF( _xlfn.XLOOKUP(
      | (?:(?:'(?:[^']|'')+'|[\w.\[\]]+)!)?                   # a cell reference, perhaps on a sheet: Sheet1!,
        (?:\$?[A-Z]{{1,3}}\$?[0-9]+|\$?[A-Z]{{1,3}}:\$?[A-Z]{{1,3}}|\$?[0-9]+:\$?[0-9]+)  # 'My sheet'!; A1 $F$1 A:B 1:1
        {_AFTER}                                              # followed by an operator or the end
      | (?:[0-9]+\.?[0-9]*|\.[0-9]+)%?{_AFTER}                # a number, followed so: =2*3 =5 =10%
      | "(?:[^"]|"")*"\s*(?:[-+*/^&=<>]|$)                    # a string joined or compared: ="a"&"b"
    )""",
    re.VERBOSE,
).match


def cell_text(cell: str) -> str:
    """The value of a trimmed cell: the text inside ``="…"`` (trimmed, ``""`` read as ``"``), else the cell."""
    m = _TEXT_FORMULA(cell)
    return m[1].replace('""', '"').strip() if m else cell


def read_text_formulas(row: dict[str, str]) -> dict[str, str]:
    """A row's trimmed cells with each ``="…"`` read as its text (`cell_text`); one that holds nothing is absent."""
    return {name: text for name, cell in row.items() if (text := cell_text(cell))}


def is_formula(text: str) -> bool:
    """Whether `text` (trimmed) is a spreadsheet formula: ``=``, then after any spaces, signs (``+``, ``-``) and
    opening parentheses, a function call (a name in capitals and ``(``: ``=SUM(``, ``=IF(``, ``=_xlfn.XLOOKUP(``),
    or a cell reference (``D1``, ``$F$1``, ``A:B``, ``1:1``, perhaps on a sheet: ``Sheet1!A1``, ``'My sheet'!A1``),
    a number (``2``, ``1.5``, ``10%``) or a string in quotes, each followed by an operator (``+ - * / ^ & = < >``,
    and after a reference or number also ``:``, ``%``, ``)``) or the end. ``= see note``, ``===``, ``=A1 is where it
    went``, ``=2 items``, ``=Total`` (a name a sheet may define, which cannot be told from text) are text. A CSV
    cell wholly ``="…"`` is read as its text before (`cell_text`); a JSONL string ``="00888"`` is a formula."""
    return _FORMULA(text) is not None


def formula_reason(text: str) -> str:
    """Why `text` (a cell that `is_formula`) gives no value."""
    return f"{text!r} is a spreadsheet formula, not its value: export the values, not the formulas"
