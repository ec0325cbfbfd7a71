"""Planning, behind one interface (`Planning`): in a child process (the default) or in this one.

Reading, validating and encoding are Python work for every row; sending is Python work for every chunk.
Under one GIL the two take turns on one core. In a child process the plan is made on another core while
the event loop sends. The child streams framed msgpack messages through a socketpair; the socket's buffer
is the back-pressure, so the child is never more than a buffer ahead of the sender.

The child is a fresh interpreter running `child` (`python -c`, the socket's descriptor passed to it), not a
multiprocessing process: multiprocessing's spawn runs the caller's main script again in the child (a script that
calls `bulkload.load` with no `if __name__ == "__main__":` guard would load again from there, or fail), fork
copies a process with the event loop's threads running, and forkserver runs the main script in its server. The
child is given the parent's sys.path, so it imports bulkload from where the parent did.

Messages (`Message`, tagged msgspec Structs; each carries `rows_read`, the rows accounted for so far):
    Planned   a planned chunk, its control totals, its groups and its lines' checks
    Rows      rows to record (rejected, or skipped: an earlier load created their group)
    Stopped   the input cannot be read further (SourceError)
    Ended     every file is planned
and, from the child only, Failed: planning raised, raised in the parent as `raised` says: PlanningFileError where the
system refused a file (a full disk), else PlanningFailed naming the error in one line (a bug); a traceback is only
ever logged, at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import traceback
import urllib.request
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import anyio
import msgspec

from . import collector, ledger_pg, prestart
from .chunking import Planner, Reading
from .dates import DateFormat
from .errors import BulkloadError, PlanningFailed, PlanningFileError, SourceError
from .halves import PartScan, PartScanned, ScanPart
from .ledger_schema import ROWS, SKIP_GROUPS, also_of, named_by
from .model import Chunk, GroupInfo, Known, RowOutcome, Totals
from .numbers import NumberFormat
from .origins import copied_reason
from .parent_watch import die_with_parent
from .profile import scan_part
from .redact import redact
from .regroup import Placed, regrouped
from .sources import BadRow, Pinned, Row, Source
from .targets.base import RecordKind, Target

log = logging.getLogger(__name__)

_HEADER = 4
_encode = msgspec.msgpack.Encoder().encode


class Planned(msgspec.Struct, tag=True, array_like=True, frozen=True):
    """A planned chunk (as chunking.Chunk has it, without its records: the body carries them)."""

    rows_read: int
    seq: int
    file_idx: int
    lines: list[int]
    body: bytes
    summary: dict[str, Totals]
    groups: list[GroupInfo]
    checks: list[int] | None

    def chunk(self) -> Chunk:
        return Chunk(
            self.seq, self.file_idx, self.lines, self.body, summary=self.summary, groups=self.groups, checks=self.checks
        )


class Rows(msgspec.Struct, tag=True, array_like=True, frozen=True):
    """Rows to record that are in no chunk: rejected, or skipped."""

    rows_read: int
    rows: list[RowOutcome]


class Stopped(msgspec.Struct, tag=True, array_like=True, frozen=True):
    """The input cannot be read further (a SourceError's message): the run stops there."""

    rows_read: int
    reason: str


class Ended(msgspec.Struct, tag=True, array_like=True, frozen=True):
    """Every file is planned."""

    rows_read: int


class Failed(msgspec.Struct, tag=True, array_like=True, frozen=True):
    """The child's planning raised (`failure`): its traceback (for the log), what the user is told, and whether
    the system refused a file (no bug: free space, then resume)."""

    trace: str
    said: str = ""
    refused: bool = False


def failure(exc: BaseException) -> Failed:
    """What planning says of `exc`, which ended its plan: a file the system refused (a PlanningFileError, or an
    OSError or sqlite3 error met elsewhere: an input, the ledger it reads), else a bug, named in one line."""
    trace = "".join(traceback.format_exception(exc))
    if isinstance(exc, PlanningFileError | OSError):  # an OSError names its file
        return Failed(trace, f"planning failed: {exc}", refused=True)
    if isinstance(exc, sqlite3.Error):  # outside the spill file (PlanningFileError), SQLite is the ledger's
        return Failed(trace, f"planning failed: cannot read the ledger: {exc}", refused=True)
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    return Failed(
        trace,
        f"planning failed: internal error (a bug in bulkload; please report it with the traceback -vv logs): "
        f"{type(exc).__name__}: {first}",
    )


def raised(failed: Failed) -> BulkloadError:
    """The error a plan that ended on `failed` raises in the parent; its traceback is logged at DEBUG only (it may
    quote an input's values), credentials masked."""
    log.debug("planning failed:\n%s", redact(failed.trace))
    said = redact(failed.said or "planning failed: internal error (a bug in bulkload)")
    return PlanningFileError(said) if failed.refused else PlanningFailed(said)


#: what a plan yields, in order: Planned and Rows, then one Ended or Stopped
Message = Planned | Rows | Stopped | Ended
_decode = msgspec.msgpack.Decoder(Message | Failed).decode


@dataclass(frozen=True)
class PlanSpec:
    """What the child needs to make the same plan the parent would: plain values, so it pickles."""

    target: str
    target_options: dict[str, Any]
    #: the files of this phase, with their indexes among all the run's files
    files: list[str]
    indexes: list[int]
    context: dict[str, Any]
    delimiter: str | None
    columns: dict[str, str]
    max_items: int
    max_bytes: int
    encoding: str | None = None
    #: per file of this phase, how it reads (profile.FileProfile as builtins); None: as read (a dry run of
    #: old settings)
    profiles: list[dict[str, Any]] | None = None
    #: the ledger, when it holds groups not to send (an earlier load created them)
    skip_db: str | None = None
    #: where a file whose groups are apart is regrouped (a temporary file)
    workdir: str = "."
    #: per file of this phase, (size_bytes, mtime_ns) as it was hashed: read no further (sources.Pinned)
    pins: list[tuple[int, int]] | None = None


_decode_spec = msgspec.msgpack.Decoder(PlanSpec).decode
#: the first bytes of a request to inspect a part of a file (a spec never starts so: msgpack maps start 0x8-/0xde)
_PART = b"\x00part"
_decode_part = msgspec.msgpack.Decoder(PartScan).decode
_decode_scanned = msgspec.msgpack.Decoder(PartScanned | Failed).decode


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        got = sock.recv(n - len(data))
        if not got:
            raise ConnectionResetError("the parent closed before sending the plan")
        data += got
    return bytes(data)


def child(fd: int, parent: int) -> None:
    """The planning child's work (`PlanningProcess` starts it): on the socket of descriptor `fd`, wait for the spec,
    plan every file and send what comes out; end with `parent`, the process that started it."""
    die_with_parent(parent)
    sock = socket.socket(fileno=fd)

    def send(message: Message | Failed | PartScanned) -> None:
        data = _encode(message)
        sock.sendall(len(data).to_bytes(_HEADER, "big") + data)

    while True:
        try:
            data = _recv_exactly(sock, int.from_bytes(_recv_exactly(sock, _HEADER), "big"))
        except ConnectionResetError:
            sock.close()
            return  # started ahead and never needed (the run ended first)
        if not data.startswith(_PART):
            break
        try:  # a part of a file to inspect while the parent reads the rest (halves.py), before the spec comes
            found = scan_part(_decode_part(data[len(_PART) :]))
            send(found if found is not None else Failed("the part could not be read as the whole file is"))
        except (BrokenPipeError, ConnectionResetError):
            return
        except Exception as exc:
            send(failure(exc))
    spec = _decode_spec(data)
    collector.for_a_long_run()  # what is alive now (the modules, the spec) lives as long as the process
    try:
        for message in messages(spec):
            send(message)
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent is gone: nobody to plan for
    except Exception as exc:  # told to the parent, which logs its traceback: none on the user's terminal
        send(failure(exc))
    finally:
        sock.close()


def messages(spec: PlanSpec) -> Iterator[Message]:
    """The plan of a spec as messages, made by a target of its own (a plan changes its target's state)."""
    from .targets import TARGETS

    target = TARGETS[spec.target].from_options(spec.target_options)
    target.phases.use(spec.context)
    with opened_planner(target, spec) as planner:

        def rows(ahead: int = 0) -> Iterator[Rows]:
            # `ahead`: rows of the chunk planned already and sent after these (planner.rows_read counts them): a run
            # that stops on this message never gets that chunk, so its rows are not read yet
            if planner.rejected:
                yield Rows(planner.rows_read - ahead, list(planner.rejected))
                planner.rejected.clear()

        try:
            for file_idx, read in planned_rows(target, spec):
                for chunk in planner.plan(file_idx, read):
                    yield from rows(len(chunk.lines) if chunk is not None else 0)
                    if chunk is not None:
                        summary = target.kind_of(chunk.file_idx).summarize(chunk.records or [])
                        yield Planned(
                            planner.rows_read,
                            chunk.seq,
                            chunk.file_idx,
                            chunk.lines,
                            chunk.body,
                            summary,
                            chunk.groups,
                            chunk.checks,
                        )
                yield from rows()  # those after the file's last chunk
            yield Ended(planner.rows_read)
        except SourceError as exc:
            yield from rows()
            yield Stopped(planner.rows_read, str(exc))


def reading_of(kind: RecordKind, profile: Mapping[str, Any]) -> Reading:
    """How a file of `kind` is read, as its `profile` (profile.FileProfile as builtins) decided."""
    # none in an older ledger: the order not named, each reading of a two-digit year told
    dates = DateFormat(profile["date_format"], "", profile.get("date_order", ""), profile.get("date_year_first", True))
    evidence = profile.get("decimal_evidence", "")
    given = evidence.startswith("given")  # numbers.NumberEvidence.decide: --decimal
    number_format = NumberFormat(profile["decimal"], evidence)  # .shown: whether a reason may name the mark
    return Reading.of(
        kind,
        number_format,
        dates,
        json=profile["delimiter"] is None,
        mark_given=given,
        named_currencies=profile.get("named_currencies") or {},
    )


@contextmanager
def opened_planner(target: Target, spec: PlanSpec) -> Iterator[Planner]:
    """The planner for a spec: each file read its own way, the groups an earlier load created skipped, the rows of
    no group that are lines it loaded skipped, and the other rows of no group of a family it sent a line of as
    another part, or a group of, rejected (ledger.known_to). The ledger it reads (spec.skip_db) is closed as the
    block ends: before, only the garbage collector closed it, and a dry run called from a script left the file of
    its scratch ledger, deleted, open in the process after it returned (tester t49g)."""
    readings = {
        file_idx: reading_of(target.kind_of(file_idx), profile)
        for file_idx, profile in zip(spec.indexes, spec.profiles or [])
    }
    skip = family_skip = line_loaded = line_differs = row_loaded = row_taken = None
    db: sqlite3.Connection | None = None
    if spec.skip_db:
        db = (
            ledger_pg.reader(spec.skip_db)
            if ledger_pg.is_url(spec.skip_db)
            else sqlite3.connect(f"file:{urllib.request.pathname2url(os.path.abspath(spec.skip_db))}?mode=ro", uri=True)
        )

        def skip(key: str) -> Known | None:
            row = db.execute(f"SELECT {SKIP_GROUPS}, also_checks FROM skip_groups WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            key, bucket, reason, lines, total, debit, differs, digest, also = row
            return Known(
                key,
                bucket,
                reason,
                lines,
                None if total is None else int(total),
                None if debit is None else int(debit),
                differs,
                digest,
                also_of(also),
            )

        try:  # a ledger made before families were recorded has no table of them, and nothing in it
            (families,) = db.execute("SELECT EXISTS (SELECT 1 FROM skip_families)").fetchone()
        except sqlite3.Error:
            families = False
        if families:
            said = "SELECT reason FROM skip_families WHERE family = ?"
            try:  # one made before their parts were recorded rejects a family's rows whatever their part
                db.execute("SELECT part FROM skip_families LIMIT 0")
                said += " AND part = ?"
            except sqlite3.Error:
                pass

            def family_skip(family: str, part: str) -> str | None:
                row = db.execute(said, (family, part)[: said.count("?")]).fetchone()
                return None if row is None else str(row[0])

        line_loaded = _lines_loaded(db)
        line_differs = line_loaded.differs if line_loaded is not None else None
        row_loaded = _rows_loaded(db)
        row_taken = _row_taken(db)

    try:
        yield Planner(
            target,
            spec.max_items,
            spec.max_bytes,
            readings=readings,
            refused_rows={
                file_idx: {
                    **{line: copied_reason(first, origin, at) for line, first, origin, at in profile.get("copies", ())},
                    **dict(profile.get("left_out", ())),
                }
                for file_idx, profile in zip(spec.indexes, spec.profiles or [])
                if profile.get("copies") or profile.get("left_out")
            },
            skip=skip,
            family_skip=family_skip,
            line_loaded=line_loaded,
            line_differs=line_differs,
            row_loaded=row_loaded,
            row_taken=row_taken,
        )
    finally:
        if db is not None:
            db.close()


def _lines_loaded(db: sqlite3.Connection) -> _LinesLoaded | None:
    """Planner.line_loaded (and its line_differs) of the ledger `db`; None where earlier loads loaded no lines of the
    input's families (or for a ledger made before they were kept)."""
    try:
        (any_line,) = db.execute("SELECT EXISTS (SELECT 1 FROM skip_lines)").fetchone()
    except sqlite3.Error:
        return None
    return _LinesLoaded(db) if any_line else None


class _LinesLoaded:
    """Planner.line_loaded, as the lines earlier loads loaded of the input's families and parts say (the ledger's
    skip_lines): a line they loaded n times is skipped for the first n rows of the family that give it, then one they
    left in doubt n times is in doubt for the next n (skip_lines.in_doubt: never sent), the next are rows added; a
    row that is a line one of them rejected, never sent, is no line that one loaded (`_unsent`). A family's rows are
    planned one after another (regroup.py): only its own are counted, its lines read once as its first row of no
    group asks. And Planner.line_differs (`differs`), of the family closed: where its rows gave some
    of the lines they loaded of a part, but not each of them as often (one changed, or left out), the family is
    given otherwise than the books hold it, a correction (skip_lines.differs: why)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._unsent = _unsent(db)
        # of the family being planned: (part, check) -> (reason, n) of each earlier line, and rows of it told so
        self._loaded: dict[tuple[str, int], list[tuple[str, int]]] = {}
        self._differs: dict[tuple[str, int], list[str | None]] = {}  # each line's skip_lines.differs, alike
        self._taken: dict[tuple[str, int], int] = {}
        self._in_doubt: set[str] = set()  # the reasons of the lines an earlier load left in doubt (skip_lines.in_doubt)
        self._of: str | None = None
        # families planned before, whose rows are yet to be closed (chunking: a family is closed once the next one's
        # rows are read), where they differ: why
        self._ended: dict[str, str] = {}

    def __call__(self, file_idx: int, line: int, family: str, part: str, check: int) -> tuple[str, str] | None:
        if family != self._of:
            if self._of is not None and (why := self._lacking()) is not None:
                self._ended[self._of] = why
            self._of = family
            self._loaded.clear()
            self._differs.clear()
            self._taken.clear()
            self._in_doubt.clear()
            for part_, check_, reason, n, differs, in_doubt in self._db.execute(
                "SELECT part, line_check, reason, n, differs, in_doubt FROM skip_lines WHERE family = ?"
                " ORDER BY COALESCE(in_doubt, 0), reason",  # the lines loaded (NULL) first, then those in doubt
                (family,),
            ).fetchall():
                key = (str(part_), int(check_))
                self._loaded.setdefault(key, []).append((str(reason), int(n)))
                self._differs.setdefault(key, []).append(differs)
                if in_doubt:
                    self._in_doubt.add(str(reason))
        key = (part, check)
        reason = _nth_told(self._unsent(file_idx, line, self._loaded.get(key, [])), self._taken, key)
        return None if reason is None else (reason, "in_doubt" if reason in self._in_doubt else "skipped")

    def differs(self, family: str) -> str | None:
        """Why every row of `family`, whose rows are all planned, is rejected: of a part, its rows gave some of the
        lines the earlier loads loaded but not all of them (skip_lines.differs of one not given); None: they gave
        each, none, or the family has no such lines."""
        if family != self._of:
            return self._ended.pop(family, None)
        self._of = None  # told: not kept when the next family's rows are asked
        return self._lacking()

    def _lacking(self) -> str | None:
        """`differs`, of the family being planned."""
        given = {part for part, _ in self._taken}
        for key, earlier in self._loaded.items():
            if key[0] in given:
                nth = self._taken.get(key, 0)
                for (_, n), why in zip(earlier, self._differs[key]):
                    if nth < n:
                        if why is not None:
                            return str(why)
                        break
                    nth -= n
        return None


def _unsent(db: sqlite3.Connection) -> Callable[[int, int, list[tuple[str, int]]], list[tuple[str, int]]]:
    """Of the (reason, n) of the lines earlier loads loaded that a row at (file index, line) gives again, those of
    the loads whose line the row is not (the ledger's unsent_lines: a row of a rejects file naming a line that load
    rejected, never sent, fixed; the load's reasons name it as what it keeps says: ledger_schema.named_by). Such a
    row is matched against what the other loads loaded, or left in doubt, not that one's: it is a line that one did
    not send (a duplicate record of its file, whose bad cell was fixed), and skipped as loaded it would be lost, held
    in doubt it would not load (before, it was, its reason saying that run had sent it)."""
    try:
        (any_row,) = db.execute("SELECT EXISTS (SELECT 1 FROM unsent_lines)").fetchone()
    except sqlite3.Error:  # a ledger made before they were kept
        any_row = False
    said = "SELECT said FROM unsent_lines WHERE file_idx = ? AND line = ?"

    def unsent(file_idx: int, line: int, earlier: list[tuple[str, int]]) -> list[tuple[str, int]]:
        if not any_row or not earlier:
            return earlier
        loads = [named_by(str(by)) for (by,) in db.execute(said, (file_idx, line)).fetchall()]
        return [(reason, n) for reason, n in earlier if not any(load in reason for load in loads)]

    return unsent


#: a line as _nth_told counts it: (part, check) of a family's, or the check of a row of no family
_Line = TypeVar("_Line", tuple[str, int], int)


def _nth_told(earlier: Iterable[tuple[str, int]], taken: dict[_Line, int], key: _Line) -> str | None:
    """The reason a row giving the line `key` again is skipped, where the earlier loads loaded it more often than
    rows before it gave it (`earlier`: (reason, n) of each load that loaded it n times, in order; `taken`: how many
    rows each line was told so already, counted on here); None for the row after the last one they loaded."""
    told = taken.get(key, 0)
    nth = told
    for reason, n in earlier:
        if nth < n:
            taken[key] = told + 1
            return str(reason)
        nth -= int(n)
    return None


def _rows_loaded(db: sqlite3.Connection) -> Callable[[int, int, int], tuple[str, str] | None] | None:
    """Planner.row_loaded, as the records earlier loads into the same place created of rows of no group and no
    family say (the ledger's skip_lines of family and part ROWS, ledger.rows_known_to): a record they created n times
    is skipped for the first n rows of the input that give it, then one whose call they left in doubt n times is in
    doubt for the next n (skip_lines.in_doubt: never sent), the next are rows added; a row that is a line one of them
    rejected, never sent, is no record that one created (`_unsent`). Looked up a row at a time (such rows are in no
    order a family would give them): what is kept is the count of each line told so. None where they created none
    and left none in doubt."""
    try:
        (any_row,) = db.execute(
            "SELECT EXISTS (SELECT 1 FROM skip_lines WHERE family = ? AND part = ?)", (ROWS, ROWS)
        ).fetchone()
    except sqlite3.Error:
        return None
    if not any_row:
        return None
    taken: dict[int, int] = {}
    unsent = _unsent(db)
    said = (
        "SELECT reason, n, in_doubt FROM skip_lines WHERE family = ? AND part = ? AND line_check = ? "
        "ORDER BY COALESCE(in_doubt, 0), reason"  # the records created (NULL) first, then those in doubt
    )

    def row_loaded(file_idx: int, line: int, check: int) -> tuple[str, str] | None:
        told = db.execute(said, (ROWS, ROWS, check)).fetchall()
        if not told:
            return None
        reason = _nth_told(unsent(file_idx, line, [(why, n) for why, n, _ in told]), taken, check)
        in_doubt = {why for why, _, doubt in told if doubt}
        return None if reason is None else (reason, "in_doubt" if reason in in_doubt else "skipped")

    return row_loaded


def _row_taken(db: sqlite3.Connection) -> Callable[[int, int], str | None] | None:
    """Planner.row_taken, as the ledger's taken_rows say (ledger.rows_known_to): why the row at (file index, line),
    a row of a rejects file, names a line an earlier load loaded from a rejects file of its own, or None. None
    where no row does (and for a ledger made before they were kept)."""
    try:
        (any_row,) = db.execute("SELECT EXISTS (SELECT 1 FROM taken_rows)").fetchone()
    except sqlite3.Error:
        return None
    if not any_row:
        return None

    def row_taken(file_idx: int, line: int) -> str | None:
        found = db.execute("SELECT reason FROM taken_rows WHERE file_idx = ? AND line = ?", (file_idx, line)).fetchone()
        return None if found is None else str(found[0])

    return row_taken


def planned_rows(target: Target, spec: PlanSpec) -> Iterator[tuple[int, Iterable[Row | BadRow | Placed]]]:
    """Each file's rows in the order they are planned: as read, or regrouped when the file's groups are apart."""
    for n, (file_idx, path) in enumerate(zip(spec.indexes, spec.files)):
        kind = target.kind_of(file_idx)
        source = Source(
            path,
            delimiter=spec.delimiter,
            columns=spec.columns,
            encoding=spec.encoding,
            secrets=kind.secret_fields,
            pinned=Pinned(*spec.pins[n]) if spec.pins else None,
            totals=kind.totals_shape,
        )
        profile = (spec.profiles or [{}] * len(spec.files))[n]
        if profile.get("grouped", True):
            yield file_idx, source
        else:
            yield file_idx, regrouped(source, kind, spec.workdir)


class Planning(Protocol):
    """Makes the plan of a spec: `plan` yields its messages in order, ending with Ended or Stopped, and raises
    PlanningFailed when planning fails; `close` frees what the planner holds (plan closes it when done)."""

    def plan(self, spec: PlanSpec) -> AsyncGenerator[Message, None]: ...

    def part_reader(self) -> ScanPart | None:
        """Where a part of a big file can be inspected while this process reads the rest (halves.py), before the
        plan: None where planning has no process of its own."""
        ...

    async def close(self) -> None: ...


class PlanningInProcess:
    """Planning on the event loop's own thread, one message at a time between the loop's other work; fails as
    the child does (`raised`)."""

    async def plan(self, spec: PlanSpec) -> AsyncGenerator[Message, None]:
        try:
            for message in messages(spec):
                yield message
                await anyio.lowlevel.checkpoint()
        except Exception as exc:  # as the child's: whatever planning raised, the plan failed
            raise raised(failure(exc)) from exc

    def part_reader(self) -> ScanPart | None:
        return None

    async def close(self) -> None:
        """Nothing to free."""


class PlanningProcess:
    """A planning child, started ahead of its plan: starting Python and importing the targets takes a few
    tenths of a second, which pass while the run does its first round trips (baselines, lookups, a token)."""

    def __init__(self) -> None:
        # the one `bulkload load` started as it began (prestart.py), else one started now
        self._ours, self._process = prestart.take() or prestart.spawn()

    async def plan(self, spec: PlanSpec) -> AsyncGenerator[Message, None]:
        """Give the child its spec and yield its messages in order; the child is stopped when the caller is
        done."""
        reader, writer = await asyncio.open_connection(sock=self._ours)
        try:
            data = _encode(spec)
            while True:
                try:
                    if data:
                        writer.write(len(data).to_bytes(_HEADER, "big") + data)
                        await writer.drain()
                        data = b""
                    size = int.from_bytes(await reader.readexactly(_HEADER), "big")
                    message = _decode(await reader.readexactly(size))
                except (asyncio.IncompleteReadError, ConnectionResetError):
                    raise PlanningFailed("the planning process ended before its plan was done") from None
                if isinstance(message, Failed):
                    raise raised(message)
                yield message
                if isinstance(message, Ended | Stopped):
                    return
        finally:
            writer.close()
            await self.close()

    def part_reader(self) -> ScanPart | None:
        return self._scan_part

    def _scan_part(self, request: PartScan) -> Callable[[], PartScanned | None]:
        """Send the child a part to inspect (from the inspection's thread, before the plan: the socket still
        blocks) and return what waits for its answer: None where the child could not read it as the whole file
        is read, or is gone."""
        data = _PART + _encode(request)
        try:
            self._ours.sendall(len(data).to_bytes(_HEADER, "big") + data)
        except OSError:
            return lambda: None

        def outcome() -> PartScanned | None:
            try:
                size = int.from_bytes(_recv_exactly(self._ours, _HEADER), "big")
                answer = _decode_scanned(_recv_exactly(self._ours, size))
            except (OSError, msgspec.DecodeError):
                return None
            return answer if isinstance(answer, PartScanned) else None

        return outcome

    async def close(self) -> None:
        """Stop the child (if it was never given a plan, it ends as soon as its socket closes)."""
        self._ours.close()
        if self._process.poll() is None:
            self._process.kill()
        await asyncio.to_thread(self._process.wait)


def planning_for(paths: Sequence[str | os.PathLike[str]]) -> type[PlanningInProcess | PlanningProcess]:
    """Where a run's input files are planned, decided once for the run (`prestart.in_child`): in this process for
    small plain files, else in a child process (each started when made, ahead of its plan)."""
    return PlanningProcess if prestart.in_child(paths) else PlanningInProcess
