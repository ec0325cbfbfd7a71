"""A manifest's jobs as a queue in PostgreSQL, handed to workers by procrastinate (issue 16: no home-made cluster).

`bulkload run MANIFEST --queue URL` calls `enqueue`: one procrastinate job per manifest job, task `TASK`, with the
agreement as its lock (procrastinate runs the jobs of one lock one at a time, in the order they were queued: one
agreement is never loaded by two workers at once) and the manifest and job name as its queueing lock (a job already
waiting is not queued twice). `bulkload worker` (worker.py) runs `load_job` for each: the job's own run
(fleet.run_job, resumed from its ledger when one exists: the same idempotency keys) within the agreement's budget
in PostgreSQL (shared_limits.py), its counts written to `bulkload_queue` as it goes and its report when it ends.
A job that stops resumable (exit 4: a quota spent, retries exhausted) is retried by procrastinate (`RETRY`); a job
whose worker died is put back in the queue by another worker (worker.retry_stalled) and resumed the same way.

`job_states` is what `bulkload status` shows: each job's state (queued, running on which worker, finished,
failed) and its counts. The workers read the manifest and the input files at the path given to `enqueue` and
write each job's ledger, rejects and report in the manifest's output_dir: the workers share that directory (one
machine, or a shared file system).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import psycopg
from msgspec import UNSET
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.schema import SchemaManager

from . import account, fleet, ledger_pg, run_by, shared_limits
from .across_jobs import check_groups
from .errors import (
    EXIT_STOPPED,
    EXIT_USAGE,
    UNREACHABLE_QUEUE,
    AuthError,
    BulkloadError,
    ConfigError,
    LedgerUnavailable,
    QueueUnreachable,
    RunStopped,
    TokenRefused,
    pasted,
)
from .manifest import QUEUED_AGAIN, Manifest, ManifestJob, continued_by, read_manifest
from .progress import Snapshot
from .redact import redact, register, without_password
from .results import Report, counted
from .run import Run, Shared

#: the procrastinate task and queue of a manifest's job
TASK = "bulkload.load_job"
QUEUE = "bulkload"
#: a job that stopped resumable (the quota, retries spent, PostgreSQL gone a moment: the queue's connection or the
#: ledger's, lost or not to be had as the job starts, its ledger still held by a worker taken for dead) goes back in
#: the queue: after 5 s, 15 s, 25 s, … at most 20 times. Only those: a refusal for the job's settings (exit 2, a
#: ConfigError of any class) fails it for good (docs/workers.md); a ledger or queue not to be had now
#: (LedgerUnavailable, queue.connect's refusal) is made a stop by run_queued
RETRY = RetryStrategy(
    max_attempts=20,
    wait=5,
    linear_wait=10,
    retry_exceptions={RunStopped, psycopg.OperationalError, ledger_pg.ConnectionLost},
)
#: the calls in flight a queued job's run is let share with others (fleet.Shared): none do, so no cap
UNCAPPED = 1_000_000
#: seconds between two writes of a running job's counts
PROGRESS_S = 2.0
#: the lock every enqueuer and worker takes to create the tables (one transaction: the first one makes them)
_SCHEMA_LOCK = 0x71756575  # "queu"

TABLE = """
CREATE TABLE IF NOT EXISTS bulkload_queue (
    job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
    manifest text NOT NULL,
    name text NOT NULL,
    agreement text NOT NULL,
    worker text,
    counts text,
    report text,
    error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- a job over (finished or failed) that its manifest no longer has when the manifest is queued again
ALTER TABLE bulkload_queue ADD COLUMN IF NOT EXISTS withdrawn_at timestamptz;
-- a job refused for its settings without a report of that (exit 2: its manifest read or checked as it started)
ALTER TABLE bulkload_queue ADD COLUMN IF NOT EXISTS exit_code integer;
-- the run whose end `error` says: procrastinate's attempts as it ran (0 for the first)
ALTER TABLE bulkload_queue ADD COLUMN IF NOT EXISTS error_attempt integer;
-- the folder of the job's outputs (rejects, report, success file), as the worker that last began it found it
ALTER TABLE bulkload_queue ADD COLUMN IF NOT EXISTS out_dir text;
"""

#: the counts `bulkload status` shows, from a running job's progress or a finished job's report (`held_back`: of
#: those in doubt, the rows of calls held back unsent when a ledger write failed, Report.held_back; `rows_not_sent`:
#: a report's only, LATE_COUNTS)
COUNTS = ("rows_read", "loaded", "rejected", "in_doubt", "held_back", "skipped", "rows_not_sent", "requests")
#: counts a running job's progress does not have, nor a report of an older bulkload: absent then, and null where the
#: report could not count them (Report.rows_not_sent: the rows of a stopped run's inputs in no bucket)
LATE_COUNTS = ("rows_not_sent",)


class JobState(msgspec.Struct, kw_only=True):
    """One queued job as `bulkload status` shows it: `state` queued | running | finished | failed | cancelled
    (procrastinate's todo, doing, succeeded, failed, cancelled or aborted); `worker` host:pid of the worker running
    it now or last; `attempts`: its runs that ended (a job finished at once: 1); `counts`: COUNTS, live while it
    runs; `status` and `exit_code` of its report once it has one (`exit_code` 2 for a job refused for its settings,
    with a report or without); `error`: why its last run ended without a report (then retried, or failed), or
    that it ended without a word to the queue (which it could not reach as it began), and why the run before it
    ended."""

    id: int
    name: str
    agreement: str
    state: str
    #: the manifest it was queued from (its path as queued): two manifests' jobs may share a name
    manifest: str = ""
    attempts: int
    worker: str | None = None
    counts: dict[str, int | None] = {}
    status: str | None = None
    exit_code: int | None = None
    error: str | None = None
    #: a running job's: seconds since the last heartbeat of the worker running it (None: not running, or its
    #: worker's row gone, pruned as dead): a worker killed leaves its job `doing` until a live worker puts it back
    silent_s: float | None = None


class Queued(msgspec.Struct, kw_only=True):
    """A job `enqueue` handed over: its procrastinate id, or None when the same job was still waiting or running."""

    name: str
    agreement: str
    id: int | None


async def connect(url: str) -> psycopg.AsyncConnection[Any]:
    """A connection to the queue's PostgreSQL (autocommit); QueueUnreachable when it cannot be made (the message names
    the server's answer, never the URL: it may hold a password)."""
    register(urllib.parse.unquote(urllib.parse.urlsplit(url).password or ""))
    try:
        return await psycopg.AsyncConnection.connect(url, autocommit=True)
    except psycopg.Error as exc:  # unreachable, or a URL libpq cannot read (ProgrammingError)
        raise QueueUnreachable(f"{UNREACHABLE_QUEUE}{said(exc)}") from None


def said(exc: BaseException) -> str:
    """What PostgreSQL's driver said of `exc` or the error it was raised from (procrastinate's ConnectorException
    says only "Database error"): its first line, redacted."""
    while (isinstance(exc, ConnectorException) or not str(exc).strip()) and exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip()
    return redact(text.splitlines()[0]) if text else type(exc).__name__


def worker_label() -> str:
    """This process as `bulkload status` names the worker running a job: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


#: the tables and indexes `ensure_schema` makes (procrastinate's by its jobs table), and the columns added since
_MADE = ("procrastinate_jobs", *re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", TABLE + shared_limits.SCHEMA))
_ADDED = tuple(re.findall(r"ADD COLUMN IF NOT EXISTS (\w+)", TABLE))


async def _schema_made(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether every table, index and column `ensure_schema` makes is there, and the budget's salt: read from the
    catalog, which locks no table (the salt's read waits only behind a change of its table)."""
    cur = await conn.execute(
        "SELECT bool_and(to_regclass(name) IS NOT NULL) AND (SELECT count(*) FROM pg_attribute WHERE "
        "attrelid = to_regclass('bulkload_queue') AND attname = ANY(%s) AND NOT attisdropped) = %s "
        "FROM unnest(%s::text[]) AS name",
        (list(_ADDED), len(_ADDED), list(_MADE)),
    )
    row = await cur.fetchone()
    if not (row and row[0]):
        return False
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM bulkload_budget_salt)")
    row = await cur.fetchone()
    return bool(row and row[0])


async def ensure_schema(url: str) -> None:
    """Create procrastinate's tables, `bulkload_queue` and the shared budget's tables where they are not yet
    (the first enqueuer or worker makes them, under an advisory lock). ConfigError when the server cannot be
    reached."""
    async with await connect(url) as conn:
        # made already: no DDL, which locks its tables even where it changes nothing. Before, a worker started (or a
        # manifest queued) while another worker was frozen (SIGSTOP, a paused VM) inside a call's transaction on the
        # budget's table waited for it for good holding bulkload_queue's exclusive lock, and every worker and
        # `bulkload status` waited behind it
        if await _schema_made(conn):
            return
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
            row = await cur.fetchone()
            if not (row and row[0]):
                await conn.execute(SchemaManager.get_schema())
            await conn.execute(TABLE)
            await shared_limits.create_schema(conn)


def make_app(url: str, *, wait_s: float | None = None) -> App:
    """The procrastinate app on the PostgreSQL at `url`, with the task that runs a manifest's job; its queries wait
    at most `wait_s` seconds for a connection (psycopg's pool's timeout, 30 s where None; then procrastinate's
    ConnectorException)."""
    connector = PsycopgConnector(conninfo=url) if wait_s is None else PsycopgConnector(conninfo=url, timeout=wait_s)
    app = App(connector=connector)

    @app.task(name=TASK, queue=QUEUE, pass_context=True, retry=RETRY)
    async def load_job(context: JobContext, manifest: str, job: str, account: str | None = None) -> dict[str, Any]:
        assert context.job.id is not None
        return await run_queued(url, context.job.id, manifest, job, account)

    return app


async def enqueue(url: str, manifest_path: str) -> list[Queued]:
    """Queue every job of the manifest at `manifest_path` (checked first: ConfigError as `bulkload run` gives it),
    each locked by its agreement. A job still waiting in the queue or running is not queued again (its id is None):
    a second queueing of a running job would clash with its own retry (procrastinate's queueing lock) and wait
    behind it for good. Each job's folder is taken for the queue (run_by.take): ConfigError, nothing queued, where
    `bulkload run` without --queue has one."""
    manifest = await checked(manifest_path)

    def started(mjob: ManifestJob) -> bool:  # a worker made its ledger: its groups are an earlier run's
        return fleet.ledger_status(ledger_pg.ledger_url(url, str(manifest.path), mjob.name)) is not None

    await anyio.to_thread.run_sync(check_groups, manifest, started)
    for mjob in manifest.jobs:  # none queued where `bulkload run` without --queue has one (run_by.take)
        await anyio.to_thread.run_sync(run_by.check, mjob, url)
    await ensure_schema(url)
    app = make_app(url)
    queued: list[Queued] = []
    async with app.open_async(), await connect(url) as conn:
        task = app.tasks[TASK]
        salt = await shared_limits.salt_of(conn)
        for mjob in manifest.jobs:
            if await _in_queue(conn, str(manifest.path), mjob.name):  # running: queued again, its retry would clash
                queued.append(Queued(name=mjob.name, agreement=mjob.agreement, id=None))
                continue
            await anyio.to_thread.run_sync(run_by.take, mjob, url)
            deferrer = task.configure(
                lock=f"bulkload-agreement:{mjob.agreement}", queueing_lock=f"{manifest.path}#{mjob.name}"
            )
            # the account goes with the job itself (account.fingerprint under the budget's salt, never a value;
            # None where the shell has none of the credentials): a worker may take it before its row is written
            account_of = _account_of(mjob, salt)
            try:
                job_id = await deferrer.defer_async(manifest=str(manifest.path), job=mjob.name, account=account_of)
            except AlreadyEnqueued:
                queued.append(Queued(name=mjob.name, agreement=mjob.agreement, id=None))
                continue
            await _job_row(conn, job_id, str(manifest.path), mjob, None)
            queued.append(Queued(name=mjob.name, agreement=mjob.agreement, id=job_id))
        # a job taken out of the manifest is over with: status no longer waits for it. One still waiting is
        # cancelled first (it would fail, finding itself gone from the manifest); one running ends as it ends
        names = [mjob.name for mjob in manifest.jobs]
        cur = await conn.execute(
            "SELECT q.job_id FROM bulkload_queue q JOIN procrastinate_jobs j ON j.id = q.job_id "
            "WHERE q.manifest = %s AND NOT (q.name = ANY(%s)) AND j.status = 'todo'",
            (str(manifest.path), names),
        )
        for (waiting,) in await cur.fetchall():
            await app.job_manager.cancel_job_by_id_async(waiting)
        await conn.execute(
            "UPDATE bulkload_queue q SET withdrawn_at = now() FROM procrastinate_jobs j WHERE j.id = q.job_id "
            "AND q.manifest = %s AND q.withdrawn_at IS NULL AND NOT (q.name = ANY(%s)) "
            "AND j.status NOT IN ('todo', 'doing')",
            (str(manifest.path), names),
        )
    return queued


class Withdrawal(msgspec.Struct, kw_only=True):
    """What `withdraw` did with one job: `state` `withdrawn` (over with: cancelled where it was still waiting, or
    ended before) or `running` (on `worker`: it ends as it ends, and is withdrawn by a withdrawal once it has)."""

    name: str
    state: str
    worker: str | None = None


async def withdraw(url: str, manifest_path: str, names: list[str]) -> list[Withdrawal]:
    """Withdraw the jobs queued from the manifest at `manifest_path` (the path they were queued by, made absolute as
    `bulkload run --queue` makes it; the file need not be there: moved or deleted since) — those of `names`, or
    every one where `names` is empty — as `enqueue` withdraws a job its manifest no longer has: one still waiting
    is cancelled, one over (finished, failed) is marked withdrawn, and `bulkload status` no longer waits for them;
    one running is left to end (`running`). Their ledgers stay (a PostgreSQL schema each), and so do their outputs.
    ConfigError, nothing withdrawn, where no job of that manifest (or of a name given) was queued, naming the
    manifests that were."""
    path = str(Path(manifest_path).absolute())
    await ensure_schema(url)
    app = make_app(url)
    async with app.open_async(), await connect(url) as conn:
        cur = await conn.execute(
            "SELECT DISTINCT ON (q.name) q.name, q.job_id, j.status::text, q.worker, q.withdrawn_at IS NOT NULL "
            "FROM bulkload_queue q JOIN procrastinate_jobs j ON j.id = q.job_id WHERE q.manifest = %s "
            "ORDER BY q.name, q.job_id DESC",
            (path,),
        )
        latest = {row[0]: row[1:] for row in await cur.fetchall()}
        unknown = [name for name in names if name not in latest]
        if not latest or unknown:
            cur = await conn.execute("SELECT DISTINCT manifest FROM bulkload_queue ORDER BY manifest")
            queued = ", ".join(pasted(row[0]) for row in await cur.fetchall()) or "none"
            what = f"no job {', '.join(map(repr, unknown))} of" if latest else "no job of"
            raise ConfigError(
                f"{what} the manifest {path} was ever queued in the database of {without_password(url)} (the "
                f"manifests queued there: {queued}); give the manifest's path as it was queued; nothing was withdrawn"
            )
        done: list[Withdrawal] = []
        for name in names or list(latest):
            job_id, status, worker, withdrawn = latest[name]
            if status in ("doing", "aborting") and not withdrawn:
                done.append(Withdrawal(name=name, state="running", worker=worker))
                continue
            # procrastinate cancels a job only while it waits: one a worker took since it was looked at runs
            if status == "todo" and not await app.job_manager.cancel_job_by_id_async(job_id):
                cur = await conn.execute("SELECT worker FROM bulkload_queue WHERE job_id = %s", (job_id,))
                taken = await cur.fetchone()
                done.append(Withdrawal(name=name, state="running", worker=taken[0] if taken else None))
                continue
            await conn.execute(
                "UPDATE bulkload_queue SET withdrawn_at = coalesce(withdrawn_at, now()) WHERE manifest = %s "
                "AND name = %s",
                (path, name),
            )
            done.append(Withdrawal(name=name, state="withdrawn"))
    return done


async def run_queued(
    url: str, job_id: int, manifest_path: str, name: str, account: str | None = None
) -> dict[str, Any]:
    """Run one queued job (procrastinate job `job_id`: `name` of the manifest at `manifest_path`; `account`: the
    fingerprint of the account the queueing shell's credentials named, as the job was deferred with it, None where
    it named none or an older bulkload queued it) in this worker:
    a new load, or the run its ledger holds resumed with the same idempotency keys, within the agreement's budget
    shared by every worker. Returns its report's counts and status; raises RunStopped for a run that stopped
    resumable, or whose ledger or queue cannot be had now (procrastinate retries it: `RETRY`), ConfigError for a job
    to correct (not retried: its credentials refused, a manifest changed since or refused as `bulkload run` refuses
    it, any refusal with exit 2). Why it raised is kept for `bulkload status` (JobState.error), whatever it was, where
    the queue's PostgreSQL can be reached."""
    # two connections: the budget's calls take turns on one, the job's counts go over the other meanwhile
    async with await _reach(url, name) as conn, await _reach(url, name) as budget_conn:
        try:
            report = await _run(url, conn, budget_conn, job_id, manifest_path, name, account)
        except LedgerUnavailable as exc:  # held by a worker taken for dead, PostgreSQL gone a moment: retried
            stopped = RunStopped(f"job {name!r} stopped: {exc}")
            await _record_error(url, conn, job_id, stopped)
            raise stopped from exc
        except ConfigError as exc:  # refused for its settings: never retried, it is queued again once corrected
            refused = _queued_again(exc, manifest_path, url)
            await _record_error(url, conn, job_id, refused, exit_code=EXIT_USAGE)
            if refused is exc:
                raise
            raise refused from exc
        except Exception as exc:  # whatever ends it without a report, or with one it stopped in: status says why
            await _record_error(url, conn, job_id, exc)
            raise
    return {"status": report.status, "exit_code": report.exit_code, **counts_of(report)}


def _queued_again(exc: ConfigError, manifest_path: str, url: str) -> ConfigError:
    """`exc`, a queued job's refusal for its settings, ending with the queue's way on for it (`bulkload run MANIFEST
    --queue URL`, queued again: manifest.QUEUED_AGAIN) where it names none: a refusal before the job's run began
    (its manifest read or checked as `bulkload run` does) says only what is wrong."""
    again = continued_by({"manifest": manifest_path, "queue": without_password(url)})
    if again is None or f"`{again}`" in str(exc):
        return exc
    if not os.path.exists(manifest_path):  # moved or deleted since it was queued: its jobs are queued by that path
        at = pasted(url)
        return exc.advised(
            f"put the manifest back at {pasted(manifest_path)}, then `{again}`{QUEUED_AGAIN}; or, moved for good, "
            f"queue it from where it is now and withdraw the jobs queued by this path: `bulkload withdraw --queue "
            f"{at} {pasted(manifest_path)}`"
        )
    return exc.advised(f"then `{again}`{QUEUED_AGAIN}")


async def _reach(url: str, name: str) -> psycopg.AsyncConnection[Any]:
    """A connection of job `name` to the queue's PostgreSQL (`connect`); RunStopped when there is none to be had:
    the server out of reach a moment (a restart) is no setting to correct, and the job is retried (`RETRY`) as for a
    connection lost midway (`_lost`). The URL is the one the worker took the job from: it is no setting of the
    job's."""
    try:
        return await connect(url)
    except QueueUnreachable as exc:
        raise RunStopped(f"job {name!r} stopped: {exc}") from exc


async def _run(
    url: str,
    conn: psycopg.AsyncConnection[Any],
    budget_conn: psycopg.AsyncConnection[Any],
    job_id: int,
    manifest_path: str,
    name: str,
    account: str | None,
) -> Report:
    """run_queued's job on its two connections (`conn`: its row in `bulkload_queue`; `budget_conn`: the
    agreement's budget), its report written to its row; raises as run_queued does, for run_queued to record why."""
    # the manifest as it is now: changed or gone since it was queued, or refused as `bulkload run` refuses it
    mjob = _job(await checked(manifest_path), name)
    ledger = ledger_pg.ledger_url(url, manifest_path, name)
    mjob = dataclasses.replace(mjob, settings={**mjob.settings, "ledger": ledger}, queue=without_password(url))
    await _job_row(conn, job_id, manifest_path, mjob, worker_label())
    salt = await _salt(budget_conn)
    _same_account(mjob, salt, account)
    await _own_outputs(conn, job_id, manifest_path, mjob)
    lag = shared_limits.LoopLag()
    budget = shared_limits.SharedBudget(budget_conn, mjob.agreement, lag=lag.worst_s, salt=salt)
    token = shared_limits.BUDGET.set(budget)
    try:
        report = fleet.in_manifest(await _with_progress(conn, job_id, mjob, lag), mjob)  # its way on: the queue's
    except (AuthError, TokenRefused, ConfigError) as exc:  # refused for its settings or credentials (an AuthError
        # is exit 2, yet no ConfigError): said in the manifest's words, as `bulkload run` says them (fleet.failed):
        # before, a queued job's binary file was told `give --encoding utf-16-le` (tester t69c)
        said = fleet.manifest_words(str(exc), mjob, refused=True)
        if not isinstance(exc, ConfigError):
            raise ConfigError(said) from exc
        if said == str(exc):
            raise
        raise exc.retold(said) from exc
    finally:
        shared_limits.BUDGET.reset(token)
    report_text = msgspec.json.encode(report).decode()
    await _record(conn, job_id, "report = %s, counts = %s", report_text, _encode(counts_of(report)))
    if report.exit_code == EXIT_STOPPED:  # to be retried
        raise RunStopped(f"job {name!r} stopped: {report.stop_reason or 'resumable'}", report=report)
    if report.exit_code == EXIT_USAGE:  # failed for good (credentials refused)
        raise ConfigError(f"job {name!r} stopped: {report.stop_reason or 'its settings'}")
    return report


def _account_of(mjob: ManifestJob, salt: bytes) -> str | None:
    """The API account this process's credentials for `mjob` name (account.fingerprint under the queue's `salt`: 32
    hex digits, never a value); None where it has none of them (a shell without the workers' credentials), they or
    the job's settings cannot be read (the job fails alone when it runs), or no credential names the target's
    account (Visma Core's bearer token)."""
    try:
        job = mjob.job()
        target = job.make_target()
        credentials = job.credentials(job.config_credentials)
    except BulkloadError:
        return None
    if not target.credentials.account_names:
        return None
    return account.fingerprint(salt, job, target, credentials)


def _same_account(mjob: ManifestJob, salt: bytes, queued_for: str | None) -> None:
    """Before the job's first call: ConfigError (never retried) where the credentials of the shell that queued it
    named an API account (`queued_for`: its fingerprint, as the job was deferred with it; None where that shell had
    none of them, or a bulkload before 2026-12-07 queued it) and this worker's name another one. The queue is every
    manifest's, and workers started for one manifest take another's jobs: their variables of one name
    (`OTHER_GRANT`) may hold another agreement's token, and the job's files would be loaded into that agreement."""
    mine = _account_of(mjob, salt)
    if queued_for is None or mine is None or mine == queued_for:
        return
    names = mjob.unsigned().make_target().credentials
    raise ConfigError(
        f"job {mjob.name!r}: its credentials in this worker's environment ({mjob.credentials_from(names.account_names)}"
        f") are for another {names.account_noun} than those of the shell that queued it (the queue keeps a keyed "
        f"fingerprint of them, never their values): the worker would load the job's files into that other "
        f"{names.account_noun}. Set {mjob.credentials_setting()} to the job's {names.account_noun}'s credentials "
        "where the workers run and start those workers again, or, where the shell that queued it had the wrong ones, "
        "queue the manifest again from a shell with the right ones; nothing was sent"
    )


async def checked(manifest_path: str) -> Manifest:
    """The manifest at `manifest_path` as `bulkload run` checks it before its first call (read_manifest, then
    fleet.check_accounts: no two agreements' jobs into one API account; fleet.check_paths: no job's output on a file
    a job reads), with the credentials of this process's
    environment: when it is queued, and again by the worker that runs one of its jobs, since it may have been
    edited in between. ConfigError as `bulkload run` gives it."""
    manifest = read_manifest(manifest_path)
    await anyio.to_thread.run_sync(fleet.check_accounts, manifest, None)
    fleet.check_paths(manifest)
    return manifest


async def _salt(conn: psycopg.AsyncConnection[Any]) -> bytes:
    """The salt the agreements' budgets are named by (shared_limits.salt_of); RunStopped when the queue's connection
    is lost (`_lost`)."""
    with _lost():
        return await shared_limits.salt_of(conn)


def counts_of(figures: Report | Snapshot) -> dict[str, int | None]:
    """COUNTS of a finished job's report, or of a running one's progress (results.counted); of LATE_COUNTS only
    those `figures` has, an int or None (not known)."""
    counts: dict[str, int | None] = {}
    for key in COUNTS:
        if key not in LATE_COUNTS:
            counts[key] = counted(figures, key)
        elif isinstance(value := getattr(figures, key, UNSET), int | None):
            counts[key] = value
    return counts


def _job(manifest: Manifest, name: str) -> ManifestJob:
    for mjob in manifest.jobs:
        if mjob.name == name:
            return mjob
    raise ConfigError(f"the manifest {manifest.path} has no job {name!r} (changed since it was queued?)")


async def _with_progress(
    conn: psycopg.AsyncConnection[Any], job_id: int, mjob: ManifestJob, lag: shared_limits.LoopLag
) -> Report:
    """fleet.run_job, its counts written for `bulkload status` every PROGRESS_S while it runs, the event loop's
    lateness measured by `lag` meanwhile (for the shared budget's windows)."""
    runs: list[Run] = []
    # no cap of its own: the job's concurrency caps its calls, and a worker runs --concurrency jobs at most
    shared = Shared(anyio.CapacityLimiter(UNCAPPED), opened=runs.append)

    async def progress() -> None:
        while True:
            await anyio.sleep(PROGRESS_S)
            if runs:
                counts = _encode(counts_of(runs[-1].snapshot()))
                with anyio.CancelScope(shield=True):  # a query cancelled midway closes the connection
                    try:
                        await _record(conn, job_id, "counts = %s", counts)
                    except RunStopped:  # the queue's connection lost: the run goes on, its end says so
                        return

    failed: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(progress)
        tg.start_soon(lag.run)
        try:
            report = await fleet.run_job(mjob, resume=True, shared=shared)
        except Exception as exc:  # raised as it is, not in a group: procrastinate retries by its type (RETRY)
            failed = exc
        tg.cancel_scope.cancel()
    if failed is not None:
        raise failed
    return report


def _encode(counts: dict[str, int | None]) -> str:
    return msgspec.json.encode(counts).decode()


async def _job_row(
    conn: psycopg.AsyncConnection[Any], job_id: int, manifest: str, mjob: ManifestJob, worker: str | None
) -> None:
    """The job's `bulkload_queue` row, made by whichever comes first: the enqueuer after procrastinate has the job, or
    the worker that already took it (then naming itself, its error of an earlier run cleared). RunStopped when the
    queue's connection is lost (`_lost`)."""
    with _lost():
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO bulkload_queue (job_id, manifest, name, agreement, worker) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (job_id) DO UPDATE SET worker = coalesce(EXCLUDED.worker, bulkload_queue.worker), "
                "error = CASE WHEN EXCLUDED.worker IS NULL THEN bulkload_queue.error END, updated_at = now()",
                (job_id, manifest, mjob.name, mjob.agreement, worker),
            )


async def _own_outputs(conn: psycopg.AsyncConnection[Any], job_id: int, manifest: str, mjob: ManifestJob) -> None:
    """Take the folder of the job's outputs for it (its `out_dir` in `bulkload_queue`), or ConfigError when a job of
    another manifest queued here writes there (two manifests in one folder with one output_dir, each with a job of
    one name; one manifest queued under two spellings of its path): their ledgers are two, in PostgreSQL, and
    nothing else would keep one job's rejects, report and success file from replacing the other's. A job withdrawn
    since gives its folder up. RunStopped when the queue's connection is lost (`_lost`)."""
    out_dir = os.path.realpath(mjob.out_dir)
    with _lost():
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"bulkload-outputs:{out_dir}",)
            )
            cur = await conn.execute(
                "SELECT manifest, name FROM bulkload_queue WHERE out_dir = %s AND withdrawn_at IS NULL "
                "AND NOT (manifest = %s AND name = %s) ORDER BY job_id LIMIT 1",
                (out_dir, manifest, mjob.name),
            )
            other = await cur.fetchone()
            if other is None:
                await conn.execute("UPDATE bulkload_queue SET out_dir = %s WHERE job_id = %s", (out_dir, job_id))
    if other is not None:
        raise ConfigError(
            f"job {mjob.name!r} of the manifest {manifest} writes its rejects, report and success file in {out_dir}, "
            f"where job {other[1]!r} of the manifest {other[0]}, queued in this queue, writes its own: one would "
            "replace the other's record of the rows rejected or in doubt. Give one of the manifests another output_dir"
        )


async def _in_queue(conn: psycopg.AsyncConnection[Any], manifest: str, name: str) -> bool:
    """Whether job `name` of `manifest` waits in the queue or runs (a worker's, or a dead worker's until another
    puts it back)."""
    cur = await conn.execute(
        "SELECT 1 FROM bulkload_queue q JOIN procrastinate_jobs j ON j.id = q.job_id "
        "WHERE q.manifest = %s AND q.name = %s AND j.status IN ('todo', 'doing')",
        (manifest, name),
    )
    return await cur.fetchone() is not None


async def _record(conn: psycopg.AsyncConnection[Any], job_id: int, assignments: str, *values: object) -> None:
    """Set columns of the job's `bulkload_queue` row (`assignments`: "col = %s, …" with `values`); RunStopped when
    the queue's connection is lost (`_lost`)."""
    with _lost():
        async with conn.transaction():
            await conn.execute(
                f"UPDATE bulkload_queue SET {assignments}, updated_at = now() WHERE job_id = %s",
                (*values, job_id),
            )


@contextlib.contextmanager
def _lost() -> Iterator[None]:
    """psycopg's OperationalError on the queue's connection (PostgreSQL restarted, the session terminated, the
    network cut) as RunStopped naming it: the job is retried (RETRY), and the worker logs its reason, not a
    traceback (docs/workers.md)."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise RunStopped(f"the queue's PostgreSQL connection was lost: {said(exc)}") from exc


async def _record_error(
    url: str, conn: psycopg.AsyncConnection[Any], job_id: int, exc: Exception, *, exit_code: int | None = None
) -> None:
    """Why the job's run ended without a report, or stopped to be retried (`bulkload status` shows it), and with
    `exit_code` (2 for a refusal of its settings) its exit code, on a new connection when the job's own was lost
    with PostgreSQL; left out when PostgreSQL is still out of reach (procrastinate's record of the job says it
    failed, or is retried)."""
    reason = redact(str(exc) or type(exc).__name__)
    with contextlib.suppress(psycopg.Error, RunStopped):
        await _record(conn, job_id, _ERROR, reason, exit_code)
        return
    with contextlib.suppress(psycopg.Error, RunStopped, ConfigError):
        async with await connect(url) as again:
            await _record(again, job_id, _ERROR, reason, exit_code)


#: why a run ended, its exit code, and which run it was (the job's procrastinate attempts while it runs)
_ERROR = (
    "error = %s, exit_code = %s, "
    "error_attempt = (SELECT j.attempts FROM procrastinate_jobs j WHERE j.id = bulkload_queue.job_id)"
)


def _latest(error: str | None, of_run: int | None, attempts: int, state: str) -> str | None:
    """Why the job's latest run ended, for `bulkload status`: `error` where it is that run's (`of_run`: the
    procrastinate attempts it was recorded at, None from a bulkload before it kept them), else that a later run
    (`attempts`: the runs that ended) ended without a word to the queue, which it could not reach as it began (or
    its worker was lost before then), then `error` as the run's it is of. A running job's is its last run's."""
    if error is None or of_run is None or state == "running" or attempts <= of_run + 1:
        return error
    return (
        f"run {attempts} ended without a word to the queue: its PostgreSQL out of reach as the run began, or its "
        f"worker lost before then (the worker's log says which); run {of_run + 1}: {error}"
    )


_STATES = {"todo": "queued", "doing": "running", "succeeded": "finished", "aborting": "running"}


async def job_states(url: str) -> list[JobState]:
    """Every job queued, in the order it was: its state, worker and counts (JobState); none in a database no
    manifest was queued in yet. A job queued again (its manifest queued after it failed or finished) is its latest
    queueing: the one before is over, and a failure it ended in was corrected. A job its manifest no longer has,
    when queued again, is `withdrawn`."""
    async with await connect(url) as conn:
        cur = await conn.execute("SELECT to_regclass('bulkload_queue') IS NOT NULL")
        if not (row := await cur.fetchone()) or not row[0]:
            return []
        cur = await conn.execute(
            "SELECT * FROM (SELECT DISTINCT ON (q.manifest, q.name) j.id, q.name, q.agreement, j.status::text, "
            "j.attempts, q.worker, q.counts, q.report, q.error, q.exit_code, q.manifest, q.withdrawn_at IS NOT NULL, "
            "q.error_attempt, "
            "(SELECT extract(epoch FROM now() - w.last_heartbeat)::float8 FROM procrastinate_workers w "
            "WHERE w.id = j.worker_id) "
            "FROM bulkload_queue q JOIN procrastinate_jobs j ON j.id = q.job_id "
            "ORDER BY q.manifest, q.name, j.id DESC) latest ORDER BY id"
        )
        rows = await cur.fetchall()
    states = []
    for row in rows:
        # of_run: the run its error is of (error_attempt)
        (
            job_id,
            name,
            agreement,
            status,
            attempts,
            worker,
            counts,
            report,
            error,
            refused,
            manifest,
            withdrawn,
            of_run,
            silent_s,
        ) = row
        done = None if report is None else msgspec.json.decode(report, type=Report)
        state = "withdrawn" if withdrawn else _STATES.get(status, str(status))
        states.append(
            JobState(
                id=job_id,
                name=name,
                agreement=agreement,
                state=state,
                manifest=manifest,
                attempts=attempts,
                worker=worker,
                counts=msgspec.json.decode(counts) if counts else {},
                status=None if done is None else done.status,
                exit_code=refused if refused is not None or done is None else done.exit_code,
                error=_latest(error, of_run, attempts, state),
                silent_s=silent_s if state == "running" else None,
            )
        )
    return states


@asynccontextmanager
async def opened(url: str, *, wait_s: float | None = None) -> AsyncIterator[App]:
    """The app at `url`, open, its tables made (for a worker), waiting `wait_s` seconds at most for a connection.
    QueueUnreachable where the pool's first connections cannot be made (psycopg's PoolTimeout, which procrastinate
    lets through: PostgreSQL gone again after it answered for the tables; before, an internal error)."""
    await ensure_schema(url)
    app = make_app(url, wait_s=wait_s)
    try:
        await app.open_async()
    except psycopg.OperationalError as exc:
        raise QueueUnreachable(f"{UNREACHABLE_QUEUE}{said(exc)}") from None
    try:
        yield app
    finally:
        await app.close_async()
