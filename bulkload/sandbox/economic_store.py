"""The e-conomic sandbox's storage: draft entries kept as their encoded JSON, journals as Structs.

Entries are numbered upwards from the first number (1 unless the sandbox is told another: an agreement's numbers
are shared by its journals, so a journal's first entry may be millions above 1), one after the other or `step` apart
(the agreement's other journals taking the numbers between), and numbers are never reused, so a
dict keyed by entryNumber is already in entryNumber order. Told to scatter them (SandboxOptions.scattered_numbers),
each new entry gets an unused number drawn at random below `SCATTERED`, and the ordered lists take it in its place.
Keeping each entry as its wire bytes makes a cursor page a join of stored bytes and keeps a million entries in a few
hundred MB; only filters and updates decode.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import msgspec

from bulkload.sandbox.economic_model import DEFAULT_JOURNALS, DraftEntry, Journal
from bulkload.sandbox.filters import Filter, Predicate

T = TypeVar("T")
#: Every entry the sandbox writes (stored bytes, and so every page and GET) and every answer that
#: re-encodes stored ones: a Decimal goes out as a JSON number with its digits, not msgspec's JSON string.
entry_encoder = msgspec.json.Encoder(decimal_format="number")
_entry_decoder = msgspec.json.Decoder(DraftEntry)


def take_page(numbered: Iterable[tuple[int, T]], size: int) -> tuple[list[T], int | None]:
    """Up to ``size`` items and the number of the next one (the cursor), None when there is none."""
    items: list[T] = []
    for n, item in numbered:
        if len(items) == size:
            return items, n
        items.append(item)
    return items, None


class Versions:
    """objectVersion values: an opaque token that changes on every write (hex of a counter, like a
    SQL Server rowversion; hex because the bulk path makes millions of them)."""

    def __init__(self) -> None:
        self._n = 0

    def next(self) -> str:
        self._n += 1
        return f"{self._n:016x}"


#: the numbers below which scattered entry numbers are drawn
SCATTERED = 10_000_000

#: how many counts behind an eventually consistent count may be (SandboxOptions.count_lag)
MAX_COUNT_LAG = 1000


class EntryStore:
    """Draft entries by number, with per-journal counts so ``journalNumber$eq:N`` counts are O(1)."""

    def __init__(
        self,
        versions: Versions,
        first_number: int = 1,
        count_lag: int = 0,
        scatter: random.Random | None = None,
        step: int = 1,
        list_lag_s: float = 0.0,
    ) -> None:
        self.entries: dict[int, bytes] = {}
        #: draws scattered entry numbers (None: upwards from `next_number`); `_given` every number drawn
        self._scatter = scatter
        self._given: set[int] = set()
        #: an eventually consistent count: a count by journal answers what the journal held `count_lag` counts ago
        #: (or at the first count); may be changed while the sandbox runs
        self.count_lag = count_lag
        #: a listing that shows new entries late, as a read replica behind the primary: an entry is listed (and
        #: counted by a filter other than its journal) from `listed_from[number]` on `clock` (seconds), each new
        #: one `list_lag_s` after it was created; a count by journal and a look by number find it at once
        self.list_lag_s = list_lag_s
        self.listed_from: dict[int, float] = {}
        self.clock: Callable[[], float] = time.monotonic
        #: what each journal held at each of the last counts, oldest first
        self._counted: deque[dict[int, int]] = deque(maxlen=MAX_COUNT_LAG + 1)
        self.journal_counts: dict[int, int] = {}
        self.next_number = first_number
        #: how far apart new entries are numbered (where not scattered)
        self.step = step
        self.booked = 0
        self._versions = versions
        # ascending entry numbers (all, and per journal) for cursor bisection; deleted ones linger
        # as tombstones until there are more tombstones than entries
        self._numbers: list[int] = []
        self._by_journal: dict[int, list[int]] = {}
        self._tombstones = 0

    def add(self, entries: Sequence[DraftEntry]) -> list[int]:
        """Store checked entries; returns their new entry numbers in order."""
        if self._scatter is not None:
            return self._add_scattered(entries, self._scatter)
        numbers: list[int] = []
        store, encode, version = self.entries, entry_encoder.encode, self._versions.next
        counts, by_journal = self.journal_counts, self._by_journal
        n, step = self.next_number, self.step
        for e in entries:
            e.entryNumber = n
            e.objectVersion = version()
            store[n] = encode(e)
            j = e.journalNumber
            counts[j] = counts.get(j, 0) + 1
            lst = by_journal.get(j)
            if lst is None:
                lst = by_journal[j] = []
            lst.append(n)
            numbers.append(n)
            n += step
        self.next_number = n
        self._numbers.extend(numbers)
        if self.list_lag_s:
            self.listed_from.update(dict.fromkeys(numbers, self.clock() + self.list_lag_s))
        return numbers

    def _add_scattered(self, entries: Sequence[DraftEntry], scatter: random.Random) -> list[int]:
        numbers: list[int] = []
        for e in entries:
            n = scatter.randrange(1, SCATTERED)
            while n in self._given:
                n = scatter.randrange(1, SCATTERED)
            self._given.add(n)
            e.entryNumber = n
            e.objectVersion = self._versions.next()
            self.entries[n] = entry_encoder.encode(e)
            self.journal_counts[e.journalNumber] = self.journal_counts.get(e.journalNumber, 0) + 1
            insort(self._by_journal.setdefault(e.journalNumber, []), n)
            insort(self._numbers, n)
            numbers.append(n)
        return numbers

    def get(self, number: int) -> DraftEntry | None:
        raw = self.entries.get(number)
        return None if raw is None else _entry_decoder.decode(raw)

    def replace(self, entries: Sequence[DraftEntry]) -> None:
        """Overwrite existing entries (same number, same journal) with a fresh objectVersion each."""
        for e in entries:
            e.objectVersion = self._versions.next()
            self.entries[e.entryNumber] = entry_encoder.encode(e)  # type: ignore[index]

    def delete(self, number: int) -> bool:
        entry = self.get(number)
        if entry is None:
            return False
        del self.entries[number]
        self.journal_counts[entry.journalNumber] -= 1
        self._tombstones += 1
        self._compact_if_needed()
        return True

    def remove_journal(self, journal: int) -> int:
        """Remove every draft of a journal (delete or book); returns how many went."""
        gone = 0
        for n in self._by_journal.pop(journal, []):
            if self.entries.pop(n, None) is not None:
                gone += 1
        self.journal_counts.pop(journal, None)
        self._tombstones += gone
        self._compact_if_needed()
        return gone

    def _compact_if_needed(self) -> None:
        if self._tombstones <= max(1024, len(self.entries)):
            return
        live = self.entries
        self._numbers = sorted(live)  # in number order where they were scattered too (timsort: one pass where not)
        for lst in self._by_journal.values():
            lst[:] = [n for n in lst if n in live]
        self._tombstones = 0

    def _candidates(self, flt: Filter | None) -> tuple[list[int], int, int | None, Predicate | None]:
        """The numbers to scan, the first and last number that can match, and the predicate still to apply."""
        if flt is None:
            return self._numbers, 0, None, None
        journal, lowest, highest, rest = flt.narrowed("journalNumber", "entryNumber")
        # an entry never changes journal, so the journal's list needs no journal check
        numbers = self._numbers if journal is None else self._by_journal.get(journal, [])
        return numbers, lowest, highest, rest

    def count(self, flt: Filter | None) -> int:
        """What the count endpoint answers: the entries matching `flt`; by journal (``journalNumber$eq:N``) what the
        journal held `count_lag` counts ago, as an eventually consistent count answers for a while after a write."""
        self._counted.append(dict(self.journal_counts))
        if flt is None:
            return len(self.entries)
        eq = flt.equality()
        if eq is not None and eq[0] == "journalNumber":
            then = self._counted[max(0, len(self._counted) - 1 - self.count_lag)]
            return then.get(eq[1], 0)
        return sum(1 for _ in self.scan(flt))

    def scan(self, flt: Filter | None, start: int = 0, *, descending: bool = False) -> Iterator[tuple[int, bytes]]:
        """``(entryNumber, stored bytes)`` of the entries matching ``flt``, from ``start`` upwards
        (or from the newest down to ``start``), those the listing shows yet (`listed_from`)."""
        found = self._scan(flt, start, descending=descending)
        if not self.listed_from:
            return found
        now, listed_from = self.clock(), self.listed_from
        return ((n, raw) for n, raw in found if listed_from.get(n, now) <= now)

    def _scan(self, flt: Filter | None, start: int = 0, *, descending: bool = False) -> Iterator[tuple[int, bytes]]:
        numbers, lowest, highest, match = self._candidates(flt)
        entries, decode = self.entries, _entry_decoder.decode
        first = bisect_left(numbers, max(start, lowest))
        end = len(numbers) if highest is None else bisect_right(numbers, highest)
        order = range(end - 1, first - 1, -1) if descending else range(first, end)
        for i in order:
            n = numbers[i]
            raw = entries.get(n)
            if raw is not None and (match is None or match(decode(raw))):
                yield n, raw

    def page(self, flt: Filter | None, cursor: int, size: int) -> tuple[list[bytes], int | None]:
        """One cursor page: up to ``size`` entries from ``cursor`` and the number that starts the next."""
        return take_page(self.scan(flt, cursor), size)


class JournalStore:
    """Journals by number; new ones get the next free number."""

    def __init__(self, versions: Versions, names: dict[int, str] | None = None) -> None:
        self._versions = versions
        self.journals: dict[int, Journal] = {}
        for number, name in sorted((names if names is not None else DEFAULT_JOURNALS).items()):
            self.put(Journal(number=number, name=name))

    def put(self, journal: Journal) -> Journal:
        if journal.number is msgspec.UNSET:
            journal.number = max(self.journals, default=0) + 1
        journal.objectVersion = self._versions.next()
        self.journals[journal.number] = journal
        return journal
