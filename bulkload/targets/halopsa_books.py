"""What HaloPSA holds, as the engine reads it back and removes it: each resource a run loads is listed (every page,
halopsa_listing.py), and every loaded record compared with its rows field by field (a listing that cannot be had
whole names none missing); rollback deletes the records the run created, never those it only updated, nor any that
was listed before the run (whole or not)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from msgspec import UNSET

from ..http import api_path
from ..model import Reconciled
from ..sources import BadRow, Source
from .base import Books
from .halopsa_listing import listings
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
    ) -> None:
        self.kinds = kinds
        self.resources = list(resources)
        self.before = before
        self.scope_name = scope_name
        #: the same file again updates what the first load created
        self.rerunnable = bool(match_on)

    def kind_of(self, file_idx: int) -> Resource:
        """The file's resource (the last one also stands for any further file)."""
        return self.kinds[self.resources[min(file_idx, len(self.resources) - 1)]]

    # --- rollback: the records this run created, never the ones it only updated -----------------------------
    def created_by_run(self, ledger: Created, files: list[str]) -> Iterator[tuple[str, int]]:
        for file_idx, path in enumerate(files):
            kind, created = self.kind_of(file_idx), ledger.created_in(file_idx)
            for item in Source(path):
                if isinstance(item, BadRow):
                    continue
                line, row = item
                record_id = created.get(line)
                # a row that named its record (or matched one with --match-on) updated it: not ours to delete
                if record_id is not None and getattr(kind.validate(dict(row)), "id", None) is None:
                    yield kind.name, record_id

    def there_before(self, scope: str, record_id: int) -> bool:
        """Whether the record was listed before the run's first call, by a listing whole or not (`seen_before`):
        then no row of the run created it."""
        return record_id in self.kinds[scope].seen_before()

    def delete_path(self, scope: str, record_id: int) -> str:
        return api_path(self.kinds[scope].path, record_id)

    # --- reconciliation: list each resource, compare count and every loaded record field by field ---------
    async def reconcile(
        self, client: Sender, ledger: Created, files: list[str], rows: Callable[[int], Iterator[tuple[int, Any]]]
    ) -> Reconciled:
        expected = ledger.expected()
        differences: list[dict[str, Any]] = []
        missing: list[dict[str, Any]] = []
        scopes: dict[str, dict[str, int]] = {}
        partial: list[str] = []
        duplicates: list[dict[str, Any]] = []
        others: list[str] = []  # what a count above the expected one may mean
        listed = await listings(client, self.kinds.values())
        for kind in self.kinds.values():
            listing = listed.pop(kind.name)
            live = {r["id"]: r for r in listing.records}
            unlisted = 0  # loaded records a partial listing left out: neither compared nor missing
            # what each record should hold: its rows in file order, a later update over an earlier create
            desired: dict[int, dict[str, Any]] = {}
            lines: dict[int, tuple[str, int]] = {}
            ours: set[int] = set()  # the ids the run created or updated
            made: dict[int, tuple[str, int]] = {}  # the ids the run created, with the file and line of each
            for file_idx, path in enumerate(files):
                if self.kind_of(file_idx) is not kind:
                    continue
                created = ledger.created_in(file_idx)
                ours.update(created.values())
                for line, row in rows(file_idx):  # as read for the load: a date-time read as the file's order has it
                    record_id = created.get(line)
                    if record_id is None:
                        continue  # not loaded: rejected or in doubt, and reported as such
                    record = kind.validate(row)
                    desired.setdefault(record_id, {}).update(as_sent(record))
                    lines[record_id] = (path, line)
                    if getattr(record, "id", None) is None:  # not one it named, nor one --match-on matched
                        made[record_id] = (path, line)
            for record_id, sent in desired.items():
                path, line = lines[record_id]
                found = live.get(record_id)
                if found is None and not listing.whole:
                    unlisted += 1
                    continue
                if found is None:
                    missing.append({"id": record_id, "file": path, "line": line})
                    continue
                differences.extend(
                    {"id": record_id, "resource": kind.name, "line": line, "field": name, "sent": value, "found": got}
                    for name, value, got in kind.differences(sent, found)
                )
            creates = expected.get(kind.name, {}).get("create", [0])[0]
            before = (self.before or {}).get(kind.name, 0)
            if kind.listed_late:  # listed after the run may have created records: those it did were not there before
                before -= len(ours.intersection(kind.listed_ids.get(kind.name, ())))
            doubles = _doubles(kind, live, made) if listing.whole else []
            duplicates.extend(doubles)
            if listing.whole and len(live) > before + creates:
                others.append(_more_than_expected(kind, len(live) - before - creates, len(doubles)))
            scopes[kind.name] = {
                "before": before,
                "loaded": creates,
                "expected": before + creates,
                "remote": len(live) if listing.whole else listing.held,  # the API's own count where it pages
            }
            if not listing.whole:
                partial.append(
                    f"{kind.name} could not be listed whole ({listing.why}): {len(live)} of its {listing.held} "
                    f"records were listed, and {unlisted} loaded records not among them were neither compared nor "
                    "called missing"
                )
        expected_count = sum(c["expected"] for c in scopes.values())
        remote_count = sum(c["remote"] for c in scopes.values())
        counts_agree = all(c["expected"] == c["remote"] for c in scopes.values())
        return Reconciled(
            # a partial listing proves nothing of what it left out
            ok=not differences and not missing and not partial and not duplicates and counts_agree,
            remote_read=True,
            note="; ".join(partial + others) if partial or others else UNSET,
            expected_count=expected_count,
            remote_count=remote_count,
            expected_totals={"per_scope": {r: {"records": c["expected"]} for r, c in scopes.items()}},
            remote_totals={"per_scope": {r: {"records": c["remote"]} for r, c in scopes.items()}},
            missing=missing[:100],
            missing_count=len(missing),
            duplicates=duplicates[:100],
            duplicates_count=len(duplicates),
            differences=differences[:100],
            differences_count=len(differences),
            scopes=scopes,
            scope_name=self.scope_name,
        )


def _doubles(kind: Resource, live: dict[int, dict[str, Any]], made: dict[int, tuple[str, int]]) -> list[dict[str, Any]]:
    """The records of `live` (a whole listing, by id) that share their match fields (--match-on, else the name) with
    one the run created (`made`: its id -> the file and line of its row) and are neither the run's nor listed before
    its first call: created twice, by another writer (another load of the same records side by side). Each {"id",
    "scope" (the resource), "of" (the run's record it doubles), "file", "line" (that record's row)}, by id."""
    keys: dict[str, int] = {}
    for record_id in made:
        if record_id in live and (key := kind.key(live[record_id])) is not None:
            keys.setdefault(key, record_id)
    if not keys:
        return []
    before = kind.seen_before()
    doubles = []
    for record_id, record in sorted(live.items()):
        of = keys.get(kind.key(record) or "") if record_id not in made and record_id not in before else None
        if of is not None:
            path, line = made[of]
            doubles.append({"id": record_id, "scope": kind.name, "of": of, "file": path, "line": line})
    return doubles


def _more_than_expected(kind: Resource, more: int, doubles: int) -> str:
    """What a resource holding `more` records than were there before and the run created may mean, where `doubles`
    of them share their match fields with a record the run created (`_doubles`)."""
    fields = f"--match-on fields ({', '.join(kind.match_on)})" if kind.match_on else "name"
    said = (
        f"{doubles:,} of them share their {fields} with a record this run created: created twice (`duplicates` names "
        "each, with the record and the row it doubles)"
        if doubles
        else f"none shares its {fields} with a record this run created"
    )
    return (
        f"{kind.name} holds {more:,} records more than were there before and this run created: another writer "
        f"created them while this run loaded or since (another load of the same records side by side creates each "
        f"twice); {said}"
    )
