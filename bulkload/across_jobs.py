"""A group the books treat as one (a voucher, an order's lines of a cost type that merge, an invoice) whose lines
are in the files of two jobs of one agreement of a manifest, not the same lines in each, is refused before the
first call, as a group with lines in two files of one job is (profile._apart). Each job would load its own part as
the whole group: the first its lines, the voucher out of balance or the order booked at part of its amount, and
the later one would reject the rest as a group an earlier run loaded with other lines (tester t36e: voucher 5003's
first 2 of 4 lines in the journal, exit 0; a Visma Core order booked at 1,502.71 where the file meant 2,938.77).
Given whole in both (a later export that repeats it), it is loaded once, as before: the later job skips it. Rejected
by each job that gives it, nothing of it is booked: no cut either (before, it refused the manifest, "not the same
lines in each", where they were the same lines); rejected by one and loaded by another, it is.

Only the jobs that have not started are planned (a plan of their files, as a dry run makes it: no call, no
ledger); a job that did is loaded, and a later one meets its groups as any earlier run's (loads.py)."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import BulkloadError, ConfigError
from .job import Job
from .manifest import Manifest, ManifestJob
from .model import RowOutcome
from .planning import opened_planner, planned_rows
from .profile import with_article

#: the digest across_jobs keeps for a group rejected in a job's own files: no other job's part is its equal
REJECTED = -1


def check_groups(manifest: Manifest, started: Callable[[ManifestJob], bool]) -> None:
    """ConfigError, naming the manifest, the group, both jobs and a line of each, where a group has lines in the
    files of two jobs of one agreement that have not `started` (a ledger of theirs holds a run), and they are not
    the same lines (model.group_digest), or one job rejects its part and another does not. No credential is read (a plan
    makes no call). A job whose files or settings a load refuses is passed over: it fails alone when it runs."""
    for mjobs in manifest.agreements().values():
        waiting = [m for m in mjobs if not started(m)]
        if len(waiting) < 2:
            continue
        with tempfile.TemporaryDirectory(prefix="bulkload-across-") as folder:
            found = sqlite3.connect(Path(folder) / "groups.sqlite")  # a transaction a job: a scratch file
            try:
                _check(manifest, waiting, found, folder)
            finally:
                found.close()


def _check(
    manifest: Manifest,
    mjobs: list[ManifestJob],
    found: sqlite3.Connection,
    folder: str,
) -> None:
    found.execute("CREATE TABLE g (key TEXT, job INTEGER, digest INTEGER, PRIMARY KEY (key, job))")
    for n, mjob in enumerate(mjobs):
        try:
            groups = _groups(mjob.unsigned(), Path(folder) / f"plan{n}.sqlite")
            with found:
                found.executemany("INSERT OR IGNORE INTO g VALUES (?, ?, ?)", ((k, n, d) for k, d in groups))
        except BulkloadError:  # it fails alone when it runs (`with found` rolled its groups back)
            continue
    # rejected in every job that gives it (the same lines or not), nothing of it is booked: no part in the books
    apart = found.execute("SELECT key FROM g GROUP BY key HAVING COUNT(DISTINCT digest) > 1 LIMIT 1").fetchone()
    if apart is None:
        return
    (first,) = apart
    (n1, d1), *others = found.execute("SELECT job, digest FROM g WHERE key = ? ORDER BY job", apart).fetchall()
    n2, d2 = next((n, d) for n, d in others if d != d1)  # the first job whose part is not the first's
    (f1, l1), (f2, l2) = (_start(Path(folder) / f"plan{n}.sqlite", first, mjobs[n].unsigned().files) for n in (n1, n2))
    kind = mjobs[n1].unsigned().make_target().kind_of(0)
    label, name = kind.group_label(first), kind.group_name
    raise ConfigError(
        f"the manifest {manifest.path}: {label} has lines in jobs {mjobs[n1].name!r} ({f1} line {l1}) and "
        f"{mjobs[n2].name!r} ({f2} line {l2}) of agreement {mjobs[n1].agreement!r}, {_differ(mjobs, n1, d1, n2, d2)}"
        f" would load its part as the whole {name}, and the books would hold a part of it. Put its lines in one "
        f"job's files (a file cut inside {with_article(name)}: cut it between two {name}s; where the later gives a "
        "correction of it, run that job from a manifest of its own once this one has run); nothing was sent"
    )


def _differ(mjobs: list[ManifestJob], n1: int, d1: int, n2: int, d2: int) -> str:
    """How the parts of jobs `n1` and `n2` (their digests `d1`, `d2`, one of them maybe REJECTED) differ, and who
    would load one: "not the same lines in each: each job", or "job 'a' rejects its lines of it: job 'b'"."""
    if REJECTED not in (d1, d2):
        return "not the same lines in each: each job"
    rejects, loads = (n1, n2) if d1 == REJECTED else (n2, n1)
    return f"job {mjobs[rejects].name!r} rejects its lines of it: job {mjobs[loads].name!r}"


def _start(scratch: Path, key: str, files: list[str]) -> tuple[str, int]:
    """The file and line the group `key` starts at, as the plan in the database `scratch` found it."""
    db = sqlite3.connect(scratch)
    try:
        row = db.execute("SELECT file_idx, line FROM file_groups WHERE key = ?", (key,)).fetchone()
    finally:
        db.close()
    return (files[row[0]], row[1]) if row is not None else (files[0], 0)


def _rejected(rows: list[RowOutcome], lines: list[bool]) -> set[str]:
    """The keys of the groups of `rows` (a planner's rows to record, emptied) that were rejected, of the files whose
    groups have `lines` (by index)."""
    keys = {row.group for row in rows if row.group and row.bucket == "rejected" and lines[row.file_idx]}
    rows.clear()
    return keys


def _groups(job: Job, scratch: Path) -> Iterator[tuple[str, int]]:
    """Each group of `job`'s files as a plan of them (runner.offline_spec) finds it, the plan's tables in the
    database `scratch`: its key and its digest (REJECTED for one it rejects); none of a kind whose group is one
    record (RecordKind.single_record_groups), which has no lines to cut: one given again otherwise is the later
    job's to skip or refuse. BulkloadError where a load would refuse the job."""
    from .runner import inspected_offline, offline_spec, open_sources  # runner imports what the fleet runs

    target = job.make_target()
    sources = open_sources(job, target)
    db = sqlite3.connect(scratch, isolation_level=None)
    try:
        profiles = inspected_offline(job, target, sources, db)
        spec = offline_spec(job, target, profiles, None, str(scratch.parent))
        with opened_planner(target, spec) as planner:
            lines = [not target.kind_of(i).single_record_groups for i in range(len(job.files))]  # a customer has none
            for file_idx, rows in planned_rows(target, spec):
                for chunk in planner.plan(file_idx, rows):
                    yield from ((key, REJECTED) for key in _rejected(planner.rejected, lines))
                    for group in chunk.groups if chunk is not None and lines[chunk.file_idx] else ():
                        if group.key:
                            yield group.key, group.digest
            yield from ((key, REJECTED) for key in _rejected(planner.rejected, lines))
    finally:
        db.close()
