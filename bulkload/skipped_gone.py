"""Groups a run skipped as loaded by an earlier run that a rollback of that run took out since.

A later export that repeats earlier vouchers skips them: the earlier run loaded them (ledger.known_to). Roll that
earlier run back and they leave the API, but the later run still counts its rows `skipped`, and its reconciliation
compared only what it created: "reconciled", exit 0, with the rows in no book (tester t36e: a manifest's second job
of one agreement, 7 rows of 3 vouchers). Its reconciliation now reads the ledgers of the loads on record into the
same API (loads.earlier_ledgers, later ones too) and names each group it skipped that a rollback took out
(ledger.taken_back) and no run on record holds now (the earlier run's files loaded again as a new run put them
back): a mismatch, with the lines of its input that give them.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec

from .errors import EXIT_MISMATCH
from .job import Job
from .ledger import Ledger, taken_back
from .loads import earlier_ledgers
from .model import Reconciled
from .results import Report
from .targets.base import Target

#: how many groups the report's `skipped_taken_back` names one by one
LIST_LIMIT = 100


def taken_back_said(rec: Reconciled, ledger: Ledger, target: Target) -> Reconciled:
    """`rec` with the groups the run of `ledger` skipped as loaded by an earlier run that a rollback of that run took
    out since and no run on record holds now (`gone_groups`): `skipped_taken_back` (each `group`, the earlier
    `ledger`, the `file` and `lines` of this run's input that give it), `skipped_taken_back_count`, the note, and `ok`
    false. `rec` as it is where there are none."""
    gone = gone_groups(ledger)
    if not gone:
        return rec
    files = [str(f["path"]) for f in ledger.run.files]
    lines: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in ledger.rows("skipped"):
        if row.group in gone:
            lines[row.group].append((row.file_idx, row.line_no))
    items = [_item(key, gone[key], lines[key], files, target) for key in sorted(gone, key=lambda k: min(lines[k]))]
    rec.skipped_taken_back = items[:LIST_LIMIT]
    rec.skipped_taken_back_count = len(items)
    rec.ok = False
    rec.note = "; ".join(filter(None, [_note(items, target), rec.note or ""]))
    return rec


def gone_groups(ledger: Ledger) -> dict[str, str]:
    """The keys of the groups the run of `ledger` skipped as loaded by an earlier run that a rollback of that run took
    out (ledger.taken_back), but those another load on record into its API and agreement holds (its call done, not
    rolled back), each with the ledger of the run whose rollback took it out. The agreement is the run's own (its
    settings': Job.agreement, never a manifest's job's, which is set only as a run starts). Ledgers that cannot be
    read are passed over (a load refuses while one is gone: loads.unusable_ledgers)."""
    back: dict[str, str] = {}
    held: set[str] = set()
    for earlier in earlier_ledgers(Job.from_settings(ledger.run.settings)):
        if _same(earlier, str(ledger.path)):
            continue
        out, kept = taken_back(ledger.db(), earlier)
        held |= kept
        for key in out:
            back.setdefault(key, str(earlier))
    return {key: at for key, at in back.items() if key not in held}


def _same(earlier: Path | str, own: Path | str) -> bool:
    """Whether the ledger `earlier` (as the record of loads names it) is `own`, the run's ledger."""
    try:
        return os.path.samefile(earlier, own)
    except (OSError, TypeError, ValueError):
        return str(earlier) == str(own)


def _item(key: str, at: str, lines: list[tuple[int, int]], files: list[str], target: Target) -> dict[str, Any]:
    """One group of `skipped_taken_back`: its `group` label, the `ledger` whose rollback took it out, and the `file`
    and `lines` of this run's input that give it (the first file's, where they are in more than one)."""
    file_idx = min(lines)[0] if lines else 0
    return {
        "group": target.kind_of(file_idx).group_label(key),
        "ledger": at,
        "file": files[file_idx] if file_idx < len(files) else "",
        "lines": [line for idx, line in sorted(lines) if idx == file_idx],
    }


def _note(items: list[dict[str, Any]], target: Target) -> str:
    """The reconciliation's words for the groups taken back (`items`, as `_item` makes them)."""
    first, n = items[0], len(items)
    name = target.kind_of(0).group_name
    rows = sum(len(item["lines"]) for item in items)
    lines = ", ".join(str(line) for line in first["lines"])
    return (
        f"{n:,} {name}{'s' if n != 1 else ''} this run skipped as loaded by an earlier run "
        f"{'are' if n != 1 else 'is'} no longer in the API: a rollback of that run took "
        f"{'them' if n != 1 else 'it'} out since, and no run on record holds {'them' if n != 1 else 'it'} now "
        f"(e.g. {first['group']}, ledger {first['ledger']}; its lines {lines} of {first['file']}). Their {rows:,} "
        f"rows of this run's input are in no book: load them again — those lines in a file of their own (the "
        f"report's `skipped_taken_back` names each), or that run's files as a new run once its rollback is done"
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
    return (
        f"{n:,} of the groups it skipped as loaded by an earlier run {'are' if n != 1 else 'is'} no longer in the "
        f"API (e.g. {first['group']}): a rollback of that run (ledger {first['ledger']}) took "
        f"{'them' if n != 1 else 'it'} out since; its report's `skipped_taken_back` names each with the lines of its "
        "input that give it, to load again"
    )
