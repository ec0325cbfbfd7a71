"""The rejected rows counted by reason, so that a summary says what most of them are for (a tester's file of 60,458
rejects, 99 % for one cause, said only row by row in the rejects file): rows whose reasons differ only in the values
they quote or number (`amount: not a number: '12,3x'`, `amount: not a number: '7,1x'`) have one reason, shown by the
first of them; a row rejected with its group for another row's reason (`voucher 5001 (journal 1) rejected: line 2
amount: not a number: '12,3x'`: pipeline.rejected_groups, chunking) is counted with that reason. A row refused for
several fields (`amount; date`, errors.joined) is counted for its first, so that the counts add up to the rows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from .errors import first_fault

#: what a reason quotes or numbers: a value of its row, not the reason
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")
#: an API's answer quoted as JSON (`HTTP 400: {"error": "invalid_client"}`): its strings are its words, not values
#: of the row (before, every such answer was one reason, the first's, whatever each said); only its numbers are
_JSON = re.compile(r"[{\[]\s*\"")
_NUMBERS = re.compile(r"\d+")
#: a row rejected with its group: the reason of the group's row named after it
_ALONG = re.compile(r" rejected: line \d+ ")
#: the most reasons told apart (memory stays flat whatever the rejects); a row of another is counted in none
MOST = 1000
#: the reasons a report lists, the most rows first
SHOWN = 5


class Reason(NamedTuple):
    """Rows rejected for one reason: how many (`along` of them rejected with their group for another row's), and
    the first row the reason is its own (else the first): its `field` ("" for none), its reason as the rejects file
    has it, its input's `file` and `line`."""

    rows: int
    along: int
    field: str
    reason: str
    file: str
    line: int


def _kind(field: str, reason: str) -> tuple[str, bool]:
    """A reason with its values left out, and whether it is another row's, which the row was rejected along with. A
    row refused for several fields (errors.joined) is counted for its first."""
    if not field and (along := _ALONG.search(reason)):
        rest = reason[along.end() :]
        named, sep, why = rest.partition(": ")  # the field (or fields) of the line named, where it has one
        if sep and " " not in named.replace("; ", ""):
            named, why = first_fault(named, why)
            return f"{named}: {_without_values(why)}", True
        return _without_values(rest), True
    field, reason = first_fault(field, reason)
    return f"{field}: {_without_values(reason)}" if field else _without_values(reason), False


def _without_values(reason: str) -> str:
    """`reason` with the values it quotes or numbers as `…` (those of an API's answer quoted as JSON: its numbers)."""
    quoted_json = ("{" in reason or "[" in reason) and _JSON.search(reason) is not None  # `in`: no regex for most
    return (_NUMBERS if quoted_json else _VALUES).sub("…", reason)


class Tally:
    """Reasons counted as rows come (`add`); `most()`: the SHOWN most common."""

    def __init__(self) -> None:
        #: per reason, [rows, along, field, reason, file, line] (a Reason's, as it grows)
        self._by: dict[str, list[Any]] = {}

    def add(self, field: str, reason: str, file: str, line: int) -> None:
        """A rejected row, its `field` and `reason` as the rejects file gives them: one refused for several fields
        (errors.joined) is counted, and shown, for its first."""
        kind, along = _kind(field, reason)
        if not along:
            field, reason = first_fault(field, reason)
        seen = self._by.get(kind)
        if seen is None:
            if len(self._by) < MOST:
                self._by[kind] = [1, int(along), field, reason, file, line]
            return
        if seen[0] == seen[1] and not along:  # the first row the reason is its own shows it
            seen[2:] = field, reason, file, line
        seen[0] += 1
        seen[1] += along

    def most(self) -> tuple[Reason, ...]:
        return most(Reason(*seen) for seen in self._by.values())


def most(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """The SHOWN most common of `reasons` (those of several rejects files: one reason's counts added, its first row
    the first file's), the most rows first, then in file order."""
    by: dict[str, Reason] = {}
    for reason in reasons:
        kind, _ = _kind(reason.field, reason.reason)
        if (seen := by.get(kind)) is not None:
            reason = seen._replace(rows=seen.rows + reason.rows, along=seen.along + reason.along)
        by[kind] = reason
    return tuple(sorted(by.values(), key=lambda r: -r.rows)[:SHOWN])


def in_words(reason: Reason, group: str = "group") -> str:
    """A reason as a summary says it: `100 for amount: not a number: '12,3x' (50 of them rejected with their
    voucher's line; the first: line 3 of a.csv)`; a long reason (an API's answer it quotes) cut at 300 characters."""
    why = f"{reason.field}: {reason.reason}" if reason.field else reason.reason
    why = why if len(why) <= 300 else f"{why[:300]}…"
    along = f"{reason.along:,} of them rejected with their {group}'s line; " if reason.along else ""
    return f"{reason.rows:,} for {why} ({along}the first: line {reason.line} of {reason.file})"
