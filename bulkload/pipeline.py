"""Wires read → validate → chunk → send → ledger for one run; owns the task group.

The plan is made in a child process (planning.py); the producer hands its chunks to the workers through
a stream that holds at most `concurrency` chunks, so reading never runs far ahead of sending. The
per-chunk ledger writes run on the event loop: measured with the GIL, handing them to a thread cost more
CPU (and up to a switch interval of latency per hand-off) than the millisecond a chunk they take.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import anyio
import msgspec
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from . import ledger_pg, logs
from .answered import answered_ids, as_written, carried_out
from .chunking import FILE_SHIFT
from .dispatch import Dispatcher, Tries, maybe_acted_on
from .errors import (
    EXIT_STOPPED,
    EXIT_USAGE,
    NO_SUCH_CALL,
    APIError,
    AuthError,
    BadAnswer,
    BulkloadError,
    ConfigError,
    FoundOther,
    HeldBack,
    IsolationSpent,
    KeyOutlived,
    LedgerWriteError,
    NotWhole,
    PlanningFileError,
    Redirected,
    RowsRefused,
    RunStopped,
    WrongEndpoint,
    command_on,
)
from .http import Response
from .instants import Instant, age
from .isolation import (
    ALONE_HALVES,
    CONFIRM,
    ISOLATING_HALVES,
    NAMED,
    SIZE_HALVES,
    UNTOLD,
    IsolationBudget,
    Numbering,
    confirming,
)
from .ledger import Child, ChunkRow, Created, Ledger
from .masking import scrub, secret_texts
from .model import Call, Chunk, ChunkState, Partly, RowOutcome, Totals
from .planning import Planned, Planning, PlanSpec, Rows, Stopped
from .side_by_side import side_by_side
from .targets.base import IdsUntold, RecordKind, Target
from .targets.reasons import Counted, Said, Untold, item_named

log = logging.getLogger(__name__)

#: an idempotency key is trusted only until this long before the API forgets it
KEY_TTL_MARGIN_S = 300.0

#: chunks that may wait out a settle delay beside the ones being sent; past this many the run waits for them
#: (each holds its chunk: memory stays bounded)
SETTLING = 32

#: what a look that waits out a settle delay (`Loader.idle`) found: of a call whose answer was lost, and of what a
#: refused call stored
LOST_LOOK = "its answer was lost and a look did not find it carried out"
REFUSED_LOOK = "the API refused it and a look did not find all of it stored or all of it absent yet"
#: why a call answered as stored without its ids waits out the settle delay (`stored_untold`)
UNTOLD_LOOK = "the API stored it without saying which id each row was given, and a look did not find it all yet"

#: why a call whose answer was lost, with no attempt left, stops the run: the look after the settle delay found
#: nothing, but a commit slower than --settle-s may land yet, so it is in doubt (`sending`), and the resume looks
#: for it again before it sends it again (`Loader.in_flight`), never "skipped" (rows an earlier load created)
NOT_FOUND_YET = (
    "its answer was lost and no attempt was left; a look --settle-s later did not find it yet, but it may still land: "
    "`bulkload resume` looks for it again before sending it again (raise --settle-s where the API commits slower)"
)

#: how a call's reason says that the look for it could not tell for a listing that was not whole (errors.NotWhole,
#: `Loader.unlisted`): a later look says it anew
LOOK_UNTOLD = "the look for its records could not tell whether it was carried out: "

#: why a call left in flight when the run was cut short (Ctrl-C, a signal) is in doubt
CUT_SHORT = "the run was cut short while this call was being sent: it may have arrived"
#: what became of a call held back when a ledger write failed (HeldBack): it never left
HELD_BACK = "not sent: held back when a ledger write failed"
#: why a call held back so after an attempt of it whose answer was lost is in doubt
LOST_THEN_HELD = f"an attempt of its call may have arrived (its answer was lost); then {HELD_BACK}"
#: why a call an earlier process left in flight is in doubt still after this one sent it again and the API did not act
#: on that attempt (a spent quota, say): the earlier attempt may have landed (Loader.give_up)
EARLIER_UNKNOWN = "an earlier process sent this call and what came of it is unknown"
#: why a call waiting for its place when the run was cut short (Ctrl-C, a signal) is `pending`: it never left
CUT_UNSENT = "not sent: the run was cut short before it left"
#: why a call is in doubt whose outcome the ledger could not record (a write failed: LedgerWriteError), after the
#: reason it was to record where there was one (Loader.give_up)
UNRECORDED = "its call was sent, but the ledger could not record what came of it"
#: the same, for a call answered as carried out (or found so by a look): its records are at the API
DONE_UNRECORDED = "its call was carried out (its answer or a look said so), but the ledger could not record that"
#: how a reason says what a look found of a group stored in part (Loader.in_part): a later look says it anew
IN_PART = "stored in part: a look found "
#: the lines (or ids) a reason names one by one
LISTED_LINES = 5


def unsent_but_sending(why: str) -> str:
    """Why the rows of a call the API does not hold (`why`: it never left, or the API did not act on it) are in doubt
    where the ledger could not put the call back to `pending` (Loader.hold): resume finds it as sent."""
    return f"{why}, so the API does not hold it; but the ledger, which could not be told, has its call as sent"


_Item = TypeVar("_Item")


async def handed(send: MemoryObjectSendStream[_Item], item: _Item) -> bool:
    """Hand `item` to the workers on `send`; False when none is left to take it: every worker ended on an error,
    which their task group raises (the last one's stream, closed as it ended, woke the send before the group's
    cancellation came). The caller then accounts for `item`, not handed out, and hands out nothing more."""
    try:
        await send.send(item)
    except anyio.BrokenResourceError:
        return False
    return True


#: what a look answers (RecordKind.resolve): the ids, model.Partly, or None
_Looked = TypeVar("_Looked", bound="list[int] | Partly | None")


async def settled_look(
    look: Callable[[], Awaitable[_Looked]],
    until: float | None,
    idle: AbstractAsyncContextManager[Any] | None = None,
    found_other: Callable[[], bool] | None = None,
) -> _Looked:
    """Whether a call whose answer was lost took effect, by evidence: the rule of the load and of the rollback.
    The ids when `look` finds its records (at once, or on the second look: it landed late); [] when it finds them
    neither at once nor again at `until` (on the loop's clock: the settle delay after the answer was lost, when the
    API can no longer be committing it; sending it again is then safe); model.Partly when it finds some and not the
    others, at once and again at `until`; None when a look cannot tell. `until` None:
    the API commits before it answers, one look is enough. `idle` is held while waiting. `found_other`: whether the
    look that could not tell found other values than the call's (errors.FoundOther): the call may land yet, so it
    is looked for again at `until` too before that is taken for another writer's change."""
    looked = await look()
    other = looked is None and found_other is not None and found_other()
    if until is None or (looked != [] and not isinstance(looked, Partly) and not other):
        return looked
    # a call still being committed is not listed yet: its absence proves nothing until the API has had time
    async with idle or nullcontext():
        await anyio.sleep_until(until)
    return await look()


def settle_wait(left: float) -> str:
    """When a chunk waiting out its settle delay is looked for again, `left` seconds from now, as a log line says it:
    "in 4 s (--settle-s)", or "now" where the delay has passed already (a resume reaching a call an earlier process
    left in flight long after it began: before, "looking again in -130 s")."""
    if left < 0.5:
        return "now (its --settle-s has passed)"
    return f"in {left:.0f} s (--settle-s)"


def resume_after(exc: BaseException, ledger: str | os.PathLike[str], command: str = "resume") -> str:
    """What the user does after `exc` stopped a run's `command` (resume, or rollback) on the ledger at path
    `ledger`: free space first where the ledger (or planning's scratch file) could not be written, then that command
    again."""
    then = "continue with "
    if isinstance(exc, ledger_pg.ConnectionLost) or isinstance(exc.__cause__, ledger_pg.ConnectionLost):
        then = "once the ledger's PostgreSQL answers again, continue with "  # no space to free: a server to be back
    elif isinstance(exc, LedgerWriteError | PlanningFileError):
        then = "free space (or fix the file), then "
    return f"{then}`{command_on(command, ledger)}`"


def resumable(said: str, exc: BaseException, ledger: str | os.PathLike[str], command: str = "resume") -> str:
    """`said` (why `exc` stopped a run's load, or its `command`: reconcile, rollback, on the ledger at path `ledger`)
    with one way on: its own hint to resume, naming the ledger and `command` (a rollback is continued by rollback,
    never by resume; a run stopped in its reconciliation, every row settled, by reconcile), or `resume_after`'s."""
    if "`bulkload resume`" in said:
        return said.replace("`bulkload resume`", f"`{command_on(command, ledger)}`")
    return f"{said}; {resume_after(exc, ledger, command)}"


def body_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


@dataclass
class Tally:
    """Where the rows this invocation settled went: loaded, rejected, in doubt, or skipped (an earlier load created
    their group). A row read but not sent (the run stopped first) is in none of them: not yet sent, for resume to
    send (the report counts the run's rows by its ledger: Ledger.figures)."""

    loaded: int = 0
    rejected: int = 0
    in_doubt: int = 0
    skipped: int = 0
    #: of those loaded and rejected, the rows an earlier invocation of the run settled (as the ledger held them when
    #: a resume read them again): counted, not timed (progress.Pace, the report's rows/s)
    earlier: int = 0
    #: of those in doubt, the rows of calls the API does not hold that the ledger still has as `sending`, as resume
    #: will find them: it could not be told (Loader.hold). Held back unsent when a ledger write failed (HeldBack), cut
    #: short before they left, or answered by the API without acting on them, as its write failed
    held_back: int = 0
    #: of those in doubt, per group name ("customer"), the rows of calls of several groups the API refused without
    #: telling which it refused (Loader.unplaced): a smaller --batch-size puts fewer in doubt at such a refusal
    refused_together: dict[str, int] = field(default_factory=dict)
    #: the keyed calls (seq, part) sent again with their key after a 5xx once a look found nothing of them
    #: (`Loader.failed`, dispatch._kept_no_failure): a server that commits such a call after the look holds it twice
    resent_unfound: set[tuple[int, str]] = field(default_factory=set)
    #: why the run stopped early, and the exit code that says so
    stop_reason: str | None = None
    stop_code: int = 0
    #: the error that stopped it, where one did
    cause: BaseException | None = None

    def stop(self, reason: str, code: int, cause: BaseException | None = None) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stop_code, self.cause = reason, code, cause

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None


class Turn:
    """A chunk's turn at the records it writes: a later chunk writing one of them waits until the turn is over
    and, when an answer of its calls was lost, until that call can no longer land (`not_before`)."""

    def __init__(self, name: str = "", records: dict[Hashable, str] | None = None) -> None:
        self.over = anyio.Event()
        #: on the event loop's clock (anyio.current_time)
        self.not_before = 0.0
        #: the chunk whose turn it is, as messages name it, and the records it writes (order key -> as said)
        self.name, self.records = name, records or {}

    async def wait(self, waiter: str = "") -> None:
        """Wait for the turn to be over and its lost writes to have landed; a wait for those is said at INFO (what
        waits, how long and why), naming `waiter`."""
        await self.over.wait()
        left = self.not_before - anyio.current_time()
        if left > 0 and waiter:
            log.info(
                "%s waits %.0f s before it is sent: %s, which writes %s too, lost an answer and may still land until "
                "then, and the later write must land after it (--settle-s)",
                waiter,
                left,
                self.name,
                ", ".join(self.records.values()),
            )
        await anyio.sleep_until(self.not_before)


class Sending:
    """One chunk's call as the dispatcher sends it: `read` takes the created ids from its answer; `recheck` settles
    a failed attempt that may have been carried out (a call that cannot be repeated) and says whether to send it
    again. `settled`: a recheck settled the chunk (a look found it done, or could not tell: in doubt)."""

    def __init__(self, loader: Loader, kind: RecordKind, chunk: Chunk, call: Call, summary: dict[str, Totals]) -> None:
        self.loader, self.kind, self.chunk, self.call, self.summary = loader, kind, chunk, call, summary
        self.ids: list[int] = []
        #: the items the answer says failed (RecordKind.failed_items)
        self.failed: dict[int, tuple[str, str]] = {}
        self.settled = False
        #: scope → the newest id the run knew when the call left (Loader.known_before): what it stores lies above
        self.since: dict[str, int] = {}

    def read(self, response: Response) -> None:
        call = f"{self.call.method} {self.call.path}"
        carried_out(response, call)
        self.ids = answered_ids(self.kind, response.body, self.chunk, call)
        self.failed = self.kind.failed_items(response.body, self.chunk)

    async def recheck(self, exc: BulkloadError) -> bool:
        if isinstance(exc, APIError) and self.loader.target.api.refused_or_too_large(exc):
            return False  # final: isolated once it is raised, outside the dispatcher
        # a repeatable call is only ever rechecked before a keyed call's retry (dispatch._kept_no_failure)
        keyed = self.call.repeatable and self.loader.target.api.idempotent
        again = await self.loader.failed(self.kind, self.chunk, self.call, exc, self.summary, self.since, again=keyed)
        self.settled = not again
        if again:
            self.loader.isolation.sent(self.chunk.part)
        return again


class Loader:
    """Sends the planned chunks, consulting the ledger so that nothing done is sent again.

    `concurrency` chunks are sent (or looked up) at once; `settle_s` is how long after a lost answer the API may
    still carry the call out: a chunk waiting that long gives its place to another meanwhile."""

    def __init__(
        self,
        target: Target,
        ledger: Ledger,
        dispatcher: Dispatcher,
        tally: Tally,
        *,
        concurrency: int = 8,
        settle_s: float = 0.0,
    ) -> None:
        self.target = target
        self.ledger = ledger
        self.dispatcher = dispatcher
        self.tally = tally
        self.settle_s = settle_s
        #: workers: those sending, and those that may be waiting out a settle delay
        self.workers = concurrency + (SETTLING if settle_s > 0 else 0)
        self._sending = anyio.Semaphore(concurrency)
        #: per chunk (seq, its parts included): when an answer of its calls was last lost, on the loop's clock
        self._lost: dict[int, float] = {}
        #: when this process began sending, on the loop's clock: an earlier process's calls were lost by then
        self.began = anyio.current_time()
        #: per chunk waiting out a settle delay (seq): until when, on the loop's clock
        self.settling: dict[int, float] = {}
        #: rows the plan has accounted for so far (in a chunk handed out, or rejected)
        self.rows_read = 0
        #: rows of the calls that left so far, each call's once (the progress display's calls a row)
        self.rows_sent = 0
        #: send calls that were in doubt again (the user said so: `resume --resend-in-doubt`)
        self.resend_in_doubt = False
        #: the chunks (seq, part) sent again although an earlier attempt's outcome is unknown: a new attempt the API
        #: did not act on leaves them in doubt, never pending (a later resume would then send them blindly)
        self._resent: set[tuple[int, str]] = set()
        #: the chunks (seq, part) an earlier process left in flight (`sending`) or in doubt that are sent again because
        #: that is harmless (their key while the API keeps it, a call `repeatable` as it is), with that state: a new
        #: attempt the API did not act on leaves them so, never pending (the earlier attempt may have landed)
        self._repeated: dict[tuple[int, str], ChunkState] = {}
        #: the chunks the API does not hold that the ledger, whose write failed, has as `sending` (`hold`), each with
        #: the reason `pending` gives it (`record_held_back`)
        self._held: list[tuple[Chunk, str]] = []
        #: per call key: why its rows are in doubt, where the ledger could not be told (a write failed): the in-doubt
        #: file gives it instead of the ledger's (doubt.with_reasons)
        self.untold: dict[str, str] = {}
        #: the calls this process counted in doubt (Tally.in_doubt), by (seq, part): their file, lines and key, and why
        #: where it knows (their bodies not kept): the in-doubt file is written from them where the ledger can no
        #: longer be read (`doubted_rows`)
        self._doubted: dict[tuple[int, str], tuple[int, list[int], str, str]] = {}
        #: where the ledger can be lost (PostgreSQL's), the rows in doubt as this process began (Ledger.in_doubt_lines):
        #: with `_doubted`, what the in-doubt file lists where the ledger can no longer be read
        self._doubted_before = list(ledger.in_doubt_lines()) if ledger.can_be_lost else []
        #: for targets whose writes to one record must keep file order: the last chunk writing each record,
        #: and per chunk the turns of the earlier chunks it waits for and its own
        self._latest: dict[Any, Turn] = {}
        self._waits: dict[tuple[int, str], tuple[list[Turn], Turn | None]] = {}
        #: per chunk being delivered whose turn it is (seq, part)
        self._turns: dict[tuple[int, str], Turn] = {}
        self.known: dict[tuple[int, str], ChunkRow] = ledger.chunks()
        #: whether the API carried out a call of this run, in this process or an earlier one, of any input: the run's
        #: --base-url leads to the API (the paths under it are the target's own), so a 404, 405 or 415 refuses a
        #: call's records from then on (`gone_there`)
        self._carried_out = any(row.state == "done" for row in self.known.values())
        self.key_prefix = ledger.run.key_prefix
        #: a copy adopted after the run's own ledger was lost: a call it holds nothing of may have been sent
        self.adopted = ledger.adopted() is not None
        self._baselines = ledger.baselines()
        #: told the ids of every answer that created records and the scopes of its chunk (a walk behind the load:
        #: walks.Behind.created)
        self.on_created: Callable[[list[int], Iterable[str]], None] | None = None
        self._baseline_events: dict[str, anyio.Event] = {}
        #: what isolating refused entries may cost
        self.isolation = IsolationBudget()
        #: how the API numbers the entries its error answers name, once one showed it
        self.numbering = Numbering()
        #: per chunk (seq, part): what a look for its lost call found instead of its values (errors.FoundOther),
        #: until it is marked in doubt for it
        self._found_other: dict[tuple[int, str], FoundOther] = {}
        #: per chunk (seq, part): why the look for its lost call could not tell, where that was a listing that was not
        #: whole (errors.NotWhole), until it is marked in doubt for it
        self._not_whole: dict[tuple[int, str], NotWhole] = {}
        #: the chunks in doubt only as a look's listing was not whole, by (seq, part): looked for once more when the
        #: run's own writes have landed (`look_again`)
        self._again: dict[tuple[int, str], Chunk] = {}
        #: when this process last sent a write, and last lost an answer (`lost`), on the loop's clock (None: not yet):
        #: a write may land until `settle_s` after the later of them (`look_again`)
        self._last_left: float | None = None
        self._last_lost: float | None = None
        #: the records runs put on record after this one created or changed, by id, with the latest one's ledger
        #: (alongside.written_since): a call that writes one is not sent (`undoes_later`)
        self.written_later: dict[int, str] = {}
        #: per scope: the newest id this process recorded for a chunk of that scope alone (`took`), for the look for
        #: what a refused call stored (`known_before`)
        self._newest: dict[str, int] = {}
        #: per scope whose ids an answer showed not to grow (`numbered`): where the look for what a refused call
        #: stored begins there instead, the scope's baseline, or 0 (the whole scope) where an id came at or below it;
        #: an earlier process's answers too (Ledger.numbered_below)
        self._unordered: dict[str, int] = dict.fromkeys(ledger.numbered_below(self._baselines), 0)

    @property
    def baselines(self) -> dict[str, dict[str, int]]:
        """scope → what it held before the run's first call to it ({"count", "max_id"}), as scopes are met."""
        return self._baselines

    @property
    def calls(self) -> dict[int, int]:
        return self.dispatcher.limits.quota.minutes

    # --- the two stages ------------------------------------------------------------------------------
    async def produce(self, send: MemoryObjectSendStream[Chunk], spec: PlanSpec, planner: Planning) -> None:
        before = self.rows_read  # rows of earlier phases; each planning process counts from 0
        async with send:
            try:
                await self._relay(send, spec, planner, before)
            except LedgerWriteError as exc:  # the planned rows could not be recorded
                self.dispatcher.hold_back()
                self.tally.stop(f"{exc}; {resume_after(exc, self.ledger.path)}", exc.exit_code)
            except BulkloadError as exc:  # the planning process failed: what was planned is accounted for
                self.tally.stop(resumable(str(exc), exc, self.ledger.path), exc.exit_code)

    async def _relay(self, send: MemoryObjectSendStream[Chunk], spec: PlanSpec, planner: Planning, before: int) -> None:
        async for message in planner.plan(spec):
            self.rows_read = before + message.rows_read
            if isinstance(message, Rows):
                rows = message.rows
                self.ledger.add_rows(rows)  # a write that fails stops the run: rows in no bucket, read again by resume
                for row in rows:
                    setattr(self.tally, row.bucket, getattr(self.tally, row.bucket) + 1)
            elif isinstance(message, Planned):
                chunk = message.chunk()
                if self.target.api.ordered:
                    self.order(chunk)
                # also lets the workers run while the child plans ahead
                if not await handed(send, chunk):  # every worker ended on an error, which run_chunks raises
                    self.unsent(chunk)
                    return
            elif isinstance(message, Stopped):
                self.tally.stop(message.reason, EXIT_STOPPED)
            if self.tally.stopped:
                return

    def unsent(self, chunk: Chunk) -> None:
        """A chunk the run stopped before it sent: its rows are not yet sent (in no bucket of the tally: resume sends
        them), but for those an earlier process of the run loaded or had rejected (the ledger's, as the success and
        rejects files list them)."""
        loaded, rejected = 0, 0
        prev = self.known.get((chunk.seq, chunk.part))
        if prev is not None and prev.body_hash == body_hash(chunk.body):
            loaded, rejected = self._settled(chunk.seq, chunk.part, len(chunk))
        self.tally.loaded += loaded
        self.tally.rejected += rejected
        self.tally.earlier += loaded + rejected

    def _settled(self, seq: int, part: str, rows: int) -> tuple[int, int]:
        """(loaded, rejected): how many of the `rows` rows of chunk (seq, part) the ledger holds as loaded and as
        rejected; a split chunk's rows are its parts' and, where no part took them, rejected (resume_split)."""
        prev = self.known.get((seq, part))
        state = prev.state if prev is not None else None
        if state == "done":
            return rows, 0
        if state == "rejected":
            return 0, rows
        if state != "split":
            return 0, 0
        loaded, rejected = 0, rows
        for child, lines in self.ledger.children(seq, part):
            child_loaded, child_rejected = self._settled(seq, child, len(lines))
            loaded, rejected = loaded + child_loaded, rejected - len(lines) + child_rejected
        return loaded, rejected

    def order(self, chunk: Chunk) -> None:
        """Writes to one record land in file order: a chunk waits for the earlier chunks that write the
        same records (called in plan order, by the producer)."""
        kind = self.target.kind_of(chunk.file_idx)
        keys = kind.order_keys(chunk.entries(kind))
        if keys:
            turn = Turn(named(chunk), {k: kind.records_named(k) for k in keys})
            self._waits[(chunk.seq, chunk.part)] = ([e for k in keys if (e := self._latest.get(k)) is not None], turn)
            for k in keys:
                self._latest[k] = turn

    async def work(self, recv: MemoryObjectReceiveStream[Chunk]) -> None:
        async with recv:
            async for chunk in recv:
                if self.tally.stopped:
                    self.unsent(chunk)
                    continue
                before, turn = self._waits.pop((chunk.seq, chunk.part), ([], None))
                if turn is not None:
                    self._turns[(chunk.seq, chunk.part)] = turn
                try:
                    for earlier in before:
                        await earlier.wait(named(chunk))
                    async with self._sending:
                        if self.tally.stopped:
                            # the run stopped while it waited; an earlier write to one of its records may be
                            # unfinished, sent again on resume: this one must not land before it
                            self.unsent(chunk)
                            continue
                        await self.deliver(chunk)
                finally:
                    self._turns.pop((chunk.seq, chunk.part), None)
                    lost = self._lost.pop(chunk.seq, None)
                    if turn is not None:
                        if lost is not None:
                            turn.not_before = lost + self.settle_s
                        turn.over.set()

    def _key_taken(self, exc: APIError) -> bool:
        """Whether an error answer to a keyed call says its idempotency key was taken (409 "already processed"):
        not seed 002's answer to a key sent again (its cache replays what it answered), but other servers' (tester
        t33a's answered so after the first answer was lost, and every resume sent the key again for the same 409)."""
        return self.target.api.idempotent and exc.status == 409

    def lost(self, chunk: Chunk) -> None:
        """An answer of the chunk's calls was lost (or an earlier process's may have been): that call may land
        until `settle_s` from now."""
        self._lost[chunk.seq] = self._last_lost = anyio.current_time()

    @asynccontextmanager
    async def idle(self, chunk: Chunk, until: float, why: str = LOST_LOOK) -> AsyncIterator[None]:
        """While a chunk waits out a settle delay (until `until`, on the loop's clock), another is sent in its place;
        the wait is in `settling` (the progress display's), and one that begins while no other waits is said at
        INFO, with `why` (what the look that waits found: LOST_LOOK, REFUSED_LOOK)."""
        turn = self._turns.get((chunk.seq, chunk.part))
        behind = [] if turn is None else [said for k, said in turn.records.items() if self._latest.get(k) is not turn]
        when = settle_wait(until - anyio.current_time())
        if behind:  # later rows wait for it: said whatever else waits
            log.info(
                "%s: %s; looking again %s: the later rows writing %s wait until then, to land after it",
                named(chunk),
                why,
                when,
                ", ".join(behind),
            )
        elif not self.settling:
            log.info("%s: %s; looking again %s", named(chunk), why, when)
        self.settling[chunk.seq] = until
        self._sending.release()
        try:
            yield
        finally:
            self.settling.pop(chunk.seq, None)
            with anyio.CancelScope(shield=True):  # given back even when the run is cancelled meanwhile
                await self._sending.acquire()

    # --- one chunk -------------------------------------------------------------------------------------
    def key_of(self, chunk: Chunk) -> str:
        return f"{self.key_prefix}-{chunk.seq}" + (f".{chunk.part}" if chunk.part else "")

    def key_held(self, chunk: Chunk) -> str:
        """The key of the chunk's call: the ledger's where it holds the chunk already (`known`), else a new one."""
        prev = self.known.get((chunk.seq, chunk.part))
        return self.key_of(chunk) if prev is None else prev.key

    def untold_why(self, chunk: Chunk, why: str) -> None:
        """`why` the chunk's rows are in doubt, where the ledger cannot be told: the in-doubt file says it."""
        self.untold[self.key_held(chunk)] = why

    def doubt(self, chunk: Chunk, why: str = "") -> None:
        """Count the chunk's rows in doubt (Tally.in_doubt), `why` where the ledger has it (else `untold` or the
        ledger alone says it), and keep them for `doubted_rows`."""
        self.tally.in_doubt += len(chunk)
        self._doubted[(chunk.seq, chunk.part)] = (chunk.file_idx, chunk.lines, self.key_held(chunk), why)

    def doubted_rows(self) -> Iterator[tuple[int, int, str, str]]:
        """(file index, line, call key, reason) of the rows in doubt as this process knows them, for the in-doubt
        file where the ledger can no longer be read (its PostgreSQL connection lost): those it counted in doubt, in
        the ledger's order, then those in doubt as it began that it did not count (with the ledger's reason: one it
        settled since is listed still, so none in doubt is left out). The reason is "" where only the ledger has it
        (doubt.with_reasons gives `untold`'s, else its own)."""
        listed: set[tuple[int, int]] = set()
        for _, (file_idx, lines, key, why) in sorted(self._doubted.items(), key=lambda item: item[0]):
            for line in lines:
                listed.add((file_idx, line))
                yield file_idx, line, key, why
        for file_idx, line, key, why in self._doubted_before:
            if (file_idx, line) not in listed:
                yield file_idx, line, key, why

    async def deliver(self, chunk: Chunk, *, again: bool = False) -> None:
        """Settle one chunk: by what the ledger holds of it where that settles it, else by sending its call. `again`:
        a call in doubt as a look's listing was not whole, looked for once more (`look_again`)."""
        kind = self.target.kind_of(chunk.file_idx)
        digest = body_hash(chunk.body)
        try:
            prev = self.previous(chunk, digest)
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=False)
            return
        if prev is not None and await self.settled_before(chunk, prev, digest):
            return
        # a half of an UNTOLD part sends its groups each in a call of its own, on the user's word only: one left in
        # doubt by a crash (kill -9) during the resend that split it stays so for a plain resume (in_flight); a
        # CONFIRM part's are sent so at once
        resending = prev is None or prev.state != "in_doubt" or self.resend_in_doubt
        if len(chunk.groups) > 1 and (chunk.part[-1:] in ALONE_HALVES and resending or chunk.part.endswith(CONFIRM)):
            await self.alone(chunk)
            return
        summary = chunk.totals(kind)
        call = await self.call_of(kind, chunk)
        if call is None:
            return
        if (
            prev is not None
            and prev.state in ("sending", "in_doubt")
            and await self.in_flight(chunk, prev, call, summary, again=again)
        ):
            return
        if call.writes and await self.undoes_later(chunk, call.writes):
            return
        # sending, in doubt or pending before: the same key again, so the API can deduplicate
        key = self.key_held(chunk)
        fresh = prev is None or prev.state == "pending"
        if await self.begin_sending(chunk, key, digest, summary, call.held, waits=fresh):
            await self.send_call(kind, chunk, call, key, summary, fresh=fresh)

    def previous(self, chunk: Chunk, digest: str) -> ChunkRow | None:
        """What the ledger holds of the chunk; for an adopted copy that never saw it, what it may be (`unseen`)."""
        prev = self.known.get((chunk.seq, chunk.part))
        if prev is None and self.adopted:
            prev = self.unseen(chunk, self.key_of(chunk), digest)
        return prev

    async def settled_before(self, chunk: Chunk, prev: ChunkRow, digest: str) -> bool:
        """True when what the ledger holds settles the chunk: done, rejected, split (its parts are delivered), or
        its input changed since (the run stops); False while it is still to be sent (pending, sending, in doubt)."""
        if prev.body_hash != digest:
            self.tally.stop(self.differs(chunk), EXIT_USAGE)
            return True
        if prev.state == "done":
            self.tally.loaded += len(chunk)
            self.tally.earlier += len(chunk)
            return True
        if prev.state == "rejected":
            self.tally.rejected += len(chunk)
            self.tally.earlier += len(chunk)
            return True
        if prev.state == "split":
            await self.resume_split(chunk)
            return True
        return False

    def differs(self, chunk: Chunk) -> str:
        """Why a resume stops at `chunk`, whose call as built from the input now is not the one the ledger has: which
        lines, and the way on. Its file's SHA-256 is the run's (checked before): it was changed while the run read it,
        then put back, and what was sent of those lines is in neither; no resume goes on from it. Before, it said
        only "resume needs the same files", which the user, who had put back the very file the run hashed, could not
        act on (found by a tester)."""
        path = self.ledger.run.files[chunk.file_idx]["path"]
        first, last = min(chunk.lines), max(chunk.lines)
        lines = f"line {first}" if first == last else f"lines {first}-{last}"
        ledger = self.ledger.path
        undo = (
            f"roll the run back (`{command_on('rollback', ledger)}`), then load the file as a new run"
            if self.target.api.can_delete
            else "check the records those lines created in the API (the success file lists their ids), then load "
            "the rows this run did not as a new run"
        )
        return (
            f"the input differs from when this run started: {lines} of {path} (chunk {chunk.seq}) are not what the "
            "run sent of them: the file was changed while the run read it (the run sent them as it read them then) "
            "and put back since, or this bulkload builds its calls otherwise than the one that started the run. "
            f"Resume cannot go on from it; {undo}"
        )

    async def call_of(self, kind: RecordKind, chunk: Chunk) -> Call | None:
        """The chunk's call; None when there is none to send: rows refused before sending (isolated) or the run
        stops."""
        try:
            return await kind.call_for(self.dispatcher, chunk)
        except RowsRefused as refused:
            await self.isolate(chunk, refused.bad, "refused before sending")
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=False)
        return None

    async def in_flight(
        self, chunk: Chunk, prev: ChunkRow, call: Call, summary: dict[str, Totals], *, again: bool = False
    ) -> bool:
        """An earlier process sent the call (`prev` sending or in doubt) and its attempt may be landing yet; or this
        one did, and it is in doubt as a look's listing was not whole (`again`: `look_again`). True when that settles
        the chunk here (a look found it, or it stays in doubt); False to send it again."""
        repeatable = call.repeatable
        if repeatable and self.target.api.idempotent:
            # a key the API has forgotten deduplicates nothing: an old in-flight call is in doubt like any other
            repeatable = prev.state == "sending" and key_kept(prev.sent, Instant.now(), self.target.api.key_ttl_s)
        # lost when the earlier process ended, before this one began: one time for all its calls, whose looks then
        # share what one look takes (`look`); a part a look split off a call of this process (found_in_part) keeps
        # that call's
        self._lost.setdefault(chunk.seq, self.began)
        if repeatable:
            # sent again, an update to fixed values (HaloPSA's) would set its records back over a later row's update
            # of one of them that landed meanwhile (the earlier attempt went in doubt, the later row on)
            if (
                not self.target.api.idempotent
                and call.writes
                and (later := self.ledger.later_write(chunk.file_idx, chunk.lines, call.writes))
            ):
                await self.overtaken_in_part(chunk, prev.state, later, call.writes)
                return True
            self._repeated[(chunk.seq, chunk.part)] = "in_doubt" if prev.state == "in_doubt" else "sending"
            return False
        # an earlier attempt may have arrived: look where the API lets us, resend only when told to (what the look
        # compares with is the ledger's, of that attempt: `look`)
        looked = await self.settled_look(chunk)
        if isinstance(looked, Partly):
            await self.found_in_part(chunk, looked, prev.state)
            return True
        # settled by a look (a GET), no write sent: the earlier process's write stays the call's last
        if looked:
            self.record_done(chunk, looked, summary, summary, wrote=False)
            return True
        if looked is None and again:
            # in doubt still: where the listing is not whole yet, its reason says so anew; else it stands
            earlier = self.ledger.error_of(chunk.seq, chunk.part).partition(LOOK_UNTOLD)[0].removesuffix("; ")
            anew = (chunk.seq, chunk.part) in self._not_whole
            self.mark_in_doubt(chunk, prev.state, earlier or "outcome unknown", wrote=False, anew=anew, landed=True)
            return True
        if looked is None and not self.resend_in_doubt:
            # a call held back when a ledger write failed, which the ledger could not be told, is `sending` too
            why = "the ledger has it as sent when the run stopped (or held back unsent as a ledger write failed); "
            why += "outcome unknown"
            if call.repeatable:
                why += f" ({key_untrusted(prev.sent, Instant.now(), self.target.api.key_ttl_s)})"
            if earlier := self.ledger.error_of(chunk.seq, chunk.part):  # why it was in doubt then says more
                why = f"{earlier}; {why}"
            self.mark_in_doubt(chunk, prev.state, why, wrote=False)
            return True
        if chunk.part.endswith(NAMED):  # sent again, it would carry the lines the API named
            self.reject_named(chunk)
            return True
        if chunk.part.endswith(UNTOLD) and len(chunk.groups) > 1:  # sent again whole, refused again, as untold
            await self.alone(chunk)
            return True
        if call.writes and (later := self.ledger.later_write(chunk.file_idx, chunk.lines, call.writes)):
            # the earlier attempt may have landed before the later row's write, or not at all: sent now, it would
            # land after it, and the record would keep this row's values instead of the later row's
            await self.overtaken_in_part(chunk, prev.state, later, call.writes)
            return True
        changed = self._found_other.get((chunk.seq, chunk.part))
        if looked is None and changed is not None and changed.changed:
            # the look knew what the record held before the call: it holds neither that nor the call's values, so it
            # was changed since (by a later run, which this run's ledger does not know, or another writer), and the
            # call sent again would put its values back over that change
            del self._found_other[(chunk.seq, chunk.part)]
            self.mark_in_doubt(chunk, prev.state, self.changed_since(chunk, changed), wrote=False, anew=True)
            return True
        if looked is None:  # sent again on the user's word: until an answer says, the earlier attempt is unknown
            self._resent.add((chunk.seq, chunk.part))
        return False

    async def undoes_later(self, chunk: Chunk, ids: Sequence[int]) -> bool:
        """True when the chunk's call writes one of the records `ids` that a run put on record after this one has
        set since (`written_later`): sent, it would put this run's older values back over that run's (a corrected
        file's). Its rows are rejected instead, naming that run, never sent."""
        found = next(((i, self.written_later[i]) for i in ids if i in self.written_later), None)
        if found is None:
            return False
        record, later = found
        why = (
            f"{self.target.kind_of(chunk.file_idx).group_name} {record} was set since by a later run (ledger {later}): "
            "not sent, as it would put this row's values back over that run's; where this row's values are still "
            "meant, load it again as a run of its own"
        )
        await self.isolate(chunk, dict.fromkeys(range(len(chunk)), ("", why)), "refused before sending")
        return True

    async def overtaken_in_part(self, chunk: Chunk, state: str, later: tuple[int, int], ids: Sequence[int]) -> None:
        """The chunk's call, whose earlier attempt's outcome is unknown (the ledger's `state`), changes the records
        `ids`, one of which a later row of the run changed since, and landed (`later`: its file index and line). The
        groups whose rows change such a record stay in doubt, never sent again (`overtaken`); the others (creates,
        updates of other records) are a part of their own, in doubt until looked for and settled as any call in doubt
        is (`in_flight`). Where the rows do not name the records they change (RecordKind.writes), the whole call stays
        in doubt. Before, it did so always: its other rows were never looked for nor sent, and no resume finished
        them."""
        kind, spans = self.target.kind_of(chunk.file_idx), chunk.spans()
        entries = chunk.entries(kind)
        held = [
            g
            for g, span in enumerate(spans)
            if (writes := kind.writes([entries[i] for i in span]))
            and self.ledger.later_write(chunk.file_idx, [chunk.lines[i] for i in span], writes)
        ]
        why = self.overtaken(chunk, later, ids)
        if not held or len(held) == len(spans):
            self.mark_in_doubt(chunk, state, why, wrote=False, anew=True)
            return
        earlier = self.ledger.error_of(chunk.seq, chunk.part).partition("not sent again: ")[0].removesuffix("; ")
        over = chunk.take(held, chunk.part + "o", kind)
        letter = chunk.part[-1:] if chunk.part[-1:] in (NAMED, UNTOLD, *ALONE_HALVES) else "n"  # as found_in_part's
        rest = chunk.take([g for g in range(len(spans)) if g not in held], chunk.part + letter, kind)
        overtaken = self.overtaken(chunk, later, kind.writes(over.entries(kind)))
        plan = [self.child(chunk, over, overtaken), self.child(chunk, rest, earlier or "outcome unknown")]
        try:
            self.ledger.split(chunk.seq, chunk.part, chunk.file_idx, why, [], plan, self.calls, wrote=False)
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=True)
            return
        self.doubt(over, plan[0].error or overtaken)
        # in doubt in the ledger: `deliver` looks for it before it is sent (its key the ledger's)
        self.known[(rest.seq, rest.part)] = ChunkRow("in_doubt", self.key_of(rest), 0, body_hash(rest.body), None)
        await self.deliver(rest)

    def overtaken(self, chunk: Chunk, later: tuple[int, int], ids: Sequence[int]) -> str:
        """Why the chunk's call, whose earlier attempt's outcome is unknown, is not sent again: `later` (file index,
        line) is a later row of the run that changed one of the records `ids` the call changes, and landed."""
        file_idx, line = later
        where = f"line {line}" + (
            f" of {self.ledger.run.files[file_idx]['path']}" if file_idx != chunk.file_idx else ""
        )
        record = f"{self.target.kind_of(chunk.file_idx).group_name} {' or '.join(str(i) for i in ids)}"
        return (
            f"{self.in_doubt_before(chunk)}not sent again: {where}, a later row of {record}, landed after this row was "
            "sent, and sending this earlier row again would put its values back over that later row's; where this "
            "row's values are still meant, load it again as a run of its own"
        )

    def changed_since(self, chunk: Chunk, found: FoundOther) -> str:
        """Why the chunk's call, whose earlier attempt's outcome is unknown, is not sent again on the user's word: a
        look found its record holding neither what it held before the call nor the call's values (`found`)."""
        return (
            f"{self.in_doubt_before(chunk)}not sent again: {found.found}: it was changed since this row was sent (by a "
            "later run or another writer), and sending this row again would put its values back over that change; "
            "check it in the API; where this row's values are still meant, load it again as a run of its own"
        )

    def in_doubt_before(self, chunk: Chunk) -> str:
        """Why the chunk was in doubt before a resend on the user's word was refused, ending in "; " (or ""): the
        ledger's reason without an earlier refusal's ("not sent again: …"), which the new one replaces."""
        earlier = self.ledger.error_of(chunk.seq, chunk.part).partition("not sent again: ")[0].removesuffix("; ")
        return f"{earlier}; " if earlier else ""

    async def begin_sending(
        self, chunk: Chunk, key: str, digest: str, summary: dict[str, Totals], held: bytes | None, *, waits: bool
    ) -> bool:
        """What must be recorded before the call leaves: the baselines of a walk, and the call as sending, with what
        a look for another call's records could take of its (RecordKind.lookalikes: `not_proven`) and what its
        records held (model.Call.held: for its own look, `look`). `waits`: no attempt of it may have left yet, so it
        is `pending` until it leaves, after its wait for the limits (`send_call`; Ledger.sending). False when it
        cannot be (the run stops)."""
        looks = self.target.kind_of(chunk.file_idx).lookalikes(chunk)
        try:
            if self.target.api.reconcile_by == "walk":
                await self.ensure_baselines(summary)
            self.ledger.sending(
                chunk.seq,
                chunk.part,
                chunk.file_idx,
                key,
                chunk.lines,
                digest,
                self.calls,
                chunk.groups,
                looks,
                held,
                self.checks_of(chunk),
                waits=waits,
            )
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=False)
            return False
        return True

    def checks_of(self, chunk: Chunk) -> list[int] | None:
        """The line checks of `chunk`'s rows of no group, kept with its call (Ledger.sending, or a split's part in
        doubt: Child.checks), or None where its kind groups its rows: a later load tells the rows it gives again while
        that call is in doubt (ledger.rows_known_to)."""
        return None if self.target.kind_of(chunk.file_idx).rows_grouped else chunk.checks

    async def send_call(
        self, kind: RecordKind, chunk: Chunk, call: Call, key: str, summary: dict[str, Totals], *, fresh: bool
    ) -> None:
        """Send the chunk's call (the dispatcher retries it) and settle the chunk by how that went. `fresh`: no
        earlier process sent it (so, cut short before it left, it was never sent: `cut_short`), and the ledger has it
        `pending` until it leaves, after its wait for the limits (Ledger.leaves: where that write fails, it is not
        sent). Held back before it left (a ledger write failed: HeldBack), it stays as the ledger has it, for resume
        to settle; its rows are not yet sent, or in doubt where an earlier attempt of it (here, or an earlier
        process's) may land."""
        headers = {"Idempotency-Key": key} if self.target.api.idempotent else None
        # an earlier process's key, replayed as the API surely keeps it (`in_flight`): each attempt leaves only while
        # it still does, as the waits for the limits and the retries may outlive it (a call sent again on a look's
        # word, or the user's, is sent whatever its key's age)
        replayed = None if fresh or not self.target.api.idempotent else self.ledger.sent(chunk.seq, chunk.part)
        if replayed is not None and not key_kept(replayed, Instant.now(), self.target.api.key_ttl_s):
            replayed = None
        left = False

        def leaving() -> None:
            nonlocal left
            if replayed is not None and not key_kept(replayed, now := Instant.now(), self.target.api.key_ttl_s):
                raise KeyOutlived(key_untrusted(replayed, now, self.target.api.key_ttl_s))
            if not left:  # its first attempt: a retry carries the same rows
                if fresh:  # it waited for its place `pending`: it may arrive from now on
                    self.ledger.leaves(chunk.seq, chunk.part)
                self.rows_sent += len(chunk)
            left = True
            self._last_left = anyio.current_time()
            # where a lost answer is settled by waiting, the ledger says when the call last left: a rollback after a
            # kill counts its settle delay from then
            if self.settle_s > 0:
                self.ledger.leaving(chunk.seq, chunk.part)

        sending = Sending(self, kind, chunk, call, summary)
        sending.since = self.known_before(summary, fresh=fresh)
        tries = Tries(self.dispatcher.clock)
        self.isolation.sent(chunk.part)
        try:
            # the log lines of its attempts quote what the API answers, which may quote the records' secrets
            with (
                logs.bound(chunk=f"{chunk.seq}.{chunk.part}" if chunk.part else str(chunk.seq)),
                logs.hiding(self.secret_values(chunk)),
            ):
                response = await self.dispatcher.send(
                    call.method,
                    call.path,
                    body=call.body,
                    headers=headers,
                    safe_to_repeat=call.repeatable,
                    leaving=leaving,
                    recheck=sending.recheck,
                    read=sending.read,
                    tries=tries,
                )
        except anyio.get_cancelled_exc_class():
            # an attempt answered 429 (or 401) was not carried out: a call whose attempts were each answered so, cut
            # short while it waited to be sent again, never landed (before, it was in doubt: "it may have arrived")
            self.cut_short(chunk, not fresh or (left and (tries.uncertain or tries.in_flight)))
            raise
        except KeyOutlived as exc:  # not sent: an earlier attempt may have landed, which the next resume looks for
            why = f"the ledger has it as sent when an earlier run stopped; sent again, by the time it could leave {exc}"
            self.mark_in_doubt(chunk, "sending", f"{why}: `bulkload resume` looks for its records", wrote=left)
            return
        except HeldBack as exc:  # it had not left when the ledger failed: in doubt only for an earlier attempt
            if fresh and not exc.uncertain:  # never sent, and `pending` in the ledger (it waited so)
                self.unsent(chunk)
                return
            self.doubt(chunk)
            if fresh:  # else an earlier process's attempt: the ledger's reason of it stands
                self.untold_why(chunk, LOST_THEN_HELD)
            return
        except BulkloadError as exc:
            if not left and isinstance(exc, LedgerWriteError):  # its leaving could not be recorded: not sent
                self.give_up(chunk, exc, sent=False)
                return
            if not sending.settled and await self.failed(kind, chunk, call, exc, summary, sending.since):
                self.give_up(chunk, RunStopped(NOT_FOUND_YET, uncertain=True), sent=True)
            return
        except IdsUntold as exc:  # stored, its answer says, but not which id each row was given: looked for
            await self.stored_untold(chunk, exc, summary, sending.since)
            return
        except ValueError as exc:  # an answer we cannot read: the call did arrive
            self.give_up(chunk, exc, sent=True)
            return
        if response.uncertain:  # answered after an attempt whose answer was lost, which may land later
            self.lost(chunk)
        self.numbered(sending.since, sending.ids)
        if sending.failed:
            self.failed_in_answer(kind, chunk, sending.ids, sending.failed)
            return
        ids, returned = as_written(call, sending.ids, kind.returned_totals(response.body, summary, chunk))
        self.record_done(chunk, ids, summary, returned)

    async def stored_untold(
        self, chunk: Chunk, exc: IdsUntold, summary: dict[str, Totals], since: Mapping[str, int]
    ) -> None:
        """A call answered as carried out without which id each row's record was given (`exc`): its records are
        looked for (`look`: e-conomic, line for line in the journal) and loaded as found. Where the look does not
        find them all (a listing that shows new records late) and `settle_s` is set, looked for again `settle_s`
        after the answer (another chunk is sent meanwhile); a look that still finds them in part, or cannot tell,
        leaves the call as an answer that cannot be read does (`give_up`: in doubt, the run stopped; resume looks
        for it again). Before, seed 002's own sample answer to a bulk create stopped every load at its first call
        of two entries or more."""
        looked = await self.look(chunk)
        if (not looked or isinstance(looked, Partly)) and self.settle_s > 0:
            async with self.idle(chunk, until := anyio.current_time() + self.settle_s, UNTOLD_LOOK):
                await anyio.sleep_until(until)
            looked = await self.look(chunk)
        if not looked or isinstance(looked, Partly):
            self.give_up(chunk, exc, sent=True)
            return
        self.numbered(since, looked)
        self.record_done(chunk, looked, summary, None)

    def failed_in_answer(
        self, kind: RecordKind, chunk: Chunk, ids: list[int], failed: dict[int, tuple[str, str]]
    ) -> None:
        """A 2xx answer that says some items of the call failed (`failed`: index -> (field, what it says)). What
        became of them it does not say (not stored, or stored with a warning), so their groups are in doubt, never
        loaded, and never sent again with them (part NAMED); the call's other groups are loaded as answered (`ids`),
        their amounts unchecked: the answer's totals are the whole call's."""
        spans = chunk.spans()
        named = [g for g, span in enumerate(spans) if any(i in failed for i in span)]
        stored = [g for g in range(len(spans)) if g not in named]
        whole = ", and a group loads whole or not at all" if any(len(spans[g]) > 1 for g in named) else ""
        why = self.hidden(
            chunk,
            f"answered 2xx, but its records do not say these were stored: "
            f"{self.lines_named(chunk, spans, named, failed)}; the API does not say what became of such a record, so "
            f"it may have been stored{whole}; check the API for it (where its record gives a reason, fix the line "
            "named before it is sent again)",
        )
        failing = chunk.take(named, chunk.part + NAMED, kind)
        plan = [self.child(chunk, failing, why)]
        if stored:
            # the stored part is done with the split, in its transaction: a crash right after it leaves no row the
            # answer said stored in doubt, for a resend on the user's word to store again
            part = chunk.take(stored, chunk.part + "r", kind)
            stored_ids, summary = [ids[i] for g in stored for i in spans[g]], part.totals(kind)
            created = Created(stored_ids, summary, part.checks)
            plan.append(self.child(chunk, part, None)._replace(state="done", created=created))
        try:
            self.ledger.split(chunk.seq, chunk.part, chunk.file_idx, why, [], plan, self.calls)
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=True)
            return
        if stored:
            self.took(part, stored_ids, summary)
        self.doubt(failing, why)

    async def found_in_part(self, chunk: Chunk, partly: Partly, state: str = "sending") -> None:
        """A look for the chunk's call, whose outcome was unknown (the ledger's `state`: sending or in doubt), found
        some of its records and not the others (`partly`): the groups all of whose records it found are loaded with
        them, in the split's transaction (no write sent: Ledger.split's `wrote`); those none of whose records are there
        are looked for again as a part of their own, in doubt until then (`in_flight`: found absent again, in the
        listing that proved them so where no later one was taken: `look`; sent as a call found absent is; its part's
        letter kept where it says how it is sent again, NAMED, UNTOLD, ALONE_HALVES); a group of both stays in doubt
        whole, never sent again, not even on the user's word (it loads whole or not at all, and sent again would store
        what was found twice), its reason naming what was found (`in_part`). A call all of whose groups are of both (a
        part found so before, looked for again) stays in doubt as it is, its reason told anew."""
        kind, spans, ids = self.target.kind_of(chunk.file_idx), chunk.spans(), partly.ids
        found = [g for g, span in enumerate(spans) if all(ids[i] is not None for i in span)]
        absent = [g for g, span in enumerate(spans) if all(ids[i] is None for i in span)]
        both = [g for g in range(len(spans)) if g not in found and g not in absent]
        # what an earlier look found in part is said anew by this one
        why = self.ledger.error_of(chunk.seq, chunk.part).partition(IN_PART)[0].removesuffix("; ") or "outcome unknown"
        if not found and not absent:
            self.mark_in_doubt(chunk, state, f"{why}; {self.in_part(chunk, both, ids)}", wrote=False, anew=True)
            return
        settled = [self.found_part(chunk, found, ids)] if found else []
        again = None
        if absent:
            letter = chunk.part[-1:] if chunk.part[-1:] in (NAMED, UNTOLD, *ALONE_HALVES) else "n"
            again = chunk.take(absent, chunk.part + letter, kind)
        if both:
            half = chunk.take(both, chunk.part + "m", kind)
            settled.append((half, self.child(chunk, half, f"{why}; {self.in_part(chunk, both, ids)}")))
        plan = [planned for _, planned in settled] + ([self.child(chunk, again, why)] if again is not None else [])
        try:
            self.ledger.split(chunk.seq, chunk.part, chunk.file_idx, why, [], plan, self.calls, wrote=False)
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=True)
            return
        self.count_settled(settled)
        if again is not None:
            # in doubt in the ledger: `deliver` looks for it before it is sent (its key the ledger's)
            key = self.key_of(again)
            self.known[(again.seq, again.part)] = ChunkRow("in_doubt", key, 0, body_hash(again.body), None)
            await self.deliver(again)

    def in_part(self, chunk: Chunk, groups: Sequence[int], ids: Sequence[int | None]) -> str:
        """Why the `groups` (indexes into the chunk's spans) a look found some rows of and not the others (`ids`: per
        row of the chunk the id found, None for none) are in doubt, never sent again: what it found of each, starting
        with IN_PART ("stored in part: a look found voucher 4 (journal 1): line 8 stored (id 7), line 9 not found; a
        voucher loads whole or not at all …")."""
        kind, spans = self.target.kind_of(chunk.file_idx), chunk.spans()
        each = []
        for g in groups:
            there = [i for i in spans[g] if ids[i] is not None]
            label = kind.group_label(chunk.groups[g].key) if chunk.groups[g].key else "the call"
            found = (
                f"{listed('line', [chunk.lines[i] for i in there])} stored ({listed('id', [ids[i] for i in there])})"
            )
            gone = listed("line", [chunk.lines[i] for i in spans[g] if ids[i] is None])
            each.append(f"{label}: {found}, {gone} not found")
        group = kind.group_name
        return (
            f"{IN_PART}{'; '.join(each)}; a {group} loads whole or not at all, and sent again it would store what was "
            f"found twice, so it is not sent again, not even by --resend-in-doubt: check the API; remove what it holds "
            f"of the {group}, and `bulkload resume --resend-in-doubt` sends it, or add the lines not found, and "
            "`bulkload resume` loads it as found"
        )

    def hold(self, chunk: Chunk, why: str, said: str = "") -> None:
        """The chunk's call is not at the API (`why`, the reason `pending` gives it: the API did not act on it), but
        the ledger, whose write failed, has it as `sending`, as resume will find it: in doubt, counted as held back
        (`Tally.held_back`), its rows said so in the in-doubt file (`said`, else `why`), until `record_held_back` puts
        it back to `pending`."""
        self._held.append((chunk, why))
        self.doubt(chunk)
        self.tally.held_back += len(chunk)
        self.untold_why(chunk, unsent_but_sending(said or why))

    def record_held_back(self) -> None:
        """After a stop, tell the ledger that the calls it has as `sending` though the API does not hold them (`hold`)
        are `pending`, their rows not yet sent, for resume to send. One try, best effort: where the ledger still refuses
        writes (its disk still full, its connection gone), they stay `sending`, as resume will find them, and in
        doubt (`Tally.held_back`); a chunk's move is one transaction, so one that fails changes nothing."""
        held, self._held = self._held, []
        if self.ledger.lost:
            return
        for chunk, why in held:
            try:
                self.ledger.settle(chunk.seq, chunk.part, "pending", why, self.calls)
            except (BulkloadError, ledger_pg.ConnectionLost):
                return
            self.tally.in_doubt -= len(chunk)
            self.tally.held_back -= len(chunk)
            self._doubted.pop((chunk.seq, chunk.part), None)
            self.untold.pop(self.key_held(chunk), None)
            self.unsent(chunk)

    def cut_short(self, chunk: Chunk, may_land: bool) -> None:
        """The run was cut short (Ctrl-C, a signal) while the chunk's call was being sent: a call that may land
        (it left, here or in an earlier process) is in doubt until resume settles it; one that never left (it
        waited for the limits, `pending` in the ledger meanwhile) stays `pending`, never sent, so the in-doubt file
        does not list it, with why where the ledger can be told."""
        if may_land:
            try:
                self.ledger.settle(chunk.seq, chunk.part, "sending", CUT_SHORT, self.calls, wrote=False)
            except BulkloadError:  # unwritten, it stays `sending` without its reason: the in-doubt file gives it
                self.untold_why(chunk, CUT_SHORT)
            self.doubt(chunk, CUT_SHORT)
            return
        with suppress(BulkloadError):  # unwritten, it stays `pending` without its reason
            self.ledger.settle(chunk.seq, chunk.part, "pending", CUT_UNSENT, self.calls)

    async def failed(
        self,
        kind: RecordKind,
        chunk: Chunk,
        call: Call,
        exc: BulkloadError,
        summary: dict[str, Totals],
        since: Mapping[str, int] | None = None,
        *,
        again: bool = False,
    ) -> bool:
        """An attempt of the chunk's call failed. True when it is safe to send it again now (a look showed it was
        not carried out); otherwise the chunk is settled here: refused (isolated), given up, done or in doubt.
        `since`: scope → the newest id the run knew when the call left (`known_before`), where a refusal's rest is
        looked for (`isolate`). `again`: a keyed call about to be sent again with its key (dispatch._kept_no_failure),
        looked for first (`looked_for`)."""
        if maybe_acted_on(exc):
            self.lost(chunk)
        if isinstance(exc, APIError) and (self.target.api.refused_or_too_large(exc) or self.gone_there(exc)):
            # even after a lost first answer a refusal is final: a keyed retry replays the same call's
            # outcome, and an unrepeatable call is never retried once it may have arrived. A call too large names
            # no item: it is split
            bad = None if self.target.api.too_large(exc) else kind.bad_items(exc, chunk.entries(kind))
            # a call that does no harm sent again (updates to fixed values: no key of its parts deduplicates them at
            # an API that keeps keys) needs no telling what a refusal stored of it
            await self.isolate(chunk, bad, exc, again=call.repeatable and not self.target.api.idempotent, since=since)
            return False
        if isinstance(exc, APIError) and (exc.replayed or self._key_taken(exc)) and maybe_acted_on(exc):
            # the API's cache replays an earlier attempt's failure, or answers that its key was taken: the key
            # cannot tell whether that attempt was carried out, sent again or on resume; what the API holds may
            if await self.looked_for(chunk, summary):
                self.mark_in_doubt(
                    chunk, "sending", replayed_failure(exc, self.target, self.ledger.sent_at(chunk.seq, chunk.part))
                )
            return False
        if call.repeatable and again:
            # before a keyed call's retry (dispatch._kept_no_failure): not found, or no telling, sent again with its
            # key, as before; found, it is not sent again
            if resend := await self.looked_for(chunk, summary):
                self.tally.resent_unfound.add((chunk.seq, chunk.part))
            return resend
        if call.repeatable or not maybe_acted_on(exc):
            self.give_up(chunk, exc, sent=True)
            return False
        looked = await self.settled_look(chunk)
        # an answer it cannot read, or a redirect after the call may have been carried out, is the server's own, no
        # passing fault: every call would get one, so the run stops here (docs/guarantees.md), this call settled as
        # a lost answer's is
        stops = isinstance(exc, BadAnswer | Redirected)
        if isinstance(looked, Partly):
            if not stops:
                await self.found_in_part(chunk, looked)
                return False
            looked = None  # in doubt whole, as the run stops
        if looked == [] and stops:
            # a look found it not carried out: a resume sends it again (never now, for another such answer)
            self.give_up(chunk, type(exc)(str(exc)), sent=True)
            return False
        if looked is None:
            self.mark_in_doubt(chunk, "sending", str(exc))
        elif looked:
            self.record_done(chunk, looked, summary, summary)  # the look confirmed what was sent
        else:
            return True
        if stops:
            self.halt(chunk, exc)
        return False

    async def looked_for(self, chunk: Chunk, summary: dict[str, Totals]) -> bool:
        """A keyed call whose key cannot settle it, looked for (`settled_look`): found whole, it is loaded as found;
        found in part, in doubt as such a look's finds are; True where the look found nothing or cannot tell (the
        caller settles it). A look that finds nothing cannot tell (RecordKind.find_sent), and is made again
        `settle_s` after the call was lost, before the call is sent again: a server that answered a 5xx before its
        commit landed, and keeps no failure under the key, carries the retry out anew (each voucher twice, exit 0)."""
        looked = await self.settled_look(chunk, untold=True)
        if isinstance(looked, Partly):
            await self.found_in_part(chunk, looked)
        elif looked:
            self.record_done(chunk, looked, summary, summary)
        else:
            return True
        return False

    def gone_there(self, exc: APIError) -> bool:
        """Whether `exc`, a chunk's call's error, is a 404, 405 or 415 (NO_SUCH_CALL) where the API carried out a call
        of this run before, of this input or another (`_carried_out`): the --base-url leads to the API, and the paths
        under it are the target's own, so the status is about this call (a 404: what it names is not there, a
        PayorCRM invoice's customer, a record to update; a 405: its method is not allowed on what it names now, as a
        record locked; a 415: this body's content is not taken), and it is refused as at a 400, its status named,
        never taken for a wrong address (WrongEndpoint) and left unsent. A server saving record by record may have
        saved some before it: sent again on resume, they were saved twice (testers t72d; t73b: the first invoice
        upload after the customers', and a 405 or 415)."""
        return exc.status in NO_SUCH_CALL and self._carried_out

    def unseen(self, chunk: Chunk, key: str, digest: str) -> ChunkRow:
        """A call an adopted copy of the ledger never saw: the run may have sent it since it began. Where a stored
        key may be replayed it is in flight (sent again with its key while the API keeps it); otherwise in doubt."""
        state = "sending" if self.target.api.idempotent else "in_doubt"
        looks = self.target.kind_of(chunk.file_idx).lookalikes(chunk)
        at = (chunk.seq, chunk.part, chunk.file_idx)
        self.ledger.unseen(*at, key, chunk.lines, digest, state, chunk.groups, looks, self.checks_of(chunk))
        row = self.known[(chunk.seq, chunk.part)] = ChunkRow(
            state, key, 0, digest, self.ledger.run.created, self.ledger.run.created_boot
        )
        return row

    def record_done(
        self,
        chunk: Chunk,
        ids: list[int],
        summary: dict[str, Totals],
        returned: dict[str, Totals] | None,
        *,
        wrote: bool = True,
    ) -> None:
        """The chunk's call created `ids`. `wrote`: False where a look found them, no write sent by this process
        (Ledger.done)."""
        try:
            self.ledger.done(
                chunk.seq,
                chunk.part,
                chunk.file_idx,
                chunk.lines,
                ids,
                summary,
                self.calls,
                returned,
                chunk.checks,
                wrote=wrote,
            )
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=True, why=DONE_UNRECORDED)
            return
        self._carried_out = True
        if confirming(chunk.part):  # read as refused by a numbering its error did not show, it was good
            self.numbering.disprove(named(chunk))
        self.took(chunk, ids, summary)

    def took(self, chunk: Chunk, ids: list[int], summary: dict[str, Totals]) -> None:
        """The chunk's rows are loaded as `ids`, the ledger says: counted, and told to `on_created`."""
        self.tally.loaded += len(chunk)
        if len(summary) == 1 and ids:  # the ids of a chunk of one scope are that scope's
            scope = next(iter(summary))
            self._newest[scope] = max(self._newest.get(scope, 0), *ids)
        if self.on_created is not None:
            self.on_created(ids, summary)

    def known_before(self, summary: Mapping[str, Any], *, fresh: bool) -> dict[str, int]:
        """Per scope of a call about to leave (`summary`'s): the newest id the run knows there, its baseline's or
        one this process recorded since (ids only grow: what the call stores lies above it). Only the baseline's where
        the call is not `fresh` (an earlier process sent it, whose attempt may have stored below what this one
        recorded since), or where an answer showed the scope's ids not to grow (`numbered`: then what the call stores
        may lie anywhere above the baseline, or anywhere at all where an id came at or below it: 0). A scope without
        a baseline is left out (a look cannot tell what the call stored there)."""
        return {
            scope: self._unordered.get(scope, max(int(base["max_id"]), self._newest.get(scope, 0) if fresh else 0))
            for scope in summary
            if (base := self._baselines.get(scope)) is not None
        }

    def numbered(self, since: Mapping[str, int], ids: Sequence[int]) -> None:
        """A call that left when the run knew the ids `since` (`known_before`) was answered with `ids`: where one
        lies at or below what the run knew of a scope of the call, the API's ids do not grow (seed 002 promises
        e-conomic's entry numbers only to be unique: docs/reconciliation.md, "Entry numbers out of order"), and the
        looks for what a refused call stored in those scopes begin at their baseline from now on, or at 0 where an
        id came at or below it (`_unordered`)."""
        lowest = min(ids, default=None)
        for scope, newest in since.items():
            if lowest is None or lowest > newest:
                continue
            base = int(self._baselines[scope]["max_id"])
            self._unordered[scope] = 0 if lowest <= base else min(base, self._unordered.get(scope, base))

    async def stored_by_refusal(self, chunk: Chunk, since: Mapping[str, int]) -> Partly | None:
        """What a call the API refused stored all the same, as the kind finds it (RecordKind.find_stored) among what
        its scopes received since it left (`since`): per row the id found, or None; None where the look cannot tell
        (a look that fails, too), or below it in a scope an answer since showed not to grow (`numbered`: from its
        baseline, or 0). Where not every row is found and `settle_s` is set, looked for again `settle_s`
        after the refusal, by the rule of a lost answer's look (`settled_look`): what the call stored may show in
        the API's listings only later (a listing read from a replica); another chunk is sent meanwhile."""
        kind = self.target.kind_of(chunk.file_idx)
        until = anyio.current_time() + self.settle_s if self.settle_s > 0 else None
        # an answer that came in since the call left may have shown a scope's ids not to grow (`numbered`): what
        # the call stored may then lie below the newest id the run knew when it left (a tester: two calls at a time
        # into a server numbering downwards sent the good vouchers a refusal stored again, each in the journal twice)
        since = {scope: min(after, self._unordered.get(scope, after)) for scope, after in since.items()}

        async def look() -> Partly | None:
            try:
                return await kind.find_stored(self.dispatcher, chunk, since, taken_ids(self.target, self.ledger, kind))
            except BulkloadError as exc:
                log.info(
                    "%s: the look for what its refusal stored failed: %s", named(chunk), self.hidden(chunk, str(exc))
                )
                return None

        looked = await look()
        if until is None or looked is None or None not in looked.ids:
            return looked
        async with self.idle(chunk, until, REFUSED_LOOK):
            await anyio.sleep_until(until)
        return await look()

    async def settled_look(self, chunk: Chunk, untold: bool = False) -> list[int] | Partly | None:
        """Whether a call whose answer was lost took effect, by evidence (see `settled_look`), `settle_s` after
        the loss; another chunk is sent while this one waits. `untold`: a first look that cannot tell is looked
        again at that time too (a keyed call's look finds nothing as such: `looked_for`)."""
        until = self._lost.get(chunk.seq, anyio.current_time()) + self.settle_s if self.settle_s > 0 else None
        idle = self.idle(chunk, until) if until is not None else None
        key = (chunk.seq, chunk.part)
        return await settled_look(lambda: self.look(chunk), until, idle, lambda: untold or key in self._found_other)

    async def look(self, chunk: Chunk) -> list[int] | Partly | None:
        """Ask the target whether the call took effect: ids, [] for certainly not, model.Partly for in part (some
        records found, the others certainly not there), None for no telling. A keyed
        call is looked for when its key cannot settle it (forgotten by the API, or replaying a failure): among
        what its scopes received since the run's baselines (`RecordKind.find_sent`, e-conomic: line for line).
        Another, by `RecordKind.resolve`, given what its records held as the ledger kept it with the call (whichever
        process sent it: model.Call.held)."""
        kind = self.target.kind_of(chunk.file_idx)
        taken = taken_ids(self.target, self.ledger, kind)
        self._found_other.pop((chunk.seq, chunk.part), None)  # an earlier look's, which this one replaces
        self._not_whole.pop((chunk.seq, chunk.part), None)
        # what was taken since the call was lost answers the first look; since the settle delay after, the second
        lost = self._lost.get(chunk.seq)
        settled = None if lost is None else lost + self.settle_s
        since = settled if settled is not None and anyio.current_time() >= settled else lost
        try:
            if self.target.api.idempotent:
                found = await kind.find_sent(self.dispatcher, chunk, self._baselines, taken)
            else:
                held = self.ledger.held_before(chunk.seq, chunk.part)
                found = await kind.resolve(self.dispatcher, chunk, taken, held, since)
        except FoundOther as exc:  # neither done nor certainly not: in doubt, for what it found
            self._found_other[(chunk.seq, chunk.part)] = exc
            return None
        except NotWhole as exc:  # no telling, for the listing's reason: said, and in the call's reason if in doubt
            self._not_whole[(chunk.seq, chunk.part)] = exc
            log.info(
                "%s: whether the API carried it out cannot be told: %s (what it leaves out is not proven absent)",
                named(chunk),
                self.hidden(chunk, str(exc)),
            )
            return None
        except BulkloadError as exc:  # no telling; said, so that a resume that cannot settle it shows why
            log.warning(
                "%s: the look for what became of it failed, so whether the API carried it out cannot be told: %s",
                named(chunk),
                self.hidden(chunk, str(exc)),
            )
            return None
        there = [i for i in found.ids if i is not None] if isinstance(found, Partly) else found
        if there and (why := self.not_proven(kind, chunk, there, taken)):
            log.info("%s: the records a look found prove nothing: %s", named(chunk), why)
            return None
        if found and not isinstance(found, Partly) and kind.found_write_landed:
            # the look found the values the lost call wrote: it landed and lands no more, so later writes to its
            # records wait no settle delay for it (`work`); where a look finds a record whatever it holds, its lost
            # write may land yet, and they wait
            self._lost.pop(chunk.seq, None)
        return found

    def not_proven(self, kind: RecordKind, chunk: Chunk, found: list[int], taken: frozenset[int]) -> str | None:
        """Why the records `found` for the chunk's call (by `look`, which left out the records of `taken`) may be
        another call's of the run, or None. Another call not settled yet (in flight, its answer not recorded, lost, or
        in doubt; sent here, or by an earlier process of the run: the ledger's) may have created them (`lookalikes`: a
        record of the same match fields), and one whose records were recorded while the look listed them (not in
        `taken` yet) may have."""
        files = kind_files(self.target, self.ledger, kind)
        looks = kind.lookalikes(chunk)
        rival = None if looks is None else self.ledger.rival(chunk.seq, chunk.part, files, looks)
        if rival is not None:
            return f"{named_call(*rival)}, not settled yet, may have created them"
        # never the id of a record the chunk updates: the targets whose looks give those take turns per record (`order`)
        if not (self.ledger.ids_in(files) - taken).isdisjoint(found):
            return "another row of the run was recorded with one of them while the look listed them"
        return None

    def hidden(self, chunk: Chunk, text: str) -> str:
        """`text` (an error, an API's answer) without the chunk's secret values, should it quote them: what it
        says goes to the ledger, the rejects and in-doubt files, the report and the terminal."""
        values = self.secret_values(chunk)
        return scrub(text, values) if values else text

    def secret_values(self, chunk: Chunk) -> list[str]:
        """The values of the secret fields of the chunk's records (none for a target without them)."""
        kind = self.target.kind_of(chunk.file_idx)
        names = kind.secret_fields
        if not names:
            return []
        return [v for r in chunk.entries(kind) for v in secret_texts(msgspec.to_builtins(r), names)]

    def mark_in_doubt(
        self, chunk: Chunk, state: str, why: str, *, wrote: bool = True, anew: bool = False, landed: bool = False
    ) -> None:
        """The call may or may not have been carried out: never sent again without the user's word. `wrote`: False
        where this process sent no write of it (an earlier process's, which a look could not settle: Ledger.settle).
        `anew`: `why` replaces the reason of a chunk in doubt already (Ledger.explain). Where its look could not tell
        for a listing that was not whole (errors.NotWhole), the reason says so (`unlisted`; `landed`: that look was
        `look_again`'s, once the run's writes had landed), and, in doubt for that only, it is looked for once more
        when they have (`look_again`)."""
        if found := self._found_other.pop((chunk.seq, chunk.part), None):
            why = f"{why}; {found}"
        if unlisted := self._not_whole.pop((chunk.seq, chunk.part), None):
            why = f"{why}; {self.unlisted(unlisted, landed=landed)}"
            if not landed:
                self._again[(chunk.seq, chunk.part)] = chunk
        why = self.hidden(chunk, why)
        try:
            if state != "in_doubt":
                self.ledger.settle(chunk.seq, chunk.part, "in_doubt", why, self.calls, wrote=wrote)
            elif anew:
                self.ledger.explain(chunk.seq, chunk.part, why)
        except BulkloadError as exc:
            self.give_up(chunk, exc, sent=True, why=f"{why}; {UNRECORDED}")
            return
        self.doubt(chunk, why)

    def unlisted(self, exc: NotWhole, *, landed: bool = False) -> str:
        """Why a look could not tell whether a call was carried out, where its listing was not whole (`exc`), and
        what may settle it: a listing read while the run's own other writes land moves under them, and once they have
        landed a look may find it whole (`look_again`); one still not whole then (`landed`) is so for another
        writer's, or of itself."""
        if not landed:
            then = "a `bulkload resume` once the run's own writes have landed (its listing no longer moves under them)"
        else:
            then = (
                "it was so still when looked for again once the run's own writes had landed: a `bulkload resume` once "
                f"nothing else writes to {exc.listing}"
            )
        return f"{LOOK_UNTOLD}{exc}; {then} may settle it"

    async def look_again(self) -> None:
        """Look once more for the calls left in doubt only because a look's listing was not whole (errors.NotWhole,
        `mark_in_doubt`), once the run's last write has landed: `settle_s` after it left, or after the last answer
        lost, whichever came later (an earlier process's writes: after this one began). A listing read while the
        run's own other writes land moves under them (the walks of its pages do not read the same records: tester
        t69a's 650 rows of 16,004 in doubt, which a plain resume then settled at once); then it no longer does. Each
        is settled as a resume settles a call in doubt (`in_flight`): found → loaded; found absent in a whole listing
        taken past the settle delay, by both looks of `settled_look` → sent again; found in part → `found_in_part`;
        no telling still → in doubt, its reason told anew. Not where the run stopped, nor on `--resend-in-doubt`
        (the user's word was for the calls in doubt before this process). A look that cannot tell leaves the call
        for the next resume, as ever."""
        again, self._again = self._again, {}
        if not again or self.tally.stopped or self.resend_in_doubt:
            return
        last = max(self.began, self._last_left or self.began, self._last_lost or self.began)
        landed = last + self.settle_s
        rows = sum(len(chunk) for chunk in again.values())
        log.info(
            "%d call%s (%d rows) in doubt as the listing a look read was not whole: looking for %s again once the "
            "run's own writes have landed, %s",
            len(again),
            "s" if len(again) != 1 else "",
            rows,
            "them" if len(again) != 1 else "it",
            settle_wait(landed - anyio.current_time()),
        )
        await anyio.sleep_until(landed)
        async with anyio.create_task_group() as tg:
            for chunk in again.values():
                tg.start_soon(self._look_again, chunk, last)

    async def _look_again(self, chunk: Chunk, last: float) -> None:
        """`look_again` for one chunk, in doubt in the ledger (`mark_in_doubt`), its last write at `last` (on the loop's
        clock): uncounted from the tally, and delivered as a call in doubt is (`in_flight`, `again`)."""
        async with self._sending:
            if self.tally.stopped:
                return
            at = (chunk.seq, chunk.part)
            self.tally.in_doubt -= len(chunk)
            self._doubted.pop(at, None)
            prev = self.known.get(at)
            self.known[at] = ChunkRow(
                "in_doubt",
                self.key_held(chunk),
                prev.attempts if prev is not None else 0,
                body_hash(chunk.body),
                prev.sent_at if prev is not None else None,
                prev.sent_boot if prev is not None else None,
            )
            self._lost[chunk.seq] = last
            try:
                await self.deliver(chunk, again=True)
            finally:
                self._lost.pop(chunk.seq, None)

    def give_up(self, chunk: Chunk, exc: Exception, *, sent: bool, why: str = UNRECORDED) -> None:
        """The chunk cannot be settled now: stop the run with the error's exit code and say why. `why`: what the
        ledger was to record of the call sent, where `exc` is its failure to (LedgerWriteError): the rows' reason
        then, before the error's. Where the ledger cannot record what it was to (its write fails), the call stays
        `sending`: in doubt, or held back (`hold`) where the API did not act on it."""
        said, acted_on = self.halt(chunk, exc)
        if not sent:  # its rows are not yet sent (Ledger.figures), for resume
            return
        resent = (chunk.seq, chunk.part) in self._resent
        repeated = self._repeated.get((chunk.seq, chunk.part))
        if not acted_on:
            # the API answered without acting on this call: resume sends it again, unless an earlier attempt of it
            # is still unknown: sent again on the user's word, it stays in doubt; sent again as harmless (its key), it
            # stays as the earlier process left it, for resume to settle as such (its key while kept, else a look)
            state: ChunkState = "in_doubt" if resent else repeated or "pending"
            reason = said if repeated is None else f"{EARLIER_UNKNOWN}; sent again, it was not carried out: {said}"
        else:
            # in doubt: its reason goes where the in-doubt file reads it. An answer that arrived but cannot be read
            # is replayed to its key, so resume looks for the call's records (in doubt) instead of sending it again
            # for that answer once more; another call stays sending, sent again with its key
            state = "in_doubt" if unreadable(exc) else "sending"
            reason = f"{why}: {said}" if isinstance(exc, LedgerWriteError) else said
        try:
            self.ledger.settle(chunk.seq, chunk.part, state, reason, self.calls)
        except BulkloadError:
            # a ledger that cannot be written keeps it sending: what a call does can no longer be recorded, so none
            # leaves from now on (as `halt`), and the in-doubt file gives why; where an earlier attempt of it is in
            # doubt (resent), the ledger's reason of that attempt stands
            self.dispatcher.hold_back()
            if state == "pending":
                self.hold(chunk, said, f"not carried out: {said}")
                return
            if acted_on or repeated:
                self.untold_why(chunk, reason)
        if acted_on or resent or repeated:
            self.doubt(chunk, reason)

    def halt(self, chunk: Chunk, exc: Exception) -> tuple[str, bool]:
        """Stop the run on `exc`, met by the chunk's call, with the error's exit code and why (the chunk is settled
        apart): (the error's text, scrubbed; whether the call may have been acted on)."""
        where = named(chunk)
        if isinstance(exc, APIError) and exc.status in NO_SUCH_CALL:
            exc = WrongEndpoint(f"{where}: {exc} (is --base-url right?)", uncertain=exc.uncertain)
        said = self.hidden(chunk, str(exc))
        code, acted_on = EXIT_STOPPED, True  # an error not of ours: an answer that could not be read, which arrived
        if isinstance(exc, BulkloadError):
            code, acted_on = exc.exit_code, maybe_acted_on(exc)
        if isinstance(exc, LedgerWriteError):  # what a call does can no longer be recorded: none leaves from now on
            self.dispatcher.hold_back()
        self.tally.stop(self.stop_reason(exc, where, said), code, exc)
        return said, acted_on

    def stop_reason(self, exc: Exception, where: str, said: str) -> str:
        """Why the run stops on `exc`, met by the chunk at `where`; `said`: the error's text, scrubbed."""
        if isinstance(exc, AuthError):
            return f"the API refused the credentials: {said}"
        if isinstance(exc, LedgerWriteError):
            return f"{said}; {resume_after(exc, self.ledger.path)}"
        if isinstance(exc, RunStopped):
            return resumable(said, exc, self.ledger.path)
        if isinstance(exc, ConfigError):
            return said
        if isinstance(exc, BadAnswer):  # never retried: nothing was given up on; a read's answer is not the chunk's
            about = f"{where}: {said}" if exc.acted_on else f"{said} ({where} waits for it)"
            return f"{about}; {resume_after(exc, self.ledger.path)}"
        return f"{where}: gave up: {said}; {resume_after(exc, self.ledger.path)}"

    async def isolate(
        self,
        chunk: Chunk,
        bad: dict[int, tuple[str, str]] | Untold | None,
        cause: APIError | str,
        *,
        again: bool = False,
        since: Mapping[str, int] | None = None,
    ) -> None:
        """One bad group must not block the others, and a group never travels in two calls: reject every group that
        holds a row named bad (all its lines, naming the line that failed) and send the rest again at once; when the
        answer names none, split at the group boundary nearest the middle until a refused group is alone, and reject it
        whole; where it names rows by indexes whose numbering its errors do not show (`bad` reasons.Untold, or rows of a
        reasons.Counted not Counted.shown), reject whole the groups an error names either way, send alone first
        (CONFIRM) those read to be named by a numbering another answer or error showed (`read_named`), and send the rest
        again, splitting only a call it names no group of so. A call too large for the API (413) is split so until it
        fits. Where the API does not say that a refused call stored nothing (Api.refusal_stores_nothing), the rest is in
        doubt, never sent again: the groups not named bad, every line of a group only some of whose lines are named (its
        other lines may have been stored), or every row of a call refused without one named, or naming rows that cannot
        be told (`bad` reasons.Untold, RecordKind.bad_items: `unplaced`); unless the call does no harm sent `again`
        (Call.repeatable at an API that keeps no keys: updates to fixed values), whatever the refusal stored of it.
        Where the kind can look for what a refusal stored (RecordKind.finds_stored; `since`: scope → the newest id
        the run knew when the call left), the groups to be sent again are looked for first, once for the call
        (`stored_by_refusal`): those found whole are loaded as found, no write sent; those found in part, or all of
        them where the look cannot tell, are in doubt; those not found are sent again as above."""
        spans = chunk.spans()
        kind = self.target.kind_of(chunk.file_idx)
        #: the parts to send again: (the letter their part ends in, the groups they hold, by index into `spans`)
        parts: list[tuple[str, list[int]]] = []
        #: why each child is in doubt, where the refusal does not say that the call stored nothing (by part)
        unsure: dict[str, str] = {}
        too_large = isinstance(cause, APIError) and self.target.api.too_large(cause)
        may_store = (
            isinstance(cause, APIError) and not too_large and not again and not self.target.api.refusal_stores_nothing
        )
        # where what a refusal stored can be looked for, the rest is looked for before it is sent again
        looking = may_store and since is not None and kind.finds_stored
        doubtful = may_store and not looking
        untold = bad if isinstance(bad, Untold) else None
        # where the rest is in doubt, not sent again, no group can be sent alone to confirm a numbering learned from
        # another answer: an answer is read only as it shows itself (an API may count one answer from 1, another from 0)
        bad = self.numbering.read(bad, learned=not doubtful)
        # the groups an error names whichever way it counts are refused either way: rejected whole; those read to be
        # named by a numbering no error of theirs shows are sent alone first; the others sent again
        either: dict[int, str] = {}
        confirm: list[int] = []
        if not doubtful:
            bad, either, confirm = self.read_named(chunk, spans, bad)
        if isinstance(bad, dict) and bad:
            bad = {i: (field_, self.hidden(chunk, reason)) for i, (field_, reason) in bad.items()}
        else:
            bad = None
        if doubtful and bad is None and (len(spans) > 1 or untold):
            assert isinstance(cause, APIError)  # doubtful: the API's refusal
            self.unplaced(chunk, cause, untold)
            return
        if bad is None and len(spans) > 1 and not either and not confirm:
            try:
                if not too_large:  # a call too large holds no bad entry: its halves are no isolating
                    self.isolation.check(self.hidden(chunk, self.why(cause)))
            except IsolationSpent as exc:
                if looking:  # what the refusal stored is looked for now: a resume sends the rest blind
                    assert since is not None and isinstance(cause, APIError)  # looking: the API's refusal
                    await self.spent(chunk, exc, since, cause)
                else:
                    self.give_up(chunk, exc, sent=True)  # refused: nothing was done, resume sends it again
                return
            cut = min(range(1, len(spans)), key=lambda g: abs(spans[g].start - len(chunk) / 2))
            first, second = SIZE_HALVES if too_large else ISOLATING_HALVES
            parts = [(first, list(range(cut))), (second, list(range(cut, len(spans))))]
            rejected: list[RowOutcome] = []
        else:
            if either or confirm:
                bad, whole = bad or {}, either
            elif bad is None:  # one group, refused as a whole
                why = self.hidden(chunk, self.why(cause))
                # the answer lists no errors, but its message may still name the entry: then its line is known
                named = (
                    None if isinstance(cause, str) or len(chunk) == 1 or too_large else item_named(cause, len(chunk))
                )
                if too_large:
                    alone = "row" if len(chunk) == 1 else "group"
                    why = f"{why} (the call was too large for the API with this {alone} alone)"
                if len(chunk) == 1 or named is not None:
                    bad, whole = {named or 0: ("", why)}, {}
                else:
                    bad, whole = {}, {0: why if too_large else f"{why} (the API did not say which line)"}
                if named is None and not isinstance(cause, str) and not too_large:
                    self.isolation.refused(why)
            else:
                whole = {}
            # where the rows a refusal does not name may have been stored, so may the lines of a group beside the
            # one named: such a group is in doubt whole, never rejected (and loaded again, doubled in part)
            partly = [g for g, span in enumerate(spans) if doubtful and 0 < sum(i in bad for i in span) < len(span)]
            sure = {i: said for i, said in bad.items() if not any(i in spans[g] for g in partly)}
            rejected = self.rejected_groups(chunk, spans, sure, whole)
            refused = {g for g, span in enumerate(spans) if g in whole or any(i in bad for i in span)}
            good = [g for g in range(len(spans)) if g not in refused and g not in confirm]
            if partly:
                parts.append((NAMED, partly))
                unsure[chunk.part + NAMED] = self.named_in_part(chunk, spans, partly, bad)
            if confirm:  # before the rest: a group loaded so proves the numbering wrong for the rest's refusal
                parts.append((CONFIRM, confirm))
            if good:
                parts.append(("r", good))
        settled: list[tuple[Chunk, Child]] = []  # the parts a look settled, as the split records them
        if looking and parts:
            assert since is not None and isinstance(cause, APIError)  # looking: the API's refusal, `since` given
            parts, settled = await self.stored_parts(chunk, parts, since, cause)
        children = [chunk.take(groups, chunk.part + letter, kind) for letter, groups in parts]
        # children in doubt are so in the split's own transaction: a crash after it never leaves them pending
        plan = [
            self.child(
                chunk, c, unsure.get(c.part) or unsaid(self.why(cause), "naming other rows") if doubtful else None
            )
            for c in children
        ]
        self.ledger.split(
            chunk.seq,
            chunk.part,
            chunk.file_idx,
            self.hidden(chunk, str(cause)),
            rejected,
            plan + [planned for _, planned in settled],
            self.calls,
        )
        self.tally.rejected += len(rejected)
        self.count_settled(settled)
        for child, planned in zip(children, plan, strict=True):
            if doubtful:
                self.doubt(child, planned.error or "")
            elif self.tally.stopped:  # pending in the split: a resume sends it (another part's refusal stopped the run)
                self.unsent(child)
            else:
                await self.deliver(child)

    async def spent(self, chunk: Chunk, exc: IsolationSpent, since: Mapping[str, int], cause: APIError) -> None:
        """Isolating stopped (`exc`) on a call the API refused (`cause`) that may have stored some of it, whose groups
        can be looked for (`since` as `isolate`'s): the run stops, and the call goes back to pending for a resume to
        send again, once the look (`stored_parts`) has taken out what the refusal stored. A resume sends it blind (an
        hour later its key is forgotten, and nothing refused it again): the groups stored would be stored twice."""
        kind = self.target.kind_of(chunk.file_idx)
        left, settled = await self.stored_parts(chunk, [("r", list(range(len(chunk.groups))))], since, cause)
        if not settled:  # nothing stored: pending as it is
            self.give_up(chunk, exc, sent=True)
            return
        self.halt(chunk, exc)
        children = [chunk.take(groups, chunk.part + letter, kind) for letter, groups in left]
        plan = [self.child(chunk, c, None) for c in children] + [planned for _, planned in settled]
        self.ledger.split(chunk.seq, chunk.part, chunk.file_idx, self.hidden(chunk, str(cause)), [], plan, self.calls)
        self.count_settled(settled)

    async def stored_parts(
        self, chunk: Chunk, parts: list[tuple[str, list[int]]], since: Mapping[str, int], cause: APIError
    ) -> tuple[list[tuple[str, list[int]]], list[tuple[Chunk, Child]]]:
        """The groups of a refused call to be sent again (`parts`, as `isolate` plans them), looked for among what the
        call's scopes received since it left (`since`) before they are: one look for the call, whatever its groups
        (`stored_by_refusal`). The parts with the groups not found (none left out: a group none of whose rows is
        there is sent again); and the parts settled so, each as the split records it: the groups found whole (part
        "f", done with the ids found, no write sent; one of a CONFIRM part so disproves the numbering it was read
        by: Numbering.disprove), and those found in part, or every one where the look cannot tell (part "m", in
        doubt: a group loads whole or not at all, and never travels again beside what it stored)."""
        kind, spans = self.target.kind_of(chunk.file_idx), chunk.spans()
        looked = await self.stored_by_refusal(chunk, since)
        ids: tuple[int | None, ...] = (None,) * len(chunk) if looked is None else looked.ids
        held = {g: [n for n in ids[spans[g].start : spans[g].stop] if n is not None] for _, gs in parts for g in gs}
        found = sorted(g for g, there in held.items() if len(there) == len(spans[g]))
        unsure = sorted(g for g, there in held.items() if looked is None or 0 < len(there) < len(spans[g]))
        left = [
            (letter, kept)
            for letter, groups in parts
            if (kept := [g for g in groups if looked is not None and not held[g]])
        ]
        settled = [self.found_part(chunk, found, ids)] if found else []
        # a group to be sent alone to confirm a numbering (CONFIRM), stored whole by the call refused, was good
        confirmed = [spans[g] for letter, groups in parts if letter == CONFIRM for g in groups if g in found]
        if confirmed:
            lines = chunk.lines[confirmed[0].start], chunk.lines[confirmed[0].stop - 1]
            where = f"the {kind.group_name} of lines {lines[0]}-{lines[1]} in {named(chunk)}"
            self.numbering.disprove(where, "found stored whole by the look for what the call's refusal stored")
        if unsure:
            why = refused_stored(
                self.why(cause), kind.group_name, "" if looked is None else self.in_part(chunk, unsure, ids)
            )
            part = chunk.take(unsure, chunk.part + "m", kind)
            settled.append((part, self.child(chunk, part, why)))
        return left, settled

    def count_settled(self, settled: list[tuple[Chunk, Child]]) -> None:
        """Count the parts a split settled by a look (each with its Child as the split recorded it): one done as
        loaded (`took`), the others in doubt."""
        for part, planned in settled:
            if planned.created is not None:
                self.took(part, list(planned.created.ids), planned.created.summary)
            else:
                self.doubt(part, planned.error or "")

    def found_part(self, chunk: Chunk, groups: list[int], ids: Sequence[int | None]) -> tuple[Chunk, Child]:
        """The `groups` (indexes into the chunk's spans) a look found whole, `ids` the id it found for each row of
        the chunk (None: none): their part "f", as a split records it, done with those ids (no write sent)."""
        kind, spans = self.target.kind_of(chunk.file_idx), chunk.spans()
        part = chunk.take(groups, chunk.part + "f", kind)
        found = [n for g in groups for n in ids[spans[g].start : spans[g].stop] if n is not None]
        created = Created(found, part.totals(kind), part.checks)
        return part, self.child(chunk, part, None)._replace(state="done", created=created)

    def read_named(
        self, chunk: Chunk, spans: list[range], bad: Said | Untold | None
    ) -> tuple[Said | None, dict[int, str], list[int]]:
        """What a refusal (`bad` as the run reads it: Numbering.read) names, for a call whose rest is sent again:
        the rows it names plainly, or by an error that shows its own numbering (Counted.shown); the groups (indexes
        into `spans`) an error names a row of whichever way it counts, each with why it is refused (`named_each_way`);
        and the others read to hold a row named only by a numbering another error or answer showed, to be sent
        alone first (none in a call of one group, whose refusal is of it, nor once one such proved good:
        Numbering.disproved)."""
        if isinstance(bad, Untold):  # an index of both numberings names row i counted from 0, i - 1 from 1
            return None, self.named_each_way(chunk, spans, bad.said.get(0, {}) if len(bad.said) == 2 else {}), []
        if not isinstance(bad, Counted):
            return bad, {}, []
        shown = {i: said for i, said in bad.items() if i in bad.shown}
        either = self.named_each_way(chunk, spans, {i + bad.base: s for i, s in bad.items() if i not in bad.shown})
        held = {g for g, span in enumerate(spans) if g in either or any(i in shown for i in span)}
        guessed = {g for g, span in enumerate(spans) for i in span if i in bad and i not in bad.shown} - held
        confirm = [] if self.numbering.disproved or len(spans) == 1 else sorted(guessed)
        return shown, either, confirm

    def named_each_way(self, chunk: Chunk, spans: list[range], errors: Said) -> dict[int, str]:
        """The groups (indexes into `spans`) an error of `errors` (by its index, which may count the call's rows from
        0 or from 1, and does not show which) names a line of whichever way it counts: row i counted from 0 and row
        i - 1 from 1 both in the group. Each with why it is refused: what the error says, and the two lines ("line 5
        or line 6")."""
        out = {}
        for g, span in enumerate(spans):
            i = index_each_way(span, errors)
            if i is None:
                continue
            field_, reason = errors[i]
            lines = f"line {chunk.lines[i - 1]} or line {chunk.lines[i]}"
            out[g] = (
                f"{self.hidden(chunk, reason)} ({field_ + ' of ' if field_ else ''}{lines}: the API's index may count "
                "from 0 or from 1, and its error did not show which)"
            )
        return out

    def unplaced(self, chunk: Chunk, cause: APIError, untold: Untold | None) -> None:
        """A call of several groups the API refused (`cause`) naming no row (`untold` None), or naming rows by indexes
        that may count from 0 or from 1 (`untold`), at an API that does not say a refusal stores nothing: every row
        is in doubt, in parts a resend on the user's word settles. The groups it names whichever way it counts
        (NAMED: rejected whole, never sent again with the line named); those it may name (UNTOLD: each sent in a call
        of its own, whose refusal can only be of that group: `alone`); the others, sent again as one call."""
        spans, kind, why = chunk.spans(), self.target.kind_of(chunk.file_idx), self.why(cause)
        naming = "naming no row" if untold is None else untold.why
        sure = [] if untold is None else [g for g, span in enumerate(spans) if named_either_way(span, untold, spans)]
        maybe = [
            g for g, span in enumerate(spans) if g not in sure and (untold is None or not untold.rows.isdisjoint(span))
        ]
        rest = [g for g in range(len(spans)) if g not in sure and g not in maybe]
        parts = [
            (NAMED, sure, f"{unsaid(why, naming)}; either way it names a line of this {kind.group_name}, refused"),
            (UNTOLD, maybe, f"{unsaid(why, naming)}; `--resend-in-doubt` sends each such {kind.group_name} alone"),
            ("r", rest, unsaid(why, f"{naming}, and neither way this row")),
        ]
        children = [(chunk.take(groups, chunk.part + letter, kind), said) for letter, groups, said in parts if groups]
        plan = [self.child(chunk, c, said) for c, said in children]  # in doubt with the split, in its transaction
        self.ledger.split(chunk.seq, chunk.part, chunk.file_idx, self.hidden(chunk, str(cause)), [], plan, self.calls)
        for (child, _), planned in zip(children, plan, strict=True):
            self.doubt(child, planned.error or "")
        if len(spans) > 1:  # one group's lines named so: no smaller call would have told them apart
            together = self.tally.refused_together
            together[kind.group_name] = together.get(kind.group_name, 0) + len(chunk)

    async def alone(self, chunk: Chunk) -> None:
        """Send each group of the chunk in a call of its own (an UNTOLD part sent again on the user's word, or a
        CONFIRM part): split in halves (ALONE_HALVES), none of them sent, until each holds one group."""
        kind, cut = self.target.kind_of(chunk.file_idx), len(chunk.groups) // 2
        first, second = ALONE_HALVES
        children = [
            chunk.take(range(cut), chunk.part + first, kind),
            chunk.take(range(cut, len(chunk.groups)), chunk.part + second, kind),
        ]
        # each half stays in doubt, as the chunk was, until its call leaves: the user's word was this process's, and
        # a crash before then leaves it to the next resume's (a CONFIRM part's halves are pending, as it was)
        why = self.ledger.error_of(chunk.seq, chunk.part)
        plan = [self.child(chunk, c, None if confirming(chunk.part) else why) for c in children]
        self.ledger.split(chunk.seq, chunk.part, chunk.file_idx, why, [], plan, self.calls)
        for child in children:
            await self.deliver(child)

    def child(self, split: Chunk, chunk: Chunk, doubt: str | None) -> Child:
        """`chunk`, a part of `split`, as the split plans it in the ledger: `pending`, or in doubt for `doubt` when
        not None, with what a look for another call could take of its records (RecordKind.lookalikes: Ledger.rival),
        as its call left with them. `doubt` is scrubbed of the secrets of every row of `split`: it may quote the
        answer to the call of them all (a refusal quoting a record the part does not hold)."""
        planned = Child(chunk.part, self.key_of(chunk), chunk.lines, body_hash(chunk.body), groups=chunk.groups)
        if doubt is None:
            return planned
        looks = self.target.kind_of(chunk.file_idx).lookalikes(chunk)
        error = self.hidden(split, doubt)
        return planned._replace(state="in_doubt", error=error, looks=looks, checks=self.checks_of(chunk))

    @staticmethod
    def why(cause: APIError | str) -> str:
        """A refusal's reason as the API gave it (its code and message)."""
        if isinstance(cause, str):
            return cause
        return f"{cause.error_code or 'HTTP ' + str(cause.status)}: {cause.message}"

    def named_in_part(
        self, chunk: Chunk, spans: list[range], partly: list[int], bad: dict[int, tuple[str, str]]
    ) -> str:
        """Why the groups `partly` of a refused call (indexes into `spans`), each with a row and not all its rows
        named bad in `bad` (row index → (field, reason)), are in doubt: their first named lines, with the reasons."""
        return (
            f"sent in a call the API refused, naming {self.lines_named(chunk, spans, partly, bad)}: the API does not "
            "say that a refused call stores nothing, so the lines it did not name may have been stored, and a group "
            "loads whole or not at all; check the API for them (fix the line named before the group is sent again)"
        )

    def lines_named(
        self, chunk: Chunk, spans: list[range], groups: list[int], named: dict[int, tuple[str, str]]
    ) -> str:
        """The first line `named` (row index -> (field, reason)) names of each of the `groups` (indexes into
        `spans`), with its reason: "line 3 of invoice I1 (customerNumber: HTTP 400: …); line 7 of …"."""
        kind = self.target.kind_of(chunk.file_idx)
        lines = []
        for g in groups:
            i = next(i for i in spans[g] if i in named)
            field_, reason = named[i]
            label = kind.group_label(chunk.groups[g].key)
            lines.append(f"line {chunk.lines[i]} of {label} ({field_ + ': ' if field_ else ''}{reason})")
        return "; ".join(lines)

    def reject_named(self, chunk: Chunk) -> None:
        """A part of groups an answer named lines of (NAMED), in doubt, that the user said to send again: it would
        carry those lines again. Each group is rejected whole instead, with why it was in doubt (what the answer
        said of its line), to be fixed and loaded again."""
        kind = self.target.kind_of(chunk.file_idx)
        why = self.ledger.error_of(chunk.seq, chunk.part)
        rows = [
            RowOutcome(
                chunk.file_idx,
                chunk.lines[i],
                "rejected",
                "",
                f"{kind.group_label(group.key) if group.key else 'the call'} rejected whole, not sent again with the "
                f"line the API named (--resend-in-doubt): {why}",
                group.key,
            )
            for group, span in zip(chunk.groups, chunk.spans())
            for i in span
        ]
        self.ledger.split(chunk.seq, chunk.part, chunk.file_idx, why, rows, [], self.calls)
        self.tally.rejected += len(rows)

    def rejected_groups(
        self, chunk: Chunk, spans: list[range], bad: dict[int, tuple[str, str]], whole: dict[int, str]
    ) -> list[RowOutcome]:
        """Every row of the groups refused: a row named bad with its own reason, the others with the reason of
        the first bad row of their group ("voucher 5002 (journal 1) rejected: line 5 JournalEntryAccount…");
        `whole`: groups refused without a row named (group index → the API's reason). A group the API writes as one
        record (RecordKind.record_of: a Visma Core order merged into one entry, a PayorCRM invoice), each of its rows
        named for one reason, was refused as that record: each row's reason names the group ("order A of case 1002
        (OUTLAY) refused by the API as one record of lines 2, 3: HTTP 400: …"), not the API's alone, which may quote
        the record's sum, no line's."""
        out: list[RowOutcome] = []
        kind = self.target.kind_of(chunk.file_idx)
        records = chunk.entries(kind)
        for g, span in enumerate(spans):
            key = chunk.groups[g].key
            named = [i for i in span if i in bad]
            if not named and g not in whole:
                continue
            label = kind.group_label(key) if key else "the call"
            if (
                key
                and len(named) == len(span) > 1
                and len({bad[i] for i in span}) == 1 == len({kind.record_of(i, records[i]) for i in span})
            ):
                field_, reason = bad[span[0]]
                lines = ", ".join(str(chunk.lines[i]) for i in span[:5]) + (", …" if len(span) > 5 else "")
                why = f"{label} refused by the API as one record of lines {lines}: {reason}"
                out += [RowOutcome(chunk.file_idx, chunk.lines[i], "rejected", field_, why, key) for i in span]
                continue
            if named:
                field_, reason = bad[named[0]]
                shared = f"{label} rejected: line {chunk.lines[named[0]]} {field_ + ': ' if field_ else ''}{reason}"
            else:
                shared = f"{label} refused by the API: {whole[g]}"
            for i in span:
                field_, reason = bad.get(i, ("", shared))
                out.append(RowOutcome(chunk.file_idx, chunk.lines[i], "rejected", field_, reason, key))
        return out

    async def resume_split(self, chunk: Chunk) -> None:
        children = self.ledger.children(chunk.seq, chunk.part)
        planned = 0
        for part, lines in children:
            planned += len(lines)
            await self.deliver(chunk.take_lines(set(lines), part, self.target.kind_of(chunk.file_idx)))
        self.tally.rejected += len(chunk) - planned  # rows the split rejected, in an earlier invocation
        self.tally.earlier += len(chunk) - planned

    async def ensure_baselines(self, summary: Mapping[str, Any]) -> None:
        """Record what each scope held before the first chunk that touches it is sent (the scopes at once)."""
        await side_by_side(partial(self._ensure_baseline, scope) for scope in summary if scope not in self._baselines)

    async def _ensure_baseline(self, scope: str) -> None:
        while scope not in self._baselines:
            looking = self._baseline_events.get(scope)
            if looking is not None:
                # another chunk is asking for the same scope: its answer, or (it failed) a turn to ask
                await looking.wait()
                continue
            event = self._baseline_events[scope] = anyio.Event()
            try:
                data = await self.target.books.baseline(self.dispatcher, scope)
                self.ledger.set_baseline(scope, data)
                self._baselines[scope] = data
            finally:
                del self._baseline_events[scope]
                event.set()


def unreadable(exc: Exception) -> bool:
    """Whether `exc` is an answer to a write that arrived but cannot be read (ValueError: answered_ids; BadAnswer):
    the API replays the same answer to the call's key, so sending it again with that key settles nothing."""
    return isinstance(exc, ValueError) or (isinstance(exc, BadAnswer) and exc.acted_on)


def kind_files(target: Target, ledger: Ledger, kind: RecordKind) -> list[int]:
    """The indexes of the run's files of `kind`."""
    return [i for i in range(len(ledger.run.files)) if target.kind_of(i) is kind]


def named_either_way(span: range, untold: Untold, spans: Sequence[range]) -> bool:
    """Whether a refusal whose numbering cannot be told (`untold`) names a row of the group `span` whichever way it
    counts: an error of it names one (its index i row i counted from 0, row i - 1 from 1, both of the group; not a
    row of it in each numbering's, named by two errors: where the API keeps to no one numbering, neither may be of
    it), or the call holds no other group (its refusal is of that group)."""
    from0 = untold.said.get(0, {}) if len(untold.said) == 2 else {}
    return len(spans) == 1 or index_each_way(span, from0) is not None


def index_each_way(span: range, errors: Said) -> int | None:
    """The first index of `errors` (by index, counted from 0 or from 1) that names a row of the group `span`
    whichever way it counts (its rows i and i - 1 both of it), or None."""
    return next((i for i in span if i in errors and i - 1 in span), None)


def refused_stored(why: str, group: str, in_part: str) -> str:
    """Why a group of a call the API refused (`why`), looked for before it was sent again, is in doubt: the look
    found some of its rows and not the others (`in_part`: what it found, Loader.in_part), or could not tell ("")."""
    refused = f"sent in a call the API refused ({why}): the API does not say that a refused call stores nothing"
    if in_part:
        return f"{refused}; {in_part}"
    return (
        f"{refused}, and a look for what it stored could not tell; a {group} loads whole or not at all: check the API "
        "for it (`bulkload resume --resend-in-doubt` sends it again, unless a look then finds some of it stored)"
    )


def listed(noun: str, items: Sequence[object]) -> str:
    """`items` after `noun`, plural where more than one: "id 7", "ids 7, 10", the first LISTED_LINES and how many
    more ("lines 2, 3, 4, 5, 6 and 4 more")."""
    shown = ", ".join(map(str, items[:LISTED_LINES]))
    more = f" and {len(items) - LISTED_LINES} more" if len(items) > LISTED_LINES else ""
    return f"{noun}{'s' if len(items) > 1 else ''} {shown}{more}"


def unsaid(why: str, naming: str) -> str:
    """Why a row of a call the API refused (`why`, `naming` what the refusal named) is in doubt."""
    return (
        f"sent in a call the API refused, {naming} ({why}): the API does not say that a refused call stores nothing, "
        "so this row may have been stored; check the API for it"
    )


def taken_ids(target: Target, ledger: Ledger, kind: RecordKind) -> frozenset[int]:
    """The ids the ledger holds for rows of `kind`'s files (every file of the run of that kind): records the run
    created or updated, none of them made by a call whose answer was lost (`RecordKind.resolve`'s `taken`)."""
    return ledger.ids_in(kind_files(target, ledger, kind))


def replayed_failure(exc: APIError, target: Target, sent_at: float | None) -> str:
    """Why a chunk whose call the API answers with a failure replayed from its idempotency cache, or a 409 saying its
    key was taken (Loader._key_taken), is in doubt, and until when (its key first sent at `sent_at`, epoch seconds)
    sending it again gets the same failure."""
    hours = target.api.key_ttl_s / 3600
    life = f"{hours:g} hour{'s' if hours != 1 else ''}"
    until = f"until {key_forgotten(target, sent_at)} ({life} after it was first sent)" if sent_at else f"for {life}"
    said = (
        "replayed by the API from its idempotency cache (X-ResultFromCache: true): the answer to an earlier attempt"
        if exc.replayed
        else "the API's answer (409) that the call's idempotency key was taken"
    )
    return (
        f"{exc}, {said}, which the call's key gets again {until}, so whether an attempt of it was carried out is "
        "unknown; its records were not all found in the API. `bulkload resume --resend-in-doubt` sends the call with "
        "that key: it gets the same failure until then, and is sent anew only after that"
    )


def key_kept(sent: Instant | None, now: Instant, ttl_s: float) -> bool:
    """Whether the API surely still keeps the idempotency key of a call first sent at `sent` (None: never sent) at
    `now`: younger than `ttl_s` (Api.key_ttl_s) less KEY_TTL_MARGIN_S, so that sent again with it the call is answered
    from the API's cache. Its age is told by the clock since boot where it can be (instants.age: a wall clock
    stepped back since makes an old key look young); where it cannot be told (a clock ran backwards: the wall clock
    stepped back across a reboot, a machine restored from a snapshot, another machine's clock resuming the ledger),
    never."""
    if sent is None:
        return False
    old = age(sent, now)
    return old is not None and old < ttl_s - KEY_TTL_MARGIN_S


def key_untrusted(sent: Instant | None, now: Instant, ttl_s: float) -> str:
    """Why a key `key_kept` does not trust is not sent again, in a reason's words: "its key is older than the 60
    minutes the API keeps one", or for one whose age cannot be told, "its key was first sent at 2026-12-05 02:40 UTC
    by this clock, and how long ago cannot be told: the clock ran backwards since (stepped back?)"."""
    if sent is not None and age(sent, now) is None:
        at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(sent.wall))
        return (
            f"its key was first sent at {at} by this clock, and how long ago cannot be told: the clock ran backwards "
            "since (stepped back?)"
        )
    return f"its key is older than the {ttl_s / 60:.0f} minutes the API keeps one"


def key_forgotten(target: Target, sent_at: float) -> str:
    """When the API forgets a key first sent at `sent_at` (epoch seconds), as messages say it: "2026-12-02 14:05 UTC"
    (the minute after, never before)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(sent_at + target.api.key_ttl_s + 60))


def named(chunk: Chunk) -> str:
    """A chunk as messages name it: "chunk 7.b (lines 301-400)"."""
    return named_call(chunk.seq, chunk.part, chunk.lines)


def named_call(seq: int, part: str, lines: Sequence[int]) -> str:
    """The call of chunk `seq`, part `part`, carrying `lines`, as `named` names it: a chunk of the run's second file
    or a later one by its number in that file and the file's place ("chunk 1 of file 2 (lines 2-3)"; before, by
    its sequence number, "chunk 16777217", FILE_SHIFT's doing)."""
    file_idx, n = divmod(seq, 1 << FILE_SHIFT)
    of = f" of file {file_idx + 1}" if file_idx else ""
    return f"chunk {n}{'.' + part if part else ''}{of} (lines {lines[0]}-{lines[-1]})"


async def run_chunks(loader: Loader, spec: PlanSpec, concurrency: int, planner: Planning) -> None:
    """Plan the phase's files (`spec`) and send their chunks, `concurrency` at a time."""
    log.info("loading: %s", ", ".join(spec.files))
    send, recv = anyio.create_memory_object_stream[Chunk](max_buffer_size=concurrency)
    async with anyio.create_task_group() as tg:
        tg.start_soon(loader.produce, send, spec, planner)
        for _ in range(loader.workers):
            tg.start_soon(loader.work, recv.clone())
        recv.close()
