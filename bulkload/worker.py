"""`bulkload worker`, `bulkload status` and `bulkload run MANIFEST --queue`: the command-line side of the queue
(queue.py). procrastinate and psycopg (the `postgres` extra) are imported only when one of these runs.

A worker takes the queue's jobs, `concurrency` at once (one agreement's jobs never two at once: their lock), sends
procrastinate a heartbeat every `stalled_after_s / 4` seconds, and every `stalled_after_s / 2` seconds puts back in
the queue any running job whose worker has sent none for `stalled_after_s` longer than the freshest worker (a worker
killed, a machine lost): the next worker free resumes it from its ledger (`retry_stalled`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio
import msgspec

from .errors import (
    EXIT_OK,
    EXIT_STOPPED,
    POSTGRES_EXTRA,
    UNREACHABLE_QUEUE,
    BulkloadError,
    ConfigError,
    QueueUnreachable,
    pasted,
)
from .logs import ROOT
from .results import held_back_said

if TYPE_CHECKING:
    from procrastinate import App

log = logging.getLogger(__name__)
#: the commands this module runs (cli.py hands them over)
COMMANDS = ("worker", "status", "withdraw")
#: seconds since the freshest heartbeat of any worker (0 where none is registered): how long PostgreSQL has gone
#: without one it could take, which no worker's silence is held against (retry_stalled)
_FRESHEST_HEARTBEAT_AGE = (
    "SELECT coalesce(extract(epoch FROM now() - max(last_heartbeat)), 0)::float8 AS age FROM procrastinate_workers"
)
#: seconds without a heartbeat after which a worker is taken for dead and its jobs are run by another; a worker
#: waits as long for a connection to the queue's PostgreSQL before it takes it for out of reach (run_worker)
STALLED_AFTER_S = 30.0
#: seconds a worker that lost the queue's PostgreSQL waits before trying again: the first wait, and the longest (each
#: twice the one before)
AGAIN_AFTER_S = (1.0, 30.0)
#: the longest reason the status column holds; a longer one (a way on: a command to paste) is printed whole under it
SHORT_REASON = 60
#: how `status -q` counts a running job whose worker has sent no heartbeat for STALLED_AFTER_S (`_silent`)
SILENT = "running with no worker heartbeat (its worker may be gone)"
#: the order in which `status -q` counts the jobs' states (any other after these)
STATE_ORDER = ("queued", "running", SILENT, "finished", "failed", "withdrawn", "cancelled")
#: jobs not clean that `status -q` names; the rest are counted
NAMED_NOT_CLEAN = 5
QUEUE_HELP = "the PostgreSQL that holds the queue: postgresql://user@host:port/database"


def queue_url(value: str) -> str:
    """A --queue value as argparse takes it: a postgresql:// URL (argparse.ArgumentTypeError, which never shows the
    value, for anything else, or one urllib cannot split: it may hold a password)."""
    from .ledger_pg import is_url, url_arg

    if not is_url(value):
        raise argparse.ArgumentTypeError("--queue takes a postgresql:// URL")
    return url_arg(value)


async def retry_stalled(app: App, stalled_after_s: float) -> None:
    """Forever: every `stalled_after_s / 2` seconds, put back in the queue the running jobs of workers that sent no
    heartbeat for `stalled_after_s` seconds longer than the freshest worker's (procrastinate's stalled jobs; a job
    another worker put back first is left alone). Heartbeats are judged against the freshest, not the clock alone:
    while PostgreSQL was out of reach no worker could send one, and each live worker's jobs put back as it came back
    ran twice (the second run refused, its ledger held by the first, and `status` showed the job queued while it
    loaded). A round that cannot reach PostgreSQL is passed over, the worker goes on."""
    from procrastinate.exceptions import ConnectorException

    while True:
        await anyio.sleep(stalled_after_s / 2)
        try:
            silent = await app.connector.execute_query_one_async(_FRESHEST_HEARTBEAT_AGE)
            stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s + silent["age"])
        except ConnectorException:
            continue  # PostgreSQL out of reach (before: the worker ended, an internal error, after 30 s of it)
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
            except ConnectorException:
                continue  # no longer running: another worker put it back, or it ended


class _JobLines(logging.Handler):
    """procrastinate's and psycopg's pool's lines, handed to bulkload's own handlers (stderr at its level,
    `--log-file`): a job that failed with one of bulkload's errors (a manifest changed, a run stopped) is one line
    with its reason, as `status` shows it, not a traceback; so is the queue's PostgreSQL out of reach (procrastinate's
    ConnectorException: before, 150 lines of tracebacks); any other error keeps its traceback. `lost`: the
    ConnectorException that ended one of procrastinate's side tasks (its heartbeat, its listener), which stops its
    worker as a signal does; `stopping`: its worker was asked to stop before any such end (SIGINT or SIGTERM: its
    "Stop requested", at INFO, which is not shown below `shown`, bulkload's level)."""

    lost: BaseException | None = None
    stopping = False

    def __init__(self, shown: int) -> None:
        super().__init__()
        self.shown = shown

    def emit(self, record: logging.LogRecord) -> None:
        from procrastinate.exceptions import ConnectorException

        from .queue import said

        if getattr(record, "action", None) == "stopping_worker" and self.lost is None:
            self.stopping = True
        if record.levelno < self.shown:
            return
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BulkloadError):
            record.msg, record.args = f"{record.getMessage()}: {error}", None
            record.exc_info = record.exc_text = None
        elif isinstance(error, ConnectorException):
            if getattr(record, "action", None) == "side_task_failed":
                self.lost = error
            out = f"the queue's PostgreSQL out of reach ({said(error)})"
            record.msg, record.args = record.getMessage().replace(repr(error), out).replace(str(error), out), None
            record.exc_info = record.exc_text = None
        logging.getLogger(__name__).handle(record)


#: the loggers whose lines `_job_lines` hands to bulkload's, and the level each is let through from (None: INFO,
#: where procrastinate says a stop was requested, shown from bulkload's own): psycopg's pool warns at each
#: connection it could not make, which the worker says once
_HANDED = (("procrastinate", None), ("psycopg", logging.ERROR))


@contextmanager
def _job_lines() -> Iterator[_JobLines]:
    """While in the context, procrastinate and psycopg's pool log as bulkload does (`_JobLines`, `_HANDED`)."""
    shown = logging.getLogger(ROOT).getEffectiveLevel()
    handler, loggers = _JobLines(shown), [(logging.getLogger(name), level) for name, level in _HANDED]
    before = [(logger.level, logger.propagate) for logger, _ in loggers]
    for logger, level in loggers:
        logger.addHandler(handler)
        logger.setLevel(level or min(shown, logging.INFO))
        logger.propagate = False
    try:
        yield handler
    finally:
        for (logger, _), (level, propagate) in zip(loggers, before, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


async def run_worker(
    url: str,
    *,
    concurrency: int = 4,
    stalled_after_s: float = STALLED_AFTER_S,
    again_after_s: tuple[float, float] = AGAIN_AFTER_S,
) -> None:
    """Run the queue's jobs at `url` until SIGINT or SIGTERM (each lets the running jobs finish first), at most
    `concurrency` at once; another worker takes this one's jobs over `stalled_after_s` seconds after it dies.

    PostgreSQL out of reach for longer than procrastinate waits (`stalled_after_s`) ends procrastinate's worker once
    its running jobs have ended (they stop resumable: their ledgers are in that PostgreSQL). This worker then says
    so on one line and tries again after `again_after_s[0]` seconds, twice as long each time, at most
    `again_after_s[1]`, until PostgreSQL is back, and takes jobs again (before: exit 4, "internal error", and no
    worker left to run the queue). QueueUnreachable (exit 2) where PostgreSQL cannot be reached as it starts: the
    URL or the server is wrong."""
    queue = _queue()  # first: ConfigError where the postgres extra is not installed
    from procrastinate.exceptions import ConnectorException

    asyncio.get_running_loop().set_exception_handler(_end_unrecorded)
    wait_s, reached, lost = again_after_s[0], False, False
    with _job_lines() as lines:
        while True:
            lines.lost = None
            try:
                async with queue.opened(url, wait_s=stalled_after_s) as app, anyio.create_task_group() as tg:
                    if lost:
                        log.warning("the queue's PostgreSQL is back: this worker takes jobs again")
                    wait_s, reached, lost = again_after_s[0], True, False
                    tg.start_soon(retry_stalled, app, stalled_after_s)
                    await app.run_worker_async(
                        queues=[queue.QUEUE],
                        name=queue.worker_label(),
                        concurrency=concurrency,
                        update_heartbeat_interval=stalled_after_s / 4,
                        stalled_worker_timeout=stalled_after_s,
                        fetch_job_polling_interval=1.0,
                    )
                    tg.cancel_scope.cancel()
                if lines.lost is None or lines.stopping:
                    return  # stopped by SIGINT or SIGTERM
                outage: BaseException | None = lines.lost  # back by the time its running jobs had ended
            except (ConnectorException, QueueUnreachable, BaseExceptionGroup) as exc:
                outage = _outage(exc, ConnectorException)
                if outage is None or not reached:
                    raise
                if lines.stopping:  # asked to stop, its jobs ended, and its end not recorded: PostgreSQL away
                    log.warning("this worker stops, its jobs ended: the queue's PostgreSQL is out of reach")
                    return
            said = queue.said(outage).removeprefix(UNREACHABLE_QUEUE)  # not said twice over
            lost = True
            tries_again = "the queue's PostgreSQL is out of reach (%s): this worker tries again in %g s"
            if await _stopped_within(wait_s, partial(log.warning, tries_again, said, wait_s)):
                log.warning("this worker stops, its jobs ended: it was waiting to reach the queue's PostgreSQL")
                return
            wait_s = min(wait_s * 2, again_after_s[1])


async def _stopped_within(wait_s: float, told: Callable[[], object]) -> bool:
    """Whether SIGINT or SIGTERM came within `wait_s` seconds (waiting to try the queue's PostgreSQL again, no job
    running): the worker stops as it does between jobs (before, SIGTERM killed it and Ctrl-C said "interrupted",
    exit 4). `told` says the wait once the signals are this wait's: said before, a Ctrl-C right after the line still
    met Python's own handler, "interrupted (Ctrl-C)", exit 4 (once in three runs of the suite on a busy machine)."""
    with anyio.move_on_after(wait_s), anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        told()
        async for _ in signals:
            return True
    return False


def _end_unrecorded(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's handler of an error no one awaited: a job whose end procrastinate could not record, the
    queue's PostgreSQL out of reach, is one line (before, a traceback: "Task exception was never retrieved"); it
    stays running in the queue, and is put back once PostgreSQL is back (retry_stalled). Any other as asyncio has it."""
    from procrastinate.exceptions import ConnectorException

    from .queue import said

    error, task = context.get("exception"), context.get("future")
    if isinstance(error, ConnectorException) and isinstance(task, asyncio.Task):
        log.warning(
            "%s: its end was not recorded, the queue's PostgreSQL out of reach (%s)", task.get_name(), said(error)
        )
    else:
        loop.default_exception_handler(context)


def _outage(exc: BaseException, connector_error: type[Exception]) -> BaseException | None:
    """The error in `exc` (itself, or the only one of its group) that says the queue's PostgreSQL is out of reach:
    procrastinate's `connector_error`, or bulkload's QueueUnreachable; None for any other."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, connector_error | QueueUnreachable) else None


def add_commands(sub: Any, output: argparse.ArgumentParser) -> None:
    """The `worker` and `status` commands' parsers, and `--queue` on the `run` command's (made before)."""
    sub.choices["run"].add_argument(
        "--queue",
        type=queue_url,
        metavar="URL",
        help="queue the jobs in this PostgreSQL for `bulkload worker`s to run, instead of running them here "
        "(postgresql://user@host:port/database)",
    )
    worker = sub.add_parser(
        "worker",
        help="run the jobs queued by `bulkload run MANIFEST --queue URL` (on any number of machines)",
        description="Run the jobs queued in PostgreSQL by `bulkload run MANIFEST --queue URL`, each within its "
        "agreement's limits shared by every worker; one agreement's jobs one at a time. A worker that dies leaves "
        "its jobs to the others, which resume them from their ledgers. Stops on Ctrl-C or SIGTERM once its "
        "running jobs end.",
        parents=[output],
    )
    worker.add_argument("--queue", required=True, type=queue_url, metavar="URL", help=QUEUE_HELP)
    worker.add_argument("--concurrency", type=int, default=4, metavar="N", help="jobs at once (default 4)")
    worker.add_argument(
        "--stalled-after",
        dest="stalled_after_s",
        type=float,
        default=STALLED_AFTER_S,
        metavar="S",
        help=f"seconds without a worker's heartbeat before its jobs go to another (default {STALLED_AFTER_S:g})",
    )
    status = sub.add_parser(
        "status",
        help="show every queued job's state and counts",
        description="Show every job queued in PostgreSQL: queued, running (on which worker), finished or failed, "
        "with its rows and requests so far. Exit 0 when every job has finished (each with its own exit code: the "
        "exit column), 4 while any is queued, running or failed, 2 where none was ever queued in the database (a "
        "mistyped name?). A job taken out of its manifest, which was then "
        "queued again, is withdrawn: over with. -q: one line, the jobs counted by state (a running job whose worker "
        "sent no heartbeat for 30 s apart) and those not clean named.",
        parents=[output],
    )
    status.add_argument("--queue", required=True, type=queue_url, metavar="URL", help=QUEUE_HELP)
    status.add_argument("--json", action="store_true", help="print the jobs as JSON, not a table")
    withdraw = sub.add_parser(
        "withdraw",
        help="withdraw a manifest's queued jobs, its file there or not (moved, deleted)",
        description="Withdraw the jobs queued from MANIFEST (the path it was queued by; the file need not be there "
        "now), or only the JOBs named: one still waiting is cancelled, one finished or failed is over with, and "
        "`bulkload status` no longer waits for them; one running ends as it ends (withdraw it again then). Their "
        "ledgers and outputs stay. Exit 0 when every one is withdrawn, 4 while one runs, 2 where none of that "
        "manifest (or name) was queued.",
        parents=[output],
    )
    withdraw.add_argument("--queue", required=True, type=queue_url, metavar="URL", help=QUEUE_HELP)
    withdraw.add_argument("manifest", metavar="MANIFEST", help="the manifest's path, as it was queued")
    withdraw.add_argument("jobs", nargs="*", metavar="JOB", help="the jobs to withdraw (default: every one)")


def _queue() -> ModuleType:
    """bulkload.queue; ConfigError (exit 2) where the postgres extra it needs is not installed (before, exit 4,
    "internal error": ModuleNotFoundError)."""
    try:
        from . import queue
    except ImportError as exc:
        raise ConfigError(f"the queue needs {exc.name or 'psycopg and procrastinate'}: {POSTGRES_EXTRA}") from None
    return queue


def command(ns: argparse.Namespace) -> int:
    """Run `worker`, `status` or `run MANIFEST --queue URL` as parsed."""
    if ns.command == "run":
        return enqueue(ns.queue, ns.manifest, json=ns.json)
    if ns.command == "worker":
        if ns.concurrency < 1 or ns.stalled_after_s <= 0:
            raise ConfigError("--concurrency must be at least 1 and --stalled-after more than 0")
        anyio.run(lambda: run_worker(ns.queue, concurrency=ns.concurrency, stalled_after_s=ns.stalled_after_s))
        return EXIT_OK
    if ns.command == "withdraw":
        return withdraw(ns.queue, ns.manifest, ns.jobs)
    states = anyio.run(_queue().job_states, ns.queue)
    if not states:  # before, an empty table and exit 0, as if every job had finished
        raise ConfigError(
            f"no job was ever queued in the database of {pasted(ns.queue)}: check the URL (a mistyped database "
            "name?); `bulkload run MANIFEST --queue URL` queues a manifest's jobs there"
        )
    if ns.json:
        print(msgspec.json.encode(states).decode())
    elif ns.quiet:
        print(quiet_states(states))
    else:
        print_states(states)
    done = all(s.state in ("finished", "withdrawn") for s in states)
    return EXIT_OK if done else EXIT_STOPPED


def withdraw(url: str, manifest: str, jobs: list[str]) -> int:
    """`bulkload withdraw --queue URL MANIFEST [JOB...]`: withdraw the jobs and say so, a line each; EXIT_OK when
    every one is withdrawn, EXIT_STOPPED while one runs. ConfigError as queue.withdraw raises it."""
    done = anyio.run(_queue().withdraw, url, manifest, jobs)
    for job in done:
        if job.state == "running":
            print(f"{job.name}: running on {job.worker}: not withdrawn; it ends as it ends, withdraw it again then")
        else:
            print(f"{job.name}: withdrawn")
    return EXIT_STOPPED if any(job.state == "running" for job in done) else EXIT_OK


def enqueue(url: str, manifest: str, *, json: bool = False) -> int:
    """`bulkload run MANIFEST --queue URL`: queue the manifest's jobs and say so."""
    queued = anyio.run(_queue().enqueue, url, manifest)
    if json:
        print(msgspec.json.encode(queued).decode())
        return EXIT_OK
    waiting = sum(1 for q in queued if q.id is None)
    print(
        f"queued {len(queued) - waiting} job{'' if len(queued) - waiting == 1 else 's'} of {manifest}"
        + (f" ({waiting} still waiting or running, not again)" if waiting else "")
    )
    at = pasted(url)  # without its password: PGPASSWORD or ~/.pgpass gives it
    print(f"run them with `bulkload worker --queue {at}`; watch them with `bulkload status --queue {at}`")
    return EXIT_OK


def print_states(states: list[Any]) -> None:
    """The jobs as a table on stdout: name, agreement, state (and worker), attempts, counts, report status (or, for
    a job not finished, why its last run ended); first the manifest, where jobs of more than one are queued. A
    reason longer than SHORT_REASON is printed whole under the table, on a line of its own, never cut (it holds the
    command to paste)."""
    from rich.console import Console
    from rich.table import Table

    from .queue import COUNTS

    table = Table(box=None, header_style="bold")
    manifests = len({s.manifest for s in states}) > 1  # two manifests' jobs may share a name: say whose
    columns = ("manifest",) * manifests + ("job", "agreement", "state", "attempts", *COUNTS, "status", "exit")
    for column in columns:
        table.add_column(column, justify="right" if column in (*COUNTS, "attempts", "exit") else "left")
    below: list[str] = []
    for s in states:
        state = f"running on {s.worker}" if s.state == "running" and s.worker else s.state
        if _silent(s):
            state += f" (no heartbeat for {s.silent_s:.0f} s: its worker may be gone)"
        # why a job failed, or waits to be retried: its last run's error says more than that run's "stopped"
        status = s.error if s.error and s.state != "finished" else s.status or ""
        if len(status) > SHORT_REASON:
            # a refusal that names the job already (`job 'a': …`) is not given its name twice
            said = status.removeprefix(f"job {s.name!r}: ")
            below.append(f"{s.manifest + ': ' if manifests else ''}job {s.name!r}: {said}")
            status = f"{s.status or s.state}: why below"
        # blank: a count its progress does not have (rows_not_sent while it runs), or its report could not count
        counts = ("" if (n := s.counts.get(c)) is None else str(n) for c in COUNTS)
        # the report's exit code: a job finished with rows rejected or in doubt is `complete`, and exits 1
        code = "" if s.exit_code is None else str(s.exit_code)
        cells = (s.name, s.agreement, state, str(s.attempts), *counts, status, code)
        table.add_row(*((s.manifest,) * manifests + cells))
    # piped (a script, a log), the table keeps its columns whole: rich would fit it into 80 columns
    console = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 240)
    console.print(table)
    for line in below:  # whole, on lines of their own: a terminal wraps them, nothing cuts them
        console.print(line, soft_wrap=True)


def _silent(s: Any) -> bool:
    """Whether job state `s` is running on a worker that has sent no heartbeat for STALLED_AFTER_S: a live worker
    puts such a job back after its --stalled-after, and with none alive it would look run for good."""
    return s.state == "running" and s.silent_s is not None and s.silent_s >= STALLED_AFTER_S


def quiet_states(states: list[Any]) -> str:
    """`bulkload status -q`: one line, the jobs counted by state (STATE_ORDER) and the first NAMED_NOT_CLEAN of
    those not clean named (failed, or finished with an exit code other than 0: its report's status and rows rejected
    and in doubt); why a job failed is the table's (without -q) or --json's."""
    by_state: dict[str, int] = {}
    for s in sorted(states, key=lambda s: (STATE_ORDER + (s.state,)).index(SILENT if _silent(s) else s.state)):
        # one whose worker is silent is not counted as running (before, it was: a dead worker's job looked alive)
        state = SILENT if _silent(s) else s.state
        by_state[state] = by_state.get(state, 0) + 1
    counted = ", ".join(f"{n} {state}" for state, n in by_state.items())
    whose = len({s.manifest for s in states}) > 1  # two manifests' jobs may share a name: say whose, as the table
    not_clean = [_not_clean(s, whose) for s in states if s.state == "failed" or (s.state == "finished" and s.exit_code)]
    named = ", ".join(not_clean[:NAMED_NOT_CLEAN]) + (
        f" and {len(not_clean) - NAMED_NOT_CLEAN} more" if len(not_clean) > NAMED_NOT_CLEAN else ""
    )
    jobs = f"{len(states)} job{'' if len(states) == 1 else 's'}"
    return f"bulkload status: {jobs}: {counted}; " + (
        f"not clean: {named}" if not_clean else "no job failed or finished not clean"
    )


def _not_clean(s: Any, whose: bool) -> str:
    """A job not clean as `status -q` names it: `b (complete, exit 1: 1 rejected, 0 in doubt)`, `c (failed)`, with
    `whose` its manifest too (`b of /srv/m.toml (…)`); rows in doubt held back unsent said as a run's `-q` line says
    them (results.held_back_said)."""
    name = f"{s.name} of {s.manifest}" if whose else s.name
    if s.state == "failed":
        return f"{name} (failed)"
    c = s.counts
    held = held_back_said(c.get("held_back") or 0)
    rows = f": {c.get('rejected', 0):,} rejected, {c.get('in_doubt', 0):,} in doubt{held}" if c else ""
    return f"{name} ({s.status}, exit {s.exit_code}{rows})"
