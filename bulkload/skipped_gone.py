"""Groups a run skipped as loaded by an earlier run that a rollback of that run took out since.

A later export that repeats earlier vouchers skips them: the earlier run loaded them (ledger.known_to). Roll that
earlier run back and they leave the API, but the later run still counts its rows `skipped`, and its reconciliation
compared only what it created: "reconciled", exit 0, with the rows in no book (tester t36e: a manifest's second job
of one agreement, 7 rows of 3 vouchers). Its reconciliation now reads the ledgers of the loads on record into the
same API (loads.earlier_ledgers, later ones too) and names each group it skipped that a rollback took out
(ledger.taken_back) and no run on record holds now (the earlier run's files loaded again as a new run put them
back): a mismatch, with the lines of its input that give them. So are its rows of no group skipped as an earlier
run's records (HaloPSA without --match-on), by their line checks (ledger.lines_taken_back). A manifest's finished
job shown again is read so too (`stored_said`, no call made), and the rollback that takes them out names the runs
whose books it took them from (`relying`).
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import msgspec

from . import ledger_pg
from .errors import EXIT_MISMATCH, LedgerError
from .job import Job
from .ledger import Ledger, lines_taken_back, skipped_lines, taken_back
from .loads import earlier_ledgers
from .model import Reconciled
from .results import Report
from .targets.base import Target

#: how many groups the report's `skipped_taken_back` names one by one
LIST_LIMIT = 100


def taken_back_said(rec: Reconciled, ledger: Ledger, target: Target) -> Reconciled:
    """`rec` with what the run of `ledger` skipped as loaded by an earlier run that a rollback of that run took out
    since and no run on record holds now: its groups (`gone_groups`) and its rows of no group (`gone_rows`), as
    `skipped_taken_back` (each `group` — "" for rows of no group —, the earlier `ledger`, the `file` and `lines` of
    this run's input that give it), `skipped_taken_back_count` (groups, and rows of no group), the note, and `ok`
    false. `rec` as it is where there are none, and for a run rolled back (nothing of its input is meant to be
    in the books then, what it skipped neither)."""
    if ledger.run.status in ("rolling_back", "rolled_back"):
        return rec
    others = [e for e in earlier_ledgers(Job.from_settings(ledger.run.settings)) if not _same(e, str(ledger.path))]
    gone, rows = gone_groups(ledger, others), gone_rows(ledger, others)
    if not gone and not rows:
        return rec
    files = [str(f["path"]) for f in ledger.run.files]
    lines: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in ledger.rows("skipped"):
        if row.group in gone:
            lines[row.group].append((row.file_idx, row.line_no))
    ordered = sorted(gone, key=lambda k: min(lines[k], default=(0, 0)))  # by their first line in the input
    items = [_item(key, gone[key], lines[key], files, target) for key in ordered]
    items += [_item("", at, taken, files, target) for at, taken in rows.items()]
    rec.skipped_taken_back = items[:LIST_LIMIT]
    rec.skipped_taken_back_count = len(gone) + sum(len(taken) for taken in rows.values())
    rec.ok = False
    rec.note = "; ".join(filter(None, [_note(items, len(gone), target), rec.note or ""]))
    return rec


def gone_groups(ledger: Ledger, others: list[Path | str]) -> dict[str, str]:
    """The keys of the groups the run of `ledger` skipped as loaded by an earlier run that a rollback of that run took
    out (ledger.taken_back), but those another load of `others` holds (its call done, not rolled back), each with the
    ledger of the run whose rollback took it out. `others`: the ledgers of the loads on record into the run's API and
    agreement (its settings': Job.agreement, never a manifest's job's, which is set only as a run starts), but its
    own. Ledgers that cannot be read are passed over (a load refuses while one is gone: loads.unusable_ledgers)."""
    back: dict[str, str] = {}
    held: set[str] = set()
    for earlier in others:
        out, kept = taken_back(ledger.db(), earlier)
        held |= kept
        for key in out:
            back.setdefault(key, str(earlier))
    return {key: at for key, at in back.items() if key not in held}


def gone_rows(ledger: Ledger, others: list[Path | str]) -> dict[str, list[tuple[int, int]]]:
    """The rows of no group the run of `ledger` skipped as a record an earlier run created (ledger.skipped_lines:
    HaloPSA without --match-on, Visma Core entries of no order) that a rollback took out since: of each line check,
    as many of its rows as the records of that check the loads of `others` (as for `gone_groups`) hold now fall short
    of, where a rollback of one of them took any out (ledger.lines_taken_back), the last in file order. By the ledger
    of the first run whose rollback did: (file index, line) each."""
    skipped = skipped_lines(ledger.db())
    if not skipped:
        return {}
    out: Counter[int] = Counter()
    held: Counter[int] = Counter()
    where: dict[int, str] = {}
    for earlier in others:
        for check, (taken, kept) in lines_taken_back(ledger.db(), earlier).items():
            out[check] += taken
            held[check] += kept
            if taken:
                where.setdefault(check, str(earlier))
    gone: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for check, rows in skipped.items():
        short = len(rows) - held[check] if out[check] else 0
        if short > 0:
            gone[where[check]].extend(rows[-short:])
    return {at: sorted(rows) for at, rows in gone.items()}


def _same(earlier: Path | str, own: Path | str) -> bool:
    """Whether the ledger `earlier` (as the record of loads names it) is `own`, the run's ledger."""
    try:
        return os.path.samefile(earlier, own)
    except (OSError, TypeError, ValueError):
        return str(earlier) == str(own)


def _item(key: str, at: str, lines: list[tuple[int, int]], files: list[str], target: Target) -> dict[str, Any]:
    """One entry of `skipped_taken_back`: the `group` label of `key` ("" for rows of no group), the `ledger` whose
    rollback took it out, and the `file` and `lines` of this run's input that give it (the first file's, where they
    are in more than one)."""
    file_idx = min(lines)[0] if lines else 0
    return {
        "group": target.kind_of(file_idx).group_label(key) if key else "",
        "ledger": at,
        "file": files[file_idx] if file_idx < len(files) else "",
        "lines": [line for idx, line in sorted(lines) if idx == file_idx],
    }


def _note(items: list[dict[str, Any]], groups: int, target: Target) -> str:
    """The reconciliation's words for what was taken back (`items`, as `_item` makes them; the first `groups` of them
    groups, the others rows of no group)."""
    first, name = items[0], target.kind_of(0).group_name
    rows = sum(len(item["lines"]) for item in items)
    what = [f"{groups:,} {name}{'s' if groups != 1 else ''}"] if groups else []
    loose = rows - sum(len(item["lines"]) for item in items[:groups])
    what += [f"{loose:,} row{'s' if loose != 1 else ''} of no group"] if loose else []
    n = groups + loose
    lines = ", ".join(str(line) for line in first["lines"])
    example = f"{first['group']}, " if first["group"] else ""
    them = "them" if n != 1 else "it"
    return (
        f"{' and '.join(what)} this run skipped as loaded by an earlier run {'are' if n != 1 else 'is'} no longer in "
        f"the API: a rollback of that run took {them} out since, and no run on record holds {them} now (e.g. "
        f"{example}ledger {first['ledger']}; its lines {lines} of {first['file']}). Their {rows:,} row"
        f"{'s' if rows != 1 else ''} of this run's input {'are' if rows != 1 else 'is'} in no book: load them again — "
        "those lines in a file of their own (the report's `skipped_taken_back` names each), or that run's files as a "
        "new run once its rollback is done"
    )


def stored_said(report: Report, ledger_path: str) -> Report:
    """The report a finished run stored (a manifest's job shown again: fleet.run_job, fleet.held_back), with the
    groups it skipped that a rollback took out since (`gone_groups`, read from its ledger at `ledger_path`, no call
    made) said as `taken_back_said` says them: its `reconcile` no longer ok, exit 3. As it is where there are none,
    it has no reconciliation, or its ledger is no file (a queued job's, in PostgreSQL: its worker's report)."""
    if report.reconcile is None or not os.path.isfile(ledger_path):
        return report
    ledger = Ledger.open(ledger_path)
    try:
        job = Job.from_settings(ledger.run.settings)
        job.target_options = ledger.run.options
        rec = taken_back_said(msgspec.structs.replace(report.reconcile), ledger, job.make_target())
    finally:
        ledger.close()
    if rec == report.reconcile:
        return report
    return msgspec.structs.replace(report, reconcile=rec, exit_code=EXIT_MISMATCH)


def taken_back_line(rec: Reconciled | None) -> str:
    """One line of what a run's reconciliation `rec` says of its skipped groups taken back (`taken_back_said`), for
    a summary of many runs (fleet_view): "" where it says none."""
    if rec is None or not rec.skipped_taken_back or not rec.skipped_taken_back_count:
        return ""
    first, n = rec.skipped_taken_back[0], rec.skipped_taken_back_count
    example = first["group"] or f"line {first['lines'][0]} of {first['file']}"
    return (
        f"{n:,} of the groups or rows it skipped as loaded by an earlier run {'are' if n != 1 else 'is'} no longer in "
        f"the API (e.g. {example}): a rollback of that run (ledger {first['ledger']}) took "
        f"{'them' if n != 1 else 'it'} out since; its report's `skipped_taken_back` names each with the lines of its "
        "input that give it, to load again"
    )


def relying(ledger: Ledger) -> list[dict[str, Any]]:
    """The other runs on record into the API and agreement of the run of `ledger` that skipped groups or rows as
    loaded by it, which its rollback took out (`gone_groups`, `gone_rows` of each, as its reconciliation names
    them): each `ledger`, `groups` and `rows` (of its input, now in no book). For a rollback to say (undo.rollback).
    Ledgers that cannot be opened are passed over; PostgreSQL ones are read as SQLite files are (before, a rollback
    of a run whose ledger is in PostgreSQL never named the later runs it took rows from, while their reconciliation
    found the mismatch: tester t37a)."""
    own = str(ledger.path)
    ledgers = [e for e in earlier_ledgers(Job.from_settings(ledger.run.settings)) if not _same(e, own)]
    found = []
    for other in ledgers:
        if not ledger_pg.is_url(str(other)) and not os.path.isfile(other):  # a PostgreSQL one is read too (t37a)
            continue
        try:
            later = Ledger.open(str(other))
        except (LedgerError, sqlite3.Error, OSError):
            continue
        try:
            if later.run.status in ("rolling_back", "rolled_back"):  # its books are meant to hold nothing of it
                continue
            rest = [e for e in ledgers if e is not other] + [own]
            ours, _ = taken_back(later.db(), own)  # what this rollback took out, whoever's word skipped it
            groups = set(gone_groups(later, rest)) & ours
            checks = {check for check, (taken, _) in lines_taken_back(later.db(), own).items() if taken}
            told = {at for check, spots in skipped_lines(later.db()).items() if check in checks for at in spots}
            rows = sum(1 for spots in gone_rows(later, rest).values() for at in spots if at in told)
            lines = sum(1 for r in later.rows("skipped") if r.group in groups)
        finally:
            later.close()
        if groups or rows:
            found.append({"ledger": str(other), "groups": len(groups), "rows": lines + rows})
    return found
