"""Rollback: remove exactly what a run created, where the API can delete.

First the run's calls whose outcome the ledger does not know (in flight at a kill -9, or in doubt) are settled,
so that nothing they created is left behind: a keyed call is sent again with its stored Idempotency-Key (the
API answers from its cache with what it created, or does the work now), and one whose key is too old to
replay, or that has none, is looked for (`RecordKind.find_sent`) by the load's rule: absent at once, it is looked for
again once the settle delay since its answer was lost has passed. What settling finds goes into the ledger as a
done call. Then every record the run created is deleted, each DELETE recorded before it leaves: a 404 is "already
removed" only when an earlier rollback of ours sent that DELETE, and otherwise unexplained — the record left
the API some other way (e-conomic: possibly booked). What was deleted is read back after: a record the API still
holds as the run's was not removed, whatever the DELETE's answer said, and is counted failed (_confirm_removed).

A stop (RunStopped: the agreement's daily quota spent, a Retry-After past what a call waits, no token to be had;
or the credentials refused, by the API or its token endpoint, which every later call would meet too) ends the
rollback there: nothing more is sent, what it had not come to is counted as left (never as failed), and
`stop_reason` says why and names the command that continues it, `bulkload rollback` (a run rolled back in part
cannot be resumed: its ledger no longer says what the API holds).

A record the target knows was there before the run (`Books.there_before`: HaloPSA's listed before its first call) is
never deleted, whatever the ledger says: it is kept and listed (`spared`). Nor is one whose id holds another record now:
before deleting, what the run's ids hold is read (still_ours.py: a walk of the run's scopes over its ids, a page a call,
or the target's own listing) and compared as reconciliation compares it. An id holding another line than the run sent,
or one of another group or scope (the API stored it otherwise than sent, the record was changed since, or the API lost
its data and gave the id again: which, cannot be told), is kept and listed (`spared`); one found nowhere the run created
it is gone (`unexplained`), no DELETE sent, once read again after the settle delay since the run's last write where it
had not passed (a listing that shows new records late: `_read_settled`); one that could not be read is left
(`failed`). And a call in doubt that a look finds records for (by match fields, its key too old or none) is left
unsettled: a look cannot tell the run's records from another writer's look-alikes, and none is deleted on its word.

Exit codes: 0 all removed; 1 calls that could not be settled (their records may remain; listed); 3 everything of the
run's the API still held removed, but records gone that no rollback of ours removed (listed: e-conomic, possibly
booked), records that are not the run's kept (listed), or entries a refused call of the run stored of groups it
rejected, which the API gave no id for, or doubles of groups it loaded (found by reconciliation's rules,
still_ours.refused_stored: named, never deleted, as a walk cannot tell them from another writer's made alike;
listed); 2 the credentials refused (run
rollback again with the right ones); 4 deletes, reads or settling failed for now, or the rollback stopped (run
rollback again; after a spent quota, once its calls free up). With 0 and 3 the run is rolled back; with 1, 2 and 4
it stays rolling back until a rollback ends so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import aclosing
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from . import interrupts, logs
from .alongside import written_after_refusal
from .answered import answered_ids
from .dispatch import Dispatcher, maybe_acted_on
from .errors import (
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_ROWS,
    EXIT_STOPPED,
    EXIT_USAGE,
    APIError,
    AuthError,
    BulkloadError,
    KeyOutlived,
    RunStopped,
    TokenRefused,
    cause_of,
    command_on,
)
from .instants import Instant
from .job import Job
from .ledger import Ledger, OpenCall
from .ledger_home import check_home, record_status
from .manifest import with_its_credentials
from .model import DELETED, MAYBE_OUT, Chunk, Held, Partly, Totals
from .outputs import check_cache
from .pipeline import body_hash, handed, key_kept, key_untrusted, resumable, settled_look, taken_ids
from .planning import Planned, planning_for
from .progress import shown
from .report import report_written
from .results import NOT_SUPPORTED, Rollback
from .run import Run, phase_context, plan_spec
from .runner import check_paths, job_of, open_sources, settings_given
from .sent_since import sent_by_others
from .skipped_gone import relying
from .sources import Source, sha256_of
from .stages import ROLLING_BACK, SETTLING, Stages
from .still_ours import read_back, refused_stored
from .targets.base import RecordKind, Target

#: what stops a rollback at once (`_stopped`): a stop of the limits', and credentials refused (by the API, or its
#: token endpoint), which every later call would meet too
_STOPS = (RunStopped, AuthError, TokenRefused)

log = logging.getLogger(__name__)

#: unexplained records and unsettled calls the report names one by one
REPORT_LIST = 100


async def rollback(
    ledger_path: str,
    *,
    report: str | None = None,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    adopt_copy: bool = False,
    progress: bool = False,
    daily_quota: int | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
    interrupted: Callable[[Rollback], object] | None = None,
) -> Rollback:
    """Settle the run's calls in flight, then remove everything it created; run again after an interruption, it
    finishes the job (what an earlier rollback removed is skipped). Returns the report. `clock`: the wall clock
    the ledger's times are read against (when a lost answer's settle delay is over; the calls the daily quota
    counts, per minute, and when they free up). `adopt_copy`: roll back from a
    copy of the ledger when the run's own is gone (ledger_home.check_home). `progress`: show the calls settled and the
    records removed (progress.py) on stderr. `daily_quota` (calls per 24 h, after the agreement's quota was raised;
    0 turns it off), `rate` (requests/s) and `concurrency` (calls in flight) replace the stored ones, for this
    rollback and the commands after it, as resume's do (runner.settings_given); ConfigError for a value a load's
    flag would refuse; OtherAccount, before any call, for credentials of
    another account than the one the run wrote into (account.py: its numbers there are another's records). An error
    that ends its workers (LedgerWriteError: a ledger write failed) is raised as itself, never in an ExceptionGroup;
    what the rollback had not come to (calls not settled, records not removed) is left for the next one. One
    interrupted (Ctrl-C, SIGTERM, SIGHUP) writes its report of what it did so far and hands it to `interrupted` (the
    command line prints it), then the interrupt goes on."""
    started = time.monotonic()
    check_cache("rollback")  # check_home reads the run's count of sends from it; its DELETEs count there too
    ledger = Ledger.open(ledger_path, to_write=True)
    try:
        check_home(ledger, resuming=False, adopt=adopt_copy)
        job = settings_given(
            job_of(ledger, report), ledger, daily_quota=daily_quota, rate=rate, concurrency=concurrency
        )
        check_paths(job, outputs=["report"] if report else [])
        target = job.make_target()
        out = Rollback(target=target.name, ledger=str(ledger.path))
        if not target.api.can_delete:
            out.status, out.exit_code = NOT_SUPPORTED, EXIT_USAGE
            if target.books.creates_nothing:  # a run that changed records (Visma Core's costs) and created none
                out.reason = (
                    f"{target.name} offers no way to take back what the run changed: it created nothing, it changed "
                    f"records that were there (a PATCH each), and nothing was set back; set them back in {target.name} "
                    "itself, by the ids the success file lists"
                )
                made = "changed records"
            else:
                out.reason = (
                    f"{target.name} offers no way to delete what was created: nothing was removed; undo the records "
                    f"in {target.name} itself, by the ids the success file lists"
                )
                made = "created records"
            if doubted := ledger.figures().in_doubt:  # calls that may have made changes no success line names
                out.reason += (
                    f"; {doubted:,} {'row is' if doubted == 1 else 'rows are'} in doubt ({job.in_doubt_path}): their "
                    f"calls may have {made} the "
                    f"success file does not list: look for them in {target.name} too"
                )
        else:
            credentials = job.credentials(env)
            with logs.bound(run=ledger.run.key_prefix, target=target.name):
                log.info("rollback: removing what the run of %s created", ledger.path)
                opened = Run.open(job, target, ledger, credentials, wall_clock=clock)
                running: list[Run] = []  # the run, once it is open
                try:
                    async with opened as run, shown(run.snapshot, None, progress):
                        running.append(run)
                        # from now on a load of the same groups is refused until this finishes (ledger.known_to)
                        ledger.set_status("rolling_back")
                        try:
                            await _settle(job, target, ledger, run.dispatcher, out, clock, run.stages)
                            await _remove_all(job, target, ledger, run.dispatcher, out, run.stages, clock)
                            if not out.stop_reason:  # else the next rollback looks
                                await _refused_stored(job, target, ledger, run.dispatcher, out)
                        except BaseExceptionGroup as group:  # the workers' errors: the first of ours, alone, as the
                            first = cause_of(group)  # command line shows it (what it left is the next rollback's)
                            raise first from first.__cause__
                except anyio.get_cancelled_exc_class():  # the display is gone: the summary can be printed
                    if running:  # as a load cut short (Ctrl-C, SIGTERM, a caller's cancellation) writes its report
                        _interrupted(ledger, out, running[0].stages)
                        _with_its_credentials(out, ledger, job)
                        out.requests = running[0].dispatcher.counters.requests
                        out.elapsed_s = round(time.monotonic() - started, 3)
                        _written(report, out, ledger, job)  # the interrupt goes on, whatever the disk says
                        if interrupted is not None:
                            interrupted(out)
                    raise
            out.requests = run.dispatcher.counters.requests
            _conclude(ledger, out, target.api.gone_means)
            out.relied_on = relying(ledger)  # later runs that counted what it took out as theirs
        out.elapsed_s = round(time.monotonic() - started, 3)
        _with_its_credentials(out, ledger, job)
        _written(report, out, ledger, job)
        return out
    finally:
        ledger.close()


def _with_its_credentials(out: Rollback, ledger: Ledger, job: Job) -> None:
    """The way on of a rollback of a manifest's job (Job.manifest_job) said with the job's credentials as its
    manifest names them (manifest.with_its_credentials: `bulkload rollback` reads the target's own variables, which
    the manifest's do not set), as every other command on a job's ledger a way on gives is."""
    if out.stop_reason:
        out.stop_reason = with_its_credentials(out.stop_reason, str(ledger.path.absolute()), job.manifest_job)


def _written(path: str | None, out: Rollback, ledger: Ledger, job: Job) -> None:
    """`out` written to `path` (--report; None: none), or named unwritten with the command that writes it (the
    rollback again; with a manifest job's credentials, as its other ways on): report_written."""
    again = f"`{command_on('rollback', ledger.path.absolute())}` again writes it"
    report_written(path, out, with_its_credentials(again, str(ledger.path.absolute()), job.manifest_job))


def _interrupted(ledger: Ledger, out: Rollback, stages: Stages) -> None:
    """A signal cut the rollback short: it stopped (exit 4), what it had not come to is left for the next rollback,
    which reads back what this one deleted (its DELETEs answered, counted `removed`) and finishes the job."""
    undone = max((stages.total or 0) - stages.done, 0)
    if stages.name == ROLLING_BACK:
        out.left += undone
    elif stages.name == SETTLING:
        out.calls_left += undone
    if not out.stop_reason:
        out.stop_reason = (
            f"{interrupts.cause()}; `{command_on('rollback', ledger.path.absolute())}` again finishes it (and reads "
            "back what this one deleted)"
        )
    out.status, out.exit_code = "stopped", EXIT_STOPPED


def _conclude(ledger: Ledger, out: Rollback, gone_means: str) -> None:
    """Status and exit code: what running rollback again can fix first, then what needs a person. A rollback that
    has removed everything of the run's the API still held finishes (the run is rolled back), also when records were
    gone before it came to them (unexplained), or when records the ledger gives the run are not the run's (spared):
    nothing it could do is left, and a new load of the run's files creates what it removed again, but not the
    groups of the records gone, which may be in the books (ledger.known_to). The records kept as not the run's (there
    before it, or their ids holding other records now: spared) are named for a person to check."""
    if out.failed or out.stop_reason:
        # a stop's own code where one stopped it (`_stopped`: 2 for credentials refused), else 4
        out.status, out.exit_code = "stopped", out.exit_code if out.stop_reason else EXIT_STOPPED
        return
    if out.unsettled_count:
        out.status, out.exit_code = "unsettled", EXIT_ROWS
        return
    if out.unexplained_count or out.spared_count or out.refused_stored_count:
        status = "unexplained" if out.unexplained_count else "spared" if out.spared_count else "left"
        out.status, out.exit_code = status, EXIT_MISMATCH
        said = ["rolled back: everything the run created that the API still held is removed"]
        if out.unexplained_count:
            said.append(
                f"{out.unexplained_count:,} of its records were gone before (listed): {gone_means}. A new load of the "
                "run's files creates the rest again, not these records' groups (not created again while they may be "
                "in the books; --reload-gone creates them, once they are in none)"
            )
        if out.spared_count:
            said.append(
                f"{out.spared_count:,} records its ledger gives to its rows are not the run's (each listed with why: "
                "there before the run, or its id now holding another record than the run sent): kept; what those "
                "rows created, if anything, is not known: check the API"
            )
        if n := out.refused_stored_count - out.refused_doubled_count:
            entries, are, them = ("entry", "is", "it") if n == 1 else ("entries", "are", "them")
            said.append(
                f"{n:,} {entries} of a group the run rejected, which a refused call of the run stored, {are} left "
                f"(listed): the API gave no id for {them}, and the walk that found {them} cannot tell {them} from "
                f"another writer's made alike; not deleted: check the API and remove {them} by hand"
            )
        if n := out.refused_doubled_count:
            entries, are, them = ("entry", "is", "it") if n == 1 else ("entries", "are", "them")
            said.append(
                f"{n:,} {entries} of groups the run loaded, which it did not create, {are} left (listed, `double`): "
                f"doubles of the run's own, such as a refused call of the run stored before the run sent the rest "
                f"again; the API gave no id for {them}, and the walk that found {them} cannot tell {them} from another "
                f"writer's made alike; not deleted: check the API and remove {them} by hand"
            )
        out.reason = "; ".join(said)
    else:
        out.status, out.exit_code = "complete", EXIT_OK
    if n := out.updated_kept:  # before, a rollback of a run that updated records said "complete" and nothing more
        records, were, them = ("record", "was", "it") if n == 1 else ("records", "were", "them")
        updated = (
            f"{n:,} {records} the run updated (there before it: named by id, or matched) {were} not set back and keep "
            f"the values the run sent: a rollback deletes only what the run created; set {them} back in the API "
            "where needed (the success file lists their ids)"
        )
        out.reason = updated if not out.reason else f"{out.reason}; {updated}"
    ledger.set_status("rolled_back")  # what it created is gone: a new load of its files creates it again
    record_status(ledger, "rolled_back")


async def _refused_stored(job: Job, target: Target, ledger: Ledger, dispatcher: Dispatcher, out: Rollback) -> None:
    """Name what refused calls of the run stored of groups it rejected (still_ours.refused_stored): left, never
    deleted; what later runs on record created is theirs (alongside.written_after_refusal). A walk that stops or fails
    leaves the rollback unfinished (the next one walks again)."""
    files = [f["path"] for f in ledger.run.files]
    later = written_after_refusal(job, ledger)
    try:
        n, doubled, found = await refused_stored(target, ledger, dispatcher, files, later)
    except _STOPS as exc:
        _stopped(ledger, out, exc)
        return
    except BulkloadError as exc:
        why = f"the entries a refused call may have stored of groups the run rejected could not be walked: {exc}"
        out.failed.append({"reason": f"{why}; run rollback again"})
        return
    out.refused_stored_count, out.refused_doubled_count, out.refused_stored = n + doubled, doubled, found


# --- settling the calls in flight ------------------------------------------------------------------------------


def _where(job: Job, call: OpenCall, seq: int, part: str) -> dict[str, Any]:
    files = job.files
    return {
        "call": f"{seq}{'.' + part if part else ''}",
        "file": files[call.file_idx] if call.file_idx < len(files) else str(call.file_idx),
        "lines": f"{call.lines[0]}-{call.lines[-1]}",
        "key": call.key,
    }


def _stopped(ledger: Ledger, out: Rollback, exc: BulkloadError) -> None:
    """Keep the first stop (one of `_STOPS`; the others, met by the calls under way then, say the same) with the
    command that continues it: rollback, which a message of the limits' own would give as resume; and its exit code
    (2 for credentials refused, else 4), which `_conclude` gives the rollback."""
    if not out.stop_reason:
        out.stop_reason = resumable(str(exc), exc, ledger.path.absolute(), "rollback")
        out.exit_code = exc.exit_code


def _unsettled(job: Job, out: Rollback, seq: int, part: str, call: OpenCall, reason: str, found: int = 0) -> None:
    """Name a call not settled; `found`: how many records a look found for it (kept: `_found_alike`)."""
    out.unsettled_count += 1
    if len(out.unsettled) < REPORT_LIST:
        out.unsettled.append({**_where(job, call, seq, part), "reason": reason} | ({"found": found} if found else {}))


async def _inputs_changed(job: Job, ledger: Ledger) -> str | None:
    """Why the run's calls cannot be rebuilt from its input, or None when they can (the files are as they were)."""
    for stored in ledger.run.files:
        try:
            digest = await anyio.to_thread.run_sync(sha256_of, stored["path"])
        except (OSError, BulkloadError):
            return (
                f"the run's input {stored['path']} cannot be read: the call cannot be rebuilt to settle it; put the "
                "file back as it was when the run started and roll back again"
            )
        if digest != stored["sha256"]:
            return (
                f"{stored['path']} changed since the run: the call cannot be rebuilt to settle it; put back the file "
                f"as it was (SHA-256 {stored['sha256'][:12]}…) and roll back again"
            )
    return None


async def _settle(
    job: Job,
    target: Target,
    ledger: Ledger,
    dispatcher: Dispatcher,
    out: Rollback,
    clock: Callable[[], float],
    stages: Stages,
) -> None:
    """Find out what every call in flight or in doubt created, and record it in the ledger. The calls are rebuilt
    by planning the input again (the plan is deterministic, and each call's body hash is checked)."""
    open_calls = ledger.open_calls()
    adopted = ledger.adopted() is not None  # a copy: every call it holds nothing of may have been sent
    stages.enter(SETTLING, len(open_calls), "calls")
    if not open_calls and not adopted:
        return
    problem = await _inputs_changed(job, ledger)
    if problem is None:
        try:
            sources = open_sources(job, target)
        except BulkloadError as exc:
            problem = f"the run's input cannot be read ({exc}): the call cannot be rebuilt to settle it"
    if problem is not None:
        for (seq, part), call in open_calls.items():
            _unsettled(job, out, seq, part, call, problem)
        return
    todo = dict(open_calls)
    # the run is over (its lock is ours): every answer it lost was lost by now
    over = clock()
    send, recv = anyio.create_memory_object_stream[tuple[Chunk, OpenCall]](max_buffer_size=job.concurrency)
    async with anyio.create_task_group() as tg:
        for _ in range(job.concurrency):
            tg.start_soon(_settle_calls, recv.clone(), target, ledger, dispatcher, job, out, clock, over, stages)
        recv.close()
        async with send:
            try:
                await _plan_again(job, target, ledger, sources, todo, send, out, adopted)
            except BulkloadError as exc:  # the planning process failed: what it did not hand out is not settled
                for (seq, part), call in todo.items():
                    out.failed.append(
                        {
                            **_where(job, call, seq, part),
                            "reason": f"could not plan the input again: {exc}; run rollback again",
                        }
                    )
                todo.clear()
    for (seq, part), call in todo.items():
        _unsettled(job, out, seq, part, call, "the input no longer plans this call: it cannot be rebuilt")


async def _plan_again(
    job: Job,
    target: Target,
    ledger: Ledger,
    sources: list[Source],
    todo: dict[tuple[int, str], OpenCall],
    send: MemoryObjectSendStream[tuple[Chunk, OpenCall]],
    out: Rollback,
    adopted: bool = False,
) -> None:
    """Plan the run's phases as the run did, and hand each call of `todo` to the workers as soon as it is planned
    (taking it out of `todo`); stops as soon as none is left. `adopted`: every call the ledger holds nothing of is
    handed out too (in doubt: the run may have sent it after the copy was made)."""
    seqs = {seq for seq, _ in todo}
    known = {seq for seq, _ in ledger.chunks()}
    phases = list(target.phases.of(len(sources)))
    for phase, indexes in enumerate(phases):
        # a phase the copy never began may have been sent after it was made: planned as a resume plans it
        context = phase_context(target, ledger, sources, phases, phase) if adopted else ledger.phase_context(phase)
        if context is None or not (seqs or adopted):
            break  # a phase never begun sent nothing
        spec = plan_spec(job, target, ledger, sources, indexes, context)
        async with aclosing(planning_for(spec.files)().plan(spec)) as messages:
            async for message in messages:
                if not isinstance(message, Planned) or (
                    message.seq not in seqs and not (adopted and message.seq not in known)
                ):
                    continue
                planned = message.chunk()
                seq, file_idx, lines, body = planned.seq, planned.file_idx, planned.lines, planned.body
                if seq not in seqs:  # never seen by this copy: sent, perhaps, any time until the run ended
                    key, digest = f"{ledger.run.key_prefix}-{seq}", body_hash(body)
                    state = "sending" if target.api.idempotent else "in_doubt"
                    looks = target.kind_of(file_idx).lookalikes(planned)
                    ledger.unseen(seq, "", file_idx, key, lines, digest, state, planned.groups, looks)
                    call = OpenCall(
                        file_idx,
                        key,
                        state,
                        ledger.run.created,
                        list(lines),
                        digest,
                        time.time(),
                        ledger.run.created_boot,
                    )
                    if not await _hand(send, planned, call, todo, out):
                        return
                    continue
                for part in [p for s, p in todo if s == seq]:
                    call = todo.pop((seq, part))
                    chunk = planned if not part else planned.take_lines(set(call.lines), part, target.kind_of(file_idx))
                    if body_hash(chunk.body) != call.body_hash:
                        _unsettled(
                            job,
                            out,
                            seq,
                            part,
                            call,
                            "the input plans another call than the run "
                            "sent (settings changed?): it cannot be rebuilt to settle it",
                        )
                        continue
                    if not await _hand(send, chunk, call, todo, out):
                        return
                seqs.discard(seq)
                if not seqs and not adopted:
                    break


async def _hand(
    send: MemoryObjectSendStream[tuple[Chunk, OpenCall]],
    chunk: Chunk,
    call: OpenCall,
    todo: dict[tuple[int, str], OpenCall],
    out: Rollback,
) -> bool:
    """Hand `call` (its `chunk`) to the settling workers; False where none is left (each ended on an error, which
    `_settle`'s task group raises): it and the calls of `todo` not handed out yet stay open (taken out of `todo`),
    counted as left: the next rollback settles them."""
    if await handed(send, (chunk, call)):
        return True
    out.calls_left += 1 + len(todo)
    todo.clear()
    return False


async def _settle_calls(
    calls: MemoryObjectReceiveStream[tuple[Chunk, OpenCall]],
    target: Target,
    ledger: Ledger,
    dispatcher: Dispatcher,
    job: Job,
    out: Rollback,
    clock: Callable[[], float],
    over: float,
    stages: Stages,
) -> None:
    baselines = ledger.baselines()
    async with calls:
        async for chunk, call in calls:
            stages.advance()  # taken up
            if out.stop_reason:  # nothing more is sent: the call stays open for the next rollback
                out.calls_left += 1
                continue
            kind = target.kind_of(chunk.file_idx)
            summary = chunk.totals(kind)
            # a key the API may have forgotten (or that it never kept, or whose age the clock cannot tell)
            # deduplicates nothing: look instead; and one never sent (a part a refused call may have stored some of)
            # would do the work now: look instead too
            replay = target.api.idempotent and key_kept(call.sent, Instant.now(clock), target.api.key_ttl_s)
            returned, wrote, unread = None, replay, None
            try:
                if replay:
                    try:
                        ids, returned = await _replay(target, kind, dispatcher, chunk, call, summary, clock)
                    except ValueError as exc:  # a 2xx that cannot be the call's (an id given twice): look instead
                        replay, unread = False, str(exc)
                    except KeyOutlived:  # its retries outlived the key: look instead
                        replay = False
                if not replay:
                    looks = 0

                    async def look(chunk: Chunk = chunk, kind: RecordKind = kind) -> list[int] | None:
                        nonlocal looks
                        looks += 1
                        found = await kind.find_sent(dispatcher, chunk, baselines, taken_ids(target, ledger, kind))
                        # found in part: the records found (a create's are never deleted on a look, below)
                        return [i for i in found.ids if i is not None] if isinstance(found, Partly) else found

                    # the load's rule: absent at once and again once the settle delay since the answer was lost
                    # has passed (a kill long ago: passed already)
                    found = await settled_look(look, _settled_at(job, call, clock, over))
                    out.settled.looked_again += looks > 1
                    if found is None:
                        _unsettled(
                            job,
                            out,
                            chunk.seq,
                            chunk.part,
                            call,
                            _cannot_tell(_looked(target, call, chunk, unread, Instant.now(clock))),
                        )
                        continue
                    if found and kind.creates(chunk):  # never deleted on a look: it may find another's look-alike
                        why = _found_alike(_looked(target, call, chunk, unread, Instant.now(clock)), found)
                        _unsettled(job, out, chunk.seq, chunk.part, call, why, len(found))
                        continue
                    ids = found
            except _STOPS as exc:  # the quota spent, …: open still, settled by the next rollback
                _stopped(ledger, out, exc)
                out.calls_left += 1
                continue
            except (BulkloadError, ValueError) as exc:
                where = _where(job, call, chunk.seq, chunk.part)
                out.failed.append({**where, "reason": f"could not settle the call: {exc}; run rollback again"})
                continue
            if replay:
                out.settled.replayed += 1
            else:
                out.settled.looked_up += 1
            if ids:
                ledger.done(
                    chunk.seq,
                    chunk.part,
                    chunk.file_idx,
                    chunk.lines,
                    ids,
                    summary,
                    dispatcher.limits.quota.minutes,
                    returned,
                    chunk.checks,
                    wrote=wrote,  # a look sends no write: the run's last write stays what it was
                )
            else:  # not carried out: nothing to remove; a resume would send it again
                out.settled.not_carried_out += 1
                ledger.settle(
                    chunk.seq,
                    chunk.part,
                    "pending",
                    "not carried out (found by rollback)",
                    dispatcher.limits.quota.minutes,
                    wrote=wrote,
                )


def _settled_at(job: Job, call: OpenCall, clock: Callable[[], float], over: float) -> float | None:
    """On the loop's clock, when the call can no longer be landing: the settle delay after its answer was lost,
    which was when its last attempt's wait ran out (the client's timeout) or the run ended, whichever came first.
    None when the API commits before it answers."""
    if job.settle_delay_s <= 0:
        return None
    sent = call.last_sent or call.sent_at or over
    lost = min(sent + job.timeout_s, over)
    return anyio.current_time() + max(0.0, lost + job.settle_delay_s - clock())


def _looked(target: Target, call: OpenCall, chunk: Chunk, unread: str | None, now: Instant) -> str:
    """Why a call was looked for rather than sent again with its key, as the start of a reason ("" for an API with
    no keys); `unread`: why its key's replayed answer could not be read, if it was. A call never sent (`sent_at`
    None: a part of a refused call that a split put in doubt, for what the refusal may have stored of it) is named
    so, whatever its key's age; `now`: the moment (instants.Instant) its key's age is told at."""
    if call.sent_at is None:
        parent = f"{chunk.seq}{'.' + chunk.part[:-1] if chunk.part[:-1] else ''}"
        return (
            f"it was never sent on its own: it is what was left of call {parent}, which the API refused and which may "
            "have stored some of it, and "
        )
    return (
        f"its key's answer, sent again, {unread}, and "
        if unread
        else f"{key_untrusted(call.sent, now, target.api.key_ttl_s)}, and "
        if target.api.idempotent
        else ""
    )


def _cannot_tell(looked: str) -> str:
    """Why a call's look settled nothing; `looked`: why it was looked for (`_looked`)."""
    return (
        f"{looked}looking did not tell what the call created (nothing, or not exactly its records, "
        "was found, or what was found cannot be shown to be the run's): what it created, if anything, is left; check "
        "the API and remove it by hand"
    )


def _found_alike(looked: str, found: list[int]) -> str:
    """Why a call a look found records for is not settled by rollback: a look by match fields cannot tell the run's
    records from another writer's made alike since (docs/guarantees.md, What a look can prove), and a DELETE of
    those removes another's. `looked` as `_cannot_tell`'s."""
    ids = ", ".join(map(str, found[:5])) + (", …" if len(found) > 5 else "")
    return (
        f"{looked}a look found records alike (ids {ids}): what the call created, or another writer's "
        "records made alike since, which a look cannot tell apart; not deleted: check the API and remove what the "
        "call created by hand (a `bulkload resume` run before a rollback settles such a call as the run's, and the "
        "rollback then removes it: once a rollback has begun, resume is refused)"
    )


async def _replay(
    target: Target,
    kind: RecordKind,
    dispatcher: Dispatcher,
    chunk: Chunk,
    call: OpenCall,
    summary: dict[str, Totals],
    clock: Callable[[], float],
) -> tuple[list[int], dict[str, Totals] | None]:
    """Send the call again with its stored key: the API answers from its cache if it did the work, or does it
    now (then it is removed with the rest). A refusal means the call created nothing: ([], None). KeyOutlived, the
    attempt not sent, where the waits for the limits or the retries outlive the key (pipeline.key_kept by `clock`,
    the wall clock): sent then, it would be carried out again."""
    request = await kind.call_for(dispatcher, chunk)

    def leaving() -> None:
        if not key_kept(call.sent, now := Instant.now(clock), target.api.key_ttl_s):
            raise KeyOutlived(key_untrusted(call.sent, now, target.api.key_ttl_s))

    try:
        response = await dispatcher.send(
            request.method,
            request.path,
            body=request.body,
            headers={"Idempotency-Key": call.key},
            safe_to_repeat=True,
            leaving=leaving,
        )
    except APIError as exc:
        if target.api.refused(exc):
            return [], None
        raise
    said = answered_ids(kind, response.body, chunk, f"{request.method} {request.path}")
    return said, kind.returned_totals(response.body, summary, chunk)


# --- removing --------------------------------------------------------------------------------------------------


async def _remove_all(
    job: Job,
    target: Target,
    ledger: Ledger,
    dispatcher: Dispatcher,
    out: Rollback,
    stages: Stages,
    clock: Callable[[], float],
) -> None:
    files = [f["path"] for f in ledger.run.files]
    earlier = ledger.removals()
    settled = {"removed", "gone", "unexplained"}
    for (scope, record_id), outcome in earlier.items():
        if outcome in ("removed", "gone"):
            out.already_removed_before += 1
        elif outcome == "unexplained":  # found by an earlier rollback: said again, never forgotten
            _unexplained(target, ledger, files, out, scope, record_id)
    loaded = list(target.books.loaded_by_run(ledger, files))  # the run's rows read once: created and updated
    created = dict.fromkeys(item for item, made in loaded if made)
    out.updated_kept = len({item for item, made in loaded if not made} - set(created))
    for scope, record_id in [item for item in created if target.books.there_before(*item)]:
        # someone else's record, whatever the ledger says (a lost answer matched to it by an earlier bulkload): kept
        del created[scope, record_id]
        _spared(ledger, files, out, scope, record_id)
    todo = [item for item in created if earlier.get(item) not in settled]
    done: list[tuple[int, str, str]] = []
    stages.enter(ROLLING_BACK, len(todo), "records")
    try:  # what each id holds now: only the run's own records are deleted (still_ours.py)
        unsaid = {item for item in todo if earlier.get(item) not in (DELETED, "removing")}  # gone: unexplained
        held = await _read_settled(job, target, ledger, dispatcher, files, todo, clock, unsaid)
    except _STOPS as exc:  # nothing is deleted unread: all of it is left for the next rollback
        _stopped(ledger, out, exc)
        out.left += len(todo)
        return
    except BulkloadError as exc:
        out.failed += [
            {"id": i, "scope": scope, "reason": f"{_UNREAD}: {exc}; run rollback again"} for scope, i in todo
        ]
        return
    sent = sent_by_others(ledger, job, (i for _, i in held.apart))  # a later run of ours changed it, maybe
    todo = _only_ours(target, ledger, files, out, todo, held, earlier, done, stages, sent)
    deleted: list[tuple[str, int]] = []  # (scope, id) of the records whose DELETE was answered as done
    not_found: list[_NotFound] = []  # those whose DELETE was answered 404
    send, recv = anyio.create_memory_object_stream[tuple[str, int]](max_buffer_size=job.concurrency)

    async def worker(items: MemoryObjectReceiveStream[tuple[str, int]]) -> None:
        async with items:
            async for scope, record_id in items:
                if out.stop_reason:  # nothing more is sent: removed by the next rollback
                    out.left += 1
                    stages.advance()
                    continue
                before = earlier.get((scope, record_id))
                try:
                    # the DELETE may have been carried out as soon as it leaves: say so first
                    ledger.mark_removed([(record_id, scope, "removing")])
                    await dispatcher.send("DELETE", target.books.delete_path(scope, record_id))
                    done.append((record_id, scope, DELETED))  # `removed` once read back gone (_confirm_removed)
                    deleted.append((scope, record_id))
                    out.removed += 1
                except _STOPS as exc:  # the quota spent, the credentials refused, …: this one and the rest are left
                    _stopped(ledger, out, exc)
                    out.left += 1
                    _not_removed(done, scope, record_id, before, exc)
                except APIError as exc:
                    if exc.status != 404:
                        _failed(out, done, scope, record_id, before, exc)
                    else:
                        # gone: our own DELETE did it where an earlier rollback's, or an earlier attempt of this one
                        # whose answer was lost (the dispatcher marks the error uncertain), was sent; else
                        # unexplained. Either once read back gone (_confirm_removed)
                        gone = before in MAYBE_OUT or exc.uncertain
                        not_found.append((scope, record_id, "gone" if gone else "unexplained", before))
                except BulkloadError as exc:
                    _failed(out, done, scope, record_id, before, exc)
                stages.advance()
                if len(done) >= 100:
                    ledger.mark_removed(done)
                    done.clear()

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(job.concurrency):
                tg.start_soon(worker, recv.clone())
            recv.close()
            async with send:
                for n, item in enumerate(todo):
                    # none left to take it (each ended on an error, which the task group raises): it and the rest
                    # are the next rollback's
                    if not await handed(send, item):
                        out.left += len(todo) - n
                        break
    except anyio.get_cancelled_exc_class():  # those answered 404 are read back by the next rollback: left
        out.left += len(not_found)
        raise
    finally:
        ledger.mark_removed(done)
    await _confirm_removed(job, target, ledger, dispatcher, files, deleted, not_found, out, clock)


#: a record whose DELETE was answered 404: (scope, id, "gone" or "unexplained" as the answer has it, its outcome
#: when this rollback began)
_NotFound = tuple[str, int, str, str | None]


async def _confirm_removed(
    job: Job,
    target: Target,
    ledger: Ledger,
    dispatcher: Dispatcher,
    files: list[str],
    deleted: list[tuple[str, int]],
    not_found: list[_NotFound],
    out: Rollback,
    clock: Callable[[], float],
) -> None:
    """Read back the records whose DELETE was answered as done (`deleted`, (scope, id); counted `removed`, recorded
    `deleted`) or 404 (`not_found`), as they were read before (still_ours.read_back). One the API still holds as the
    run's was not removed, whatever the answer said (seed 001 gives DELETE no answer to go by: a server may answer
    200 to a delete it refuses or puts off, or 404 to one of a record it keeps), nor is one the read could not tell:
    each is counted failed, and stays recorded so that the next rollback reads it again (gone by then: our own
    DELETE's doing; else deleted again). One read back gone is recorded `removed`, or, answered 404, `gone` or
    `unexplained` as its answer has it. After a stop (the daily quota spent, the credentials refused) nothing more
    can be read: those answered as done stay `deleted` for the next rollback to read (a kill -9 in the read leaves
    them so too), those answered 404 are taken as answered. A listing may show a delete late, as it shows a create
    (`_read_gone_settled`)."""
    items = deleted + [(scope, record_id) for scope, record_id, _, _ in not_found]
    held: Held | None = None
    if items and not out.stop_reason:
        try:
            held = await _read_gone_settled(job, target, ledger, dispatcher, files, items, clock)
        except _STOPS as exc:
            _stopped(ledger, out, exc)
        except BulkloadError as exc:
            held = Held({}, frozenset(), dict.fromkeys(items, str(exc)))
    settled: list[tuple[int, str, str]] = []
    for scope, record_id, outcome, before in not_found:
        if held is None or _gone(held, (scope, record_id)):
            settled.append((record_id, scope, outcome))
            if outcome == "gone":
                out.already_removed += 1
            else:
                _unexplained(target, ledger, files, out, scope, record_id)
        else:
            out.failed.append({"id": record_id, "scope": scope, "reason": _kept(held, (scope, record_id), "404")})
            # a 404 our own DELETE may have caused ("gone": it left this rollback, its answer lost) stays one of ours,
            # `removing`: recorded failed, the next rollback named the record removed by someone else
            ours = before if before in MAYBE_OUT else "removing" if outcome == "gone" else "failed"
            settled.append((record_id, scope, ours))
    for item in deleted:
        scope, record_id = item
        if held is None:
            continue
        if _gone(held, item):
            settled.append((record_id, scope, "removed"))
        else:
            out.failed.append({"id": record_id, "scope": scope, "reason": _kept(held, item, "as done")})
            out.removed -= 1
    ledger.mark_removed(settled)


async def _read_gone_settled(
    job: Job,
    target: Target,
    ledger: Ledger,
    dispatcher: Dispatcher,
    files: list[str],
    items: list[tuple[str, int]],
    clock: Callable[[], float],
) -> Held:
    """What the records of `items`, just deleted, hold now (still_ours.read_back), where a listing may show a delete
    late (a read replica): those it still shows as the run's while the settle delay (`job.settle_delay_s`) since the
    run's last write (its last DELETE: Ledger.last_written, by `clock`) has not passed are read again once it has;
    only those still shown so are not removed. Read at once, every record a lagging listing still showed was counted
    failed, "remove it in the API", though the API had removed it. Raises what read_back raises."""
    held = await read_back(target, ledger, dispatcher, files, items)
    shown = [item for item in items if not _gone(held, item) and item not in held.unread]
    last = ledger.last_written()
    wait = 0.0 if last is None else last + job.settle_delay_s - clock()
    if not shown or wait <= 0:
        return held
    log.warning(  # a wait of up to --settle-s: said, or it looks hung
        "%d deleted records still listed as the run's: read again in %.1f s (--settle-s %g)",
        len(shown),
        wait,
        job.settle_delay_s,
    )
    await anyio.sleep(wait)
    again = await read_back(target, ledger, dispatcher, files, shown)
    return Held({**held.apart, **again.apart}, held.absent | again.absent, {**held.unread, **again.unread})


def _gone(held: Held, item: tuple[str, int]) -> bool:
    """Whether the read after the deletes found the run's record at `item` gone (its id nowhere, or holding another)."""
    return item in held.absent or item in held.apart


def _kept(held: Held, item: tuple[str, int], answered: str) -> str:
    """Why a record whose DELETE was `answered` ("as done", "404") is not removed: the read after found it, or
    could not tell."""
    if item in held.unread:
        return (
            f"its DELETE was answered {answered}, but reading it after could not tell whether it is gone "
            f"({held.unread[item]}); run rollback again"
        )
    return (
        f"its DELETE was answered {answered}, yet the API still holds it as the run's (read after the deletes): not "
        "removed; run rollback again, and where it stays, remove it in the API"
    )


async def _read_settled(
    job: Job,
    target: Target,
    ledger: Ledger,
    dispatcher: Dispatcher,
    files: list[str],
    todo: list[tuple[str, int]],
    clock: Callable[[], float],
    unsaid: set[tuple[str, int]],
) -> Held:
    """What the ids of `todo` hold now (still_ours.read_back), where a listing may show records late (a read
    replica): those it finds absent while the settle delay (`job.settle_delay_s`) since the run's last write
    (Ledger.last_written, by `clock`, the wall clock) has not passed are read again once it has, as a load looks
    again for what a lost answer's call stored; only those still absent are gone. Read at once, every record a
    lagging listing did not show yet was named gone (possibly booked) and never deleted, the run marked rolled back.
    Those of `unsaid` (no DELETE of ours may have removed them) are gone only where the count agrees with the
    listing (read_back's `counted`). Raises what read_back raises."""
    held = await read_back(target, ledger, dispatcher, files, todo, counted=unsaid)
    last = ledger.last_written()
    wait = 0.0 if last is None else last + job.settle_delay_s - clock()
    if not held.absent or wait <= 0:
        return held
    log.info(
        "%d of the run's records not listed, %.1f s after its last write: read again in %.1f s (--settle-s %g)",
        len(held.absent),
        job.settle_delay_s - wait,
        wait,
        job.settle_delay_s,
    )
    await anyio.sleep(wait)
    again = await read_back(target, ledger, dispatcher, files, sorted(held.absent), counted=unsaid)
    return Held({**held.apart, **again.apart}, again.absent, {**held.unread, **again.unread})


def _only_ours(
    target: Target,
    ledger: Ledger,
    files: list[str],
    out: Rollback,
    todo: list[tuple[str, int]],
    held: Held,
    earlier: dict[tuple[str, int], str],
    done: list[tuple[int, str, str]],
    stages: Stages,
    sent: dict[int, str],
) -> list[tuple[str, int]]:
    """Of `todo` ((scope, id) of the run's records to delete), those whose ids hold the run's records (`held`, read
    just before): the rest is never sent a DELETE. A record that is not the run's now is kept (spared; where another
    run of ours sent a call for its id since, `sent` names that run, sent_since.sent_by_others); one whose id
    could not be read is left (failed: the next rollback reads it again); one found nowhere the run created it is
    gone (`done`: gone where an earlier DELETE of ours may have done it, `earlier` saying so, else unexplained)."""
    ours = []
    for item in todo:
        scope, record_id = item
        if item in held.apart:
            kept = _SENT_SINCE.format(sent[record_id]) if record_id in sent else _KEPT
            _spared(ledger, files, out, scope, record_id, f"{_NOT_THE_RUNS}: {held.apart[item]}. {kept}")
        elif item in held.unread:
            why = f"{_UNREAD}: {held.unread[item]}; run rollback again"
            out.failed.append({"id": record_id, "scope": scope, "reason": why})
        elif item in held.absent and earlier.get(item) == DELETED:  # an earlier rollback's, answered done: it is
            done.append((record_id, scope, "removed"))
            out.already_removed_before += 1
        elif item in held.absent and earlier.get(item) == "removing":
            done.append((record_id, scope, "gone"))
            out.already_removed += 1
        elif item in held.absent:
            done.append((record_id, scope, "unexplained"))
            _unexplained(target, ledger, files, out, scope, record_id)
        else:
            ours.append(item)
            continue
        stages.advance()
    return ours


def _failed(
    out: Rollback,
    done: list[tuple[int, str, str]],
    scope: str,
    record_id: int,
    before: str | None,
    exc: BulkloadError,
) -> None:
    out.failed.append({"id": record_id, "scope": scope, "reason": str(exc)})
    _not_removed(done, scope, record_id, before, exc)


def _not_removed(
    done: list[tuple[int, str, str]], scope: str, record_id: int, before: str | None, exc: BulkloadError
) -> None:
    """A DELETE that `exc` ended (`before`: the record's outcome when this rollback began). Marked `removing` as it
    left, it stays so where it may have been carried out, or where an earlier rollback's may have been: a later 404
    is then our own. Otherwise (refused unread, or never sent) a later 404 must not pass for our own DELETE."""
    if not maybe_acted_on(exc) and before not in MAYBE_OUT:
        done.append((record_id, scope, "failed"))


#: why rollback keeps a record its ledger gives to a row: it was listed before the run's first call
_THERE_BEFORE = (
    "there before the run (listed before its first call): not created by it, whatever its ledger says; kept. What the "
    "row created, if anything, is not known: check the API"
)


#: why rollback keeps a record its id holds now: what the id holds is not what the run sent (still_ours.py)
_NOT_THE_RUNS = "not the run's record now (read before deleting)"
_KEPT = (
    "Kept: which happened cannot be told from here: the API stored the run's record otherwise than sent (a number of "
    "its own), the record was changed since, or the API lost its data (restored or reset) and gave the id to another; "
    "check the API, and remove it by hand if it is the run's"
)
#: why rollback keeps a record its id holds otherwise now, where another run of ours sent a call for that id since
_SENT_SINCE = (
    "Kept: {} sent a call for this id since (an update of it, most likely): the run created it, and that run "
    "changed it; deleting it would undo that run's change too. Remove it by hand where it is to go all the same"
)
#: why rollback deleted nothing of records whose ids it could not read first
_UNREAD = "not deleted: what its id holds could not be read first, and a record not shown to be the run's is kept"


def _spared(
    ledger: Ledger, files: list[str], out: Rollback, scope: str, record_id: int, why: str = _THERE_BEFORE
) -> None:
    out.spared_count += 1
    _listed(ledger, files, out.spared, scope, record_id, why)


def _unexplained(target: Target, ledger: Ledger, files: list[str], out: Rollback, scope: str, record_id: int) -> None:
    out.unexplained_count += 1
    why = f"gone before this rollback removed it, and no rollback of ours did: {target.api.gone_means}"
    _listed(ledger, files, out.unexplained, scope, record_id, why)


def _listed(
    ledger: Ledger, files: list[str], into: list[dict[str, Any]], scope: str, record_id: int, reason: str
) -> None:
    """The record (its file and line, and `reason`) into a report list, up to REPORT_LIST of them."""
    if len(into) >= REPORT_LIST:
        return
    where = ledger.line_of(record_id)
    into.append(
        {
            "id": record_id,
            "scope": scope,
            "file": files[where[0]] if where is not None and where[0] < len(files) else None,
            "line": where[1] if where is not None else None,
            "reason": reason,
        }
    )
