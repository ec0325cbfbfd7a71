"""What HaloPSA holds, as the engine reads it back and removes it: each resource a run loads is listed (every page,
halopsa_listing.py), and every loaded record compared with its rows field by field (a listing that cannot be had
whole names none missing but those a look by id answered 404), the records no row of the run accounts for counted as
another writer's (`others`, the engine's rule: model.scope_holds), those a rollback took out counted rolled back,
not missing (model.rolled_out); rollback deletes the records the run created,
never those it only updated, nor any that was listed before the run (whole or not)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from msgspec import UNSET

from ..http import api_path
from ..model import MAYBE_OUT, Held, Reconciled, rolled_out, scope_holds
from ..side_by_side import calls_then_work
from ..sources import BadRow, Source
from .base import Books
from .halopsa_listing import Listing, listings_judged, listings_read, read_by_id
from .halopsa_records import Resource, as_sent
from .protocols import Created, Sender


class Resources(Books):
    """The records of the resources of a run's files (`resources`: one a file, the last one also standing for any
    further file); `before`: how many records each resource held before the run (None: not listed yet)."""

    listed_first = True

    def __init__(
        self,
        kinds: dict[str, Resource],
        resources: Sequence[str],
        match_on: Sequence[str],
        before: dict[str, int] | None,
        scope_name: str,
        listed_at: float | None = None,
    ) -> None:
        self.kinds = kinds
        self.resources = list(resources)
        self.before = before
        # a ledger listed before the time was kept: at no time known, so before any other run's writes
        self.listed_at = listed_at if listed_at is not None or before is None else 0.0
        self.scope_name = scope_name
        #: the same file again updates what the first load created
        self.rerunnable = bool(match_on)

    def kind_of(self, file_idx: int) -> Resource:
        """The file's resource (the last one also stands for any further file)."""
        return self.kinds[self.resources[min(file_idx, len(self.resources) - 1)]]

    # --- rollback: the records this run created, never the ones it only updated -----------------------------
    def created_by_run(self, ledger: Created, files: list[str]) -> Iterator[tuple[str, int]]:
        yield from (item for item, made in self.loaded_by_run(ledger, files) if made)

    def loaded_by_run(self, ledger: Created, files: list[str]) -> Iterator[tuple[tuple[str, int], bool]]:
        """((resource, id), whether the row created it) of each row the run loaded."""
        for file_idx, path in enumerate(files):
            kind, created = self.kind_of(file_idx), ledger.created_in(file_idx)
            for item in Source(path):
                if isinstance(item, BadRow):
                    continue
                line, row = item
                record_id = created.get(line)
                # a row that named its record (or matched one with --match-on) updated it: not ours to delete
                if record_id is not None:
                    made = getattr(kind.validate_at(file_idx, line, dict(row)), "id", None) is None
                    yield (kind.name, record_id), made

    def there_before(self, scope: str, record_id: int) -> bool:
        """Whether the record was listed before the run's first call, by a listing whole or not (`seen_before`):
        then no row of the run created it."""
        return record_id in self.kinds[scope].seen_before()

    def delete_path(self, scope: str, record_id: int) -> str:
        return api_path(self.kinds[scope].path, record_id)

    async def _listed_and_sent(
        self,
        client: Sender,
        ledger: Created,
        files: list[str],
        rows: Callable[[int], Iterator[tuple[int, Any]]],
        doubtful: dict[int, set[int]],
        removals: dict[tuple[str, int], str],
    ) -> tuple[dict[str, Listing], dict[str, _Sent]]:
        """Each resource listed (`listings`), judged against the records of it the run created and no rollback took
        out, and what the run sent of each (`_sent`, by name). The files are read again for what was sent while the
        listings' calls are on the way (calls_then_work): before them, that read was the tail of a run at the
        rolling window (54 ms of 1,200 rows between the last upload and the first listing)."""
        read, sent_of = await calls_then_work(
            lambda: listings_read(client, self.kinds.values()),
            lambda: {kind.name: _sent(self, kind, ledger, files, rows, doubtful) for kind in self.kinds.values()},
            client.held_for_s,
        )
        return await listings_judged(client, self.kinds.values(), read, _still_there(sent_of, removals)), sent_of

    # --- reconciliation: list each resource, compare count and every loaded record field by field ---------
    async def reconcile(
        self, client: Sender, ledger: Created, files: list[str], rows: Callable[[int], Iterator[tuple[int, Any]]]
    ) -> Reconciled:
        expected = ledger.expected()
        differences: list[dict[str, Any]] = []
        reused: list[dict[str, Any]] = []  # created records gone, their ids holding others (_taken_over)
        missing: list[dict[str, Any]] = []
        scopes: dict[str, dict[str, int]] = {}
        partial: list[str] = []
        duplicates: list[dict[str, Any]] = []
        landed: list[dict[str, Any]] = []  # records of the run's calls in doubt
        others: list[dict[str, Any]] = []  # records no row of the run accounts for: another writer's
        doubled: list[str] = []  # what a count above the expected one holding doubles means
        changed: list[str] = []  # creates the API answered with a record there before the run (_not_created)
        doubtful = _lines_in_doubt(ledger)
        removals = ledger.removals()
        listed, sent_of = await self._listed_and_sent(client, ledger, files, rows, doubtful, removals)
        for kind in self.kinds.values():
            listing = listed.pop(kind.name)
            live = {r["id"]: r for r in listing.records}
            names: set[str | None] | None = None  # the match fields of every record listed, once one is needed
            unlisted = 0  # loaded records a partial listing left out: neither compared nor missing
            rolled = 0  # the run's records a rollback took out: neither compared nor missing
            lost: set[int] = set()  # the run's records a whole listing lacks (missing): not among what it holds
            desired, lines, ours, made, awaited = sent_of.pop(kind.name)
            if before_ids := sorted(made.keys() & kind.seen_before()):
                changed.append(_not_created(kind, before_ids, made))
            for record_id, sent in desired.items():
                path, line = lines[record_id]
                found = live.get(record_id)
                # not listed only where a listing proves it: one a listing not whole left out may be there
                shown = found is not None or not (listing.whole or record_id in listing.gone)
                if rolled_out(removals.get((kind.name, record_id)), shown):
                    rolled += 1
                    continue
                if found is None and not listing.whole and record_id not in listing.gone:
                    unlisted += 1
                    continue
                if found is None:
                    missing.append({"id": record_id, "file": path, "line": line})
                    lost.add(record_id)
                    continue
                differing = kind.differences(sent, found)
                if differing and record_id in made and _taken_over(kind, sent, found, differing):
                    names = {kind.key(record) for record in live.values()} if names is None else names
                    if kind.key(sent) not in names:  # the run's record is nowhere
                        reused.append({"id": record_id, "resource": kind.name, "file": path, "line": line})
                        continue
                differences.extend(
                    {"id": record_id, "resource": kind.name, "line": line, "field": name, "sent": value, "found": got}
                    for name, value, got in differing
                )
            creates = expected.get(kind.name, {}).get("create", [0])[0]
            before = (self.before or {}).get(kind.name, 0)
            if kind.listed_late:  # listed after the run may have created records: those it did were not there before
                before -= len(ours.intersection(kind.listed_ids.get(kind.name, ())))
            # of the records neither the run's nor counted before, first those its calls in doubt account for; a
            # listing not whole proves no absence, but what it lists is there: the doubles it shows are named
            of_doubt = _landed(kind, live, ours, awaited)
            landed.extend(of_doubt)
            doubles = _doubles(kind, live, made, {item["id"] for item in of_doubt})
            duplicates.extend(doubles)
            # the records counted before the run (not the run's own a late listing held) that a whole listing now
            # lacks are gone since, deleted: no shortfall of the run's (model.scope_holds), as an entry e-conomic
            # booked since is none; one the run updated is the run's, missing, and counted so alone: counted gone
            # too, the summary's count took it out twice, and the note said one record more than the resource held
            gone = len(_counted_before(kind) - live.keys() - made.keys() - lost) if listing.whole else 0
            more = len(live) - (before - gone) - (creates - rolled - len(lost)) - len(of_doubt)
            if listing.whole and more > 0 and doubles:
                doubled.append(_more_than_expected(kind, more, len(doubles), in_doubt=bool(of_doubt)))
            scopes[kind.name] = {"before": before, "loaded": creates, "expected": before + creates}
            scopes[kind.name] |= {"before_gone": gone} if gone else {}
            scopes[kind.name] |= {"rolled_back": rolled} if rolled else {}
            scopes[kind.name] |= {"in_doubt": len(of_doubt)} if of_doubt else {}
            if listing.whole:  # counted, not judged (model.scope_holds)
                n, named = _others(kind, live, ours, {item["id"] for item in of_doubt + doubles}, more - len(doubles))
                others.extend(named)
                scopes[kind.name] |= {"others": n} if n else {}
            if listing.whole:
                scopes[kind.name]["remote"] = len(live)
            elif listing.held >= max(len(live), creates):  # the API's own count, nothing showing that it lags
                scopes[kind.name]["remote"] = listing.held
            else:
                # a count that lags says nothing of what it holds: what was listed, never as what the API holds
                scopes[kind.name]["listed"] = len(live)
            if not listing.whole:
                partial.append(
                    f"{kind.name} could not be listed whole ({listing.why}): {listing.read()}, and "
                    f"{unlisted} loaded records not among them were neither compared nor called missing"
                )
        expected_count = sum(c["expected"] for c in scopes.values())
        counted = all("remote" in c for c in scopes.values())
        remote_count = sum(c["remote"] for c in scopes.values()) if counted else None
        counts_agree = all(scope_holds(c) == c.get("remote") for c in scopes.values())
        return Reconciled(
            # a partial listing proves nothing of what it left out; records of calls in doubt are what the run's
            # calls sent, not a mismatch: their rows are in doubt (exit 1, or 4 for a run not finished) till recorded
            ok=not (differences or reused or missing or partial or duplicates or changed) and counts_agree,
            remote_read=True,
            note="; ".join(changed + partial + doubled) if changed or partial or doubled else UNSET,
            expected_count=expected_count,
            remote_count=remote_count,
            # what the run left and the records there before still are: the records a rollback took and those gone
            # since are in neither total (before, `expected 12, the API holds 1` of a run rolled back, unexplained)
            expected_totals={"per_scope": {r: {"records": _left(c)} for r, c in scopes.items()}},
            remote_totals={"per_scope": {r: {"records": c.get("remote")} for r, c in scopes.items()}},
            missing=missing[:100],
            missing_count=len(missing),
            duplicates=duplicates[:100],
            duplicates_count=len(duplicates),
            others=others[:100],
            others_count=sum(c.get("others", 0) for c in scopes.values()),
            before_gone_count=sum(c.get("before_gone", 0) for c in scopes.values()),
            in_doubt_found=landed[:100],
            in_doubt_found_count=len(landed),
            differences=differences[:100],
            differences_count=len(differences),
            ids_reused=reused[:100],
            ids_reused_count=len(reused),
            scopes=scopes,
            scope_name=self.scope_name,
        )

    async def held(
        self, client: Sender, ledger: Created, files: list[str], rows: Callable[[int], Iterator[tuple[int, Any]]]
    ) -> Held:
        """What the records the run created hold now (model.Held), by one listing of each resource as `reconcile`
        lists it: a record whose fields are not what the run's rows sent is apart (another record at its id, or one
        changed since: named by the fields that differ, never their values); one a whole listing lacks, or a look by
        id answered 404 (where the listing is not whole too: before, a rollback against a record_count above what the
        API lists never read back the records it deleted, "run rollback again" for ever), is absent; one a listing
        not whole left out and no look found gone is unread."""
        removals = ledger.removals()
        listed, sent_of = await self._listed_and_sent(client, ledger, files, rows, {}, removals)
        apart: dict[tuple[str, int], str] = {}
        absent: set[tuple[str, int]] = set()
        unread: dict[tuple[str, int], str] = {}
        for kind in self.kinds.values():
            listing, sent = listed[kind.name], sent_of[kind.name]
            live = {r["id"]: r for r in listing.records}
            if not listing.whole:  # what it leaves out may be there, or gone: each read by id (404: gone)
                out = [i for i in sent.made if not rolled_out(removals.get((kind.name, i)), listed=True)]
                read = await read_by_id(client, kind, listing, out)
                live.update((i, r) for i, r in read.items() if r is not None)
                listing = listing._replace(gone=listing.gone | {i for i, r in read.items() if r is None})
            for record_id in sent.made:
                item, found = (kind.name, record_id), live.get(record_id)
                if found is None and (listing.whole or record_id in listing.gone):
                    absent.add(item)
                elif found is None:
                    unread[item] = f"{kind.name} could not be listed whole ({listing.why})"
                elif differing := kind.differences(sent.desired[record_id], found):
                    fields = ", ".join(name for name, _, _ in differing[:5]) + (", …" if len(differing) > 5 else "")
                    apart[item] = f"{kind.name} {record_id} holds other values than the run sent ({fields})"
        return Held(apart, frozenset(absent), unread)


def _still_there(sent_of: dict[str, _Sent], removals: dict[tuple[str, int], str]) -> dict[str, list[int]]:
    """Resource -> the ids the run created that no rollback took out (model.rolled_out): a record_count below what
    the run itself created and is still there lags, and the listing it ends is not whole; what a rollback took out is
    not there, neither counted nor looked up by id; nor is one whose DELETE may have been carried out (MAYBE_OUT:
    answered as done, or sent by a rollback killed before its answer was written): the count need not hold it, and a
    listing whole or a look by id says whether it is there. (Before, a rollback killed with more of those than are
    looked up by id left every later listing short: the next rollback could read back none of what it deleted.)"""
    return {
        name: [i for i in s.made if (o := removals.get((name, i))) not in MAYBE_OUT and not rolled_out(o, listed=True)]
        for name, s in sent_of.items()
    }


class _Sent(NamedTuple):
    """What the run sent of a resource, from its ledger and files."""

    #: what each record should hold: its rows in file order, a later update over an earlier create
    desired: dict[int, dict[str, Any]]
    #: record id -> the file and line of its last row
    lines: dict[int, tuple[str, int]]
    #: the ids the run created or updated
    ours: set[int]
    #: the ids the run created, with the file and line of each
    made: dict[int, tuple[str, int]]
    #: match key -> the file and line of each row of a create in doubt, in file order
    awaited: dict[str, list[tuple[str, int]]]


def _sent(
    books: Resources,
    kind: Resource,
    ledger: Created,
    files: list[str],
    rows: Callable[[int], Iterator[tuple[int, Any]]],
    doubtful: dict[int, set[int]],
) -> _Sent:
    """What the run sent of `kind` (`rows`: a file's rows as read for the load; `doubtful`: `_lines_in_doubt`)."""
    sent = _Sent({}, {}, set(), {}, defaultdict(list))
    for file_idx, path in enumerate(files):
        if books.kind_of(file_idx) is not kind:
            continue
        created = ledger.created_in(file_idx)
        sent.ours.update(created.values())
        for line, row in rows(file_idx):  # as read for the load: a date-time read as the file's order has it
            record_id = created.get(line)
            if record_id is None and line not in doubtful.get(file_idx, ()):
                continue  # not loaded: rejected or not sent, and reported as such
            record = kind.validate_at(file_idx, line, row)
            if record_id is None:  # in doubt: what it may have created is found by its match fields
                if getattr(record, "id", None) is None and (key := kind.key(as_sent(record))) is not None:
                    sent.awaited[key].append((path, line))
                continue
            sent.desired.setdefault(record_id, {}).update(as_sent(record))
            sent.lines[record_id] = (path, line)
            if getattr(record, "id", None) is None:  # not one it named, nor one --match-on matched
                sent.made[record_id] = (path, line)
    return sent


def _taken_over(
    kind: Resource, sent: dict[str, Any], found: dict[str, Any], differing: list[tuple[str, Any, Any]]
) -> bool:
    """Whether the record at the id the run's create of `sent` was given is another record entirely (`found`, which
    differs from it in `differing`): another name (or match fields: --match-on) and most of the fields sent. A record
    renamed since keeps its other fields: changed, not another. Its id was reused only where no record listed has
    the run's name (the caller looks). A record listed without its name (or match fields) is not shown to be
    another: a field left out is not compared (Resource.given_in)."""
    key = kind.key(sent)
    if key is None or any(name not in found for name in kind.match_on or ["name"]):
        return False
    return kind.key(found) != key and 2 * len(differing) > len(kind.given_in(sent, found))


def _lines_in_doubt(ledger: Created) -> dict[int, set[int]]:
    """File index -> the lines of the run's calls whose outcome the ledger does not know (in flight when a process
    stopped, or in doubt): what they created is in the API, and not loaded as far as the ledger knows."""
    lines: dict[int, set[int]] = defaultdict(set)
    for state in ("sending", "in_doubt"):
        for file_idx, line, _, _ in ledger.chunk_lines(state):
            lines[file_idx].add(line)
    return lines


def _not_created(kind: Resource, ids: list[int], made: dict[int, tuple[str, int]]) -> str:
    """What creates answered with the ids of records listed before the run's first call (`ids`) did: each changed
    that record and created none (an API taking a name it holds in other letter case or spacing for that record)."""
    named = ", ".join(f"{kind.name} {i} (line {made[i][1]} of {made[i][0]})" for i in ids[:5])
    return (
        f"{len(ids)} created rows were answered with the id of a record there before the run: {named}"
        f"{', …' if len(ids) > 5 else ''}: the API changed that record into the row and created none (does it take "
        "a name it holds in other letter case or spacing for the same record?); what it held before is not in the "
        "file, and a rollback keeps it as it is now"
    )


def _counted_before(kind: Resource) -> frozenset[int]:
    """The ids of the records the count before the run holds: every record listed at its start, whole or not, and
    with `listed_late` after its first call (the run's own there are taken off that count: Resources.reconcile)."""
    return frozenset(kind.listed_ids.get(kind.name, kind.listed_in_part.get(kind.name, ())))


def _landed(
    kind: Resource, live: dict[int, dict[str, Any]], ours: set[int], awaited: dict[str, list[tuple[str, int]]]
) -> list[dict[str, Any]]:
    """The records of `live` (listed, by id) that the run's calls in doubt created, as far as can be told:
    neither the run's (`ours`) nor counted before it (`_counted_before`), with the match fields (--match-on, else the
    name) of a create in doubt (`awaited`: match key -> the file and line of each such row, in file order). Each
    {"id", "scope" (the resource), "file", "line" (a row in doubt it may be)}, by id: a key's records in id order
    take its rows in file order, and one more than its rows is not theirs (another writer's, or a double)."""
    if not awaited:
        return []
    before = _counted_before(kind)
    waiting = {key: iter(rows) for key, rows in awaited.items()}
    found = []
    for record_id, record in sorted(live.items()):
        if record_id in ours or record_id in before:
            continue
        rows = waiting.get(kind.key(record) or "")
        if rows is not None and (row := next(rows, None)) is not None:
            found.append({"id": record_id, "scope": kind.name, "file": row[0], "line": row[1]})
    return found


def _doubles(
    kind: Resource, live: dict[int, dict[str, Any]], made: dict[int, tuple[str, int]], landed: set[int]
) -> list[dict[str, Any]]:
    """The records of `live` (listed, by id) that share their match fields (--match-on, else the name) with
    one the run created (`made`: its id -> the file and line of its row) and are neither the run's, nor listed before
    its first call, nor what its calls in doubt created (`landed`: their ids, `_landed`): created twice, by another
    writer (another load of the same records side by side). Each {"id", "scope" (the resource), "of" (the run's
    record it doubles), "file", "line" (that record's row)}, by id."""
    keys: dict[str, int] = {}
    for record_id in made:
        if record_id in live and (key := kind.key(live[record_id])) is not None:
            keys.setdefault(key, record_id)
    if not keys:
        return []
    before = kind.seen_before()
    doubles = []
    for record_id, record in sorted(live.items()):
        theirs = record_id not in made and record_id not in before and record_id not in landed
        of = keys.get(kind.key(record) or "") if theirs else None
        if of is not None:
            path, line = made[of]
            doubles.append({"id": record_id, "scope": kind.name, "of": of, "file": path, "line": line})
    return doubles


def _left(figures: dict[str, int]) -> int:
    """Of a resource's `scopes` figures, the records there before and the run's that should be there now: its
    expected ones but those gone since and those a rollback took (the control total of its records)."""
    return figures["expected"] - figures.get("before_gone", 0) - figures.get("rolled_back", 0)


def _others(
    kind: Resource, live: dict[int, dict[str, Any]], ours: set[int], accounted: set[int], more: int
) -> tuple[int, list[dict[str, Any]]]:
    """How many records of `live` (listed whole, by id) another writer created, and each {"id", "scope" (the
    resource)}, by id: neither the run's (`ours`), nor counted before it (`_counted_before`), nor of its calls in
    doubt or doubles (`accounted`). Where the listing before the run was not whole, those there before it and not
    read then cannot be told from them: only what is `more` than the count before (and the run's) is counted, and
    none is named."""
    before = _counted_before(kind) | accounted
    theirs = [{"id": i, "scope": kind.name} for i in sorted(live) if i not in ours and i not in before]
    if kind.name in kind.listed_ids:
        return len(theirs), theirs
    return min(len(theirs), max(0, more)), []


def _more_than_expected(kind: Resource, more: int, doubles: int, *, in_doubt: bool) -> str:
    """What a resource holding `more` records than were there before and the run created (its calls in doubt
    included, where `in_doubt`: `_landed`) may mean, where `doubles` of them share their match fields with a record
    the run created (`_doubles`)."""
    fields = f"--match-on fields ({', '.join(kind.match_on)})" if kind.match_on else "name"
    said = (
        f"{doubles:,} of them share their {fields} with a record this run created: created twice (`duplicates` names "
        "each, with the record and the row it doubles)"
        if doubles
        else f"none shares its {fields} with a record this run created"
    )
    return (
        f"{kind.name} holds {more:,} records more than were there before and this run created"
        f"{' (its calls in doubt included)' if in_doubt else ''}: another writer created them while this run loaded "
        f"or since (another load of the same records side by side creates each twice); {said}"
    )
