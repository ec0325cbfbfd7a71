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

#: capitals a function's name may hold (Latin-1's too: a Danish or Norwegian sheet's ÅR( and MÅNED()
_CAPS = "A-ZÀ-ÖØ-Þ"
#: one operand of a formula as spreadsheets write it (function names in capitals, as Excel, LibreOffice and Google
#: Sheets export them), each token atomic (no backtracking into it: a long cell costs its length, never more)
_OPERAND = rf"""(?>
    (?:_xl[a-z]+\.)?[{_CAPS}][{_CAPS}0-9_.]*\(                  # a function call opens: SUM( ÅR( _xlfn.XLOOKUP(
  | (?:(?:\[[^\]]+\])?(?:'(?:[^']|'')+'|[\w.]+)!)?             # a reference, perhaps on a sheet: Sheet1!
    (?:\$?[A-Z]{{1,3}}\$?[0-9]+|\$?[A-Z]{{1,3}}:\$?[A-Z]{{1,3}}|\$?[0-9]+:\$?[0-9]+  # 'My sheet'! [Book1]S!
      |R(?:\[-?[0-9]+\]|[0-9]+)?C(?:\[-?[0-9]+\]|[0-9]+)?)(?![\w])                 # D1 $F$1 A:B 1:1 R1C1
  | [\w.]*\[[^\]]*\](?:\[[^\]]*\])*                           # a table's column: [@caseId] Table1[Amount]
  | (?:TRUE|FALSE)(?![\w])
  | (?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?%?          # a number: 2 1.5 .5 10%
  | "(?:[^"]|"")*"                                             # a string: "Invoice "
  | \#[A-Z0-9/]+[!?]?                                           # an error: #N/A #REF!
)"""
#: what joins operands: operators, a range's colon, separators of a function's arguments, brackets, @
_JOIN = r"""(?>[<>]=|<>|[-+*/^&=<>%:,;(){}@!])"""
#: a cell wholly a formula: "=", then operands and what joins them, nothing else (a word in small letters, or a
#: name no reference and no call, is no part of one: "=Q1-Q2 report" is text)
_FORMULA = re.compile(rf"=\s*(?:(?:{_OPERAND}|{_JOIN})\s*)++", re.VERBOSE).fullmatch


def cell_text(cell: str) -> str:
    """The value of a trimmed cell: the text inside ``="…"`` (trimmed, ``""`` read as ``"``), else the cell."""
    m = _TEXT_FORMULA(cell)
    return m[1].replace('""', '"').strip() if m else cell


def read_text_formulas(row: dict[str, str]) -> dict[str, str]:
    """A row's trimmed cells with each ``="…"`` read as its text (`cell_text`); one that holds nothing is absent."""
    return {name: text for name, cell in row.items() if (text := cell_text(cell))}


def is_formula(text: str) -> bool:
    """Whether `text` (trimmed) is wholly a spreadsheet formula: ``=``, then operands (function calls, a name in
    capitals and ``(``: ``=SUM(``, ``=IF(``, ``=ÅR(``, ``=_xlfn.XLOOKUP(``; references ``D1``, ``$F$1``, ``A:B``,
    ``1:1``, ``R1C1``, perhaps on a sheet: ``Sheet1!A1``, ``'My sheet'!A1``; a table's columns ``[@caseId]``;
    ``TRUE``, ``FALSE``; numbers ``2``, ``1.5``, ``10%``; strings in quotes; errors ``#N/A``) joined by operators
    (``+ - * / ^ & = < > <= >= <> % :``), argument separators, brackets and ``@``, at least one operand, and nothing
    else. ``= see note``, ``===``, ``=A1 is where it went``, ``=2 items``, ``=1/2 of invoice``, ``=Q1-Q2 report``,
    ``=Total`` (a name a sheet may define, which cannot be told from text) are text; ``=ISO9001`` and ``=24/7`` are
    formulas, as a spreadsheet reads them. A CSV cell wholly ``="…"`` is read as its text before (`cell_text`); a
    JSONL string ``="00888"`` is a formula."""
    return _FORMULA(text) is not None and any(c.isalnum() or c == '"' for c in text)


def formula_reason(text: str) -> str:
    """Why `text` (a cell that `is_formula`) gives no value."""
    return f"{text!r} is a spreadsheet formula, not its value: export the values, not the formulas"
