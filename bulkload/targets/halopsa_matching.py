"""--match-on in file order: each row is matched against what the rows before it leave, decided for the whole run
before its first call (HaloPSA.setup). Seeds 001/000: `POST /<Resource>` takes an array, "create or update", an
object with `id` updating that record; the documents give no rule for comparing text (no case or collation rule),
and HaloPSA keeps its records in Microsoft SQL Server, whose default collation ignores case and trailing spaces, and
whose Windows collations take a composed é and an e with its combining accent for one letter (public facts beyond the
seed): a key that differs from a record's only so may be that record to the API."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..numbers import whole_number

#: a row's decision (HaloPSA options "matched", by "file_idx:line"): a reason it is rejected for, or
#: [id to update (0: create), its match key, [[record id, holds, ref, row], …]]: records earlier rows moved into
#: (`holds`) or out of the key (`ref` "file_idx:line" and `row`, as a reason names it: the last that did), to be
#: checked as the row is sent
Decision = str | list[Any]


class Keyed(Protocol):
    name: str
    match_on: list[str]

    def key(self, record: Mapping[str, Any], fields: Sequence[str] | None = None) -> str | None: ...


def folded(kind: Keyed, record: Mapping[str, Any]) -> str | None:
    """The match key with text compared as SQL Server's default collation may: case, surrounding spaces, Unicode
    form (NFKC: "Cafe\u0301" is "Café", a no-break space a space) and invisible characters ignored."""
    return kind.key({n: fold(v) if isinstance(v, str) else v for n, v in record.items()})


def fold(text: str) -> str:
    """Text as SQL Server's default collation may compare it: case, surrounding spaces, Unicode form and invisible
    (format) characters ignored: a zero-width space, joiner or soft hyphen pasted from a web page or a word processor
    weighs nothing in a Windows collation, so "Zeta\u200b" may be "Zeta" to the API (tester t74e: a second record
    was created beside the one a row meant, both shown "Zeta Holdings – Xero UK")."""
    seen = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in seen if unicodedata.category(c) != "Cf").strip()


def _spaced(values: Mapping[str, Any]) -> bool:
    """Whether a record's match values hold text with surrounding white space (which a CSV cell cannot carry)."""
    return any(isinstance(v, str) and v != v.strip() for v in values.values())


#: what a lookalike differs from a record's match values in
_IGNORED = (
    "case, surrounding spaces, Unicode form (a composed é or an e and its accent) and invisible characters (a "
    "zero-width space, a soft hyphen)"
)


def named(kind: Keyed, ids: Iterable[int], values: Mapping[int, Mapping[str, Any]]) -> str:
    """`XeroDetails 1 ('Gamma ') and 2 ('delta')`: records by id and the match values they hold."""
    said = [f"{i} ({', '.join(repr(values[i].get(n)) for n in kind.match_on)})" for i in sorted(ids)]
    return f"{kind.name} {', '.join(said[:-1])}{' and ' if len(said) > 1 else ''}{said[-1]}"


class Matching:
    """The records of one resource as the rows met so far leave them: by id, their match values; by match key (and
    folded, `folded`), the ids holding it, and the rows that create it."""

    def __init__(self, kind: Keyed, records: Iterable[Mapping[str, Any]]) -> None:
        self.kind = kind
        self.values = {int(r["id"]): {n: r.get(n) for n in kind.match_on} for r in records}
        self.holders: dict[str | None, set[int]] = defaultdict(set)
        self.near: dict[str | None, set[int]] = defaultdict(set)
        for i, v in self.values.items():
            self.holders[kind.key(v)].add(i)
            self.near[folded(kind, v)].add(i)
        self.before = {k: frozenset(ids) for k, ids in self.holders.items()}
        self.moved_by: dict[int, tuple[str, str]] = {}  # record id -> (ref, row) of the last that changed its key
        self.creators: dict[str | None, list[tuple[str, str]]] = defaultdict(list)  # key -> (ref, row)
        self.near_creators: dict[str | None, list[tuple[str, str]]] = defaultdict(list)  # folded key -> (ref, row)
        self.decided: dict[str, Decision] = {}

    def row(self, ref: str, where: str, row: Mapping[str, Any], trimmed: bool = False) -> None:
        """Take one row (`ref` "file_idx:line", `where` as a reason names it; `trimmed`: of a file whose values are
        trimmed of surrounding white space, a CSV file) in file order."""
        record_id = row.get("id")
        if record_id not in (None, ""):
            # read as the row's validation reads it (`1.0` is record 1: before, taken for no id, a later row of the
            # record's old name matched it and overwrote the rename); one that is no whole number is rejected there
            if (whole := whole_number(record_id, None)) is not None:
                self._update(whole, ref, (ref, where), row)
            return
        if (key := self.kind.key(row)) is not None:
            self._match(ref, where, key, folded(self.kind, row), trimmed)

    def _update(self, record_id: int, ref: str, moved_by: tuple[str, str], row: Mapping[str, Any]) -> None:
        old = self.values.get(record_id)
        if old is None:
            return  # not there before the run: validation rejects it
        new = {n: row[n] if row.get(n) not in (None, "") else v for n, v in old.items()}
        k1, k2 = self.kind.key(old), self.kind.key(new)
        if k1 == k2:
            return
        if (taken := self._taken(record_id, new)) is not None:
            self.decided[ref] = taken  # rejected: its record keeps its key
            return
        self.holders[k1].discard(record_id)
        self.near[folded(self.kind, old)].discard(record_id)
        self.holders[k2].add(record_id)
        self.near[folded(self.kind, new)].add(record_id)
        self.values[record_id], self.moved_by[record_id] = new, moved_by

    def _taken(self, record_id: int, new: Mapping[str, Any]) -> str | None:
        """Why a row that updates record `record_id` to the match values `new` cannot be sent: another record holds
        them (or holds them but for case, spaces and Unicode form, `folded`), or an earlier row creates a record of
        them. Sent, two records would share one key, and every later match on it would be ambiguous; None where none
        does."""
        kind, key, near = self.kind, self.kind.key(new), folded(self.kind, new)
        fields = " and ".join(kind.match_on)
        what = f"this row gives {kind.name} {record_id} the {fields} {', '.join(repr(new[n]) for n in kind.match_on)}"
        others = self.holders[key] - {record_id} or self.near[near] - {record_id}
        if others:
            alike = (
                "" if self.holders[key] - {record_id} else f" (but for {_IGNORED}, as HaloPSA's database may compare)"
            )
            return (
                f"{what}, which {named(kind, others, self.values)} holds{alike}: two records would carry one {fields}, "
                f"and matching on it (--match-on) could no longer tell them apart. Change that record's {fields} in "
                "an earlier row first, or give this row another"
            )
        if made := self.creators[key] or self.near_creators[near]:
            return (
                f"{what}, which the record {made[0][1]} creates holds too: two records would carry one {fields}, and "
                f"matching on it (--match-on) could no longer tell them apart. Give one of the rows another {fields}"
            )
        return None

    def _match(self, ref: str, where: str, key: str, near: str | None, trimmed: bool) -> None:
        kind, ids, made = self.kind, self.holders[key], self.creators[key]
        fields = " and ".join(kind.match_on)
        before = self.before.get(key, frozenset())
        if len(ids) > 1:
            more = ",".join([*kind.match_on, "tenant_id"]) if "tenant_id" not in kind.match_on else "…"
            self.decided[ref] = (
                f"{fields} match more than one {kind.name} record, {named(kind, ids, self.values)}: which one to "
                "update cannot be told. Give the row an id column (the id of the record to update), or match on "
                f"more fields that tell them apart (e.g. --match-on {more})"
            )
        elif ids and made:
            self.decided[ref] = (
                f"{fields} match {named(kind, ids, self.values)} and the record {made[0][1]} creates: which one to "
                "update cannot be told; give the row an id column"
            )
        elif made:  # two rows would each create one: neither is sent
            reason = (
                f"{fields} given by more than one row ({made[0][1]} and {where}) and matching no {kind.name} record: "
                "each row would create one, and which is meant cannot be told"
            )
            for earlier, _ in made:
                self.decided[earlier] = reason
            self.decided[ref] = reason
        elif ids:
            (record_id,) = ids
            moved = (before | ids) - (before & ids)
            if moved:
                deps = [[i, i in ids, *self.moved_by[i]] for i in sorted(moved)]
                self.decided[ref] = [record_id, key, deps]
        elif self.near[near]:
            exactly = "write its value exactly as it holds it (or give the row an id column)"
            if trimmed and any(_spaced(self.values[i]) for i in self.near[near]):
                exactly = (
                    "give the row an id column, or give it in a JSONL file with the value exactly as the record holds "
                    "it: a CSV cell is trimmed of its surrounding spaces"
                )
            self.decided[ref] = (
                f"{fields} match no {kind.name} record exactly, but {named(kind, self.near[near], self.values)} "
                f"when {_IGNORED} are ignored, as HaloPSA's database may compare them: created, the row could be "
                f"refused or make a near-duplicate. To update that record {exactly}; if a new record is meant, load "
                "this row without --match-on"
            )
        elif self.near_creators[near]:
            # neither is sent, as of two rows of one key (tester t34b: the first was created, the second refused)
            reason = (
                f"{fields} differ only in case, surrounding spaces or Unicode form between rows that would each "
                f"create a record ({self.near_creators[near][0][1]} and {where}), as HaloPSA's database may compare "
                "them the same: which is meant cannot be told. Write one value for both rows, or load them without "
                "--match-on"
            )
            for earlier, _ in self.near_creators[near]:
                self.decided[earlier] = reason
            self.decided[ref] = reason
        else:
            if before:  # earlier rows moved every record of the key out of it
                self.decided[ref] = [0, key, [[i, False, *self.moved_by[i]] for i in sorted(before)]]
            made.append((ref, where))
            self.near_creators[near].append((ref, where))


def decide(
    kind: Keyed, records: Iterable[Mapping[str, Any]], rows: Iterable[tuple[str, str, Any, bool]]
) -> dict[str, Any]:
    """What each row of `kind`'s files (`rows`: (ref "file_idx:line", where, match fields and id as read, whether its
    file trims its values: a CSV file), in file order) matches among the listed `records`, where the pre-run match
    by key alone would not do: per ref, a `Decision`."""
    matching = Matching(kind, records)
    for ref, where, row, trimmed in rows:
        matching.row(ref, where, row, trimmed)
    return matching.decided
