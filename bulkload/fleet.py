"""Many loads in one process (`bulkload run MANIFEST`): every agreement's jobs one after another, the agreements
side by side, each job under its own agreement's limits (Limits.for_job: rate, rolling windows, the daily quota
kept per agreement), all of them within one cap on calls in flight (`Manifest.max_connections`, turns taken in
the order asked: FIFO). Each job writes its own ledger, rejects and report under the manifest's output_dir."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import anyio
import msgspec
from msgspec import UNSET, UnsetType

from . import account, interrupts, ledger_pg, logs, run_by, runner
from .across_jobs import check_groups
from .errors import (
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_ROWS,
    EXIT_STOPPED,
    EXIT_USAGE,
    BulkloadError,
    ChangedSinceRun,
    ConfigError,
    EarlierUnread,
    LeftCommitting,
    ListedBeforeAnother,
    LoadedBefore,
    OtherAccount,
    OtherKeyBefore,
    RolledBack,
    RunStopped,
    SharedUnfinished,
    UnderWayAlongside,
    command_on,
    manifest_command,
    pasted,
)
from .finished import check_credentials, check_finished, check_unfinished
from .job import Job, address
from .ledger import Ledger
from .loads import account_of, run_of
from .manifest import Manifest, ManifestJob, manifests_way_on, read_manifest, with_credentials
from .manifest_keys import in_job_words
from .outputs import check_cache, check_outputs, file_identity, private_dir
from .report import write_report
from .results import Report, counted
from .run import Run, Shared, credentials_setting
from .skipped_gone import stored_said
from .targets import TARGETS

#: how bad each exit code is, least first: the fleet ends with the worst of its jobs'; a job refused for its settings
#: (2) is worse than one stopped resumable (4), which `--resume` continues without a change
SEVERITY = (EXIT_OK, EXIT_ROWS, EXIT_MISMATCH, EXIT_STOPPED, EXIT_USAGE)
#: the report totals add up (`held_back`: of those in doubt, the rows of calls held back unsent, Report.held_back;
#: `rows_not_sent`: the rows of stopped jobs' inputs in no bucket, which resume sends, Report.rows_not_sent;
#: `resent_unfound`: keyed calls sent again after a 5xx a look found nothing of, Report.resent_unfound)
TOTALS = (
    "rows_read",
    "loaded",
    "rejected",
    "in_doubt",
    "held_back",
    "skipped",
    "rows_not_sent",
    "requests",
    "retries",
    "resent_unfound",
)


class JobOutcome(msgspec.Struct, kw_only=True):
    """One job of a fleet run: `status` complete | stopped | refused (its settings or credentials) | failed (an
    error of ours, resumable) | waiting (never started: the run was cut short) | not started (an earlier job of its
    agreement did not finish) | rolled back | rolling back (its run was, or its rollback stopped part way); `report`
    its own (None when it had none); `error` what stopped it when it has no report, or refused it (a job refused for
    its unfinished run keeps the report that run wrote where it stopped: what it loaded is in the books); `stored`
    true where `report` is the one its run stored on an earlier run of the manifest (its figures are that run's, its
    status says whether it had finished; absent otherwise); `requests` the calls a job that ended without a report
    made in this run (its API refused its credentials as it set up, say), which the totals count (absent where it
    has a report, or made none)."""

    name: str
    agreement: str
    status: str
    exit_code: int
    reconciled: bool | None = None
    report: Report | None = None
    error: str | None = None
    stored: bool | UnsetType = UNSET
    requests: int | UnsetType = UNSET


class LeftRun(msgspec.Struct, kw_only=True):
    """A run in the manifest's output_dir that did not finish, of a job the manifest no longer gives (taken out, or
    renamed): `job` the name its run began under, `ledger` its ledger, `status` its run's, and where its rows are
    as its ledger holds them (`rows_not_sent` None where it cannot say)."""

    job: str
    ledger: str
    status: str
    loaded: int
    in_doubt: int
    rows_not_sent: int | None


class FleetReport(msgspec.Struct, kw_only=True):
    """What `run_manifest` returns and `bulkload run --json` prints: each job's outcome in the manifest's order,
    the totals of their reports, `elapsed_s` (seconds) and the worst job's `exit_code` (SEVERITY); `left`: the runs
    of its output_dir that did not finish, of jobs it no longer gives (LeftRun; absent where there are none), which no
    total counts and no `--resume` continues."""

    manifest: str
    jobs: list[JobOutcome]
    totals: dict[str, int]
    elapsed_s: float
    exit_code: int
    left: list[LeftRun] | UnsetType = UNSET


def left_behind(manifest: Manifest) -> list[LeftRun]:
    """The runs in `manifest`'s output_dir that did not finish (a status but complete, rolled back or being rolled
    back) and that began as a job of this manifest (Job.manifest_job) that it no longer gives: taken out of it, or
    renamed, after its run stopped or was killed. Before (tester t69c), such a run was passed over in silence: the
    later jobs of its agreement, which wait for it while the manifest gives it, ran, and the run's exit code and
    totals said nothing of the rows it had loaded part way and those it never sent."""
    names = {mjob.name for mjob in manifest.jobs}
    out: list[LeftRun] = []
    try:
        folders = sorted(manifest.output_dir.iterdir())
    except OSError:
        return out
    for folder in folders:
        path = folder / "ledger.sqlite"
        if folder.name in names or not path.is_file():
            continue
        try:
            run = run_of(str(path)) or {}
            origin = (run.get("settings") or {}).get("manifest_job") or {}
            status = str(run.get("status"))
            if (
                not isinstance(origin, dict)
                or origin.get("manifest") != str(manifest.path)
                or origin.get("queue")
                or status in ("complete", "rolled_back", "rolling_back")
            ):
                continue
            ledger = Ledger.open(str(path))
            try:
                figures = ledger.figures()
            finally:
                ledger.close()
        except (OSError, BulkloadError, ValueError, sqlite3.Error):  # unreadable: not ours to judge
            continue
        out.append(
            LeftRun(
                job=str(origin.get("job") or folder.name),
                ledger=str(path),
                status="stopped" if status == "running" else status,  # running with no process on it: killed
                loaded=figures.loaded,
                in_doubt=figures.in_doubt,
                rows_not_sent=figures.rows_not_sent,
            )
        )
    return out


def worst(codes: list[int]) -> int:
    """The worst of exit codes by SEVERITY (an unknown code counts as a stop)."""
    rank = {code: i for i, code in enumerate(SEVERITY)}
    return max(codes, key=lambda c: rank.get(c, rank[EXIT_STOPPED]), default=EXIT_OK)


def ledger_status(path: str) -> str | None:
    """The status the ledger at `path` (a file, or a PostgreSQL ledger's URL) holds (running, stopped, complete,
    ...); None when there is none."""
    if ledger_pg.is_url(path):  # read without its lock: a worker of the queue may hold it
        run = ledger_pg.run_of(path)
        return None if run is None else str(run.get("status"))
    if not os.path.isfile(path):
        return None
    ledger = Ledger.open(path)
    try:
        return ledger.run.status
    finally:
        ledger.close()


def stored_report(mjob: ManifestJob) -> Report | None:
    """The report a finished job wrote; None when it cannot be read."""
    try:
        return msgspec.json.decode(Path(mjob.report_path).read_bytes(), type=Report)
    except (OSError, msgspec.DecodeError):
        return None


def ledger_report(mjob: ManifestJob) -> Report | None:
    """Where a job's unfinished run stopped, as its ledger file holds it, for a run that wrote no report (killed:
    kill -9, a power cut): its rows' figures (Ledger.figures), no call counted, so that the fleet's totals keep what
    it loaded (before, 0 loaded where the agreement held the killed run's rows), and the calls its ledger counted
    for the daily quota (every invocation's); None where there is no ledger file
    (a PostgreSQL ledger: its run is its worker's, whose report the queue keeps)."""
    path = mjob.ledger_path
    if ledger_pg.is_url(path) or not os.path.isfile(path):
        return None
    ledger = Ledger.open(path)
    try:
        # the calls its run made, as the ledger counts them by the minute for the daily quota: before (tester
        # t69c), 0, and the totals said "0 calls, every one by an earlier run" of a run killed after 50
        figures, target, calls = ledger.figures(), ledger.run.target, sum(ledger.calls().values())
    finally:
        ledger.close()
    return Report(
        target=target,
        status="stopped",
        rows_read=figures.rows_read,
        loaded=figures.loaded,
        rejected=figures.rejected,
        in_doubt=figures.in_doubt,
        skipped=figures.skipped,
        rows_not_sent=figures.rows_not_sent,
        requests=calls,
        retries=0,
        elapsed_s=0.0,
        stop_reason="its run ended without a report (killed?): these are its ledger's figures",
        reconcile=None,
        ledger=mjob.ledger_name,
        rejects_file=mjob.rejects_path,
    )


async def run_job(
    mjob: ManifestJob,
    *,
    env: Mapping[str, str] | None = None,
    resume: bool = False,
    progress: bool = False,
    shared: Shared | None = None,
    interrupted: Callable[[Report], object] | None = None,
    stored: Callable[[Report], object] | None = None,
) -> Report:
    """One job of a manifest: a new load, or with `resume` the run its ledger holds continued (same idempotency
    keys; `runner.resume`, with the manifest's daily quota, concurrency, rate and timeout as they are now). A job
    whose ledger says complete is not loaded again: its stored report is returned (and handed to `stored`, as is
    the report an unfinished run wrote where it stopped, before the refusal below: the fleet's totals keep it).
    Credentials from the manifest's variables in `env` (default os.environ) or its credentials file. Returns the
    report (a stopped run's too: status "stopped"); raises ConfigError for settings to correct (and, without
    `resume`, for a job whose ledger holds an unfinished run; with it too where the manifest gives that job other
    files or settings than its run began with: finished.check_unfinished; and where the job's folder is taken by
    the other way of running it, the queue's workers or `bulkload run` without --queue: run_by.take). `interrupted`
    as for runner.load."""
    job = await anyio.to_thread.run_sync(lambda: mjob.job(env))
    # the queue's workers or `bulkload run`, whichever took the job first: the other's ledger knows nothing of it
    took = await anyio.to_thread.run_sync(run_by.take, mjob, mjob.queue)
    try:
        return await _taken(mjob, job, resume, progress, shared, interrupted, stored)
    except Exception:
        # refused before its ledger was made (an input with no rows, a file loaded before): it sent nothing, and
        # the folder it took would refuse the other way for a run that never began
        if took:
            await anyio.to_thread.run_sync(_give_up_unbegun, mjob)
        raise


def _give_up_unbegun(mjob: ManifestJob) -> None:
    """Give the folder `mjob`'s run took up (run_by.give_up) where the run made no ledger; kept where that cannot
    be told (its ledger unreadable, its PostgreSQL out of reach)."""
    try:
        begun = ledger_status(mjob.ledger_path) is not None
    except (BulkloadError, OSError):
        return
    if not begun:
        run_by.give_up(mjob)


async def _taken(
    mjob: ManifestJob,
    job: Job,
    resume: bool,
    progress: bool,
    shared: Shared | None,
    interrupted: Callable[[Report], object] | None,
    stored: Callable[[Report], object] | None,
) -> Report:
    """`run_job` once the job's folder is taken for its way."""
    status = await anyio.to_thread.run_sync(ledger_status, mjob.ledger_path)
    if status == "complete":
        await anyio.to_thread.run_sync(_as_finished, mjob, job)
        if (report := stored_report(mjob)) is not None:
            report = await anyio.to_thread.run_sync(stored_said, report, mjob.ledger_path)
            if stored is not None:
                stored(report)
            return report
    if status in ("rolling_back", "rolled_back"):  # neither resumed nor loaded again where its ledger is
        raise RolledBack(_rolled_back(mjob, status), status)
    unfinished = status is not None and status != "complete"
    try:
        if unfinished:
            await anyio.to_thread.run_sync(_as_unfinished, mjob)
            if not resume:
                raise ConfigError(
                    f"job {mjob.name!r}: its ledger {mjob.ledger_name} holds a run that did not finish: "
                    f"`{mjob.run_again()}` continues it"
                )
        private_dir(mjob.out_dir)
        return await _in_manifest_words(mjob, job, status, progress, shared, interrupted)
    except ConfigError:  # refused without --resume, or its resume refused (a file changed since, say)
        if unfinished and stored is not None and (report := stored_report(mjob) or ledger_report(mjob)) is not None:
            stored(report)
        raise


async def _in_manifest_words(
    mjob: ManifestJob,
    job: Job,
    status: str | None,
    progress: bool,
    shared: Shared | None,
    interrupted: Callable[[Report], object] | None,
) -> Report:
    """`_run`, its refusals told in the manifest's words (its command, the job's credential variables)."""
    try:
        return await _run(mjob, job, status, progress, shared, interrupted)
    except (LoadedBefore, SharedUnfinished) as exc:  # a manifest's way on, also to the run they name
        earlier = earlier_way(mjob, exc.ledger, finished=exc.status == "complete")
        said = exc.in_manifest(mjob.name, mjob.run_again(), earlier)
        raise ConfigError(with_credentials(said, mjob)) from exc
    except (UnderWayAlongside, LeftCommitting, ListedBeforeAnother, EarlierUnread, OtherKeyBefore) as exc:
        raise ConfigError(with_credentials(exc.in_manifest(mjob.name, mjob.run_again()), mjob)) from exc
    except ChangedSinceRun as exc:
        again = mjob.run_again(resume=False)
        said = exc.in_manifest(mjob.run_again(), mjob.agreement, _set_aside(mjob.ledger_name), again)
        raise ConfigError(with_credentials(f"job {mjob.name!r}: {said}", mjob)) from exc
    except OtherAccount as exc:
        where = mjob.credentials_from(exc.names)
        raise ConfigError(exc.in_manifest(mjob.name, where, mjob.run_again())) from exc


def _as_finished(mjob: ManifestJob, job: Job | None) -> None:
    """ConfigError, in the manifest's words, where the manifest gives the finished job `mjob` other files than its
    run read, or one changed since (finished.check_finished), or credentials of another account than its run
    loaded into (`job`: its Job as the manifest gives it now; None where its credentials cannot be had:
    finished.check_credentials): what its run did not load is never shown loaded."""
    run = _checked(mjob, check_finished)
    # in its own words: a command with the job's variables would read the new credentials
    if run is not None and job is not None:
        check_credentials(mjob, job, run, account_of(mjob.ledger_path))


def _as_unfinished(mjob: ManifestJob) -> None:
    """ConfigError, in the manifest's words, where the manifest gives `mjob`, whose run did not finish, other files
    than that run began with (finished.check_unfinished): a resume goes on with the run's own files only."""
    _checked(mjob, check_unfinished)


def _checked(mjob: ManifestJob, check: Callable[[ManifestJob, Mapping[str, Any]], None]) -> Mapping[str, Any] | None:
    """The run `mjob`'s ledger holds (None: none), once `check` passed it; its ConfigError in the manifest's words
    (manifest.with_credentials: the job's credential variables in the commands it names)."""
    run = run_of(mjob.ledger_path)
    if run is not None:
        try:
            check(mjob, run)
        except ConfigError as exc:
            raise ConfigError(with_credentials(str(exc), mjob)) from None
    return run


def earlier_way(mjob: ManifestJob, ledger: str, *, finished: bool = False) -> str | None:
    """How job `mjob` is told to continue the earlier run of `ledger` (a refusal's, errors._resume_in_manifest)
    where that ledger is a job's of its own manifest (its output_dir's, or for a queued job the queue's ledger of
    one of the manifest's jobs, ledger_pg.ledger_url, by a name it gives now or the name that run keeps:
    _earlier_job): its manifest's command, naming that job (with the name and base_url to give it back first where
    the manifest no longer gives them: _own_earlier); where it is another manifest's queued job's (a queue ledger,
    `job_…`), that manifest, as that run names it, queued again. `finished`: that run finished (nothing of it to
    continue): where the manifest's job it was is known, an aside naming it (_finished_earlier). None otherwise."""
    named = ledger_pg.name_of(ledger)
    name = _earlier_job(mjob, named)
    if name is not None:
        return _finished_earlier(mjob, name) if finished else _own_earlier(mjob, name, named)
    if mjob.queue is None and _queued_ledger(named):
        return _queued_here(mjob, named, finished=finished)
    if finished or mjob.queue is None or not _queued_ledger(named):
        return None
    origin = _origin(mjob, named)
    if isinstance(origin.get("manifest"), str) and isinstance(origin.get("job"), str):  # named, as that run keeps it
        again = manifest_command(origin["manifest"], resume=True, queue=mjob.queue)
        return f"`{again}` once the queue has stopped retrying it (that manifest's job {origin['job']!r}'s ledger)"
    return f"that queued job's manifest queued again (`bulkload run MANIFEST --queue {pasted(mjob.queue)}`)"


def _queued_here(mjob: ManifestJob, named: str, *, finished: bool) -> str | None:
    """How `mjob`, run by `bulkload run` without --queue, is told of the earlier run of `named`, a queue's ledger of a
    job of its own manifest (its workers run it): by the queue's command and `bulkload status`, never `bulkload
    resume` (which knows neither the manifest's credential variables nor the agreement's shared budget); an aside
    for a run that `finished`. None where that run is no queued job of this manifest. Before (tester t69c), the
    manifest run without --queue while its jobs were queued was told `bulkload resume --ledger 'postgresql://…'`,
    "or where that ledger is a manifest job's, its manifest run again"."""
    origin = _origin(mjob, named)
    queue, job = origin.get("queue"), origin.get("job")
    if origin.get("manifest") != str(mjob.manifest) or not isinstance(queue, str) or not isinstance(job, str):
        return None
    status = f"`bulkload status --queue {pasted(queue)}` shows it"
    if finished:
        return f" (job {job!r} of this manifest, run by the workers of its queue: {status})"
    return (
        f"`{manifest_command(mjob.manifest, queue=queue)}` (job {job!r} of this manifest is queued: the workers of its "
        f"queue run it and retry it, not `bulkload run` without --queue; {status})"
    )


def _origin(mjob: ManifestJob, named: str) -> dict[str, Any]:
    """Which manifest's job the run of the ledger `named` in `mjob`'s queue is (Job.manifest_job: the manifest's
    path and the job's name as that run began); {} where that cannot be read."""
    origin = ((run_of(_readable(mjob, named)) or {}).get("settings") or {}).get("manifest_job")
    return origin if isinstance(origin, dict) else {}


def _queued_ledger(named: str) -> bool:
    """Whether the ledger `named` is a queued job's (ledger_pg.ledger_url: a schema `job_…`)."""
    return ledger_pg.is_url(named) and ledger_pg.Location.parse(named).schema.startswith("job_")


def _earlier_job(mjob: ManifestJob, named: str) -> str | None:
    """The name of the job of `mjob`'s manifest whose ledger is `named` (as messages name it): a folder of its
    output_dir (or of the one it gave before, where that ledger's run is this job's: Job.manifest_job), or for a
    queued job, the queue's ledger of a name the manifest gives now or of the name that
    ledger's run keeps (Job.manifest_job: a job renamed since, which no name of the manifest's leads to); None
    where it is no job's of it."""
    if mjob.queue is None:
        at = Path(named)
        if ledger_pg.is_url(named) or at.name != "ledger.sqlite":
            return None
        if at.parent.parent == mjob.out_dir.parent:
            return at.parent.name
        mine = _origin(mjob, named) == mjob.origin  # another output_dir's, this job's by what its run keeps
        return at.parent.name if mine else None
    if not _queued_ledger(named):
        return None
    schema = ledger_pg.Location.parse(named).schema
    origin = _origin(mjob, named)
    names = [origin["job"]] if isinstance(origin.get("job"), str) else []
    with suppress(BulkloadError):
        names += [job.name for job in read_manifest(str(mjob.manifest)).jobs]
    return next((n for n in names if _queued_ledger_of(mjob, n) == schema), None)


def _queued_ledger_of(mjob: ManifestJob, name: str) -> str:
    """The schema of the ledger `mjob`'s queue keeps for job `name` of its manifest (ledger_pg.ledger_url)."""
    return ledger_pg.Location.parse(ledger_pg.ledger_url(str(mjob.queue), str(mjob.manifest), name)).schema


def _readable(mjob: ManifestJob, named: str) -> str:
    """The ledger `named` (as messages name it, without a password) as `mjob`'s run reads a ledger of its own
    queue: with the queue's password, where its URL has one."""
    if mjob.queue is None or not ledger_pg.is_url(named):
        return named
    return ledger_pg.in_database(mjob.ledger_path, ledger_pg.Location.parse(named).schema)


def _own_earlier(mjob: ManifestJob, name: str, ledger: str) -> str:
    """How job `mjob` is told to continue the earlier run of `ledger`, job `name`'s of its manifest (its
    output_dir's, or its queue's): the manifest's command where the manifest still gives a job that name at that
    run's address (a queued job's once the queue has stopped retrying it); else (the job renamed, its base_url
    changed: `--resume`, or the manifest queued again, would be refused the same way again) the manifest given
    them back first, or, not queued, that ledger resumed by hand (`bulkload resume`, with the job's credentials: a
    queued job's run takes its turns in the agreement's budget, which that command knows nothing of)."""
    run = run_of(_readable(mjob, ledger)) or {}
    was = str(run.get("base_url") or "")
    now = None
    with suppress(BulkloadError):
        now = next((job for job in read_manifest(str(mjob.manifest)).jobs if job.name == name), None)
    at = mjob if now is None else now
    back = [] if now is not None else [f"its name back (name = {json.dumps(name)})"]
    if mjob.queue is None and Path(ledger).parent.parent != mjob.out_dir.parent:  # output_dir changed since
        was_dir = os.path.relpath(Path(ledger).parent.parent, mjob.manifest.parent)
        back.append(f"the output_dir its run wrote in back (output_dir = {json.dumps(was_dir)})")
    with suppress(BulkloadError):
        if was and address(was) != Job(target=at.target, **at.settings).api_address:
            back.append(f"its base_url back (base_url = {json.dumps(was)}: its run goes on there only)")
    if not back:
        retried = " once the queue has stopped retrying it" if mjob.queue is not None else ""
        return f"`{mjob.run_again()}`{retried} (job {name!r}'s ledger)"
    why = "; the manifest has no job of that name now" if now is None else ""
    given = (
        f"`{mjob.run_again()}` once job {at.name!r} has {' and '.join(back)} in the manifest (job {name!r}'s "
        f"ledger{why})"
    )
    if mjob.queue is not None:
        return given
    return f"{given}, or by hand with {mjob.with_credentials(command_on('resume', ledger))}"


def _finished_earlier(mjob: ManifestJob, name: str) -> str:
    """Where the finished earlier run of job `name` of `mjob`'s manifest is known, as an aside: that job, or where
    the manifest no longer gives a job that name (renamed since?), how its report is shown again: its name back."""
    with suppress(BulkloadError):
        if any(job.name == name for job in read_manifest(str(mjob.manifest)).jobs):
            return f" (job {name!r} of the manifest)"
    return (
        f" (job {name!r}'s ledger; the manifest has no job of that name now: if job {mjob.name!r} is that job "
        f"renamed, give it its name back, name = {json.dumps(name)}, and `{mjob.run_again(resume=False)}` shows "
        "its run's report)"
    )


def _rolled_back(mjob: ManifestJob, status: str) -> str:
    """What a job whose run was rolled back (`status` rolled_back), or is being (rolling_back: its rollback stopped
    part way), does next: a job's ledger holds one run, so a new load of its files needs that ledger set aside."""
    ledger = mjob.ledger_name
    again = (
        f"{_set_aside(ledger)} (keep it: it says what the rollback removed), then run the manifest again "
        f"(`{mjob.run_again(resume=False)}`)"
    )
    if status == "rolling_back":  # its records not all removed: a new load before the rollback ends doubles them
        return (
            f"job {mjob.name!r}: its run is being rolled back and its rollback stopped part way: finish it first "
            f"with {mjob.with_credentials(command_on('rollback', ledger))}; then, to load the job again as a new "
            f"run, {again}"
        )
    again = f"to load the job again as a new run, {again}"
    return f"job {mjob.name!r}: its run was rolled back; {again}"


def _set_aside(ledger: str) -> str:
    """How the ledger named `ledger` (ManifestJob.ledger_name) is set aside, kept, so that the job's ledger is made
    anew: a file moved; a PostgreSQL ledger's schema renamed (psql, with PGPASSWORD or ~/.pgpass as bulkload's
    commands: a rename keeps it the same ledger, read by `--ledger` with its new name)."""
    if not ledger_pg.is_url(ledger):
        return f"move {pasted(ledger)} aside"
    where = ledger_pg.Location.parse(ledger)
    rename = f"ALTER SCHEMA {where.schema} RENAME TO {where.schema}_rolled_back"
    return f"rename its schema: `psql {pasted(where.conninfo)} -c {shlex.quote(rename)}`"


async def _run(
    mjob: ManifestJob,
    job: Job,
    status: str | None,
    progress: bool,
    shared: Shared | None,
    interrupted: Callable[[Report], object] | None,
) -> Report:
    """The job loaded afresh (its ledger holds no run: `status` None) or its run resumed."""
    credentials = job.config_credentials
    if status is None:
        return await runner.load(
            job, env=credentials, progress=progress, raise_on_stop=False, shared=shared, interrupted=interrupted
        )
    return await runner.resume(  # under the manifest's limits as they are now (a quota raised since, say)
        mjob.ledger_path,
        report=mjob.report_path,
        env=credentials,
        progress=progress,
        raise_on_stop=False,
        shared=shared,
        interrupted=interrupted,
        daily_quota=job.daily_quota,
        concurrency=job.concurrency,
        rate=job.rate,
        timeout_s=job.timeout_s,
        # a job failed at a wrong address and corrected in the manifest goes on at the right one (only while it
        # has created nothing: runner.resume refuses it otherwise)
        base_url=job.base_url,
    )


def check_log_file(manifest_path: str, log_file: str) -> None:
    """--log-file of `bulkload run MANIFEST` (appended to from its first line; the jobs run here or by workers)
    checked as a load's is (runner.check_paths), before that line, for every job of the manifest at
    `manifest_path`: on none of its inputs, its ledger or its outputs, nor on the manifest or its combined report.
    ConfigError. A manifest that cannot be read, or a job whose own paths a load refuses, is left for the command to
    refuse."""
    try:
        manifest = read_manifest(manifest_path)
    except BulkloadError:
        return
    check_outputs([("--log-file", log_file)], manifest.kept, whole=False)
    for mjob in manifest.jobs:
        try:  # no credentials: only its paths are checked
            job = Job(target=mjob.target, **mjob.settings)
            runner.check_paths(job, outputs=runner.RUN_OUTPUTS)
        except BulkloadError:
            continue
        runner.check_paths(job, outputs=runner.RUN_OUTPUTS, log_file=log_file)


#: a job's outputs as a manifest's refusal names them: the manifest places them (no --rejects or --report given)
_PLACED = {"--rejects": "rejects file", "--report": "report"}


def check_paths(manifest: Manifest) -> None:
    """Before the first job starts: no job's output (its ledger, rejects, success and in-doubt files and report,
    runner.outputs_of) nor the combined report lands on a file a job reads (any job's input or ledger, the job's
    own too) or the manifest: a job that ran first would write over it before or while the other reads it; nor on
    another output, another job's or its own (outputs.file_identity: by any spelling, through a link or a mount): one
    would replace the other's record of rejected or in-doubt rows. ConfigError naming the manifest, both jobs and the
    path: the manifest is refused whole. A job whose settings a load refuses
    is left to fail alone; each job's run checks its own paths again (runner.check_paths)."""
    jobs: list[tuple[ManifestJob, Job, list[tuple[str, str]]]] = []
    for mjob in manifest.jobs:
        try:  # no credentials: only its paths are checked
            job = Job(target=mjob.target, **mjob.settings)
            outputs = runner.outputs_of(job, runner.RUN_OUTPUTS)
        except BulkloadError:
            continue
        written = [(_PLACED.get(what, what.removeprefix("the ")), path) for what, path in outputs]
        jobs.append((mjob, job, written))
    ledgers = {mjob.name: mjob.ledger_path for mjob, _, _ in jobs if not ledger_pg.is_url(mjob.ledger_path)}
    read = [("", "the manifest", str(manifest.path))]
    read += [(f"job {m.name!r}'s ", "input", path) for m, job, _ in jobs for path in job.files]
    read += [(f"job {name!r}'s ", "ledger", path) for name, path in ledgers.items()]
    writes = [("the manifest's ", "combined report", str(manifest.report_path))]
    writes += [(f"job {m.name!r}'s ", what, path) for m, _, written in jobs for what, path in written]
    writes += [(f"job {name!r}'s ", "ledger", path) for name, path in ledgers.items()]
    found: dict[object, list[tuple[str, str, str]]] = {}
    for reader, other, used in read:
        found.setdefault(file_identity(used), []).append((reader, other, used))
    for writer, what, path in writes:
        for reader, other, used in found.get(file_identity(path), []):
            if (reader, other) != (writer, what):
                raise ConfigError(
                    f"the manifest {manifest.path}: {writer}{what} {path} is {reader}{other}"
                    f"{'' if used == path else f' {used}'}: a run of the manifest would write over it before or "
                    "while it is read. Give the file read another path (a copy outside output_dir, where the jobs "
                    "write); nothing was sent"
                )
    first: dict[object, tuple[str, str, str]] = {}
    for writer, what, path in writes:
        earlier, of, used = first.setdefault(file_identity(path), (writer, what, path))
        if (earlier, of, used) != (writer, what, path):
            raise ConfigError(
                f"the manifest {manifest.path}: {writer}{what} {path} is {earlier}{of}"
                f"{'' if used == path else f' {used}'}: one would replace the other, and with it the record of "
                "what became of that job's rows (those rejected, those in doubt). Give each job a folder of its own "
                "(no link or mount that makes two of output_dir's folders one); nothing was sent"
            )


def check_accounts(manifest: Manifest, env: Mapping[str, str] | None = None) -> None:
    """ConfigError when jobs of two agreement names load into one API account (the same target and address, and
    where the target names the agreement by a credential, the same one: e-conomic's grant token): they would run at
    once, each within the account's limits alone, together over them; or may (`_spelled`): the same credentials at
    one address under two host names, which may name one server (127.0.0.1 and localhost; none is looked up), unless
    the later job says they are two (allow_duplicate_load). A job whose settings or credentials cannot be had is
    passed over here (it fails alone when it runs)."""
    names: dict[tuple[str, str, tuple[str, ...]], ManifestJob] = {}
    holders: dict[tuple[str, str, tuple[str, ...]], tuple[ManifestJob, Job]] = {}
    for mjob in manifest.jobs:
        try:
            job = mjob.job(env)
            target = job.make_target()
            credentials = job.credentials(job.config_credentials)
        except BulkloadError:
            continue
        who = target.credentials.agreement_of(credentials)
        first = names.setdefault((target.name, job.api_address, tuple(who)), mjob)
        if first.agreement != mjob.agreement:
            raise ConfigError(
                f"the manifest {manifest.path}: jobs {first.name!r} (agreement {first.agreement!r}) and {mjob.name!r} "
                f"(agreement {mjob.agreement!r}) load into one API account (the same address"
                f"{' and agreement credentials' if who else ''}): give them one agreement, so that they run one "
                "after the other within its limits"
            )
        holder = (target.name, account.unhosted(job.api_address), tuple(target.credentials.holder_of(credentials)))
        earlier, at = holders.setdefault(holder, (mjob, job))
        if earlier.agreement != mjob.agreement and at.api_address != job.api_address and not job.allow_duplicate_load:
            raise ConfigError(_spelled(manifest, (earlier, at), (mjob, job), target.credentials.account_noun))


def _spelled(manifest: Manifest, first: tuple[ManifestJob, Job], later: tuple[ManifestJob, Job], noun: str) -> str:
    """The refusal of two jobs of two agreement names (`first` and `later`, each with its Job) whose credentials are
    one, at one address under two host names: they may name one server, and the two one API account."""
    (one, at), (two, other) = first, later
    return (
        f"the manifest {manifest.path}: jobs {one.name!r} (agreement {one.agreement!r}, {at.api_url}) and "
        f"{two.name!r} (agreement {two.agreement!r}, {other.api_url}) give the same credentials at one address "
        "under two host names, which may name one server (127.0.0.1 and localhost, a host's name and its IP "
        f"address; none is looked up): as one API {noun} under two names they would run at once, over its limits, "
        "and a file both load would be created twice. If they are one, give them one agreement and one base_url, "
        "so that they run one after the other and a file is loaded once; if they really are two servers (or two "
        f"{noun}s), set allow_duplicate_load = true in job {two.name!r}'s table of the manifest; nothing was sent"
    )


async def run_manifest(
    manifest: Manifest,
    *,
    env: Mapping[str, str] | None = None,
    resume: bool = False,
    opened: Callable[[str, Run], object] | None = None,
    ended: Callable[[JobOutcome], object] | None = None,
    interrupted: Callable[[FleetReport], object] | None = None,
) -> FleetReport:
    """Run every job of `manifest`: one task per agreement, its jobs in the manifest's order; calls in flight
    across all of them at most `manifest.max_connections`. `opened(job name, run)` is told of each run as it
    starts and `ended(outcome)` of each job as it ends (the progress display, fleet_view.py). A job that fails
    does not stop the others: its outcome says why. Returns the FleetReport (each job's report as it wrote it under
    the manifest's output_dir). An interrupt (Ctrl-C, SIGTERM, cancelled) stops every job, each writing its partial
    report, hands the FleetReport of that moment to `interrupted` (the jobs it stopped `stopped`, those it kept from
    starting `waiting`), then goes on."""
    await anyio.to_thread.run_sync(check_accounts, manifest, env)
    check_paths(manifest)
    check_cache("run")  # once for every job: each load or resume would refuse on its own
    await anyio.to_thread.run_sync(check_groups, manifest, lambda m: ledger_status(m.ledger_path) is not None)
    left = await anyio.to_thread.run_sync(left_behind, manifest)
    started = time.monotonic()
    limiter = anyio.CapacityLimiter(manifest.max_connections)
    outcomes: dict[str, JobOutcome] = {
        m.name: JobOutcome(name=m.name, agreement=m.agreement, status="waiting", exit_code=EXIT_STOPPED)
        for m in manifest.jobs
    }

    async def one(mjob: ManifestJob) -> None:
        runs: list[Run] = []

        def began(run: Run) -> None:
            runs.append(run)
            if opened is not None:
                opened(mjob.name, run)

        shared = Shared(limiter, began)
        partial: list[Report] = []
        earlier: list[Report] = []
        try:
            with logs.bound(job=mjob.name):  # a fleet's lines say whose they are (tester t30b: only the run's key)
                report = await run_job(
                    mjob, env=env, resume=resume, shared=shared, interrupted=partial.append, stored=earlier.append
                )
            outcome = outcome_of(mjob, in_manifest(report, mjob), stored=bool(earlier))
        except anyio.get_cancelled_exc_class():
            settle(
                outcome_of(mjob, in_manifest(partial[0], mjob))
                if partial
                else with_calls(without_report(mjob, "stopped", f"{interrupts.reason()} before its first call"), runs)
            )
            raise
        except RunStopped as exc:  # with raise_on_stop=False only a stop before the run began
            outcome = (
                outcome_of(mjob, in_manifest(exc.report, mjob))
                if exc.report is not None
                else failed(mjob, exc, "stopped")
            )
        except RolledBack as exc:
            outcome = failed(mjob, exc, exc.status.replace("_", " "))
        except BulkloadError as exc:
            outcome = failed(mjob, exc, "refused" if exc.exit_code == EXIT_USAGE else "failed")
            if earlier:  # refused for its unfinished run: the report of where that run stopped stays shown
                outcome = msgspec.structs.replace(
                    outcome_of(mjob, earlier[0], stored=True),
                    status=outcome.status,
                    exit_code=outcome.exit_code,
                    error=outcome.error,
                )
        except OSError as exc:  # the system refused a file (no space left, a directory not writable)
            outcome = failed(mjob, exc, "failed")
        settle(with_calls(outcome, runs))

    def settle(outcome: JobOutcome) -> None:
        outcomes[outcome.name] = outcome
        if ended is not None:
            ended(outcome)

    async def agreement(jobs: list[ManifestJob]) -> None:
        for n, mjob in enumerate(jobs):  # one after another: they share the agreement's limits
            await one(mjob)
            if outcomes[mjob.name].status != "complete":  # the manifest's order holds: the later ones wait
                for later in jobs[n + 1 :]:
                    settle(await anyio.to_thread.run_sync(held_back, later, mjob, env))
                return

    try:
        async with anyio.create_task_group() as tg:
            for jobs in manifest.agreements().values():
                tg.start_soon(agreement, jobs)
    except anyio.get_cancelled_exc_class():
        if interrupted is not None:
            interrupted(fleet_report(manifest, list(outcomes.values()), time.monotonic() - started, left))
        raise
    return fleet_report(manifest, list(outcomes.values()), time.monotonic() - started, left)


def held_back(mjob: ManifestJob, before: ManifestJob, env: Mapping[str, str] | None = None) -> JobOutcome:
    """The outcome of `mjob`, held back by `before` (an earlier job of its agreement that did not finish): its stored
    report where its own run finished (on an earlier run of the manifest; its credentials from `env`, default
    os.environ), else not started."""
    report = stored_report(mjob) if ledger_status(mjob.ledger_path) == "complete" else None
    if report is not None:
        try:
            _as_finished(mjob, _job_of(mjob, env))
        except ConfigError as exc:
            return failed(mjob, exc, "refused")
        report = stored_said(report, mjob.ledger_path)  # with what a rollback took out of its skipped groups
        return outcome_of(mjob, in_manifest(report, mjob), stored=True)
    why = f"not started: {before.name!r}, before it in agreement {mjob.agreement!r}, did not finish"
    return without_report(mjob, "not started", why)


def _job_of(mjob: ManifestJob, env: Mapping[str, str] | None) -> Job | None:
    """The Job of `mjob` with its credentials; None where they cannot be had (a variable not set)."""
    try:
        return mjob.job(env)
    except ConfigError:
        return None


def with_calls(outcome: JobOutcome, runs: list[Run]) -> JobOutcome:
    """`outcome` with the calls its job's `runs` made in this run, where it has no report to count them (they
    stopped before they could write one)."""
    made = sum(run.dispatcher.counters.requests for run in runs)
    return msgspec.structs.replace(outcome, requests=made) if outcome.report is None and made else outcome


def outcome_of(mjob: ManifestJob, report: Report, *, stored: bool = False) -> JobOutcome:
    """The outcome of `mjob` that ended with `report`: its status the report's, but `refused` for a run that stopped
    on settings or credentials to correct (exit 2: the API refused its credentials, no API at its address), as
    for a job refused before its first call. `stored`: `report` is the one an earlier run of the manifest stored."""
    refused = report.status == "stopped" and report.exit_code == EXIT_USAGE
    return JobOutcome(
        name=mjob.name,
        agreement=mjob.agreement,
        status="refused" if refused else report.status,
        exit_code=report.exit_code,
        reconciled=None if report.reconcile is None else report.reconcile.ok,
        report=report,
        stored=True if stored else UNSET,
    )


def failed(mjob: ManifestJob, exc: BaseException, status: str) -> JobOutcome:
    """The outcome of a job that `exc` ended without a report; its way on in its manifest's words."""
    code = exc.exit_code if isinstance(exc, BulkloadError) else EXIT_STOPPED
    return without_report(mjob, status, manifest_words(str(exc), mjob, refused=code == EXIT_USAGE), code)


def manifest_words(text: str, mjob: ManifestJob, *, refused: bool = False) -> str:
    """`text` (why a job stopped, what settles its rows in doubt) with the command line's way on said in the words
    of the manifest of `mjob` (manifest.manifests_way_on: `bulkload run MANIFEST --resume`, or a queue's `--queue
    URL`; `refused`: the job was refused for its settings, exit 2, which the queue never retries); refused
    credentials are the variables the manifest names for the job (ManifestJob.credentials_setting), not the
    target's own; the flags that are keys of its table, those keys (manifest_keys.in_job_words). The other commands
    on its ledger are said with its credentials (with_credentials)."""
    # refused credentials: the variables the job reads are those the manifest names, which no job file's table sets
    text = text.replace(credentials_setting(TARGETS[mjob.target].credentials), mjob.credentials_setting())
    text = in_job_words(text, mjob.target, mjob.name)  # its settings as the keys of its table (manifest_keys)
    return with_credentials(manifests_way_on(text, mjob.ledger_name, mjob.origin, refused=refused), mjob)


def in_manifest(report: Report, mjob: ManifestJob) -> Report:
    """The report of `mjob` with its ways on in its manifest's words (manifest_words), in its report file too. The
    way on of rows in doubt of a run that finished is `bulkload resume` on its ledger, with the job's credentials:
    `bulkload run MANIFEST --resume` shows a finished job's report, no more."""
    stop, way_on, refused = report.stop_reason, report.in_doubt_way_on, report.exit_code == EXIT_USAGE
    if isinstance(way_on, str):
        if report.status == "complete":
            way_on = in_job_words(with_credentials(way_on, mjob), mjob.target, mjob.name)
        else:
            way_on = manifest_words(way_on, mjob, refused=refused)
    said = msgspec.structs.replace(
        report,
        stop_reason=manifest_words(stop, mjob, refused=refused) if isinstance(stop, str) else stop,
        in_doubt_way_on=way_on,
    )
    unwritten = report.unwritten if isinstance(report.unwritten, list) else []
    if said != report and report.report_file and not any(u.startswith("the report") for u in unwritten):
        with suppress(OSError):  # written a moment ago; as it was, should the disk refuse it now
            write_report(str(report.report_file), said)
    return said


def without_report(mjob: ManifestJob, status: str, error: str, exit_code: int = EXIT_STOPPED) -> JobOutcome:
    """The outcome of a job that has no report of its own: `error` says why."""
    return JobOutcome(name=mjob.name, agreement=mjob.agreement, status=status, exit_code=exit_code, error=error)


def fleet_report(
    manifest: Manifest, outcomes: list[JobOutcome], elapsed_s: float, left: list[LeftRun] | None = None
) -> FleetReport:
    """The combined report: the outcomes, their reports' totals (and the calls of those without one:
    JobOutcome.requests), the worst exit code, and the unfinished runs of jobs no longer in the manifest (`left`:
    left_behind)."""
    totals = {key: sum(counted(o.report, key) for o in outcomes if o.report is not None) for key in TOTALS}
    totals["requests"] += sum(o.requests for o in outcomes if o.requests is not UNSET)
    return FleetReport(
        manifest=str(manifest.path),
        jobs=outcomes,
        totals=totals,
        elapsed_s=round(elapsed_s, 3),
        exit_code=worst([o.exit_code for o in outcomes]),
        left=left if left else UNSET,
    )
