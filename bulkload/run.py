"""One run of a job against its API, as one object: the job, its target and ledger, the client and dispatcher
connected to the API and the limits they keep, set up by `Run.open`. `Run.load` sends every phase, reconciles and
writes what the run tells (its outputs and its report); the commands (runner.py, undo.py) open one each."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn, TypeVar

import anyio
from msgspec import UNSET

from . import account, interrupts, kept_rejects, ledger_pg
from .alongside import earlier_runs, written_after_refusal, written_since
from .dispatch import Counters, Dispatcher, RetryPolicy
from .doubt import in_flight, refused_together, way_on, with_reasons
from .errors import (
    EXIT_STOPPED,
    EXIT_USAGE,
    NO_SUCH_CALL,
    APIError,
    AuthError,
    BadAnswer,
    BulkloadError,
    ConfigError,
    LedgerError,
    LedgerWriteError,
    ListingLags,
    Redirected,
    RunStopped,
    ServerError,
    SourceError,
    TokenRefused,
    TransportError,
    Unreachable,
    WrongEndpoint,
    command_on,
)
from .http import Client, Settings
from .job import Job
from .ledger import Figures, Ledger
from .ledger_home import record_status
from .limits import Limits
from .manifest import manifests_way_on, with_its_credentials
from .manifest_keys import in_job_words, words_of
from .model import Known, Reconciled
from .pipeline import Loader, Tally, resumable, run_chunks
from .planning import Planning, PlanningInProcess, PlanSpec, planning_for
from .profile import as_planned
from .progress import Snapshot, shown
from .reconcile import reconcile
from .recount import RECOUNT, Recount
from .report import Written, rejects_fields, write_in_doubt, write_rejects_files, write_report, write_success
from .results import Groups, Quota, Report, unbalanced_entry
from .shared_limits import with_budget
from .sources import Source
from .stages import LOADING, LOOKING, RECONCILING, Stages
from .targets.base import Credentials, Target
from .walks import Behind, Walked

log = logging.getLogger(__name__)

#: unbalanced groups and skipped reasons the report names one by one
REPORT_LIST = 100
#: the keys of a report's input that say how it was read, which a mark or format the user gave is named in
EVIDENCE = ("decimal_evidence", "date_evidence")

R = TypeVar("R")


@dataclass(frozen=True)
class Shared:
    """What the runs of one process share (`bulkload run MANIFEST`, fleet.py): `connections` caps their calls in
    flight together, in turn (FIFO); their inputs are planned in this process (a planning child each would be a
    Python each); `opened` is told of each Run as it starts (for the one progress display)."""

    connections: anyio.CapacityLimiter
    opened: Callable[[Run], object] = lambda run: None


class Run:
    """A job against its API for one command. Made by `Run.open`; `started` is when (time.monotonic())."""

    def __init__(self, job: Job, target: Target, ledger: Ledger, dispatcher: Dispatcher, limits: Limits) -> None:
        self.job, self.target, self.ledger, self.dispatcher, self.limits = job, target, ledger, dispatcher, limits
        named = ledger.run.settings.get("files")
        #: the inputs as the run named them, which its files, report and display give: a resume opens them by the
        #: absolute paths the ledger keeps (job.files), yet each invocation names them alike
        self.names: list[str] = named if isinstance(named, list) and len(named) == len(job.files) else job.files
        self.started = time.monotonic()
        self.tally = Tally()
        self.loader: Loader | None = None  # made once setup is done; the report counts its rows read
        self.stages = Stages()  # what it is doing now, for the progress display
        self.behind: Behind | None = None  # the walk behind the load, where the target is reconciled by walk
        self.loaded_at: float | None = None  # when the last upload was answered (time.monotonic())
        self.shared: Shared | None = None
        self.recount = RECOUNT  # how reconciliation reads a count again that lags behind the walks
        self.wall_clock: Callable[[], float] = time.time  # the settle delay since the run's last write is read by it
        #: its rows' reasons (rejected, in doubt) in the words of the manifest whose job it is, where it is one's
        self.words = words_of(job)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        job: Job,
        target: Target,
        ledger: Ledger,
        credentials: Mapping[str, str],
        shared: Shared | None = None,
        wall_clock: Callable[[], float] = time.time,
        recount: Recount = RECOUNT,
        started: float | None = None,
    ) -> AsyncIterator[Run]:
        """Connect to the API with the target's credentials, within the job's limits: the rolling windows and the
        daily quota start from the calls earlier runs made in them and keep this one's (Limits.kept); `shared`: what
        it shares with the other runs of this process; `wall_clock`: the daily quota's (seconds since the epoch);
        `recount`: how reconciliation reads a lagging count again (its waits' clock and sleep); `started`: when the
        command began (time.monotonic(); default: now), which its report's timings count from. The ledger stays
        the caller's to close. OtherAccount, before any call, when the credentials are for another account than
        the one the run wrote into (account.hold, which keeps it in a ledger that has none)."""
        account.hold(ledger, job, target, credentials)
        # the walk behind the load goes alongside its calls, on connections of its own (within the same limits)
        concurrency = job.concurrency + behind_chains(job, target)
        async with Client(
            job.api_url,
            target.headers(credentials),
            concurrency=concurrency,
            timeout_s=job.timeout_s,
            settings=settings_of(target),
            slots=None if shared is None else shared.connections,
            answered=ledger.answered_before(),
        ) as client:
            # a worker's job also spends its agreement's budget in PostgreSQL, shared with every worker: the API
            # account's, whatever agreement name a manifest gives it
            limits = with_budget(
                Limits.for_job(job, target, ledger, credentials, wall_clock=wall_clock),
                [target.name, job.api_address, *target.credentials.agreement_of(credentials)],
            )
            dispatcher = Dispatcher(
                client, target, limits=limits, policy=RetryPolicy(attempts=job.attempts), counters=Counters()
            )
            with limits.kept():
                run = cls(job, target, ledger, dispatcher, limits)
                run.shared, run.recount, run.wall_clock = shared, recount, wall_clock
                run.started = run.started if started is None else started
                if shared is not None:
                    shared.opened(run)
                yield run

    async def reconcile(self, files: list[str]) -> Reconciled:
        """Compare the ledger with what the API holds now (`files`: the run's inputs, as the report names them). What
        stops it (a 5xx, the daily quota, an answer it cannot read) is raised naming the way on that fits the run
        (`resumable`, with --ledger): `bulkload rollback` for a run being rolled back (which resume refuses), else
        `bulkload reconcile` again."""
        self.stages.enter(RECONCILING)
        last = self.ledger.last_written()
        settle_s = 0.0 if last is None else last + self.job.settle_delay_s - self.wall_clock()
        later = written_after_refusal(self.job, self.ledger)  # a later run's records: never a refusal's of this one
        try:
            at = (self.ledger, self.target, self.dispatcher, files, self.stages)
            return await reconcile(*at, self.behind, self.recount, settle_s, later)
        except BulkloadError as exc:
            command = "rollback" if self.ledger.run.status == "rolling_back" else "reconcile"
            raise exc.retold(resumable(str(exc), exc, self.ledger.path.absolute(), command)) from exc

    def snapshot(self) -> Snapshot:
        """The run as the progress display sees it (read 4×/s, never per row)."""
        c, tally, stage = self.dispatcher.counters, self.tally, self.stages
        return Snapshot(
            stage.name,
            stage.done,
            stage.total,
            stage.unit,
            rows_read=self.rows_read,
            rows_sent=self.loader.rows_sent if self.loader is not None else 0,
            loaded=tally.loaded,
            rejected=tally.rejected,
            in_doubt=tally.in_doubt,
            held_back=tally.held_back,
            skipped=tally.skipped,
            earlier=self.tally.earlier,
            requests=c.requests,
            retries=c.retries,
            rate_limited=c.rate_limited,
            limit_wait=self.limits.wait_for,
            held=self.limits.held,
            paused_s=self.limits.rate.paused_s(),
            settling_s=self._settling_s(),
        )

    def _settling_s(self) -> float:
        """Seconds until the last chunk waiting out a settle delay looks again (0.0: none waits)."""
        waiting = self.loader.settling if self.loader is not None else {}
        return max(0.0, max(waiting.values()) - anyio.current_time()) if waiting else 0.0

    async def load(
        self,
        sources: list[Source],
        *,
        progress: bool,
        resend_in_doubt: bool = False,
        interrupted: Callable[[Report], object] | None = None,
        planner: Planning | None = None,
    ) -> Report:
        """`_load` with the progress display on stderr (`progress`): planning, loading, reconciling. `planner`: the
        first phase's, started ahead by the caller (closed here). An interrupt's partial report goes to
        `interrupted` once the display is gone: printed while it was up, its clearing erased the summary's end."""
        partial: list[Report] = []
        try:
            async with shown(self.snapshot, self._rows(), progress):
                return await self._load(sources, resend_in_doubt, partial.append, planner)
        finally:
            if partial and interrupted is not None:
                interrupted(partial[0])

    async def _load(
        self,
        sources: list[Source],
        resend_in_doubt: bool,
        interrupted: Callable[[Report], object],
        planner: Planning | None = None,
    ) -> Report:
        """Send every phase, reconcile and report. A run cut short (a stop: the quota, a ledger write that failed,
        retries spent, also in setup or the look for what exists; an interrupt: Ctrl-C, SIGTERM, SIGHUP, a caller's
        cancellation) still writes its report and files where it can; an interrupt then hands that partial report
        to `interrupted` (the command line prints it) and goes on to the caller."""
        # one a phase, a child started ahead (the first while setup does its round trips) unless the files are small
        planning = PlanningInProcess if self.shared else planning_for([source.path for source in sources])
        planners: list[Planning] = [planner or planning()]
        try:
            try:
                try:
                    await self._send(sources, planners, resend_in_doubt=resend_in_doubt)
                # a read of a PostgreSQL ledger whose connection is gone fails as its writes do (LedgerWriteError)
                except* (RunStopped, TransportError, ServerError, BadAnswer, ledger_pg.ConnectionLost) as failed:
                    first: BaseException = failed
                    while isinstance(first, BaseExceptionGroup):  # one of the nested task groups' errors
                        first = first.exceptions[0]
                    self.tally.stop(resumable(str(first), first, self.ledger.path), EXIT_STOPPED)
                except* (ConfigError, APIError) as refused:  # in setup or the look for what exists: nothing loaded
                    first = refused
                    while isinstance(first, BaseExceptionGroup):
                        first = first.exceptions[0]
                    with contextlib.suppress(LedgerWriteError):  # the error says more than a failed write would
                        self.ledger.set_status("stopped")
                    advised = self.advised(first)  # not `shown`: that is the progress display's
                    raise advised from (first.__cause__ if advised is first else first)
            except anyio.get_cancelled_exc_class():
                self._interrupted(sources, interrupted, in_flight(self.target, range(len(self.job.files))))
                raise
            if self.tally.cause is not None and (then := self.next_step(self.tally.cause)) is not None:
                self.tally.stop_reason = f"{self.tally.stop_reason}; {then}"
            load_s = (self.loaded_at or time.monotonic()) - self.started
            recon = None
            success: list[Callable[[], int]] = []
            if not self.tally.stopped:
                # what loaded is final: its success file is written on another core while the walk ends and the
                # diffs run in SQLite (which lets go of the GIL), not after them (0.6 s of a million rows)
                try:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._write_success, success)
                        try:
                            recon = await self.reconcile(self.names)
                        except BulkloadError as exc:
                            reason = f"reconciliation could not finish: {exc}"  # with its way on (`reconcile`)
                            self.tally.stop(reason, EXIT_STOPPED)
                except anyio.get_cancelled_exc_class():  # every row settled: what is left is the reconciliation
                    written = success[0] if success else None  # the success file, where its thread wrote it
                    self._interrupted(sources, interrupted, "and reconciles it", load_s, written)
                    raise
            # the success file written beside the walk names the ids as the answers did: where the walk paired lines
            # again (Ledger.pair_by_walk), it is written again from the ledger
            ahead = success[0] if success and not (recon is not None and recon.answers_reordered) else None
            return self._outcome(sources, recon, load_s, ahead)
        finally:
            for planner in planners:
                await planner.close()

    def _interrupted(
        self,
        sources: list[Source],
        interrupted: Callable[[Report], object],
        then: str,
        load_s: float | None = None,
        success: Callable[[], int] | None = None,
    ) -> None:
        """An interrupt cut the run short: it stops resumable (`then`: what resume does next), its report and files
        are written (`success`: the success file written already, as for `_outcome`), and `interrupted` is handed
        the report (the command line prints it)."""
        self.tally.stop(
            f"{interrupts.cause()}; `{command_on('resume', self.ledger.path.absolute())}` continues it {then}",
            EXIT_STOPPED,
        )
        how = interrupts.reason() if interrupts.stopped() else ""  # a signal, not a caller's cancellation
        interrupted(self._outcome(sources, None, load_s, success, interrupted=how))

    def advised(self, exc: BaseException) -> BaseException:
        """`exc`, which stopped the run before its calls went out, saying what to do next where a setting is
        wrong: a call the API does not have (404, 405, 415) is a WrongEndpoint."""
        if isinstance(exc, APIError) and exc.status in NO_SUCH_CALL:
            exc = WrongEndpoint(
                f"{self.job.api_url} answered a call with {exc}: the API has no such call there (is --base-url right?)",
                uncertain=exc.uncertain,
            )
        if not isinstance(exc, BulkloadError):
            return exc
        then = self.next_step(exc)
        advised = exc if then is None else exc.advised(then)
        said = self.in_its_words(str(advised), advised.exit_code)
        return advised if said == str(advised) else advised.retold(said)

    def next_step(self, exc: BaseException) -> str | None:
        """What the user does after `exc`, a wrong address or refused credentials, stopped the run; None for
        another error."""
        ledger = self.ledger.path
        if isinstance(exc, Unreachable | WrongEndpoint | Redirected):
            if self.ledger.created_nothing():
                return (
                    f"nothing was created: with the right address, continue with `{command_on('resume', ledger)} "
                    "--base-url URL`, or load the files again"
                )
            return f"once the API answers there again, continue with `{command_on('resume', ledger)}`"
        if isinstance(exc, AuthError | TokenRefused):
            created = "nothing was created: " if self.ledger.created_nothing() else ""
            names = settings_of(self.target).credentials
            which = "" if names in str(exc) else f" ({names})"  # named once
            return f"{created}with the right credentials{which}, continue with `{command_on('resume', ledger)}`" + (
                ", or load the files again" if created else ""
            )
        return None

    async def _set_up(self, sources: list[Source], *, late: bool) -> None:
        """The target's setup (Target.setup), told for books `listed_first` that have not listed yet the earlier
        runs into the place that wrote less than the settle delay ago (alongside.earlier_runs), whose records its
        listing must hold. One that leaves some out lags (errors.ListingLags: a read replica behind; a tester's second
        load at once created 39 records again): listed again once the delay has passed since their last write, told
        the same runs (and any that wrote since), and refused (ListingLags) where they are still left out then."""
        target, job, ledger = self.target, self.job, self.ledger
        if not target.books.listed_first or target.books.listed_at is not None:
            await target.setup(self.dispatcher, sources, late=late)
            return
        making, key = str(ledger.path.absolute()), ledger.run.key_prefix
        earlier = earlier_runs(job, target, making, key, time.time())
        try:
            await target.setup(self.dispatcher, sources, late=late, earlier=earlier)
            return
        except ListingLags as exc:
            wait = max(0.0, exc.wrote + job.settle_delay_s - time.time())
            log.warning(  # a wait of up to --settle-s: said, or it looks hung
                "the listing before the first call leaves out records of an earlier run that wrote less than "
                "--settle-s ago (a listing behind its writes): listing again in %.1f s",
                wait,
                extra={"target": target.name},
            )
            await anyio.sleep(wait)
        told = {run.ledger for run in earlier}
        since = [run for run in earlier_runs(job, target, making, key, time.time()) if run.ledger not in told]
        try:
            await target.setup(self.dispatcher, sources, late=late, earlier=[*earlier, *since])
        except ListingLags as exc:
            said, wrote = exc.said, exc.wrote
            raise ListingLags(exc.match_on, exc.resource, exc.left_out, said, wrote=wrote, waited=True) from None

    async def _send(self, sources: list[Source], planners: list[Planning], *, resend_in_doubt: bool) -> None:
        """Set up and send every phase, each planned by its own of `planners` (the next started while one runs)."""
        job, target, ledger, dispatcher, tally = self.job, self.target, self.ledger, self.dispatcher, self.tally
        # an adopted copy that lost what the run looked up before its first call: looked up again, it is late
        late = ledger.phase_context(-1) is None and ledger.adopted() is not None
        await self._set_up(sources, late=late)
        ledger.set_options(target.options())
        loader = Loader(
            target, ledger, dispatcher, tally, concurrency=self.limits.concurrency, settle_s=job.settle_delay_s
        )
        # before the first call that writes: the scopes' baselines the keys tell, then (once per run) the look for
        # groups already there. In that order: a group another writer creates after the look (not found, so created
        # again by the run) lies above the baseline, walked and compared (a double), never counted there before.
        # The look is told only the baselines read just now: one an earlier process read may be hours old
        earlier = set(loader.baselines)
        await loader.ensure_baselines(dict.fromkeys(target.books.scopes(ledger.group_keys)))
        if ledger.phase_context(-1) is None and not (job.allow_duplicate_load or target.books.rerunnable):
            await self._skip_existing({s: b for s, b in loader.baselines.items() if s not in earlier})
        if ledger.phase_context(-1) is None:
            ledger.set_phase_context(-1, {"existing": "checked"})
            # what the run saw before its first call is kept where a -wal lost after a kill cannot take it: taken
            # again later, it would hold the run's own records
            ledger.hold_fast()
        loader.resend_in_doubt = resend_in_doubt
        if target.books.rerunnable:  # it sets values on records that exist, which a later run may have set since
            loader.written_later = written_since(job, ledger)
        self.loader = loader
        if chains := behind_chains(job, target):
            ledger.open_remote()
            walked = Walked(ledger, target, dispatcher)
            # what the run's earlier processes created (resume) lies at or below the newest id they were given
            floor = ledger.newest_created()
            self.behind = behind = Behind(walked, loader.baselines, chains, after_load=job.concurrency, floor=floor)
            loader.on_created = behind.created
        ledger.set_status("running")

        self.stages.enter(LOADING, unit="rows")
        async with anyio.create_task_group() as tg:
            if self.behind is not None:
                tg.start_soon(self.behind.follow)
            phases = list(target.phases.of(len(sources)))
            for phase, indexes in enumerate(phases):
                if tally.stopped:
                    break
                context = phase_context(target, ledger, sources, phases, phase)
                spec = plan_spec(job, target, ledger, sources, indexes, context)
                if phase + 1 < len(phases):
                    planners.append(type(planners[phase])())  # the next phase's, planned where this one is
                await run_chunks(loader, spec, job.concurrency, planners[phase])
            # the calls a look's listing left in doubt, as the run's own writes moved it: looked for once more now
            # that they have landed, before the walk or the reconciliation reads what is final
            await loader.look_again()
            self.loaded_at = time.monotonic()
            if self.behind is not None and not tally.stopped:  # the last upload is answered: walk what is final
                self.behind.finish(ledger.begin_remote(fresh=False))
                self._walking_behind(self.behind.walked)
                await self.behind.ended.wait()
            tg.cancel_scope.cancel()

    def _walking_behind(self, walked: Walked) -> None:
        """Every row is settled and what is left is the walk behind the load (against a slow or rate-limited API, as
        long as a minute): shown as reconciling, the records walked of those the run created, as `reconcile` goes on
        to count them; not as a load at 100 % whose ETA says 0:00:00 for all that time."""
        created = sum(figures[0] for per in self.ledger.expected().values() for figures in per.values())
        self.stages.enter(RECONCILING, created, "records")
        self.stages.advance(sum(walked.listed.values()))
        walked.stages = self.stages

    async def _skip_existing(self, baselines: Mapping[str, Mapping[str, int]]) -> None:
        """The input's groups the API already holds are not created again (asked once, before the first write,
        after the `baselines` of the scopes the keys tell)."""
        found: list[Known] = []
        # how far of the input's groups: minutes against a slow API and a full journal, never a counter standing at 0
        self.stages.enter(LOOKING, self.ledger.group_count(), "groups looked up")
        if self.job.reload_gone:  # the user's word: what the API no longer holds was deleted, never booked
            self.ledger.forget_loaded()
        books, stages = self.target.books, self.stages
        async for item in books.groups_already_there(
            self.dispatcher, self.ledger.group_keys, baselines, stages.advance
        ):
            found.append(item)
            if len(found) >= 1_000:
                self.ledger.skip(found)
                found.clear()
        self.ledger.skip(found)

    @property
    def rows_read(self) -> int:
        """Rows this process read (handed out in a chunk, or rejected): ahead of those it settled."""
        return self.loader.rows_read if self.loader is not None else 0

    def _figures(self) -> Figures:
        """The report's buckets: the ledger's (Ledger.figures), the run's so far, earlier invocations' included, as
        `bulkload reconcile` reports them and the rejects, success and in-doubt files list the rows; where its
        connection was lost, this invocation's tally, the rows not yet sent not known. The rows read but not sent are
        in none of the buckets: not yet sent, which resume sends."""
        if not self.ledger.lost:
            return self.ledger.figures()
        tally = self.tally
        return Figures(tally.loaded, tally.rejected, tally.in_doubt, tally.skipped, None)

    async def _write_success(self, written: list[Callable[[], int]]) -> None:
        """Write the success file in a thread, reading the ledger on a connection of its own, and put in `written`
        what `_outcome` takes instead of writing it (its row count, or its OSError again); nothing where the ledger
        cannot be read apart (PostgreSQL, or SQLite refusing): `_outcome` writes it then."""
        rows = self.ledger.created_rows_apart()
        if rows is None:
            return
        job = self.job
        try:
            n = await anyio.to_thread.run_sync(
                write_success, job.success_path, rows, self.names, self.target.api.id_name
            )
        except sqlite3.Error:
            return
        except OSError as exc:
            written.append(partial(_raise, exc))
            return
        written.append(lambda: n)

    def _outcome(
        self,
        sources: list[Source],
        recon: Reconciled | None,
        load_s: float | None = None,
        success: Callable[[], int] | None = None,
        *,
        interrupted: str = "",
    ) -> Report:
        """The run's status in the ledger, its rejects, success and in-doubt files and its report, each written
        where it can be: one that cannot (the disk is full) is named in the report's `unwritten` and stops the run.
        `success`: the success file written already (`_write_success`); `interrupted`: how a signal stopped it
        (RunInfo.interrupted)."""
        job, ledger, tally = self.job, self.ledger, self.tally
        unwritten: list[str] = []

        def attempt(what: str, write: Callable[[], R]) -> R | None:
            try:
                return write()
            except (OSError, LedgerWriteError, ledger_pg.ConnectionLost) as exc:  # the last: a file made from it
                unwritten.append(f"{what}: {exc}")
                return None
            except (ConfigError, SourceError) as exc:  # an input the rejects file's cells are read from, gone since
                # (moved or deleted while the run loaded it): before, the command ended at it, exit 2 as if nothing
                # had been sent, with no summary and no report, its every row loaded (found by a tester)
                unwritten.append(f"{what}: {exc} (put the input back as it was first)")
                return None

        status = "stopped" if tally.stopped else "complete"
        if self.loader is not None:  # the calls held back as a ledger write failed: `pending`, where it takes it now
            self.loader.record_held_back()
        attempt("the ledger's status", lambda: ledger.set_status(status, interrupted))
        if status == "complete":
            record_status(ledger, status)
        rejects = job.rejects_paths()
        rows = lambda: ledger.rows("rejected")  # noqa: E731
        write = lambda: write_rejects_files(rejects, rows, sources, self.names, self._marks(), self.words)  # noqa: E731
        written = attempt("the rejects file", write)
        if written is not None:  # a resume keeps the file as written unless the user fixed it since (kept_rejects)
            attempt("the ledger's digest of the rejects file", lambda: kept_rejects.keep(ledger, rejects))
        n_success = attempt(
            "the success file",
            success
            or (lambda: write_success(job.success_path, ledger.created_rows, self.names, self.target.api.id_name)),
        )
        n_in_doubt = attempt("the in-doubt file", self._write_in_doubt)
        if unwritten and not tally.stopped:
            tally.stop(
                f"could not write {unwritten[0]}; `{command_on('resume', ledger.path)}` writes it again",
                EXIT_STOPPED,
            )
        report = self._report(recon, load_s, written, n_success, n_in_doubt, unwritten)
        if job.report:
            attempt("the report", lambda: write_report(str(job.report), report))
            if unwritten[-1:] and unwritten[-1].startswith("the report") and not tally.stopped:
                # the one file a script reads the run by: without it, not an ending to report as done
                tally.stop(
                    f"could not write {unwritten[-1]}; `{command_on('resume', ledger.path)}` writes it again",
                    EXIT_STOPPED,
                )
                report = report.stopped(self.in_its_words(tally.stop_reason or "", tally.stop_code), tally.stop_code)
        return report

    def _rows(self) -> int | None:
        """The input's rows, as the read of every file before the first call counted them (its profiles, which the
        ledger keeps: a sep= line, blank lines and a cell over several lines are none); None where it cannot say."""
        profiles = None if self.ledger.lost else self.ledger.profiles()
        return None if profiles is None else sum(profile["rows"] for profile in profiles)

    def _marks(self) -> list[str] | None:
        """Each input's decided decimal mark, as the ledger keeps its profile (None: it cannot be read)."""
        profiles = None if self.ledger.lost else self.ledger.profiles()
        return None if profiles is None else [profile["decimal"] for profile in profiles]

    def _write_in_doubt(self) -> int:
        """Write the in-doubt file from the ledger; where its connection is lost, from what this process knows of
        the rows in doubt (Loader.doubted_rows): the rows of a call whose outcome is unknown are never left out of
        it. Its row count; OSError, or ConnectionLost where the ledger was lost before the run could send."""
        loader = self.loader
        if loader is None or not self.ledger.lost:
            try:
                rows = with_reasons(self.ledger.in_doubt_lines(), loader.untold if loader is not None else {})
                return write_in_doubt(self.job.in_doubt_path, rows, self.names, self.words)
            except ledger_pg.ConnectionLost:
                if loader is None:  # lost before it sent anything: no row of it is in doubt but the ledger's
                    raise
        rows = with_reasons(loader.doubted_rows(), loader.untold)
        return write_in_doubt(self.job.in_doubt_path, rows, self.names, self.words)

    def _report(
        self,
        recon: Reconciled | None,
        load_s: float | None,
        rejects_written: list[Written] | None,
        n_success: int | None,
        n_in_doubt: int | None,
        unwritten: list[str],
    ) -> Report:
        job, ledger, tally, c, quota = self.job, self.ledger, self.tally, self.dispatcher.counters, self.limits.quota
        elapsed = time.monotonic() - self.started
        lost = ledger.lost  # its PostgreSQL connection gone: the figures are this process's, nothing is read
        groups, profiles = (None, None) if lost else (self._groups(), ledger.profiles())
        figures = self._figures()
        in_doubt = figures.in_doubt > 0
        own = tally.loaded + tally.rejected + tally.in_doubt + tally.skipped - tally.earlier  # settled by this process
        return Report(
            target=self.target.name,
            status="stopped" if tally.stopped else "complete",
            rows_read=figures.rows_read,
            loaded=figures.loaded,
            rejected=figures.rejected,
            in_doubt=figures.in_doubt,
            held_back=tally.held_back or UNSET,
            skipped=figures.skipped,
            rejected_groups=UNSET if groups is None else groups.rejected,
            skipped_groups=UNSET if groups is None else groups.skipped,
            groups=UNSET if groups is None else groups,
            requests=c.requests,
            retries=c.retries,
            resent_unfound=len(tally.resent_unfound) or UNSET,
            rate_limited=c.rate_limited,
            errors=c.errors,
            elapsed_s=round(elapsed, 3),
            load_s=round(elapsed if load_s is None else load_s, 3),
            reconcile_s=round(0.0 if load_s is None else elapsed - load_s, 3),
            rows_per_s=round(own / elapsed, 1) if elapsed > 0 else 0.0,
            stop_reason=None if tally.stop_reason is None else self.in_its_words(tally.stop_reason, tally.stop_code),
            stop_code=tally.stop_code or None,
            isolation=self.loader.isolation.report() if self.loader is not None else None,
            daily_quota=Quota(
                limit=quota.limit, used_by_run=quota.used_here(), used_by_other_runs=quota.used_elsewhere()
            ),
            reconcile=recon,
            inputs=None if profiles is None else self._as_given(as_planned(profiles, ledger.db(), self.target)),
            ledger=str(ledger.path),
            rejects_file=job.rejects_path,
            rejects_written=None if rejects_written is None else sum(w.rows for w in rejects_written),
            **self._rejects_fields(rejects_written, unwritten),
            success_file=job.success_path,
            success_written=n_success,
            in_doubt_file=job.in_doubt_path if in_doubt else None,
            in_doubt_written=n_in_doubt,
            in_doubt_way_on=self._way_on(figures.in_doubt) if in_doubt else None,
            report_file=job.report,
            files=self.names,
            unwritten=unwritten,
            ledger_lost=True if lost else UNSET,
            rows_not_sent=figures.rows_not_sent,
        )

    def _rejects_fields(self, written: list[Written] | None, unwritten: list[str]) -> dict[str, Any]:
        """rejects_fields of the run; no `rejects_load` where the rejects file could not be written: there is no
        file to fix and load (before, the summary said "fix them in place, then load them as the inputs were:
        bulkload load economic e.csv.rejects.csv" of a file NOT WRITTEN; found by a tester)."""
        job = self.job
        fields = rejects_fields(self.target, job.rejects_paths(), written, job.reading_args())
        if written is None and any(u.startswith("the rejects file:") for u in unwritten) and "rejects_load" in fields:
            fields["rejects_load"] = None
        return fields

    def _as_given(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The report's `inputs` with a decimal mark or date format the user gave ("given: --decimal ,": the
        evidence of how each file was read) said as the key its manifest's job gives it (`words`), which is what a
        manifest's user gave; as they are for a load of its own."""
        if self.words is None:
            return inputs
        said = self.words
        return [{**p, **{k: said(p[k]) for k in EVIDENCE if isinstance(p.get(k), str)}} for p in inputs]

    def _way_on(self, in_doubt: int) -> str:
        """What settles this run's rows in doubt, `in_doubt` of them (doubt.way_on): while it has rows not sent, in
        its manifest's words where it is a manifest's job's (`in_its_words`); once finished, `bulkload resume
        --resend-in-doubt` and the like on its ledger, which `bulkload run MANIFEST --resume` does not do to a
        finished job."""
        earlier = 0 if self.ledger.lost else sum(1 for _ in self.ledger.rows_in_doubt())
        said = way_on(
            self.target,
            range(len(self.job.files)),
            ledger_pg.name_of(str(self.ledger.path)),
            own=in_doubt > earlier,
            earlier=earlier > 0,
        )
        if together := refused_together(self.tally.refused_together):
            said = f"{together}; {said}"
        if self.tally.stopped:
            return self.in_its_words(said, self.tally.stop_code)
        return self._in_its_keys(
            with_its_credentials(said, ledger_pg.name_of(str(self.ledger.path)), self.job.manifest_job)
        )

    def in_its_words(self, text: str, code: int = EXIT_STOPPED) -> str:
        """`text` (why the run stopped, with exit `code`, or what settles its rows in doubt) with its way on in the
        words of the manifest whose job it is, where it is one's (Job.manifest_job, manifest.manifests_way_on), be
        it `bulkload run` or `bulkload resume` by hand that runs it: `bulkload run MANIFEST --resume` (a queue's
        `--queue URL`), never `bulkload resume --ledger`; the other commands on its ledger with the job's
        credentials as the manifest names them (manifest.with_its_credentials)."""
        ledger = ledger_pg.name_of(str(self.ledger.path))
        said = manifests_way_on(text, ledger, self.job.manifest_job, refused=code == EXIT_USAGE)
        return self._in_its_keys(with_its_credentials(said, ledger, self.job.manifest_job))

    def _in_its_keys(self, text: str) -> str:
        """`text` with the flags that are keys of the manifest's job this run is said as those keys, as the way on
        that names its manifest's command has them set (manifest_keys.in_job_words); as it is for a load of its own."""
        job = self.job.manifest_job.get("job")
        return text if not job else in_job_words(text, self.job.target, job)

    def _groups(self) -> Groups:
        """What the report says of groups: how many loaded, were rejected (whole) and skipped (loaded earlier), and
        which loaded groups do not balance in the input."""
        ledger, target = self.ledger, self.target
        counts = ledger.group_counts()
        unbalanced, listed = ledger.unbalanced(REPORT_LIST)
        kind = target.kind_of(0)  # a run's groups are those of its first file's kind
        # kinds of groups of other names (PayorCRM's customers and invoices): counted together, as records
        names = {target.kind_of(i).group_name for i in range(len(self.job.files))}
        return Groups(
            name=kind.group_name if len(names) == 1 else "record",
            loaded=counts["loaded"],
            rejected=counts["rejected"],
            skipped=counts["skipped"],
            unbalanced=unbalanced,
            unbalanced_list=[unbalanced_entry(kind.group_label(key), imbalance) for key, imbalance in listed],
            skipped_reasons=ledger.skipped_reasons(REPORT_LIST),
        )


def settings_of(target: Target) -> Settings:
    """What a failed call's message tells the user to check: --base-url, the target's other address (a token
    endpoint's, e.g. HALO_AUTH_URL) and the environment variables of its credentials."""
    names = target.credentials
    other = names.addresses
    return Settings(
        other_address=f"{' or '.join(other)} (or --base-url)" if other else None,
        credentials=credentials_setting(names),
    )


def credentials_setting(names: Credentials) -> str:
    """Where a load's credentials `names` are set, as a message about refused ones says it: the target's variables
    (fleet.manifest_words says a manifest job's own, ManifestJob.credentials_setting)."""
    return f"{' and '.join(names.names)}, in the environment or the job file's [credentials]"


def behind_chains(job: Job, target: Target) -> int:
    """How many walks run behind the load at once: as many as calls (a walked page lists what two calls of 500
    create, but it takes longer to answer: with half as many, the walk was 0.3 s behind at the last upload at
    100 ms latency; they only claim what is final, so more cost nothing at 0 ms); none where the target is not
    reconciled by walk (see walks.py)."""
    return job.concurrency if target.api.reconcile_by == "walk" else 0


def phase_context(
    target: Target, ledger: Ledger, sources: list[Source], phases: list[list[int]], phase: int
) -> dict[str, Any]:
    """What planning `phase` (an index into `phases`, Phases.of) needs from the earlier phases (Phases.before):
    worked out once, when the phase begins, and kept in the ledger, so that a resume and a rollback plan its calls
    as the run did. An adopted copy that never began the phase (Ledger.adopt) does not know what the run worked
    it out from: a line of an earlier phase it holds as in doubt (or not sent) may have loaded after the copy was
    made, so only the lines it knows did not load (rejected) count, and every row the run may have sent is
    planned; its calls, never seen by the copy, are in doubt (Loader.unseen), never rejected for a guess."""
    context = ledger.phase_context(phase)
    if context is None:
        adopted = ledger.adopted() is not None
        unsettled = {i: ledger.unsettled(i, rejected_only=adopted) for p in phases[:phase] for i in p}
        context = target.phases.before(phases[phase], unsettled, sources)
        ledger.set_phase_context(phase, context)
    return context


def plan_spec(
    job: Job, target: Target, ledger: Ledger, sources: list[Source], indexes: list[int], context: dict[str, Any]
) -> PlanSpec:
    """What the planner needs to plan the files `indexes` of a phase as the run plans them (a resume and a rollback
    plan the same calls again)."""
    profiles = ledger.profiles()
    if profiles is None:  # every ledger is made with them; one without was not made by this bulkload
        raise LedgerError(f"{ledger.path} does not say how its files are read: it was not made by this bulkload")
    return PlanSpec(
        target.name,
        target.options(),
        [str(sources[i].path) for i in indexes],
        indexes,
        context,
        job.delimiter,
        job.columns,
        job.items_per_call,
        target.api.max_bytes,
        encoding=job.encoding,
        profiles=[profiles[i] for i in indexes],
        skip_db=ledger.reader if ledger.skips() else None,
        workdir=ledger.workdir,
        pins=[(p.size_bytes, p.mtime_ns) for i in indexes if (p := sources[i].pinned)] or None,
    )


def _raise(exc: BaseException) -> NoReturn:
    raise exc
