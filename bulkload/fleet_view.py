"""What `bulkload run MANIFEST` shows: one live display for every job (a line per running job and the totals, read
from each run's Snapshot 4×/s, never per row; off a terminal a timestamped totals line every `every_s` seconds, as
progress.py does for one run), then the summary table, a row per job."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TextIO

import anyio
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .errors import manifest_command, pasted
from .fleet import FleetReport, JobOutcome, LeftRun
from .progress import TICK_S
from .redact import redact
from .report import unbalanced_said
from .resent import resent_counted, resent_said
from .results import counted, held_back_said
from .run import Run
from .skipped_gone import taken_back_line

#: running jobs shown one a line on a terminal; the rest are counted
SHOWN_RUNNING = 20
#: jobs ended not clean that the totals line names; the rest are counted
NAMED_NOT_CLEAN = 3
#: the summary's width off a terminal (cron, a pipe, a log file): wide enough that no name is cut, the table as
#: wide as its cells (rich would fit it into 80 columns)
OFF_TERMINAL_WIDTH = 10_000


class Board:
    """The jobs as the display sees them: those running (`opened`), those ended (`ended`), of `jobs` in all."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.running: dict[str, Run] = {}
        self.done: list[JobOutcome] = []

    def opened(self, name: str, run: Run) -> None:
        self.running[name] = run

    def ended(self, outcome: JobOutcome) -> None:
        self.running.pop(outcome.name, None)
        self.done.append(outcome)

    def job_lines(self) -> list[str]:
        """A line per running job (the first SHOWN_RUNNING, then how many more): its phase, rows settled, calls."""
        lines = []
        for name, run in list(self.running.items())[:SHOWN_RUNNING]:
            snap = run.snapshot()
            lines.append(
                f"{name}: {snap.phase} | {snap.settled:,} rows settled of {snap.rows_read:,} read | "
                f"{snap.loaded:,} loaded | {snap.requests:,} calls"
            )
        if len(self.running) > SHOWN_RUNNING:
            lines.append(f"… and {len(self.running) - SHOWN_RUNNING} more running")
        return lines

    def totals_line(self) -> str:
        """Jobs ended of all (naming the first NAMED_NOT_CLEAN that are not clean), and the rows and calls of every
        job so far (ended and running)."""
        snaps = [run.snapshot() for run in list(self.running.values())]
        reports = [o.report for o in self.done if o.report is not None]
        loaded = sum(s.loaded for s in snaps) + sum(r.loaded for r in reports)
        rejected = sum(s.rejected for s in snaps) + sum(r.rejected for r in reports)
        in_doubt = sum(s.in_doubt for s in snaps) + sum(r.in_doubt for r in reports)
        held = sum(s.held_back for s in snaps) + sum(counted(r, "held_back") for r in reports)
        calls = sum(s.requests for s in snaps) + sum(r.requests for r in reports)
        not_ok = [o.name for o in self.done if o.exit_code]
        not_clean = f"{len(not_ok)} not clean"
        if not_ok:
            more = len(not_ok) - NAMED_NOT_CLEAN
            not_clean += f": {redact(', '.join(not_ok[:NAMED_NOT_CLEAN]))}" + (f" and {more} more" if more > 0 else "")
        return (
            f"jobs: {len(self.done)}/{self.jobs} ended ({not_clean}), {len(self.running)} running | "
            f"{loaded:,} loaded | {rejected:,} rejected | {in_doubt:,} in doubt{held_back_said(held)} | {calls:,} calls"
        )


async def show_board(
    board: Board,
    *,
    stream: TextIO | None = None,
    every_s: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> None:
    """Show `board` until cancelled: on a terminal (`stream`, default stderr) as a live display redrawn every
    TICK_S, gone when cancelled; otherwise a line `<ISO time> <totals>` every `every_s` seconds and one when
    cancelled, so that the last says where every job ended, not where they were up to `every_s` before (`clock`,
    `sleep`: seconds; `wall_clock`: seconds since the epoch)."""
    out = stream or sys.stderr
    if out.isatty():
        with Live(console=Console(file=out), auto_refresh=False, transient=True) as live:
            while True:
                lines = [Text(line, no_wrap=True, overflow="ellipsis") for line in board.job_lines()]
                live.update(Group(*lines, Text(board.totals_line(), style="bold")), refresh=True)
                await sleep(TICK_S)
    last: float | None = None
    try:
        while True:
            now = clock()
            if last is None or now - last >= every_s:
                _totals(board, out, wall_clock)
                last = now
            await sleep(TICK_S)
    finally:  # the jobs have ended (or stopped): their last line before the summary says so
        _totals(board, out, wall_clock)


def _totals(board: Board, out: TextIO, wall_clock: Callable[[], float]) -> None:
    """The board's totals line on `out`, after the ISO time of `wall_clock` (seconds since the epoch)."""
    stamp = datetime.fromtimestamp(wall_clock(), UTC).isoformat(timespec="seconds")
    print(f"{stamp} {board.totals_line()}", file=out, flush=True)


@asynccontextmanager
async def shown(board: Board, enabled: bool) -> AsyncIterator[None]:
    """Show `board` (show_board, on stderr) while the body runs, when `enabled`."""
    if not enabled:
        yield
        return
    async with anyio.create_task_group() as tg:
        tg.start_soon(show_board, board)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


def print_fleet(report: FleetReport, stream: TextIO | None = None) -> None:
    """The summary: a row per job (status, loaded, rejected, in doubt, reconciled, exit code), the totals (said to
    be those of stored reports where they are), why each job that did not finish stopped, and where each job's
    rejected and in-doubt rows are and what settles the latter. Names are never cut: folded on a narrow terminal,
    whole off one."""
    out = stream or sys.stdout
    width = None if out.isatty() else OFF_TERMINAL_WIDTH
    console = Console(file=out, highlight=False, soft_wrap=True, markup=False, width=width)
    table = Table(title=f"bulkload run {report.manifest}")
    for name in ("job", "agreement"):
        table.add_column(name, overflow="fold")
    table.add_column("status")
    for name in ("loaded", "rejected", "in doubt", "reconciled", "exit"):
        table.add_column(name, justify="right")
    for o in report.jobs:
        r = o.report
        figures = [f"{r.loaded:,}", f"{r.rejected:,}", f"{r.in_doubt:,}"] if r is not None else ["-", "-", "-"]
        reconciled = {True: "yes", False: "MISMATCH", None: "-"}[o.reconciled]
        # as every other output shows them: whole, but a name that is a credential's value (redact.keep)
        table.add_row(redact(o.name), redact(o.agreement), o.status, *figures, reconciled, str(o.exit_code))
    console.print(table)
    t = report.totals
    left = t.get("rows_not_sent", 0)  # stopped jobs' rows in no bucket (a report of an older bulkload: not counted)
    unsent = f", {left:,} not yet sent" if left else ""
    held = t["held_back"]
    # a total of a report from before it counted them: 0; each such job's line below says what to do
    resent = f"; {said}" if (said := resent_counted(t.get("resent_unfound", 0))) else ""
    console.print(
        f"{len(report.jobs)} job{'' if len(report.jobs) == 1 else 's'}, {t['rows_read']:,} rows read: "
        f"{t['loaded']:,} loaded, {t['rejected']:,} rejected, {t['in_doubt']:,} in doubt{held_back_said(held)}, "
        f"{t['skipped']:,} skipped{unsent}; {t['requests']:,} calls{_when(report)}{resent}; "
        f"exit {report.exit_code}"
    )
    for line in jobs_why(report):
        console.print(line)
    for o in report.jobs:
        for line in _rows_to_see(o):
            console.print(redact(f"{o.name}: {line}"))
    for run in report.left or ():
        console.print(redact(f"warning: {left_said(run, report.manifest)}"))


def jobs_why(report: FleetReport) -> list[str]:
    """`NAME: why` for each job that ended not clean with a reason (refused, failed or stopped), redacted: the
    summary's lines under its totals, and what -q writes on stderr."""
    said = []
    for o in report.jobs:
        why = o.error or (o.report.stop_reason if o.report is not None else None)
        if o.exit_code and why:  # a refusal that names the job already (`job 'a': …`) is not given its name twice
            said.append(redact(f"{o.name}: {why.removeprefix(f'job {o.name!r}: ')}"))
    return said


def left_said(left: LeftRun, manifest: str) -> str:
    """What a run left unfinished by a job taken out of the manifest (fleet.left_behind) holds, and the way on."""
    unsent = "" if left.rows_not_sent is None else f", {left.rows_not_sent:,} not yet sent"
    return (
        f"{left.job}: its run did not finish ({left.status}: {left.loaded:,} loaded, {left.in_doubt:,} in doubt"
        f"{unsent}; ledger {left.ledger}), and the manifest gives no job '{left.job}' now (taken out, or renamed?): "
        f"no total counts it and --resume does not continue it. Give the job back to the manifest as it was, then "
        f"`{manifest_command(manifest, resume=True)}`; or roll it back (`bulkload rollback --ledger "
        f"{pasted(left.ledger)}`, with its credentials) and move its folder out of the output_dir"
    )


def _when(report: FleetReport) -> str:
    """When the totals' calls were made: in this run's seconds, or (some or all) by the earlier runs whose reports
    the jobs show, and whether those runs had finished."""
    stored = [o for o in report.jobs if o.stored is True]
    if not stored:
        return f" in {report.elapsed_s:,.1f} s"
    # a job of this run: its report is this run's, or it has none and made calls (JobOutcome.requests)
    if not any(o.report is not None and o.stored is not True or o.requests for o in report.jobs):
        return f", every one by an earlier run: the figures are the jobs' stored reports ({_had(stored)})"
    theirs = "1 job are its stored report" if len(stored) == 1 else f"{len(stored)} jobs are their stored reports"
    return f" in {report.elapsed_s:,.1f} s and earlier: the figures of {theirs} ({_had(stored)})"


def _had(stored: list[JobOutcome]) -> str:
    """Whether the runs of the jobs showing stored reports had finished: a job refused for its unfinished run (run
    again without --resume) shows the report that run wrote where it stopped."""
    unfinished = [o.name for o in stored if o.report is None or o.report.status != "complete"]
    if not unfinished:
        return "it had finished" if len(stored) == 1 else "each had finished"
    finished = len(stored) - len(unfinished)
    where = "it" if len(unfinished) == 1 else "each"
    return (f"{finished} had finished; " if finished else "") + (
        f"{redact(', '.join(unfinished))} had not finished: the report of where {where} stopped"
    )


def job_unbalanced(outcome: JobOutcome) -> str:
    """What a job's report says of the groups it loaded that do not balance in the input (report.unbalanced_said);
    "" for none, or no report."""
    return "" if outcome.report is None else unbalanced_said(outcome.report)


def _rows_to_see(outcome: JobOutcome) -> list[str]:
    """Where the job's rejected rows and rows in doubt are, and what settles the latter (its report's way on); its
    groups skipped as an earlier run's that a rollback took out since (skipped_gone.taken_back_line)."""
    r = outcome.report
    if r is None:
        return []
    lines = []
    if r.rejected:
        where = ", ".join(r.rejects_files) if r.rejects_files else r.rejects_file
        lines.append(f"{r.rejected:,} rejected rows and their reasons: {where}")
    if r.in_doubt:
        where = f": {r.in_doubt_file}" if r.in_doubt_file else ""
        way_on = f"; {r.in_doubt_way_on}" if r.in_doubt_way_on else ""
        lines.append(f"{r.in_doubt:,} rows in doubt{held_back_said(counted(r, 'held_back'))}{where}{way_on}")
    if unbalanced := job_unbalanced(outcome):
        lines.append(f"warning: {unbalanced}")
    if resent := resent_said(r):
        lines.append(f"warning: {resent}")
    if taken := taken_back_line(r.reconcile):
        lines.append(taken)
    return lines
