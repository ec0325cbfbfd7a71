"""From rows to chunks: validate each row, keep a group (voucher, order) in one chunk, respect the API's
item and byte caps, and encode each chunk in one call.

The plan is deterministic: the same files and settings give the same chunks with the same sequence numbers,
which is what lets `resume` find each chunk's stored idempotency key again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import SourceError
from .ledger import RowOutcome
from .sources import BadRow, Row
from .targets.base import RowInvalid, Target, Totals

#: how many closed groups are remembered to catch a group whose lines are not adjacent in the file
RECENT_GROUPS = 100_000
#: chunk sequence numbers of file i start at i << FILE_SHIFT
FILE_SHIFT = 24
#: rejected rows held before the plan pauses (yields None) so the caller can write them out
REJECTS_BATCH = 1_000


@dataclass(slots=True)
class Chunk:
    seq: int
    file_idx: int
    lines: list[int]
    body: bytes
    #: "" for a chunk as planned; "0", "1", "r"… for the parts sent after the API refused a whole chunk
    part: str = ""
    #: control totals per scope (Target.summarize); made where the chunk was planned
    summary: dict[str, Totals] | None = None
    #: the records, when at hand; a chunk planned in another process carries only its body
    records: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def entries(self, target: Target) -> list[Any]:
        if self.records is None:
            self.records = target.decode(self.body)
        return self.records

    def totals(self, target: Target) -> dict[str, Totals]:
        if self.summary is None:
            self.summary = target.summarize(self.entries(target))
        return self.summary

    def sub(self, indexes: Iterable[int], part: str, target: Target) -> Chunk:
        idx = list(indexes)
        entries = self.entries(target)
        records = [entries[i] for i in idx]
        return Chunk(self.seq, self.file_idx, [self.lines[i] for i in idx], target.encode(records), part,
                     records=records)


@dataclass
class Planner:
    """Turns the rows of the files into chunks; rows that cannot load are collected in `rejected`."""

    target: Target
    max_items: int
    max_bytes: int
    rejected: list[RowOutcome] = field(default_factory=list)
    #: rows accounted for: in a chunk handed out or rejected (rows of a still open chunk are not counted yet)
    rows_read: int = 0
    seq: int = 0

    def reject(self, file_idx: int, line: int, field_: str, reason: str, row: dict[str, Any] | str) -> None:
        self.rows_read += 1
        shown = row if isinstance(row, str) else self.target.show(row)
        self.rejected.append(RowOutcome(file_idx, line, "rejected", field_, reason, shown))

    def plan(self, file_idx: int, rows: Iterable[Row | BadRow]) -> Iterator[Chunk | None]:
        """Chunks in order; None now and then when rejected rows are waiting to be written out."""
        self.target.begin_file(file_idx)
        # chunk numbers are per file, so a file planned in a later phase (another process) cannot collide
        self.seq = file_idx << FILE_SHIFT
        validate, group_of = self.target.validate, self.target.group_of
        max_items, group_name = self.max_items, self.target.group_name
        one_group = self.target.one_group_per_call
        # the open chunk: groups in arrival order; the last one may still grow
        # (lines, records) of each group; the rows themselves are not kept: holding them costs the cyclic
        # GC ~1.4 µs a row, and a whole-group rejection can show the entries as parsed instead
        groups: dict[Hashable, tuple[list[int], list[Any]]] = {}
        count = 0
        last_key: Hashable = None
        last: tuple[list[int], list[Any]] | None = None
        closed: set[Hashable] = set()
        closed_order: deque[Hashable] = deque()
        oversize: dict[Hashable, int] = {}

        try:
            for item in rows:
                if len(self.rejected) >= REJECTS_BATCH:  # the caller drains (or swaps) the list meanwhile
                    yield None
                if type(item) is BadRow:
                    self.reject(file_idx, item.line_no, "", item.reason, item.raw)
                    continue
                line, row = item  # type: ignore[misc]
                try:
                    record = validate(row)
                except RowInvalid as exc:
                    self.reject(file_idx, line, exc.field, exc.reason, row)
                    continue
                key = group_of(record)
                if key is None:  # a row of no group stands alone
                    key = (None, line)
                if key != last_key or last is None:
                    if one_group and groups:  # the previous group is complete: it is a call of its own
                        yield from self._emit(file_idx, groups, closed, closed_order)
                        count = 0
                    last_key = key
                    last = groups.get(key)
                    if last is None:
                        if key in oversize:
                            self._reject_oversize(file_idx, key, [line], [self.target.show(row)], oversize[key])
                            last = None
                            continue
                        if key in closed:
                            self.reject(
                                file_idx, line, "", f"the other lines of {group_name} {key} were already sent: "
                                f"a {group_name}'s lines must be adjacent in the file", row,
                            )
                            last_key = None
                            continue
                        last = groups[key] = ([], [])
                last[0].append(line)
                last[1].append(record)
                count += 1
                if count > max_items:
                    # the growing group moves on to the next chunk with what follows it
                    if len(last[0]) > max_items:
                        oversize[key] = len(last[0])
                        del groups[key]
                        self._reject_oversize(file_idx, key, last[0], self._originals(last[1]), len(last[0]))
                        count -= len(last[0])
                        last, last_key = None, None
                        continue
                    del groups[key]
                    if groups:
                        yield from self._emit(file_idx, groups, closed, closed_order)
                    groups = {key: last}
                    count = len(last[0])
        except SourceError as exc:
            # the input breaks off here: the open chunk is not sent (its last voucher may go on past the break),
            # and its rows are listed with the reason, so every row read is loaded or rejected
            for lines, records in groups.values():
                for line, shown in zip(lines, self._originals(records)):
                    self.reject(file_idx, line, "", f"not sent: {exc}", shown)
            raise
        if groups:
            yield from self._emit(file_idx, groups, closed, closed_order)

    def _originals(self, records: list[Any]) -> list[str]:
        return [self.target.show(r) for r in records]

    def _reject_oversize(self, file_idx: int, key: Hashable, lines: list[int], rows: list[str], n: int) -> None:
        for line, row in zip(lines, rows):
            self.reject(
                file_idx, line, "", f"{self.target.group_name} {key} has more than {self.max_items} lines "
                f"({n} so far); one call takes at most {self.max_items}", row,
            )

    def _emit(
        self, file_idx: int, groups: dict[Hashable, tuple[list[int], list[Any]]],
        closed: set[Hashable], closed_order: deque[Hashable],
    ) -> Iterator[Chunk]:
        parts = list(groups.values())
        for key in groups:
            closed.add(key)
            closed_order.append(key)
        while len(closed_order) > RECENT_GROUPS:
            closed.discard(closed_order.popleft())
        groups.clear()
        yield from self._encode(file_idx, parts)

    def _encode(self, file_idx: int, parts: list[tuple[list[int], list[Any]]]) -> Iterator[Chunk]:
        lines = [ln for p in parts for ln in p[0]]
        records = [r for p in parts for r in p[1]]
        body = self.target.encode(records)
        if len(body) > self.max_bytes:
            if len(parts) > 1:
                half = len(parts) // 2
                yield from self._encode(file_idx, parts[:half])
                yield from self._encode(file_idx, parts[half:])
                return
            for line, row in zip(parts[0][0], self._originals(parts[0][1])):
                self.reject(
                    file_idx, line, "", f"this {self.target.group_name} encodes to {len(body)} bytes, "
                    f"more than the {self.max_bytes} one call may carry", row,
                )
            return
        self.seq += 1
        self.rows_read += len(lines)
        yield Chunk(self.seq, file_idx, lines, body, records=records)
