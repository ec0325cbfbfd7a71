"""Spreadsheet formulas in a file's cells: Excel's ``="…"`` is the text inside it, any other formula is no value.

A CSV keeps a key's leading zeros through Excel as ``="00888"``: a formula whose value is the text inside the
quotes (``""`` inside standing for one ``"``), so nothing is lost and the cell is read as that text (sources.py,
for every CSV cell, before anything looks at it). A cell that starts with ``=`` otherwise (``=SUM(A1:A3)``) holds a
formula, not the value a spreadsheet shows for it: where a number, date, amount or key is read from it the row is
refused (`formula_reason`, chunking.Reading.convert), never sent as text it does not mean.
"""

from __future__ import annotations

import re

#: a cell that is wholly Excel's text formula ="…", the text inside as group 1 (its quotes doubled)
_TEXT_FORMULA = re.compile(r'="((?:[^"]|"")*)"').fullmatch


def cell_text(cell: str) -> str:
    """The value of a trimmed cell: the text inside ``="…"`` (trimmed, ``""`` read as ``"``), else the cell."""
    m = _TEXT_FORMULA(cell)
    return m[1].replace('""', '"').strip() if m else cell


def read_text_formulas(row: dict[str, str]) -> dict[str, str]:
    """A row's trimmed cells with each ``="…"`` read as its text (`cell_text`); one that holds nothing is absent."""
    return {name: text for name, cell in row.items() if (text := cell_text(cell))}


def formula_reason(text: str) -> str:
    """Why `text` (a cell starting with ``=`` that is no ``="…"``) gives no number, date, amount or key."""
    return f"{text!r} is a spreadsheet formula, not its value: export the values, not the formulas"
