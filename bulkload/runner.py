"""The commands as functions: load, resume, reconcile and the dry run. Scripts call these; the CLI too."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import anyio
import msgspec

from . import interrupts
from .agreement_calls import AgreementCalls, agreement_file
from .dispatch import Counters, Dispatcher, RetryPolicy
from .errors import (
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_ROWS,
    EXIT_STOPPED,
    BadAnswer,
    BulkloadError,
    ConfigError,
    FileChanged,
    LedgerError,
    LedgerWriteError,
    RunStopped,
    ServerError,
    TransportError,
)
from .http import Client
from .job import Job
from .ledger import Ledger, RowOutcome, RunInfo, known_to
from .loads import cache_dir, check_home, claim_load, earlier_ledgers, record_status, remember_load, tie
from .meters import DailyQuota, RateMeter, WindowMeter
from .outputs import check_outputs, private_dir
from .pipeline import Loader, Tally, resume_after, run_chunks
from .planning import PlanningProcess, PlanSpec, make_planner, planned_rows
from .profile import did_you_mean, inspect
from .progress import Snapshot, show_progress
from .reconcile import reconcile as reconcile_remote
from .report import exit_code, write_in_doubt, write_rejects, write_report, write_success
from .sources import Pinned, Source, changed_message, check_regular, pin, sha256_of
from .targets.base import Known, Target

#: unbalanced groups and skipped reasons the report names one by one
REPORT_LIST = 100

R = TypeVar("R")


def open_sources(job: Job, target: Target) -> list[Source]:
    """Open every file before anything is sent: unreadable files and unknown columns stop the run here."""
    for path in job.files:
        check_regular(path)
    sources = [Source(path, delimiter=job.delimiter, columns=job.columns, encoding=job.encoding,
                      secrets=target.secret_fields(i)) for i, path in enumerate(job.files)]
    for file_idx, source in enumerate(sources):
        fields = source.fields()
        if fields is None:
            continue
        known = target.fields_of(file_idx)
        unknown = [f for f in fields if f not in known]
        if unknown:
            named = ", ".join(f"{f}{did_you_mean(f, known)}" for f in unknown)
            raise ConfigError(
                f"{source.path}: column(s) {named} are not {target.name} fields; map them to a "
                f"field (or to \"\" to drop them) in the [columns] table of --config. "
                f"Fields: {', '.join(sorted(known))}"
            )
    return sources


def _hashed(paths: list[str]) -> tuple[list[Pinned], list[str]]:
    """Each file's size and mtime, then its SHA-256. Sources pinned to them read no byte past what was hashed,
    and stop (FileChanged) when a read finds the file changed since."""
    pins = [pin(path) for path in paths]
    return pins, [sha256_of(path) for path in paths]


def _as_hashed(sources: list[Source]) -> None:
    """Raise ConfigError for the first file whose size or mtime is not what it was when it was hashed."""
    for source in sources:
        if source.pinned is not None and pin(source.path) != source.pinned:
            raise ConfigError(f"{changed_message(source.path)} Load it once it is complete; nothing was sent")


def _policy(job: Job) -> RetryPolicy:
    return RetryPolicy(attempts=job.attempts)


def _dispatcher(
    job: Job, target: Target, client: Client, ledger: Ledger, credentials: Mapping[str, str]
) -> Dispatcher:
    return Dispatcher(
        client, target, meter=RateMeter(job.rate), quota=daily_quota(job, target, ledger, credentials),
        policy=_policy(job), counters=Counters(), windows=windows(job),
    )


def daily_quota(job: Job, target: Target, ledger: Ledger, credentials: Mapping[str, str]) -> DailyQuota:
    """The agreement's daily quota as this run sees it: its own calls (the ledger's count merged with what the
    user's cache kept for the run, the larger per minute: a run killed between the two loses neither), and the calls
    of every other run against the same agreement, from the cache. Every call it counts goes to both as it runs."""
    agreement = AgreementCalls(agreement_file(target.name, job.api_url, target.agreement(credentials)),
                               ledger.run.key_prefix)
    mine = ledger.calls()
    for minute, n in agreement.own().items():
        mine[minute] = max(n, mine.get(minute, 0))

    def exchange(calls: Mapping[int, int], changed: Mapping[int, int]) -> dict[int, int]:
        ledger.save_calls(changed)
        return agreement.exchange(calls, changed)

    return DailyQuota(job.daily_quota, mine, exchange=exchange)


def windows(job: Job) -> list[WindowMeter]:
    meters = [WindowMeter(limit, span) for limit, span in job.windows()]
    by_rate = WindowMeter.for_rate(job.rate)
    return meters + ([by_rate] if by_rate else [])


def window_file(job: Job, meter: WindowMeter) -> Path:
    """Where the calls of a window are kept between runs: per API address and window, in the user's cache."""
    key = hashlib.sha256(f"{job.api_url}|{meter.limit}|{meter.window_s}".encode()).hexdigest()[:24]
    return cache_dir() / "windows" / f"{key}.json"


@contextmanager
def kept(job: Job, dispatcher: Dispatcher) -> Iterator[None]:
    """The server's rolling window and the agreement's daily quota outlive this process: start from the calls
    earlier runs made in them, and keep this one's calls for the next (the quota's in the ledger too)."""
    for meter in dispatcher.windows:
        meter.restore(window_file(job, meter))
    dispatcher.quota.sync()
    try:
        yield
    finally:
        # a ledger that cannot be written now (a full disk) has said so already; the cache holds the count
        with suppress(BulkloadError):
            dispatcher.quota.sync()
        for meter in dispatcher.windows:
            path = window_file(job, meter)
            with suppress(OSError):
                private_dir(path.parent)
            meter.keep(path)


#: the files SQLite and bulkload keep beside a ledger
LEDGER_FILES = ("", "-wal", "-shm", "-journal", ".lock")


def check_paths(job: Job, *, outputs: Iterable[str], new_ledger: bool = False, ledger: bool = True) -> None:
    """Before anything is sent: no file the run writes (`outputs`: "rejects", "success", "in_doubt", "report")
    may land on an input, the ledger or another output, and each must be writable."""
    inputs = [("the input", path) for path in job.files]
    paths = {"rejects": ("--rejects", job.rejects_path), "success": ("the success file", job.success_path),
             "in_doubt": ("the in-doubt file", job.in_doubt_path), "report": ("--report", job.report)}
    if new_ledger:
        check_outputs([("--ledger", job.ledger_path)], inputs)
    ours = [("the ledger", job.ledger_path + suffix) for suffix in LEDGER_FILES] if ledger else []
    check_outputs([(what, path) for what, path in map(paths.__getitem__, outputs) if path], inputs + ours)


_RUN_OUTPUTS = ("rejects", "success", "in_doubt", "report")


async def load(job: Job, *, env: Mapping[str, str] | None = None, progress: bool = False) -> dict[str, Any]:
    """Start a new run: read, validate, chunk, send, reconcile. Returns the report."""
    target = job.make_target()
    credentials = job.credentials(env)  # before any file is read
    sources = open_sources(job, target)
    check_paths(job, outputs=_RUN_OUTPUTS, new_ledger=True)
    pins, hashes = await anyio.to_thread.run_sync(_hashed, job.files)
    for source, pinned in zip(sources, pins):
        source.pinned = pinned
    run = RunInfo(
        target=target.name,
        base_url=job.api_url,
        files=[{"path": os.path.abspath(p), "sha256": h} for p, h in zip(job.files, hashes)],
        options=target.options(),
        settings=job.settings(),
        key_prefix=uuid.uuid4().hex[:16],
    )
    checked = not (job.allow_duplicate_load or target.rerunnable)
    ledger_path = str(Path(job.ledger_path).absolute())  # found again from any directory

    def claim() -> None:
        # under the ledger's lock, before it is made: two loads of one content started together cannot both pass
        claim_load(job, job.files, hashes, ledger_path, check=checked)

    def prepare(conn: sqlite3.Connection) -> None:
        # the whole-file decisions go into the ledger as it is made: a run refused (or killed) before the first
        # call leaves no ledger behind, and a ledger always knows how its files are read
        with conn:
            conn.execute("BEGIN")
            try:
                profiles = [msgspec.to_builtins(p) for p in inspect(sources, target, job.given(), conn, stop)]
            except FileChanged:
                _as_hashed(sources)
                raise
            _as_hashed(sources)  # what was decided for a file may not hold for what it now is
            conn.execute("INSERT INTO meta VALUES ('profiles', ?)", (json.dumps(profiles),))
        if checked:
            for earlier in earlier_ledgers(job):
                known_to(conn, earlier, target.group_label, target.group_name)
        if stop.is_set():
            raise RunStopped("stopped before the first call")

    # a cancel (Ctrl-C, SIGTERM) does not wait for the thread, and the message says nothing was sent: the thread
    # must then make no ledger (it would be found after the message, and a new load of the file refused for it)
    stop = threading.Event()
    try:
        ledger = await anyio.to_thread.run_sync(Ledger.create, job.ledger_path, run, prepare, claim)
    except BaseException:
        stop.set()
        raise
    try:
        remember_load(job, hashes, ledger_path)
        tie(ledger)  # the run goes on in this file: a copy of it cannot resume it
        return await _execute(job, target, ledger, credentials, sources, progress=progress)
    finally:
        ledger.close()


def job_of(ledger: Ledger, report: str | None = None) -> Job:
    job = Job.from_settings(ledger.run.settings)
    job.target_options = ledger.run.options  # as the target's setup left them: the same plan again
    job.ledger = str(ledger.path)
    if report is not None:
        job.report = report
    return job


async def resume(
    ledger_path: str, *, report: str | None = None, env: Mapping[str, str] | None = None, progress: bool = False,
    daily_quota: int | None = None, resend_in_doubt: bool = False, adopt_copy: bool = False,
) -> dict[str, Any]:
    """Continue a stopped or killed run with its stored settings; done chunks are never sent again.
    `daily_quota` replaces the stored quota (after the agreement's quota was raised); `resend_in_doubt`
    sends again the calls whose outcome was unknown, which only the user may decide; `adopt_copy` continues the
    run from a copy of its ledger when its own is gone (loads.check_home)."""
    ledger = Ledger.open(ledger_path)
    try:
        check_home(ledger, resuming=True, adopt=adopt_copy)
        status = ledger.run.status
        if status in ("rolling_back", "rolled_back"):  # what the ledger says loaded is no longer in the API
            raise LedgerError(
                f"the run of {ledger.path} was rolled back{' in part' if status == 'rolling_back' else ''}: its "
                "ledger no longer says what the API holds; "
                + ("finish the rollback (`bulkload rollback`), then " if status == "rolling_back" else "")
                + "load the files again as a new run"
            )
        job = job_of(ledger, report)
        if daily_quota is not None:
            job = replace(job, daily_quota=daily_quota)  # checked as a load's --daily-quota is
        target = job.make_target()
        credentials = job.credentials(env)
        for stored in ledger.run.files:
            path = stored["path"]
            if not os.path.isfile(path):
                raise LedgerError(f"the run's input {path} is gone; resume needs the same files")
        pins, hashes = await anyio.to_thread.run_sync(_hashed, [f["path"] for f in ledger.run.files])
        for stored, digest in zip(ledger.run.files, hashes):
            if digest != stored["sha256"]:
                raise LedgerError(f"{stored['path']} changed since the run started; resume needs the same files")
        job.files = [f["path"] for f in ledger.run.files]
        sources = open_sources(job, target)
        for source, pinned in zip(sources, pins):
            source.pinned = pinned
        check_paths(job, outputs=_RUN_OUTPUTS)
        return await _execute(
            job, target, ledger, credentials, sources, progress=progress, resend_in_doubt=resend_in_doubt
        )
    finally:
        ledger.close()


async def _execute(
    job: Job, target: Target, ledger: Ledger, credentials: Mapping[str, str], sources: list[Source],
    *, progress: bool, resend_in_doubt: bool = False,
) -> dict[str, Any]:
    started = time.monotonic()
    tally = Tally()
    async with Client(
        job.api_url, target.headers(credentials), concurrency=job.concurrency, timeout_s=job.timeout_s
    ) as client:
        dispatcher = _dispatcher(job, target, client, ledger, credentials)
        with kept(job, dispatcher):
            return await _load_and_reconcile(job, target, ledger, dispatcher, sources, tally, started,
                                             progress=progress, resend_in_doubt=resend_in_doubt)


async def _load_and_reconcile(
    job: Job, target: Target, ledger: Ledger, dispatcher: Dispatcher, sources: list[Source], tally: Tally,
    started: float, *, progress: bool, resend_in_doubt: bool,
) -> dict[str, Any]:
    planners = [PlanningProcess()]  # one a phase, each started ahead; the first while setup does its round trips
    try:
        return await _phases(job, target, ledger, dispatcher, sources, tally, started, planners,
                             progress=progress, resend_in_doubt=resend_in_doubt)
    finally:
        for planner in planners:
            await planner.close()


async def _phases(
    job: Job, target: Target, ledger: Ledger, dispatcher: Dispatcher, sources: list[Source], tally: Tally,
    started: float, planners: list[PlanningProcess], *, progress: bool, resend_in_doubt: bool,
) -> dict[str, Any]:
    """Send every phase, reconcile and report. A run cut short (a stop: the quota, a ledger write that failed,
    retries spent, also in setup or the look for what exists; an interrupt: Ctrl-C, SIGTERM, SIGHUP, a caller's
    cancellation) still writes its report and files where it can; an interrupt then goes on to the caller."""
    loaders: list[Loader] = []
    try:
        try:
            await _send(job, target, ledger, dispatcher, sources, tally, planners, loaders,
                        progress=progress, resend_in_doubt=resend_in_doubt)
        except* (RunStopped, TransportError, ServerError, BadAnswer) as failed:
            first: BaseException = failed
            while isinstance(first, BaseExceptionGroup):  # one of the nested task groups' errors
                first = first.exceptions[0]
            said = str(first).split("; continue with `bulkload resume`")[0]
            tally.stop(f"{said}; {resume_after(first, ledger.path)}", EXIT_STOPPED)
            _cut_short(tally, loaders)
    except anyio.get_cancelled_exc_class():
        tally.stop(f"{interrupts.reason()}; `bulkload resume --ledger {ledger.path}` continues it and settles the "
                   "calls that were in flight", EXIT_STOPPED)
        _cut_short(tally, loaders)
        _outcome(job, target, ledger, dispatcher, sources, tally, started, loaders, None)
        raise
    load_s = time.monotonic() - started
    recon = None
    if not tally.stopped:
        try:
            recon = await reconcile_remote(ledger, target, dispatcher, job.files)
        except BulkloadError as exc:
            tally.stop(f"reconciliation could not finish: {exc}; run `bulkload reconcile`", EXIT_STOPPED)
    return _outcome(job, target, ledger, dispatcher, sources, tally, started, loaders, recon, load_s)


async def _send(
    job: Job, target: Target, ledger: Ledger, dispatcher: Dispatcher, sources: list[Source], tally: Tally,
    planners: list[PlanningProcess], loaders: list[Loader], *, progress: bool, resend_in_doubt: bool,
) -> None:
    """Set up and send every phase; the loader, once made, goes into `loaders` (the report counts its rows read
    even when the run is cut short)."""
    await target.setup(dispatcher, sources)
    ledger.set_options(target.options())
    if ledger.phase_context(-1) is None:  # once per run, before the first call that writes
        if not (job.allow_duplicate_load or target.rerunnable):
            await _skip_existing(target, ledger, dispatcher)
        ledger.set_phase_context(-1, {"existing": "checked"})
    loader = Loader(target, ledger, dispatcher, tally, concurrency=job.concurrency, settle_s=job.settle_delay_s)
    loader.resend_in_doubt = resend_in_doubt
    loaders.append(loader)
    ledger.set_status("running")

    def limit_wait(calls: float) -> float:
        return max((w.wait_for(calls) for w in dispatcher.windows), default=0.0)

    def snapshot() -> Snapshot:
        c = dispatcher.counters
        return Snapshot(loader.rows_read, tally.loaded, tally.rejected, tally.in_doubt, c.requests, c.retries,
                        c.rate_limited, limit_wait)

    async with anyio.create_task_group() as tg:
        if progress:
            tg.start_soon(show_progress, snapshot, job.files)
        earlier: list[int] = []
        phases = list(target.phases(len(sources)))
        for phase, indexes in enumerate(phases):
            if tally.stopped:
                break
            context = ledger.phase_context(phase)
            if context is None:  # worked out once; a resume plans with the same
                context = target.before_phase(indexes, {i: ledger.unsettled(i) for i in earlier}, sources)
                ledger.set_phase_context(phase, context)
            earlier.extend(indexes)
            spec = _spec(job, target, ledger, sources, indexes, context)
            if phase + 1 < len(phases):
                planners.append(PlanningProcess())  # the next phase's, started while this one runs
            await run_chunks(loader, spec, job.concurrency, planners[phase])
        tg.cancel_scope.cancel()


def _cut_short(tally: Tally, loaders: list[Loader]) -> None:
    """Rows handed out but not settled when the run was cut short are skipped: not sent, or in flight (`sending`
    in the ledger: the in-doubt file lists them, resume settles them)."""
    rows_read = loaders[0].rows_read if loaders else 0
    tally.skipped += max(0, rows_read - (tally.loaded + tally.rejected + tally.in_doubt + tally.skipped))


def _outcome(
    job: Job, target: Target, ledger: Ledger, dispatcher: Dispatcher, sources: list[Source], tally: Tally,
    started: float, loaders: list[Loader], recon: dict[str, Any] | None, load_s: float | None = None,
) -> dict[str, Any]:
    """The run's status in the ledger, its rejects, success and in-doubt files and its report, each written where
    it can be: one that cannot (the disk is full) is named in the report's `unwritten` and stops the run."""
    rows_read = loaders[0].rows_read if loaders else 0
    unwritten: list[str] = []

    def attempt(what: str, write: Callable[[], R]) -> R | None:
        try:
            return write()
        except (OSError, LedgerWriteError) as exc:
            unwritten.append(f"{what}: {exc}")
            return None

    status = "stopped" if tally.stopped else "complete"
    attempt("the ledger's status", lambda: ledger.set_status(status))
    if status == "complete":
        record_status(ledger, status)
    n_rejects = attempt("the rejects file", lambda: write_rejects(
        job.rejects_path, lambda: ledger.rows("rejected"), sources, job.files))
    n_success = attempt("the success file", lambda: write_success(
        job.success_path, ledger.created_rows, job.files, target.id_name))
    in_doubt_rows = chain(ledger.chunk_lines("sending"), ledger.chunk_lines("in_doubt"), ledger.rows_in_doubt())
    attempt("the in-doubt file", lambda: write_in_doubt(job.in_doubt_path, in_doubt_rows, job.files))
    if unwritten and not tally.stopped:
        tally.stop(f"could not write {unwritten[0]}; `bulkload resume --ledger {ledger.path}` writes it again",
                   EXIT_STOPPED)
        status = "stopped"
    elapsed = time.monotonic() - started
    c = dispatcher.counters
    report: dict[str, Any] = {
        "target": target.name,
        "status": status,
        "rows_read": rows_read,
        "loaded": tally.loaded,
        "rejected": tally.rejected,
        "in_doubt": tally.in_doubt,
        "skipped": tally.skipped,
        **_group_figures(ledger, target),
        "requests": c.requests,
        "retries": c.retries,
        "rate_limited": c.rate_limited,
        "errors": c.errors,
        "elapsed_s": round(elapsed, 3),
        "load_s": round(elapsed if load_s is None else load_s, 3),
        "reconcile_s": round(0.0 if load_s is None else elapsed - load_s, 3),
        "rows_per_s": round(rows_read / elapsed, 1) if elapsed > 0 else 0.0,
        "stop_reason": tally.stop_reason,
        "stop_code": tally.stop_code or None,
        "isolation": loaders[0].isolation.report() if loaders else None,
        "daily_quota": {"limit": dispatcher.quota.limit, "used_by_run": dispatcher.quota.used_here(),
                        "used_by_other_runs": dispatcher.quota.used_elsewhere()},
        "reconcile": recon,
        "inputs": ledger.profiles(),
        "ledger": str(ledger.path),
        "rejects_file": job.rejects_path,
        "rejects_written": n_rejects,
        "success_file": job.success_path,
        "success_written": n_success,
        "in_doubt_file": job.in_doubt_path if tally.in_doubt else None,
        "files": job.files,
        "unwritten": unwritten,
    }
    report["exit_code"] = exit_code(report)
    if job.report:
        attempt("the report", lambda: write_report(str(job.report), report))
        if unwritten[-1:] and unwritten[-1].startswith("the report") and not tally.stopped:
            # the one file a script reads the run by: without it, not an ending to report as done
            tally.stop(f"could not write {unwritten[-1]}; `bulkload resume --ledger {ledger.path}` writes it again",
                       EXIT_STOPPED)
            report.update(status="stopped", stop_reason=tally.stop_reason, stop_code=tally.stop_code or None)
            report["exit_code"] = exit_code(report)
    return report


def _spec(
    job: Job, target: Target, ledger: Ledger, sources: list[Source], indexes: list[int], context: dict[str, Any]
) -> PlanSpec:
    profiles = ledger.profiles()
    if profiles is None:  # every ledger is made with them; one without was not made by this bulkload
        raise LedgerError(f"{ledger.path} does not say how its files are read: it was not made by this bulkload")
    return PlanSpec(
        target.name, target.options(), [str(sources[i].path) for i in indexes], indexes, context, job.delimiter,
        job.columns, job.items_per_call, target.max_bytes, encoding=job.encoding,
        profiles=[profiles[i] for i in indexes],
        skip_db=str(ledger.path) if ledger.skips() else None, workdir=str(ledger.path.parent),
        pins=[(p.size_bytes, p.mtime_ns) for i in indexes if (p := sources[i].pinned)] or None,
    )


async def _skip_existing(target: Target, ledger: Ledger, dispatcher: Dispatcher) -> None:
    """The input's groups the API already holds are not created again (asked once, before the first write)."""
    found: list[Known] = []
    async for item in target.groups_already_there(dispatcher, ledger.group_keys):
        found.append(item)
        if len(found) >= 1_000:
            ledger.skip(found)
            found.clear()
    ledger.skip(found)


def _group_figures(ledger: Ledger, target: Target) -> dict[str, Any]:
    """What the report says of groups: how many loaded, were rejected (whole) and skipped (loaded earlier), and
    which loaded groups do not balance in the input."""
    counts = ledger.group_counts()
    unbalanced, listed = ledger.unbalanced(REPORT_LIST)
    return {
        "rejected_groups": counts["rejected"],
        "skipped_groups": counts["skipped"],
        "groups": {
            "name": target.group_name, **counts, "unbalanced": unbalanced,
            "unbalanced_list": [{"group": target.group_label(key), "imbalance_minor_units": units}
                                for key, units in listed],
            "skipped_reasons": ledger.skipped_reasons(REPORT_LIST),
        },
    }


async def reconcile(
    ledger_path: str, *, report: str | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Compare the ledger with what the API holds now, any time after a load."""
    started = time.monotonic()
    ledger = Ledger.open(ledger_path)
    try:
        job = job_of(ledger, report)
        check_paths(job, outputs=["report"] if report else [])
        target = job.make_target()
        credentials = job.credentials(env)
        async with Client(job.api_url, target.headers(credentials), concurrency=job.concurrency,
                          timeout_s=job.timeout_s) as client:
            dispatcher = _dispatcher(job, target, client, ledger, credentials)
            with kept(job, dispatcher):
                recon = await reconcile_remote(ledger, target, dispatcher, [f["path"] for f in ledger.run.files])
        counts = ledger.row_counts()
        out: dict[str, Any] = {
            "target": target.name,
            "status": "reconciled" if recon["ok"] else "mismatch",
            "rows_read": sum(counts.values()),
            "loaded": counts.get("loaded", 0),
            "rejected": counts.get("rejected", 0),
            "in_doubt": counts.get("in_doubt", 0),
            "skipped": counts.get("skipped", 0),
            "requests": dispatcher.counters.requests,
            "retries": dispatcher.counters.retries,
            "rate_limited": dispatcher.counters.rate_limited,
            "elapsed_s": round(time.monotonic() - started, 3),
            "reconcile": recon,
            "ledger": str(ledger.path),
            "rejects_file": job.rejects_path,
        }
        out["exit_code"] = EXIT_OK if recon["ok"] else EXIT_MISMATCH
        if report:  # only where asked: the stored --report path holds the load's own report
            write_report(report, out)
        return out
    finally:
        ledger.close()


def dry_run(job: Job) -> dict[str, Any]:
    """Read, decide, validate and chunk with no network and no ledger; say what would be sent."""
    started = time.monotonic()
    target = job.make_target()
    sources = open_sources(job, target)
    check_paths(job, outputs=("rejects", "report"), ledger=False)
    workdir = Path(job.rejects_path).parent
    workdir.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".bulkload-dry-run-", suffix=".sqlite", dir=workdir)
    os.close(fd)
    db = sqlite3.connect(scratch, isolation_level=None)
    try:
        return _dry_run(job, target, sources, db, str(workdir), started)
    finally:
        db.close()
        os.unlink(scratch)


def _dry_run(
    job: Job, target: Target, sources: list[Source], db: sqlite3.Connection, workdir: str, started: float
) -> dict[str, Any]:
    db.execute("CREATE TABLE rows (file_idx, line_no, bucket, field, reason, grp, PRIMARY KEY (file_idx, line_no))")
    with db:
        db.execute("BEGIN")
        profiles = inspect(sources, target, job.given(), db)
    spec = PlanSpec(target.name, target.options(), job.files, list(range(len(sources))), {}, job.delimiter,
                    job.columns, job.items_per_call, target.max_bytes, encoding=job.encoding,
                    profiles=[msgspec.to_builtins(p) for p in profiles], workdir=workdir)
    planner = make_planner(target, spec)
    would = {"calls": 0, "rows": 0, "bytes": 0}
    stop_reason = None

    def keep_rows() -> None:  # a file of bad rows needs no memory: they go to SQLite as they are found
        db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?)", planner.rejected)
        planner.rejected.clear()

    try:
        for file_idx, rows in planned_rows(target, spec):
            for chunk in planner.plan(file_idx, rows):
                keep_rows()
                if chunk is not None:
                    would["calls"] += 1
                    would["rows"] += len(chunk)
                    would["bytes"] += len(chunk.body)
    except BulkloadError as exc:
        stop_reason = str(exc)
    keep_rows()

    def rejected() -> Iterator[RowOutcome]:
        query = "SELECT * FROM rows WHERE bucket = 'rejected' ORDER BY file_idx, line_no"
        return (RowOutcome(*row) for row in db.execute(query))

    n_rejected = write_rejects(job.rejects_path, rejected, sources, job.files)
    elapsed = time.monotonic() - started
    report: dict[str, Any] = {
        "target": target.name,
        "status": "stopped" if stop_reason else "dry_run",
        "rows_read": planner.rows_read,
        "loaded": 0,
        "would_load": would["rows"],
        "rejected": n_rejected,
        "in_doubt": 0,
        "skipped": would["rows"],
        "requests": 0,
        "would_send_requests": would["calls"],
        "would_send_bytes": would["bytes"],
        "retries": 0,
        "elapsed_s": round(elapsed, 3),
        "rows_per_s": round(planner.rows_read / elapsed, 1) if elapsed > 0 else 0.0,
        "stop_reason": stop_reason,
        "reconcile": None,
        "inputs": [msgspec.to_builtins(p) for p in profiles],
        "ledger": None,
        "rejects_file": job.rejects_path,
    }
    report["exit_code"] = EXIT_STOPPED if stop_reason else (EXIT_ROWS if n_rejected else EXIT_OK)
    if job.report:
        write_report(job.report, report)
    return report
