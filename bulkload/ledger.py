"""The ledger: one SQLite file (WAL) per run that records every chunk's key and state before and after it is
sent, every row that did not load and why, the ids the API gave, and the baselines for reconciliation.

A chunk is written as `sending` with its idempotency key before the request leaves; `done`, `split` (its
halves were sent instead), `rejected` or `in_doubt` once the outcome is known. WAL with synchronous=NORMAL
keeps every committed write across a killed process, which is the crash bulkload promises to survive.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import glob
import os
import sqlite3
import sys
import tempfile
import time
import urllib.request
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import accumulate, groupby, islice
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast

import msgspec

from . import ledger_pg, origins
from .errors import (
    LedgerError,
    LedgerUnavailable,
    LedgerWriteError,
    SharedUnfinished,
    WritesRefused,
    command_on,
    killed_while_made,
    write_refused,
)
from .instants import Instant
from .ledger_schema import (
    ORIGIN_CHAIN,
    ORIGIN_INPUTS,
    REFUSED_LISTED,
    REFUSED_WALKED,
    ROWS,
    SKIP_GROUPS,
    STATEMENTS,
    TAKEN_ROWS,
    UNSENT_LINES,
    also_blob,
    run_named,
)
from .model import (
    CHECKS_VERSION,
    DELETED,
    NO_ID,
    NO_IMBALANCE,
    OLDER_CHECKS,
    TRANSITIONS,
    ChunkState,
    GroupInfo,
    Known,
    RowOutcome,
    Totals,
    add_totals,
    alike,
    checks_alike,
    imbalance_of,
)
from .near_names import did_you_mean, ledger_beside
from .pairing import pair
from .redact import known, redact
from .sent_count import SentCount
from .targets import TARGETS
from .unwritable import ledger_unwritable

SCHEMA_VERSION = 2
#: created.loc = file index << LOC_SHIFT | source line
LOC_SHIFT = 32
#: what the ledger and the inspection ask of SQLite beyond the basics: upserts (SQLite 3.24, 2018), checked
#: before a ledger is made or opened rather than after an hour of loading
_NEEDS = "INSERT INTO t VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET n = n + 1"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


def _json(value: Any) -> str:
    """JSON text for a column (SQLite's json_each reads text, not a blob)."""
    return _encode(value).decode()


#: the refusal of a ledger path that holds a run, after "use resume to continue it", unless the caller says more
#: (Ledger.create's `again`)
ANOTHER_LEDGER = ", or choose another --ledger (for a run that finished or was rolled back, resume has nothing to do)"
#: whether a run may have created anything (Ledger.created_nothing)
_ANY_SENT = (
    "SELECT EXISTS (SELECT 1 FROM chunks WHERE state IN ('done', 'sending', 'in_doubt')) "
    "OR EXISTS (SELECT 1 FROM created) OR EXISTS (SELECT 1 FROM removed)"
)
#: the first bytes of every SQLite database file
_SQLITE_HEADER = b"SQLite format 3\x00"
#: whether the ledger file itself carries the run's lock (see Ledger._hold)
_LOCK_THE_FILE = sys.platform.startswith("linux")


def _check_sqlite() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE t (k PRIMARY KEY, n)")
        conn.execute(_NEEDS)
    except sqlite3.OperationalError:
        raise LedgerError(
            f"this Python's SQLite {sqlite3.sqlite_version} is too old: bulkload needs SQLite 3.24 or newer "
            "(upserts); use a Python built with a newer one"
        ) from None
    finally:
        conn.close()


@dataclass
class RunInfo:
    """What a run was asked to do: enough to resume it with the same settings (never credentials)."""

    target: str
    base_url: str
    files: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    key_prefix: str = ""
    created: float = field(default_factory=time.time)
    #: `created` by the clock since boot (instants.Instant.boot); None where the system has none, or in a ledger
    #: made before it was kept
    created_boot: str | None = None
    status: str = "running"
    #: how an interrupt it handled stopped it ("stopped by SIGTERM", "interrupted (Ctrl-C)": interrupts.reason), ""
    #: for none (status "running" with no process on it: it was killed)
    interrupted: str = ""
    #: the hex SHA-256 of each rejects file as the run last wrote it, by absolute path: one that is no longer so was
    #: changed by the user (fixed in place), and is never written over (kept_rejects.check_kept)
    rejects_written: dict[str, str] = field(default_factory=dict)


class ChunkRow(NamedTuple):
    state: str
    key: str
    attempts: int
    body_hash: str
    #: when its key was first sent (epoch seconds; None if never): APIs forget a key some time after that
    sent_at: float | None
    #: the same moment by the clock since boot (instants.Instant.boot; None where not kept)
    sent_boot: str | None = None

    @property
    def sent(self) -> Instant | None:
        """When its key was first sent, by both clocks; None if never."""
        return None if self.sent_at is None else Instant(self.sent_at, self.sent_boot)


class Created(NamedTuple):
    """What a chunk's call created, as Ledger.done records it: the id each line became (NO_ID: stored without one),
    the control totals of what was sent (see Totals), and each line's RecordKind.line_check where the kind compares
    lines (else None)."""

    ids: Sequence[int]
    summary: dict[str, Totals]
    checks: Sequence[int] | None = None


class Child(NamedTuple):
    """A chunk planned in place of a split one (Ledger.split): its part, key, line numbers and body hash, and the
    state the split saves it in: `pending` (to be sent), `in_doubt` (never sent without the user's word, for
    `error`; `looks`: what a look for another call could take of its rows' records, as `sending`'s) or `done` (the
    split call stored its rows: `created`). `groups`: the groups it carries, which follow it where it is saved in
    doubt or done (never sent, it is their call: what the split call stored of them is its), as `sending` has a
    group follow the chunk that carries it; `checks`, the line checks of its rows of no group, likewise (`sending`'s:
    a later load tells the rows it gives again of a part in doubt)."""

    part: str
    key: str
    lines: Sequence[int]
    body_hash: str
    state: ChunkState = "pending"
    error: str | None = None
    created: Created | None = None
    looks: bytes | None = None
    groups: Sequence[GroupInfo] = ()
    checks: Sequence[int] | None = None


class Figures(NamedTuple):
    """Where the rows of a run's inputs are (Ledger.figures), each in one bucket: loaded, rejected, in_doubt,
    skipped (an earlier load created its group) or not yet sent (`rows_not_sent`: None where the ledger cannot
    count them); `rows_read`, the rows settled so far, is the first four together."""

    loaded: int
    rejected: int
    in_doubt: int
    skipped: int
    rows_not_sent: int | None

    @property
    def rows_read(self) -> int:
        return self.loaded + self.rejected + self.in_doubt + self.skipped


class OpenCall(NamedTuple):
    """A call whose outcome the ledger does not know (chunk state `sending` or `in_doubt`)."""

    file_idx: int
    key: str
    state: str
    #: when its key was first sent (epoch seconds; None if never)
    sent_at: float | None
    lines: list[int]
    body_hash: str
    #: when its last attempt left, or (in doubt) when the process that sent it found it in doubt: its answer was
    #: lost by then, or at most the client's timeout later (epoch seconds); a later look that could not settle it
    #: sent nothing, and leaves this as it was
    last_sent: float | None = None
    #: `sent_at` by the clock since boot (instants.Instant.boot; None where not kept)
    sent_boot: str | None = None

    @property
    def sent(self) -> Instant | None:
        """When its key was first sent, by both clocks; None if never."""
        return None if self.sent_at is None else Instant(self.sent_at, self.sent_boot)


#: a record this run created (`c`) holds another line than the walk lists for its id (`r`): neither of the walked
#: record's checks (its line_check, and also_check: Listed.also) is the one kept when the line was sent
_CHANGED = "c.line_check IS NOT NULL AND c.line_check IS NOT r.line_check AND c.line_check IS NOT r.also_check"


#: the records whose line's kept check is damaged (Ledger.mark_damaged): a temporary table of reconcile's
_DAMAGED_TABLE = "CREATE TEMP TABLE IF NOT EXISTS damaged (loc INTEGER PRIMARY KEY, held INTEGER NOT NULL)"

#: a group's call (`g`) is none a rollback took records of (rolled_back.what_is_left)
_UNTOUCHED = "NOT EXISTS (SELECT 1 FROM touched t WHERE t.seq = g.seq AND t.part = g.part)"


def _lines(blob: bytes) -> array[int]:
    """A chunk's line numbers as the ledger keeps them (an array of ints, as bytes)."""
    lines = array("i")
    lines.frombytes(blob)
    return lines


def _open_calls(db: sqlite3.Connection) -> dict[tuple[int, str], OpenCall]:
    """Ledger.open_calls of the ledger `db` reads."""
    out = {}
    for seq, part, file_idx, key, state, sent_at, blob, body_hash, updated, boot in db.execute(
        "SELECT seq, part, file_idx, key, state, sent_at, lines, body_hash, updated, sent_boot FROM chunks "
        "WHERE state IN ('sending', 'in_doubt') ORDER BY seq, part"
    ):
        lines = _lines(blob)
        out[(seq, part)] = OpenCall(file_idx, key, state, sent_at, lines.tolist(), body_hash, updated, boot)
    return out


def _last_write(db: sqlite3.Connection) -> float | None:
    """Ledger.last_write of the ledger `db` reads."""
    (sent,) = db.execute("SELECT MAX(updated) FROM chunks WHERE sent_at IS NOT NULL").fetchone()
    (removed,) = db.execute("SELECT MAX(at) FROM removed").fetchone()
    return max((t for t in (sent, removed) if t is not None), default=None)


def _kept(db: sqlite3.Connection) -> dict[int, frozenset[int]]:
    """Ledger.kept of the ledger `db` reads."""
    gone = {i for (i,) in db.execute("SELECT id FROM removed WHERE outcome != 'failed'")}
    by_file: dict[int, set[int]] = {}
    for loc, record_id in db.execute("SELECT loc, id FROM created"):
        if record_id != NO_ID and record_id not in gone:
            by_file.setdefault(_file_line(loc)[0], set()).add(record_id)
    return {file_idx: frozenset(ids) for file_idx, ids in by_file.items()}


def _peeked(path: str | os.PathLike[str], read: Callable[[sqlite3.Connection], R], default: R) -> R:
    """What `read` finds in the ledger at `path` (a file's path, or a PostgreSQL ledger's URL), opened without its
    lock; `default` where there is no ledger there to be read (gone, not a ledger, a server that cannot be
    reached)."""
    try:
        if ledger_pg.is_url(str(path)):
            db = ledger_pg.reader(str(path))
        else:
            db = sqlite3.connect(f"file:{urllib.request.pathname2url(os.path.abspath(path))}?mode=ro", uri=True)
    except (LedgerError, sqlite3.Error, OSError):
        return default
    try:
        return read(db)
    except sqlite3.Error:
        return default
    finally:
        db.close()


def _created_rows(db: sqlite3.Connection, file_idx: int, name: str) -> Iterator[tuple[str, int, int | str]]:
    lo = file_idx << LOC_SHIFT
    for line, record_id in db.execute(
        "SELECT loc - ?, id FROM created WHERE loc >= ? AND loc < ? ORDER BY loc", (lo, lo, lo + (1 << LOC_SHIFT))
    ):
        yield name, line, "" if record_id == NO_ID else record_id


def _file_line(loc: int) -> tuple[int, int]:
    """created.loc as (file index, line)."""
    return loc >> LOC_SHIFT, loc & ((1 << LOC_SHIFT) - 1)


def _locs(file_idx: int, blob: bytes) -> str:
    """A chunk's lines as created.loc values, as a JSON array for json_each."""
    lines = _lines(blob)
    base = file_idx << LOC_SHIFT
    return _json([base + line for line in lines])


P = ParamSpec("P")
R = TypeVar("R")


def _redacted(rows: Iterable[RowOutcome]) -> Iterable[RowOutcome]:
    """The rows with their reasons showing no credential (a reason may quote an API's answer)."""
    if not known():
        return rows
    return [row._replace(reason=redact(row.reason)) for row in rows]


#: free space below which a SQLite error on the ledger is said as the disk full: SQLite needs room for the -wal and
#: the 32 KiB -shm it makes at opening, and says "disk I/O error" or "database or disk is full" where it has none
_FULL_BELOW = 1 << 20


def _on_postgres(path: str | os.PathLike[str] | ledger_pg.Location) -> bool:
    """Whether the ledger at `path` is PostgreSQL's (its Location, or a URL): disk_full, damaged and wal_advice
    look at a SQLite file, and say nothing of one."""
    return isinstance(path, ledger_pg.Location) or ledger_pg.is_url(str(path))


def disk_full(path: str | os.PathLike[str] | ledger_pg.Location) -> str:
    """ "the disk it is on is full (N KiB free): free space there" where the folder of the SQLite ledger `path` has
    less than _FULL_BELOW free, else "". Before, a ledger that could not be opened on a full disk was said to be "not
    a bulkload ledger (disk I/O error)", and resuming it, as its stop said, met the same (found by a tester)."""
    if _on_postgres(path):
        return ""
    try:
        st = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return ""
    free = st.f_bavail * st.f_frsize
    return f"the disk it is on is full ({free // 1024:,} KiB free): free space there" if free < _FULL_BELOW else ""


def _room(path: Path) -> str:
    """What to do where the system refused the writes of the SQLite ledger `path` (WritesRefused): free space on its
    disk (disk_full), or where that has room, what else refuses writes there."""
    return disk_full(path) or (
        "make room there, or fix what refuses the writes (the user's disk quota, the size of file the process may "
        "write: ulimit -f, the disk itself)"
    )


def damaged(path: str | os.PathLike[str] | ledger_pg.Location) -> str:
    """What SQLite's quick_check finds wrong in the SQLite ledger at `path` (its first finding), read only: "" where
    it finds nothing, or the ledger is PostgreSQL's or cannot be opened to look. Asked only once SQLite has refused
    a read of it: a damaged ledger is damaged again at every run of the command."""
    if _on_postgres(path) or not os.path.isfile(path):
        return ""
    try:
        conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return ""
    try:
        found = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    except sqlite3.Error:
        return ""
    finally:
        conn.close()
    if found is None or found[0] == "ok":
        return ""
    return " ".join(str(found[0]).replace("*** in database main ***", "").split())  # one line: "On tree page 50 …"


def _left_beside(where: Path) -> str:
    """What a ledger not there left beside it (its lock, its -wal: the files a run made there), said as a ledger
    moved or deleted since, and the way on; "" where none is. Before, "did you mean …ledger.sqlite.lock?" offered the
    empty lock file as the ledger (found by a tester: the ledger of a killed run deleted before its resume). A draft
    beside it and no -wal (which only a made ledger has) is a load killed while it made the ledger: before, that was
    said as a ledger moved or deleted, to be put back, though none was ever there."""
    drafts = sorted(where.parent.glob(f".{glob.escape(where.name)}.*.draft"))
    if drafts and not os.path.isfile(f"{where}-wal"):
        return killed_while_made(str(drafts[0]))
    left = [f"{where}{tail}" for tail in ("-wal", ".lock") if os.path.isfile(f"{where}{tail}")]
    if not left:
        return ""
    return (
        f": {' and '.join(left)} beside it {'are' if len(left) > 1 else 'is'} the run's, so the ledger was there and "
        "has been moved or deleted since. Put it back there (the file as it was, with its -wal where it had one) and "
        "run the command again; where it is gone for good, `bulkload load` of the files says what the record of loads "
        "knows of that run"
    )


def _way_to(where: Path) -> str:
    """Where to find the ledger meant, for a ledger not at `where` that no file there comes close to: the summary's
    `ledger:` line and the default name, and the ledgers of that folder (three at most, by name) where it has any."""
    there = sorted(p.name for p in where.parent.glob("*.ledger.sqlite")) if where.parent.is_dir() else []
    held = f"; that folder holds {', '.join(there[:3])}{' and others' if len(there) > 3 else ''}" if there else ""
    return (
        f": give --ledger the ledger a load wrote, as its summary's `ledger:` line names it (by default "
        f"FILE.ledger.sqlite beside the load's first input){held}"
    )


def wal_advice(path: str | os.PathLike[str] | ledger_pg.Location, exc: BaseException) -> str:
    """What to do about a SQLite ledger SQLite calls malformed while a -wal lies beside it: "" where neither."""
    if _on_postgres(path) or "malformed" not in str(exc) or not os.path.exists(f"{path}-wal"):
        return ""
    # a ledger put back from a backup beside the -wal of its later writes: the two are not one ledger
    return (
        "Its -wal beside it may hold other writes than the file's (the ledger put back from a backup while the "
        f"-wal of its later writes stayed): put back the -wal that belongs to it, or move {path}-wal aside and "
        "run the command again, which then asks for --adopt-copy if writes were lost"
    )


_NOTHING = "nothing was sent"
#: said of a ledger SQLite cannot write where the cause cannot be told (`_unwritable`)
_UNWRITABLE = (
    ". The ledger or its folder cannot be written (a read-only mount or permissions): make them writable and run "
    "the command again"
)


def _unwritable(path: Path | ledger_pg.Location) -> str:
    """What is said of a ledger SQLite cannot write: every command keeps its working state in the ledger (reconcile
    its diff tables), so none runs on one it cannot write. Names a read-only mount or a permission this user lacks
    (ledger_unwritable) where it can tell."""
    why = "" if _on_postgres(path) else ledger_unwritable(Path(path))
    return f": {why}, then run the command again" if why else _UNWRITABLE


def _writes(method: Callable[P, R]) -> Callable[P, R]:
    """The one boundary of a ledger write: a sqlite3 error (disk full, I/O error, file removed) becomes a
    LedgerWriteError naming the ledger, which stops the run, resumable, in our own terms."""

    @functools.wraps(method)
    def write(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            ledger = args[0]
            where = f" {ledger.path}" if isinstance(ledger, Ledger) else ""
            readonly = isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc)
            fix = _unwritable(ledger.path) if readonly and isinstance(ledger, Ledger) else ""
            raise LedgerWriteError(f"cannot write the ledger{where}: {exc}{fix}") from exc

    return write


#: the groups (g) this run rejected (their rows w) that a refused call (c: chunk `rejected`, or `split` apart) was the
#: last to carry (Ledger.refusals_walked, refused_rejected)
_REFUSED_REJECTED = (
    "FROM rows w JOIN groups g ON g.key = w.grp JOIN chunks c ON c.seq = g.seq AND c.part = g.part "
    "WHERE w.bucket = 'rejected' AND c.state IN ('rejected', 'split')"
)


#: of a refused call (`g`, `c`): not given its newest id by a walk yet (refused_walked), so the walk now is its first
_NOT_WALKED_YET = "AND NOT EXISTS (SELECT 1 FROM refused_walked w2 WHERE w2.seq = g.seq AND w2.part = g.part)"

#: the records of the groups this run rejected that the walks listed (`remote`), not created by it, each with the
#: refused call its group was last sent in, where this walk is that call's first (Ledger.refusals_walked)
_REFUSED_LISTED = (
    "INSERT OR IGNORE INTO refused_listed SELECT DISTINCT g.seq, g.part, r.id FROM remote r "
    "JOIN groups g ON g.key = r.grp JOIN chunks c ON c.seq = g.seq AND c.part = g.part "
    "WHERE c.state IN ('rejected', 'split') AND r.grp IN (SELECT grp FROM rows WHERE bucket = 'rejected') "
    f"AND NOT EXISTS (SELECT 1 FROM created x WHERE x.id = r.id) {_NOT_WALKED_YET}"
)


class Ledger:
    """Synchronous: each write is one short transaction per chunk, done on the event loop. A SQLite file, or a
    schema in PostgreSQL when named by a ``postgresql://`` URL (ledger_pg: the same SQL through its adapter)."""

    def __init__(self, path: Path | ledger_pg.Location, conn: sqlite3.Connection, lock_fd: int) -> None:
        self.path = path
        self._db = conn
        #: the flock'd descriptor of a SQLite ledger; -1 for PostgreSQL, whose lock is the connection's own
        self._lock_fd = lock_fd
        #: the run's count of sends outside the ledger (sent_count), from this process's first send on
        self._sent: SentCount | None = None
        #: found to be a ledger of this version (_checked): only such a file is checkpointed as it closes, never
        #: another program's database refused as no ledger
        self._ours = False

    # --- opening ---------------------------------------------------------------------------------------
    # One process at a time on a run. The lock is on the ledger file itself, so a symlink or a hard link to the
    # ledger meets the same lock as its own name. Linux keeps flock(2) apart from the POSIX locks SQLite takes on
    # the same file; where the two kinds meet (macOS, the BSDs) the lock is a file beside the ledger's real path
    # instead, which a symlink finds too (a hard link does not).
    @staticmethod
    def _lock_path(path: Path) -> Path:
        return Path(os.path.realpath(path.parent)) / (path.name + ".lock")

    @classmethod
    def _side_lock(cls, path: Path) -> tuple[int, bool]:
        """The lock file beside `path` (its folder's links resolved): taken by whoever makes a ledger there. Returns
        its descriptor, locked, and whether this call made the file (then the maker removes it when it gives up)."""
        lock_path = cls._lock_path(path)
        # a look by another process (being_made) holds it for a moment only: wait that moment out
        for _ in range(50):
            made = False
            try:
                try:
                    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                    made = True
                except FileExistsError:
                    fd = os.open(lock_path, os.O_RDWR | os.O_NOFOLLOW)
            except FileNotFoundError:  # removed by its maker between the two opens: make it again
                continue
            except OSError as exc:
                raise LedgerError(f"cannot open the ledger {path}: {exc.strerror}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                time.sleep(0.01)
                continue
            # its maker may have removed the file between our open and our lock: a lock on a file no longer at the
            # path guards nothing (the next maker makes a new one), so take the one that is there
            try:
                here = os.stat(lock_path, follow_symlinks=False)
            except FileNotFoundError:
                here = None
            mine = os.fstat(fd)
            if here is not None and (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
                return fd, made
            os.close(fd)
        raise LedgerUnavailable.held(path) from None

    @classmethod
    def _hold(cls, path: Path) -> int:
        """The run's lock on an existing ledger, however it is named."""
        if not _LOCK_THE_FILE:
            return cls._side_lock(Path(os.path.realpath(path)))[0]
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise LedgerError(f"cannot open the ledger {path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LedgerUnavailable.held(path) from None
        return fd

    @staticmethod
    def running(path: str | os.PathLike[str]) -> bool:
        """Whether a process holds the run's lock of the ledger at `path` now (a load or resume under way)."""
        if ledger_pg.is_url(str(path)) or not _LOCK_THE_FILE:
            return Ledger.being_made(path)  # the one lock, held from making the ledger to the run's end
        return _locked(Path(path))

    @staticmethod
    def being_made(path: str | os.PathLike[str]) -> bool:
        """Whether a process is making a ledger at `path` right now (it holds the lock file beside it; a
        PostgreSQL ledger's lock)."""
        if ledger_pg.is_url(str(path)):
            return ledger_pg.being_made(str(path))
        return _locked(Ledger._lock_path(Path(path)))

    @classmethod
    def _connect(cls, path: Path, fd: int) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            os.close(fd)
            if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):  # SQLite: "unable to open"
                raise LedgerError(f"cannot open the ledger {path} ({exc}){_unwritable(path)}; {_NOTHING}") from exc
            if write_refused(exc) or disk_full(path):
                raise WritesRefused(
                    f"cannot open the ledger {path} ({exc}): {_room(path)}, then run the command again: nothing was "
                    "sent"
                ) from exc
            raise LedgerError(f"{path} is not a bulkload ledger ({exc})") from exc
        return conn

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        run: RunInfo,
        prepare: Callable[[sqlite3.Connection], None] | None = None,
        claim: Callable[[], None] | None = None,
        again: str = "",
        over: Callable[[Ledger], bool] | None = None,
    ) -> Ledger:
        """A new ledger holding `run`. Built under another name and renamed into place once complete, so a
        process killed while creating it leaves no half-made ledger behind. `prepare` writes what must be in the
        ledger before it exists (the whole-file decisions): an error it raises leaves no ledger either. `claim` is
        called first, holding the lock no other maker of this path gets: what it checks and records (the record of
        loads) is one step with the making of this ledger. `again`: what the refusal of a path that holds a run says
        after "use resume to continue it" (again.load_again: how to load its files again as a new run, or why not);
        default ANOTHER_LEDGER. `over`: whether the run of the ledger at the path (given opened, under its run's
        lock) is started over; asked once `prepare` has passed, so that a refusal before then leaves that ledger
        as it was. Where it says so, that ledger goes and this one takes its place; else, or without `over`, a
        path that holds a ledger is refused (LedgerError)."""
        if ledger_pg.is_url(path):
            return cls._create_pg(ledger_pg.Location.parse(str(path)), run, prepare, claim, over)
        _check_sqlite()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        guard, made = cls._side_lock(path)
        fd = -1
        draft = path.with_name(f".{path.name}.{os.getpid()}.draft")
        try:
            if path.exists() and over is None:
                raise path_taken(path, again)
            # holding the lock, every draft of this path is a dead process's: gone with it
            for stale in path.parent.glob(f".{glob.escape(path.name)}.*.draft*"):
                stale.unlink(missing_ok=True)
            if claim is not None:
                claim()
            # made here, readable by the user only (SQLite gives its journal and WAL the same mode), never through a
            # link; on Linux its lock is the run's lock from now on, and moves with the file when it is renamed
            fd = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            if _LOCK_THE_FILE:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            conn = sqlite3.connect(draft, isolation_level=None)
            try:
                with conn:
                    conn.execute("BEGIN")
                    for statement in STATEMENTS:
                        conn.execute(statement)
                    # the file the run is tied to: a rename keeps its device and inode, a copy does not
                    st = os.fstat(fd)
                    home = {
                        "ledger": os.path.join(os.path.realpath(path.parent), path.name),
                        "dev": st.st_dev,
                        "ino": st.st_ino,
                    }
                    conn.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [*_versions(), ("run", _json(run.__dict__)), ("home", _json(home))],
                    )
                if prepare is not None:  # on the draft, in transactions of its own: the draft is no ledger yet
                    prepare(conn)
            finally:
                conn.close()
            if over is not None and path.exists():
                cls._start_over(path, over, again)
            os.replace(draft, path)
        except BaseException as exc:
            if made:  # no ledger was made: the lock file made for it goes too, removed while it is held
                cls._lock_path(path).unlink(missing_ok=True)
            os.close(guard)
            if fd >= 0:
                os.close(fd)
                draft.unlink(missing_ok=True)
            if isinstance(exc, OSError | sqlite3.Error) and write_refused(exc):
                raise WritesRefused(
                    f"cannot create the ledger {path}: {exc}: {_room(path)}, then run the command again: nothing was "
                    "sent"
                ) from exc
            if isinstance(exc, OSError | sqlite3.Error):
                raise LedgerError(f"cannot create the ledger {path}: {exc}") from exc
            raise
        if _LOCK_THE_FILE:
            os.close(guard)  # the file's own lock holds the run now; the path is taken
            lock = fd
        else:
            os.close(fd)
            lock = guard
        made_ledger = cls(path, cls._connect(path, lock), lock)
        made_ledger._ours = True  # made here, of this version
        return made_ledger

    @classmethod
    def _start_over(cls, path: Path, over: Callable[[Ledger], bool], again: str) -> None:
        """Ledger.create's `over` for the ledger file at `path`: removed where it says so, path_taken otherwise.
        Called holding the lock of the path's making, which is the run's lock but on Linux: there the file's own,
        taken here (LedgerUnavailable while a resume holds it)."""
        lock = cls._hold(path) if _LOCK_THE_FILE else -1
        try:
            old = cls._checked(path, sqlite3.connect(path, isolation_level=None, check_same_thread=False), -1)
            try:
                if not over(old):
                    raise path_taken(path, again)
            finally:
                old.close()
            for suffix in ("", "-wal", "-shm", "-journal"):  # while its lock is held: no resume can start on it
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        finally:
            if lock >= 0:
                os.close(lock)

    @classmethod
    def _create_pg(
        cls,
        where: ledger_pg.Location,
        run: RunInfo,
        prepare: Callable[[sqlite3.Connection], None] | None,
        claim: Callable[[], None] | None,
        over: Callable[[Ledger], bool] | None,
    ) -> Ledger:
        """Ledger.create in PostgreSQL: under the ledger's advisory lock, made as a draft schema and renamed into
        place once `prepare` has written what must be in it (and `over` has said a ledger there starts over)."""
        where.check_new()
        conn = ledger_pg.connect(where)
        ledger_pg.hold(conn, where)
        taken = LedgerError(
            f"the ledger {where} already holds a run; use `{command_on('resume', where)}` to continue it, "
            "or choose another ledger name (?ledger=NAME; for a run that finished or was rolled back, resume "
            "has nothing to do)"
        )
        try:
            if ledger_pg.exists(conn, where.schema):
                why = ledger_pg.not_a_ledger(conn, where.schema)
                if why is not None:  # left as it is
                    raise LedgerError(f"{where} is not a bulkload ledger ({why}): choose another ledger name")
                if over is None:
                    raise taken
            if claim is not None:
                claim()
            if "ledger" in run.settings:  # its name, never its password
                run.settings = {**run.settings, "ledger": where.display}
            meta = [*_versions(), ("run", _json(run.__dict__))]
            ledger_pg.make(conn, where, STATEMENTS, meta)
            db = cast(sqlite3.Connection, conn)
            if prepare is not None:
                prepare(db)
            if over is not None and ledger_pg.exists(conn, where.schema):
                # read on a connection of its own, under the lock this one holds
                old = ledger_pg.connect(where)
                ledger_pg.open_existing(old, where)
                held = cls._checked(where, cast(sqlite3.Connection, old), -1)
                try:
                    if not over(held):
                        raise taken
                finally:
                    held.close()
                ledger_pg.drop(conn, where)
            ledger_pg.publish(conn, where)
            ledger = cls(where, db, -1)
            ledger.set_home(ledger.identity())
        except BaseException:
            ledger_pg.discard_draft(conn, where)
            raise
        return ledger

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, to_write: bool = False) -> Ledger:
        """The ledger at `path` (a file's path, relative to the working directory, or a PostgreSQL ledger's URL),
        locked for this process; its `path` is absolute. LedgerError where there is none, for a file that is no
        ledger (not_a_ledger: left as it is) or another version's, and with `to_write` (a command that goes on with
        the run: resume, reconcile, rollback) for a SQLite ledger this process cannot write, naming a read-only mount
        or the permission it lacks (before, such a ledger opened with a -wal beside it stopped the command at its
        first write, exit 4, where a resume was refused, exit 2); LedgerUnavailable while another process holds
        it."""
        where: Path | ledger_pg.Location
        if ledger_pg.is_url(path):
            where = ledger_pg.Location.parse(str(path))
            conn = ledger_pg.connect(where)
            ledger_pg.hold(conn, where)
            ledger_pg.open_existing(conn, where)
            fd, db = -1, cast(sqlite3.Connection, conn)
        else:
            _check_sqlite()
            where = Path(path).absolute()  # named so in every way on: found again from any folder
            if not where.is_file():
                if Ledger.being_made(where):  # a load is making it now: there once that load has read its files
                    raise LedgerUnavailable(
                        f"the ledger {where} is being made by another bulkload process (a load under way): once it "
                        "has ended, run this command again"
                    )
                raise LedgerError(f"no ledger at {where}{_left_beside(where) or did_you_mean(where) or _way_to(where)}")
            fd = cls._hold(where)
            why = not_a_ledger(where)
            if why is not None:  # refused before SQLite opens it to write: it is left as it is
                os.close(fd)
                raise LedgerError(f"{where} is not a bulkload ledger ({why}){ledger_beside(where)}")
            if to_write and ledger_unwritable(where):
                os.close(fd)
                raise LedgerError(f"cannot write the ledger {where}{_unwritable(where)}; {_NOTHING}")
            db = cls._connect(where, fd)
        return cls._checked(where, db, fd)

    @classmethod
    def _checked(cls, path: Path | ledger_pg.Location, conn: sqlite3.Connection, fd: int) -> Ledger:
        """The ledger opened, once its schema is found to be this version's (LedgerError otherwise)."""
        ledger = cls(path, conn, fd)
        try:
            version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            advice = wal_advice(path, exc)  # before the close, which may take the -wal away
            ledger.close()
            if advice:
                raise LedgerError(f"SQLite cannot read the ledger {path}: {exc}. {advice}") from exc
            raise LedgerError(f"{path} is not a bulkload ledger ({exc})") from exc
        if version is None or int(version[0]) != SCHEMA_VERSION:
            ledger.close()
            raise LedgerError(f"{path} was written by another bulkload version (schema {version and version[0]})")
        try:
            ledger._add_columns()
            ledger._renew_checks()
        except BaseException:
            ledger.close()
            raise
        ledger._ours = True
        return ledger

    @_writes
    def _renew_checks(self) -> None:
        """A ledger whose line checks and group digests are of an earlier version (model.CHECKS_VERSION) keeps
        none: its lines are compared by amount, and its groups by their lines and totals, from now on; those made
        from here on are of this version, and the ledger says so. One whose checks no version since changed the
        making of (`_checks_of`: e-conomic's of 5) keeps them, and the version it says."""
        if _checks_of(self._db, "") == CHECKS_VERSION:
            return
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("UPDATE created SET line_check = NULL WHERE line_check IS NOT NULL")
            self._db.execute(
                "UPDATE skip_groups SET digest = NULL, also_checks = NULL WHERE digest IS NOT NULL "
                "OR also_checks IS NOT NULL"
            )
            self._db.execute("UPDATE groups SET digest = 0")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('checks', ?)", (str(CHECKS_VERSION),))

    @_writes
    def _add_columns(self) -> None:
        """A ledger made before its calls' lookalikes were kept (2026-12) gets their column (`looks`); the calls it
        holds have none: unknown, each is a `rival` of every call of its kind. One made before what a call's records
        held was kept (`held`, 2026-12) gets that column; the calls it holds have none: a look after a lost answer of
        one cannot tell it was not carried out (in doubt, as that version had it). One made before the checks of a
        group's lines as there with a field the API also sets itself were kept (`also_checks`, model.Known.also;
        2026-12) gets that column; the groups it holds have none: their lines' rates are not compared. One made before
        the reason a family given with a line it loaded changed or left out is rejected for was kept (skip_lines'
        `differs`, 2026-12) gets that column; the lines it holds have none: their families are not rejected so. One
        made before the checks of a call's rows of no group were kept as it left (`checks`, 2026-12) gets that
        column; its calls have none: a later load cannot tell their rows in doubt. One made before the lines of a
        family an earlier run left in doubt were told (skip_lines' `in_doubt`, 2026-12) gets that column; the lines it
        holds have none: they were loaded. One made before when its calls were sent was kept by the clock since boot
        too (chunks' `sent_boot`, 2026-12) gets that column; the calls it holds have none: their keys' ages are told
        by the wall clock (instants.age)."""
        for table, column, kind in (
            ("chunks", "looks", "BLOB"),
            ("chunks", "held", "BLOB"),
            ("chunks", "checks", "BLOB"),
            ("chunks", "sent_boot", "TEXT"),
            ("skip_groups", "also_checks", "BLOB"),
            ("skip_lines", "differs", "TEXT"),
            ("skip_lines", "in_doubt", "INTEGER"),
        ):
            if _has(self._db, "", table) and not _has(self._db, "", table, column):
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def close(self) -> None:
        """Close the ledger; a SQLite one is first checkpointed whole into its one file (tester t34a: a run that
        skipped groups ended with the whole run in FILE-wal, and a copy of the file alone was a ledger of nothing,
        which `reconcile` called reconciled), as far as no other connection reads it (a busy checkpoint is left)."""
        if self._sent is not None:
            self._sent.close()
        if self._ours and not self.can_be_lost:
            with suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)

    @property
    def lost(self) -> bool:
        """Whether the ledger's connection is gone (PostgreSQL's, ledger_pg.ConnectionLost: the server restarted,
        the session terminated): it can be neither read nor written now. Never for a SQLite ledger."""
        return bool(getattr(self._db, "lost", False))

    @property
    def can_be_lost(self) -> bool:
        """Whether the ledger's connection can go (`lost`) while a run goes on: a PostgreSQL ledger's."""
        return isinstance(self.path, ledger_pg.Location)

    # --- the run --------------------------------------------------------------------------------------
    @property
    def run(self) -> RunInfo:
        (raw,) = self._db.execute("SELECT value FROM meta WHERE key='run'").fetchone()
        return RunInfo(**_decode(raw))

    @_writes
    def set_status(self, status: str, interrupted: str = "") -> None:
        """The run's status; `interrupted`: how an interrupt stopped it (RunInfo.interrupted)."""
        self._update_run(status=status, interrupted=interrupted)

    @_writes
    def set_rejects_written(self, digests: dict[str, str]) -> None:
        """The hex SHA-256 of each rejects file the run wrote now, by path (RunInfo.rejects_written)."""
        self._update_run(rejects_written=digests)

    @_writes
    def set_settings(self, settings: dict[str, Any]) -> None:
        """The job's settings as a resume changed them (a raised daily quota): later commands run with these."""
        self._update_run(settings=settings)

    def created_nothing(self) -> bool:
        """Whether nothing this run sent can have been carried out: no call done, in flight or in doubt, no record
        created (a call the API refused, or never got, created nothing)."""
        (any_sent,) = self._db.execute(_ANY_SENT).fetchone()
        return not any_sent

    def answered_before(self) -> bool:
        """Whether the API at the run's address answered its calls before (an earlier process of it): a call done, a
        record created or removed, a baseline read. A refused connection there is then the API down for a while,
        not a wrong address (http.Client `answered`)."""
        (answered,) = self._db.execute(
            "SELECT EXISTS (SELECT 1 FROM chunks WHERE state = 'done') OR EXISTS (SELECT 1 FROM created) "
            "OR EXISTS (SELECT 1 FROM removed) OR EXISTS (SELECT 1 FROM baselines)"
        ).fetchone()
        return bool(answered)

    @_writes
    def repoint(self, base_url: str) -> None:
        """The run goes on at another address (it created nothing at the first: see `created_nothing`). What was
        read from the first address goes: the baselines, the groups it held, and that it was asked for them
        (what earlier loads into the new address did with the run's groups is learned by the caller, as a resume of
        a run that created nothing learns it: runner._learn_again)."""
        families = _has(self._db, "", "skip_families")  # asked outside the transaction: PostgreSQL would end it
        lines = _has(self._db, "", "skip_lines")
        unsent = _has(self._db, "", "unsent_lines")
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM baselines")
            self._db.execute("DELETE FROM skip_groups")
            if families:
                self._db.execute("DELETE FROM skip_families")
            if lines:
                self._db.execute("DELETE FROM skip_lines")
            if unsent:
                self._db.execute("DELETE FROM unsent_lines")
            self._db.execute("DELETE FROM meta WHERE key LIKE 'phase:%'")
            self._update_run(base_url=base_url, settings={**self.run.settings, "base_url": base_url})

    @_writes
    def set_options(self, options: dict[str, Any]) -> None:
        """The target's options after its setup looked things up: resume plans with exactly these."""
        self._update_run(options=options)

    @property
    def workdir(self) -> str:
        """Where the run's scratch files go (a regroup's spill file): beside a SQLite ledger, else the temporary
        folder."""
        if isinstance(self.path, ledger_pg.Location):
            return tempfile.gettempdir()
        return str(self.path.parent)

    @property
    def reader(self) -> str:
        """What another process opens to read this ledger (planning's skip_groups, read-only): the SQLite file's
        path, or the PostgreSQL URL it was opened with (ledger_pg.reader)."""
        return self.path.url if isinstance(self.path, ledger_pg.Location) else str(self.path)

    # --- the file the run is tied to (see ledger_home.check_home) ---------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """This file: its real path, device and inode (in PostgreSQL: its URL, the database's and schema's OIDs)."""
        if isinstance(self.path, ledger_pg.Location):
            return ledger_pg.identity(cast(ledger_pg.Connection, self._db), self.path)
        st = os.stat(self.path)
        return {"ledger": os.path.realpath(self.path), "dev": st.st_dev, "ino": st.st_ino}

    @property
    def home(self) -> dict[str, Any] | None:
        """The file the run is tied to, as this ledger last knew it (a copy carries its original's)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='home'").fetchone()
        return None if row is None else dict(_decode(row[0]))

    @_writes
    def set_home(self, home: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('home', ?)", (_json(home),))

    # --- the account the run writes into (see account.py) -----------------------------------------------------
    @property
    def account(self) -> dict[str, str] | None:
        """The fingerprint of the account the run writes into, {"salt": hex, "fingerprint": hex}; None in a ledger
        made before it was kept."""
        row = self._db.execute("SELECT value FROM meta WHERE key='account'").fetchone()
        return None if row is None else dict(_decode(row[0]))

    @_writes
    def set_account(self, account: dict[str, str]) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('account', ?)", (_json(account),))

    def adopted(self) -> dict[str, Any] | None:
        """Set when this ledger is a copy adopted after the run's own ledger was lost (`adopt`)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='adopted'").fetchone()
        return None if row is None else dict(_decode(row[0]))

    @_writes
    def adopt(self, copy_of: str, state: str) -> None:
        """This copy becomes the run's ledger. The run may have sent, after the copy was made, every call the copy
        does not know the outcome of: those it holds as not sent (`pending`) become `state` ("in_doubt", or
        "sending" where a stored key may be replayed), and each open call may have left as late as now."""
        now = time.time()
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('adopted', ?)", (_json({"copy_of": copy_of, "at": now}),)
            )
            self._db.execute(
                "UPDATE chunks SET state=?, sent_boot=CASE WHEN sent_at IS NULL THEN ? ELSE sent_boot END,"
                " sent_at=COALESCE(sent_at, ?), error=? WHERE state='pending'",
                (
                    state,
                    self.run.created_boot,
                    self.run.created,
                    "not sent in this copy; the run may have sent it after the copy was made",
                ),
            )
            self._db.execute("UPDATE chunks SET updated=? WHERE state IN ('sending', 'in_doubt')", (now,))

    def _groups(self, seq: int, part: str, groups: Sequence[GroupInfo], *, replace: bool) -> None:
        """The groups a chunk carries (inside the caller's transaction); `replace`: a resend's word counts."""
        self._db.executemany(
            f"INSERT OR {'REPLACE' if replace else 'IGNORE'} INTO groups VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (g.key, seq, part, g.lines, str(g.total), str(g.debit), str(g.imbalance), g.digest)
                for g in groups
                if g.key
            ],
        )

    @_writes
    def unseen(
        self,
        seq: int,
        part: str,
        file_idx: int,
        key: str,
        lines: Sequence[int],
        body_hash: str,
        state: str,
        groups: Sequence[GroupInfo] = (),
        looks: bytes | None = None,
        checks: Sequence[int] | None = None,
    ) -> None:
        """A call an adopted copy never saw: the run may have sent it (with `key`) any time since it began.
        `looks`, `checks`: as `sending`'s (a later load holds in doubt the rows of no group it gives again)."""
        now = time.time()
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR IGNORE INTO chunks (seq, part, file_idx, key, state, attempts, n_rows, lines, body_hash,"
                " error, updated, sent_at, sent_boot, looks, checks)"
                " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    part,
                    file_idx,
                    key,
                    state,
                    len(lines),
                    array("i", lines).tobytes(),
                    body_hash,
                    "not in the copy of the ledger; the run may have sent it after the copy was made",
                    now,
                    self.run.created,
                    self.run.created_boot,
                    looks,
                    _checks_blob(checks),
                ),
            )
            self._groups(seq, part, groups, replace=False)

    def _update_run(self, **fields: Any) -> None:
        run = self.run
        for name, value in fields.items():
            setattr(run, name, value)
        self._db.execute("UPDATE meta SET value=? WHERE key='run'", (_json(run.__dict__),))

    # --- chunks ---------------------------------------------------------------------------------------
    def chunks(self) -> dict[tuple[int, str], ChunkRow]:
        return {
            (seq, part): ChunkRow(state, key, attempts, body_hash, sent_at, boot)
            for seq, part, state, key, attempts, body_hash, sent_at, boot in self._db.execute(
                "SELECT seq, part, state, key, attempts, body_hash, sent_at, sent_boot FROM chunks"
            )
        }

    @_writes
    def sending(
        self,
        seq: int,
        part: str,
        file_idx: int,
        key: str,
        lines: Sequence[int],
        body_hash: str,
        calls: dict[int, int],
        groups: Sequence[GroupInfo] = (),
        looks: bytes | None = None,
        held: bytes | None = None,
        checks: Sequence[int] | None = None,
        *,
        waits: bool = False,
    ) -> None:
        """Record the key (and the chunk's groups) before the request leaves; counts one more attempt on a
        resend. A group follows the chunk that carries it, so its state is the chunk's. `looks`: what a look for
        the call's records compares (RecordKind.lookalikes; see `rival`). `held`: what the records the call writes
        held when this attempt was built (model.Call.held), for the look after a lost answer (`held_before`). `checks`:
        the line checks of its rows of no group (chunking.record_check), where the kind keeps them: a later load
        tells a row that gives one again while the call is in doubt (rows_known_to). A
        `pending` chunk's reason (an attempt never sent, or not carried out) goes: it is not why this one is in doubt;
        an `in_doubt` one's stays until what this attempt does is recorded. `waits`: the call has yet to wait for its
        place in the limits (a rolling window may hold it minutes), and no earlier attempt of it may have left: it
        is recorded `pending`, with its key, no attempt counted, until `leaves` (a kill -9 meanwhile leaves it not
        sent, for resume to send without a look)."""
        at = Instant.now()
        now = at.wall
        state, attempts, sent_at, sent_boot = ("pending", 0, None, None) if waits else ("sending", 1, now, at.boot)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO chunks (seq, part, file_idx, key, state, attempts, n_rows, lines, body_hash, updated,"
                " sent_at, sent_boot, looks, held, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (seq, part) DO UPDATE SET state=excluded.state,"
                " attempts=chunks.attempts+excluded.attempts,"
                " error=CASE WHEN chunks.state='pending' THEN NULL ELSE chunks.error END,"
                " updated=excluded.updated, sent_at=COALESCE(chunks.sent_at, excluded.sent_at),"
                " sent_boot=CASE WHEN chunks.sent_at IS NULL THEN excluded.sent_boot ELSE chunks.sent_boot END,"
                " looks=excluded.looks, held=excluded.held, checks=excluded.checks",
                (seq, part, file_idx, key, state, attempts, len(lines), array("i", lines).tobytes(), body_hash, now)
                + (sent_at, sent_boot, looks, held, _checks_blob(checks)),
            )
            self._groups(seq, part, groups, replace=True)
            self._save_calls(calls)
        if not waits:
            self._count_sends(1)

    @_writes
    def leaves(self, seq: int, part: str) -> None:
        """The chunk's call, recorded `pending` while it waited for the limits (`sending` with `waits`), leaves now
        (its request is about to be written): `sending`, one more attempt, sent from now. LedgerWriteError when the
        ledger cannot record it: the call must not leave then."""
        now = Instant.now()
        self._db.execute(
            "UPDATE chunks SET state='sending', attempts=attempts+1, updated=?,"
            " sent_boot=CASE WHEN sent_at IS NULL THEN ? ELSE sent_boot END, sent_at=COALESCE(sent_at, ?) "
            "WHERE seq=? AND part=? AND state='pending'",
            (now.wall, now.boot, now.wall, seq, part),
        )
        self._count_sends(1)

    def later_write(self, file_idx: int, lines: Sequence[int], ids: Sequence[int]) -> tuple[int, int] | None:
        """(file index, line) of the first row after `lines` (of file `file_idx`, in the run's file order) recorded
        as having changed one of the records `ids` (a done call's), or None."""
        marks = ",".join("?" * len(ids))
        row = self._db.execute(
            f"SELECT MIN(loc) FROM created WHERE loc > ? AND id IN ({marks})",
            ((file_idx << LOC_SHIFT) + max(lines), *ids),
        ).fetchone()
        return None if row is None or row[0] is None else _file_line(int(row[0]))

    def held_before(self, seq: int, part: str) -> bytes | None:
        """What the records the chunk's call writes held when its latest attempt was built (`sending`'s `held`),
        whichever process sent it; None where none was kept (a kind that keeps none, a call recorded by a bulkload
        that kept none, or never sent)."""
        row = self._db.execute("SELECT held FROM chunks WHERE seq=? AND part=?", (seq, part)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def sent(self, seq: int, part: str) -> Instant | None:
        """When the chunk's key was first sent, by both clocks; None if never."""
        row = self._db.execute("SELECT sent_at, sent_boot FROM chunks WHERE seq=? AND part=?", (seq, part)).fetchone()
        return None if row is None or row[0] is None else Instant(float(row[0]), row[1])

    def sent_at(self, seq: int, part: str) -> float | None:
        """When the chunk's key was first sent (epoch seconds); None if never."""
        row = self._db.execute("SELECT sent_at FROM chunks WHERE seq=? AND part=?", (seq, part)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def error_of(self, seq: int, part: str) -> str:
        """Why the chunk is in its state (a call in doubt, refused), as recorded; "" for no reason recorded."""
        row = self._db.execute("SELECT error FROM chunks WHERE seq=? AND part=?", (seq, part)).fetchone()
        return "" if row is None or row[0] is None else str(row[0])

    def _count_sends(self, n: int) -> None:
        """`n` more sends committed a moment ago: counted outside the ledger too (sent_count)."""
        if self._sent is not None:
            self._sent.add(n)
        elif self._lock_fd >= 0:  # SQLite: its latest writes can be lost with its -wal (PostgreSQL keeps them)
            self._sent = SentCount(self.run.key_prefix, self.sends())

    def sends(self) -> int:
        """How many times this run recorded a call as sending (resends counted) or a DELETE as leaving (a
        rollback's "removing"): it only grows, unless the ledger lost writes (see sent_count)."""
        (n,) = self._db.execute(
            "SELECT COALESCE(SUM(attempts), 0) + COALESCE((SELECT CAST(value AS INTEGER) FROM meta "
            "WHERE key = 'removes'), 0) FROM chunks"
        ).fetchone()
        return int(n)

    @_writes
    def leaving(self, seq: int, part: str) -> None:
        """An attempt of a chunk in flight leaves now (after the waits for the limits, a resend after a look):
        a rollback after a kill counts the settle delay of a lost answer from the latest one."""
        self._db.execute(
            "UPDATE chunks SET updated=? WHERE seq=? AND part=? AND state='sending'", (time.time(), seq, part)
        )

    @_writes
    def done(
        self,
        seq: int,
        part: str,
        file_idx: int,
        lines: Sequence[int],
        ids: Sequence[int],
        summary: dict[str, Totals],
        calls: dict[int, int],
        returned: dict[str, Totals] | None = None,
        checks: Sequence[int] | None = None,
        *,
        wrote: bool = True,
    ) -> None:
        """`summary`: control totals of what was sent; `returned`: of what the API answered, where it says;
        `checks`: each line's RecordKind.line_check, where the kind compares lines. `wrote`: False where a look
        settled the call and no write of it was sent now (an earlier process's, looked up): the time its write last
        left stands (`updated`, which Ledger.last_write and an open call's last_sent go by)."""
        with self._db:
            self._db.execute("BEGIN")
            self._done(seq, part, file_idx, lines, Created(ids, summary, checks), returned, wrote)
            self._save_calls(calls)

    def _done(
        self,
        seq: int,
        part: str,
        file_idx: int,
        lines: Sequence[int],
        created: Created,
        returned: dict[str, Totals] | None,
        wrote: bool,
    ) -> None:
        """Ledger.done's writes, in the caller's transaction."""
        self._db.execute(
            "UPDATE chunks SET state='done', summary=?, returned=?, error=NULL, updated=COALESCE(?, updated) "
            "WHERE seq=? AND part=?",
            (_json(created.summary), returned and _json(returned), time.time() if wrote else None, seq, part),
        )
        # every source line -> the id it became (lines merged into one entry share it). One bound column
        # less per row is ~0.8 µs less per row: the file index rides in the high bits of the line
        base = file_idx << LOC_SHIFT
        locs = [base + ln for ln in lines]
        if created.checks is None:
            self._db.executemany("INSERT OR IGNORE INTO created (loc, id) VALUES (?, ?)", zip(locs, created.ids))
        else:
            self._db.executemany(
                "INSERT OR IGNORE INTO created VALUES (?, ?, ?)", zip(locs, created.ids, created.checks)
            )

    @_writes
    def settle(
        self, seq: int, part: str, state: ChunkState, error: str, calls: dict[int, int], *, wrote: bool = True
    ) -> None:
        """Close a chunk without ids: `in_doubt`, or back to `pending` when the API refused it unread. `wrote`: as
        `done`'s (False: a look settled it, no write sent now). LedgerError for a move model.TRANSITIONS does not
        allow (a chunk already settled)."""
        with self._db:
            self._db.execute("BEGIN")
            now = self._db.execute("SELECT state FROM chunks WHERE seq=? AND part=?", (seq, part)).fetchone()
            if now is not None and state not in TRANSITIONS[now[0]]:
                raise LedgerError(f"chunk {seq}{'.' + part if part else ''} is {now[0]}: it cannot become {state}")
            self._db.execute(
                "UPDATE chunks SET state=?, error=?, updated=COALESCE(?, updated) WHERE seq=? AND part=?",
                (state, redact(error), time.time() if wrote else None, seq, part),
            )
            self._save_calls(calls)

    @_writes
    def explain(self, seq: int, part: str, error: str) -> None:
        """A new reason for a chunk in doubt, which stays so."""
        self._db.execute(
            "UPDATE chunks SET error=? WHERE seq=? AND part=? AND state='in_doubt'", (redact(error), seq, part)
        )

    @_writes
    def split(
        self,
        seq: int,
        part: str,
        file_idx: int,
        error: str,
        rejected: Sequence[RowOutcome],
        children: Sequence[Child],
        calls: dict[int, int],
        *,
        wrote: bool = True,
    ) -> None:
        """The API refused a chunk (or stored only some of its rows): its bad rows are rejected and the rest planned
        as child chunks, each in its state (Child), all in one transaction so a crash cannot lose a row in between,
        nor leave a child in doubt `pending` for a resume to send without the user's word, nor one the call stored
        unrecorded (in doubt, for a resend on the user's word to store again). `wrote`: False where a look split it,
        no write sent by this process (the time of the chunk's last write stays its call's, as Ledger.settle's)."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "UPDATE chunks SET state=?, error=?, updated=COALESCE(?, updated) WHERE seq=? AND part=?",
                ("split" if children else "rejected", redact(error), time.time() if wrote else None, seq, part),
            )
            self._db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?)", _redacted(rejected))
            self._db.executemany(
                "INSERT OR IGNORE INTO chunks (seq, part, file_idx, key, state, attempts, n_rows, lines, body_hash,"
                " error, updated, looks, checks) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (seq, c.part, file_idx, c.key, c.state, len(c.lines), array("i", c.lines).tobytes(), c.body_hash)
                    + (c.error and redact(c.error), time.time(), c.looks, _checks_blob(c.checks))
                    for c in children
                ],
            )
            for c in children:
                if c.state != "pending":  # never sent: its groups' state is its own from now on
                    self._groups(seq, c.part, c.groups, replace=True)
                if c.created is not None:
                    self._done(seq, c.part, file_idx, c.lines, c.created, None, True)
            self._save_calls(calls)

    def children(self, seq: int, part: str) -> list[tuple[str, list[int]]]:
        """The chunks planned in place of a split one: (part, line numbers)."""
        out = []
        for child, blob in self._db.execute(
            "SELECT part, lines FROM chunks WHERE seq=? AND length(part)=? AND substr(part, 1, ?)=? ORDER BY part",
            (seq, len(part) + 1, len(part), part),
        ):
            lines = _lines(blob)
            out.append((child, lines.tolist()))
        return out

    def chunk_lines(self, state: str) -> Iterator[tuple[int, int, str, str]]:
        """(file_idx, line_no, key, error) of every row in chunks in `state`."""
        for file_idx, blob, key, error in self._db.execute(
            "SELECT file_idx, lines, key, error FROM chunks WHERE state=? ORDER BY seq, part", (state,)
        ):
            lines = _lines(blob)
            for line in lines:
                yield file_idx, line, key, error or ""

    # --- rows that did not load -------------------------------------------------------------------------
    @_writes
    def add_rows(self, rows: Iterable[RowOutcome]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?)", _redacted(rows))

    def in_doubt_lines(self) -> Iterator[tuple[int, int, str, str]]:
        """(file_idx, line_no, key, error) of every row in doubt: those of calls sent (or held back) and never
        settled, then those in doubt without a call of this run (`rows_in_doubt`). The in-doubt file's rows."""
        yield from self.chunk_lines("sending")
        yield from self.chunk_lines("in_doubt")
        yield from self.rows_in_doubt()

    def rows_in_doubt(self) -> Iterator[tuple[int, int, str, str]]:
        """(file_idx, line_no, "", reason) of rows in doubt without a call of this run: an earlier run's group, or a
        row an adopted copy cannot check (errors.RowInDoubt)."""
        for row in self.rows("in_doubt"):
            yield row.file_idx, row.line_no, "", row.reason

    def rows(self, bucket: str | None = None) -> Iterator[RowOutcome]:
        sql = "SELECT * FROM rows" + (" WHERE bucket=?" if bucket else "") + " ORDER BY file_idx, line_no"
        for row in self._db.execute(sql, (bucket,) if bucket else ()):
            yield RowOutcome(*row)

    # --- figures --------------------------------------------------------------------------------------
    def figures(self) -> Figures:
        """Where the run's rows are, as its ledger holds them: loaded (calls done), rejected, in doubt (calls
        sending or in doubt, and groups of earlier runs in doubt), skipped (an earlier load created their group), and
        not yet sent: the rest of the rows the inspection counted in its inputs (its profiles), not read yet or
        planned and not sent (`pending`); None for a ledger without them. What the load, resume and reconcile
        commands report of one ledger."""
        counts = dict(self._db.execute("SELECT bucket, COUNT(*) FROM rows GROUP BY bucket").fetchall())
        for state, n in self._db.execute("SELECT state, SUM(n_rows) FROM chunks GROUP BY state"):
            if state == "done":
                counts["loaded"] = counts.get("loaded", 0) + n
            elif state in ("sending", "in_doubt"):
                counts["in_doubt"] = counts.get("in_doubt", 0) + n
        settled = sum(counts.values())
        profiles = self.profiles()
        left = None if profiles is None else max(0, sum(int(p.get("rows", 0)) for p in profiles) - settled)
        return Figures(
            loaded=counts.get("loaded", 0),
            rejected=counts.get("rejected", 0),
            in_doubt=counts.get("in_doubt", 0),
            skipped=counts.get("skipped", 0),
            rows_not_sent=left,
        )

    def group_counts(self) -> dict[str, int]:
        """Groups per bucket (`loaded`, `rejected`, `skipped`): rows that share a group key (a voucher, a merged
        order), as the groups table holds the loaded ones; a row of no group (a Visma Core line booked as an entry of
        its own) is none (before, each counted as one rejected: "3 orders, each whole" for 3 lone lines, t24b)."""
        counts = dict(
            self._db.execute("SELECT bucket, COUNT(DISTINCT NULLIF(grp, '')) FROM rows GROUP BY bucket").fetchall()
        )
        (loaded,) = self._db.execute(
            "SELECT COUNT(*) FROM groups g JOIN chunks c ON c.seq = g.seq AND c.part = g.part WHERE c.state='done'"
        ).fetchone()
        return {"loaded": loaded, "rejected": counts.get("rejected", 0), "skipped": counts.get("skipped", 0)}

    def skipped_reasons(self, limit: int) -> list[str]:
        """Why groups were skipped (an earlier load created them), one reason per group, the first `limit`."""
        return [
            r
            for (r,) in self._db.execute(
                "SELECT reason FROM rows WHERE bucket = 'skipped' GROUP BY reason "
                "ORDER BY MIN((file_idx << 32) + line_no) LIMIT ?",
                (limit,),
            )
        ]

    def _loaded_groups(self) -> Iterator[tuple[str, int, int, int]]:
        """(key, lines, total, debit) of every group that loaded, in key order (for the per-group check), but those of
        calls a rollback took records of (`touched`)."""
        for key, lines, total, debit in self._db.execute(
            "SELECT g.key, g.lines, g.total, g.debit FROM groups g JOIN chunks c ON c.seq = g.seq AND c.part = g.part"
            f" WHERE c.state = 'done' AND {_UNTOUCHED} ORDER BY g.key"
        ):
            yield key, lines, int(total), int(debit)

    def group_differences(self, limit: int) -> tuple[int, list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]]:
        """How many groups this run loaded the walk (`add_remote`) did not find as they were sent (lines, sum,
        sum of debits), and the first `limit` as (key, sent, found) in key order; not those of calls a rollback took
        records of (`touched`: what is left of them is checked record by record). Done in SQL; when a sum is too
        large for SQLite's integers, in key order on both sides in Python, so memory stays flat either way."""
        try:
            return self._group_differences_sql(limit)
        except sqlite3.OperationalError:  # "integer overflow": sums past 2**63 minor units
            return self._group_differences_merged(limit)

    def _group_differences_sql(
        self, limit: int
    ) -> tuple[int, list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]]:
        n, listed = 0, list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]()
        for key, lines, total, debit, found_lines, found_total, found_debit in self._db.execute(
            "SELECT g.key, g.lines, g.total, g.debit, r.n, r.t, r.d FROM groups g "
            "JOIN chunks c ON c.seq = g.seq AND c.part = g.part "
            "LEFT JOIN (SELECT grp, COUNT(*) n, SUM(units) t, SUM(CASE WHEN units > 0 THEN units ELSE 0 END) d "
            "FROM remote WHERE grp != '' GROUP BY grp) r ON r.grp = g.key "
            f"WHERE c.state = 'done' AND {_UNTOUCHED} AND (r.n IS NULL OR r.n != g.lines "
            "OR CAST(r.t AS TEXT) != g.total OR CAST(r.d AS TEXT) != g.debit) ORDER BY g.key"
        ):
            n += 1
            if len(listed) < limit:
                found = (found_lines or 0, int(found_total or 0), int(found_debit or 0))
                listed.append((key, (lines, int(total), int(debit)), found))
        return n, listed

    def _group_differences_merged(
        self, limit: int
    ) -> tuple[int, list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]]:
        remote = self._remote_groups()
        here = next(remote, None)
        n, listed = 0, list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]()
        for key, lines, total, debit in self._loaded_groups():
            while here is not None and here[0] < key:
                here = next(remote, None)
            found = here[1:] if here is not None and here[0] == key else (0, 0, 0)
            if found != (lines, total, debit):
                n += 1
                if len(listed) < limit:
                    listed.append((key, (lines, total, debit), found))
        return n, listed

    def unbalanced(self, limit: int) -> tuple[int, list[tuple[str, dict[str, int] | int]]]:
        """How many loaded groups do not balance in the input, and the first `limit` (key, imbalance: currency ->
        minor units, or those summed over currencies as a ledger of an older bulkload kept them, model.imbalance_of)."""
        sql = (
            "FROM groups g JOIN chunks c ON c.seq = g.seq AND c.part = g.part "
            f"WHERE c.state = 'done' AND g.imbalance != '{NO_IMBALANCE}'"
        )
        (n,) = self._db.execute(f"SELECT COUNT(*) {sql}").fetchone()
        listed = self._db.execute(f"SELECT g.key, g.imbalance {sql} ORDER BY g.key LIMIT ?", (limit,)).fetchall()
        return n, [(key, imbalance_of(imbalance)) for key, imbalance in listed]

    def expected(self) -> dict[str, Totals]:
        """Control totals of what loaded, as sent, per scope and currency (see Totals)."""
        return self._totals("summary")

    def _totals(self, column: str) -> dict[str, Totals]:
        out: dict[str, Totals] = {}
        for (raw,) in self._db.execute(f"SELECT {column} FROM chunks WHERE state='done' AND {column} IS NOT NULL"):
            add_totals(out, _decode(raw))
        return out

    def db(self) -> sqlite3.Connection:
        """For reconciliation's set arithmetic, which is best done in SQL."""
        return self._db

    def created_rows(self, file_idx: int, name: str) -> Iterator[tuple[str, int, int | str]]:
        """(name, line, id) of every row of a file that loaded, in line order (the success file); the id is ""
        where the API confirmed the row without one."""
        return _created_rows(self._db, file_idx, name)

    def created_rows_apart(self) -> Callable[[int, str], Iterator[tuple[str, int, int | str]]] | None:
        """`created_rows` on a read-only connection of their own, opened where they are read (another thread): a
        SQLite ledger in WAL is read alongside this connection's work. None for PostgreSQL."""
        if isinstance(self.path, ledger_pg.Location):
            return None
        uri = f"{self.path.absolute().as_uri()}?mode=ro"

        def rows(file_idx: int, name: str) -> Iterator[tuple[str, int, int | str]]:
            db = sqlite3.connect(uri, uri=True)
            try:
                yield from _created_rows(db, file_idx, name)
            finally:
                db.close()

        return rows

    def unsettled(self, file_idx: int, *, rejected_only: bool = False) -> dict[int, str]:
        """Lines of a file that did not load, and why: rejected (with the reason) or in doubt; `rejected_only`: only
        those known not to have loaded (rejected)."""
        out = {
            line: f"rejected: {reason}"
            for line, reason in self._db.execute(
                "SELECT line_no, reason FROM rows WHERE file_idx=? AND bucket='rejected'", (file_idx,)
            )
        }
        for state in () if rejected_only else ("sending", "in_doubt", "pending"):
            for f, line, _, _ in self.chunk_lines(state):
                if f == file_idx:
                    out[line] = "in doubt: its call may or may not have arrived" if state != "pending" else "not sent"
        return out

    @_writes
    def hold_fast(self) -> None:
        """Copy what the ledger holds into its main file (a WAL checkpoint), so that a -wal deleted or cut later
        cannot take it (the ledger keeps it as it was now). Where a reader holds an older state, SQLite waits for it
        (the connection's busy timeout), then copies what it can. PostgreSQL keeps every commit: nothing to do."""
        if isinstance(self.path, Path):
            self._db.execute("PRAGMA wal_checkpoint(FULL)").fetchall()

    def phase_context(self, phase: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (f"phase:{phase}",)).fetchone()
        return None if row is None else dict(_decode(row[0]))

    @_writes
    def set_phase_context(self, phase: int, context: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"phase:{phase}", _json(context)))

    # --- the input's groups: found by the inspection, skipped when an earlier load created them ----------------
    def profiles(self) -> list[dict[str, Any]] | None:
        row = self._db.execute("SELECT value FROM meta WHERE key='profiles'").fetchone()
        return None if row is None else list(_decode(row[0]))

    def group_keys(self) -> Iterator[str]:
        """Every group key of the input, in key order."""
        for (key,) in self._db.execute("SELECT key FROM file_groups ORDER BY key"):
            yield key

    def group_count(self) -> int:
        """How many groups the input holds (`group_keys`)."""
        return int(self._db.execute("SELECT COUNT(*) FROM file_groups").fetchone()[0])

    @_writes
    def skip(self, known: Iterable[Known]) -> int:
        """Groups the API already holds: not sent. What the API holds of a group decides over an earlier ledger's
        word on it (ledger.known_to): a voucher corrected in the API to the input's version is loaded, whatever the
        earlier run sent (the ledger's reason, naming the run that loaded it, stays); one the earlier run left in
        doubt is there. Returns how many are new."""
        known = list(known)
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "DELETE FROM skip_groups WHERE key = ? AND bucket <> 'skipped'", [(k.key,) for k in known]
            )
            self._db.executemany(
                "UPDATE skip_groups SET lines = ?, total = ?, debit = ?, differs = ?, digest = ?, also_checks = ? "
                "WHERE key = ?",
                [
                    (
                        k.lines,
                        None if k.total is None else str(k.total),
                        None if k.debit is None else str(k.debit),
                        k.differs,
                        k.digest,
                        also_blob(k.also),
                        k.key,
                    )
                    for k in known
                ],
            )
            before = self._db.total_changes  # what is new: inserted, not the rows the API's word replaced
            self._db.executemany(
                f"INSERT OR IGNORE INTO skip_groups ({SKIP_GROUPS}, also_checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    k[:4]
                    + (
                        None if k.total is None else str(k.total),
                        None if k.debit is None else str(k.debit),
                        k.differs,
                        k.digest,
                        also_blob(k.also),
                    )
                    for k in known
                ),
            )
        return self._db.total_changes - before

    @_writes
    def forget_loaded(self) -> None:
        """Earlier runs' word that they loaded a group of the input is dropped (--reload-gone): before the API's
        (Ledger.skip), so that what it does not hold is created again. In doubt stays in doubt."""
        self._db.execute("DELETE FROM skip_groups WHERE bucket = 'skipped'")

    def told(self) -> set[tuple[str | int | None, ...]]:
        """What the run's plan leaves out by what it was told (ledger.known_to, Ledger.skip): its groups
        (skip_groups: (key, None)), families as parts (skip_families: (family, part)) and lines of no group loaded
        (skip_lines: (family, part, check, n)), but not to rows that are lines an earlier run did not load
        (unsent_lines: (file index, line, what ends that run's reasons))."""
        told: set[tuple[str | int | None, ...]] = {
            (key, None) for (key,) in self._db.execute("SELECT key FROM skip_groups")
        }
        if _has(self._db, "", "skip_families", "part"):
            told.update(self._db.execute("SELECT family, part FROM skip_families").fetchall())
        if _has(self._db, "", "skip_lines"):
            told.update(self._db.execute("SELECT family, part, line_check, n FROM skip_lines").fetchall())
        if _has(self._db, "", "unsent_lines"):
            told.update(self._db.execute("SELECT file_idx, line, said FROM unsent_lines").fetchall())
        return told

    def skips(self) -> int:
        """What earlier runs told this one of: its groups, families and lines (skip_groups, skip_families,
        skip_lines)."""
        (n,) = self._db.execute("SELECT COUNT(*) FROM skip_groups").fetchone()
        for table in ("skip_families", "skip_lines"):
            if _has(self._db, "", table):
                (more,) = self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
                n += more
        return int(n)

    # --- reconciliation: what the run sent and was answered, against what the API holds ------------------------
    def done_calls(self) -> Iterator[tuple[int, str, int, list[int], dict[str, Totals], dict[str, Totals] | None]]:
        """(seq, part, file index, lines, what was sent, what the answer said or None) of every call carried out,
        in plan order (the totals per scope and currency, see Totals)."""
        for seq, part, file_idx, blob, summary, returned in self._db.execute(
            "SELECT seq, part, file_idx, lines, summary, returned FROM chunks WHERE state = 'done' ORDER BY seq, part"
        ):
            lines = _lines(blob)
            yield (
                seq,
                part,
                file_idx,
                lines.tolist(),
                msgspec.json.decode(summary),
                None if returned is None else msgspec.json.decode(returned),
            )

    def rows_by_kind(self) -> tuple[dict[str, dict[str, int]], list[tuple[str, int]]]:
        """Per kind (the scope of a call's summary): rows loaded, distinct records their ids name, rows loaded
        without an id (NO_ID) and rows with no id recorded at all (a ledger that lost them); and (kind, id) of the
        ids given to rows of more than one call, in kind and id order."""
        self._db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS done_rows (loc INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
            "call INTEGER NOT NULL)"
        )
        self._db.execute("DELETE FROM done_rows")
        if isinstance(self.path, ledger_pg.Location):  # no Python in its statements: the lines read in SQL
            self._db.execute(ledger_pg.DONE_ROWS)
        else:
            self._db.create_function("chunk_locs", 2, _locs, deterministic=True)
            self._db.execute(
                "INSERT OR IGNORE INTO done_rows SELECT j.value, (SELECT key FROM json_each(c.summary) LIMIT 1), "
                "c.rowid FROM chunks c, json_each(chunk_locs(c.file_idx, c.lines)) j WHERE c.state = 'done'"
            )
        kinds = {
            kind: {"rows": rows, "records": records, "rows_without_id": without, "rows_unrecorded": unrecorded}
            for kind, rows, records, without, unrecorded in self._db.execute(
                "SELECT d.kind, COUNT(*), COUNT(DISTINCT NULLIF(c.id, ?)), SUM(CASE WHEN c.id = ? THEN 1 ELSE 0 END), "
                "COUNT(*) - COUNT(c.id) FROM done_rows d LEFT JOIN created c ON c.loc = d.loc GROUP BY d.kind "
                "ORDER BY d.kind",
                (NO_ID, NO_ID),
            )
        }
        shared = self._db.execute(
            "SELECT d.kind, c.id FROM done_rows d JOIN created c ON c.loc = d.loc WHERE c.id != ? "
            "GROUP BY d.kind, c.id HAVING COUNT(DISTINCT d.call) > 1 ORDER BY d.kind, c.id",
            (NO_ID,),
        ).fetchall()
        return kinds, shared

    @_writes
    def open_remote(self) -> None:
        """Start taking in what a walk lists (`add_remote`), forgetting an earlier walk's (also while loading)."""
        self._db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS remote (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, grp TEXT NOT NULL, "
            "units INTEGER NOT NULL, line_check INTEGER, currency TEXT NOT NULL, also_check INTEGER)"
        )
        self._db.execute("DELETE FROM remote")

    @_writes
    def begin_remote(self, *, fresh: bool = True) -> int:
        """Ready the diff of what the walks list against what was created: `fresh` forgets what walks listed so
        far (`open_remote`), else it is kept (a walk behind the load). Returns the newest id this run created (0
        for none)."""
        # built here, in one go, rather than kept up row by row while loading
        self._db.execute("CREATE INDEX IF NOT EXISTS created_id ON created(id)")
        # what a rollback took of the run, which the diffs leave out: the ids, the calls rolled back whole or in
        # part, and the groups of those none of whose records of the run is left (rolled_back.what_is_left fills
        # them after the walks)
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS rolled (id INTEGER PRIMARY KEY)")
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS touched (seq INTEGER, part TEXT, PRIMARY KEY (seq, part))")
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS rolled_groups (key TEXT PRIMARY KEY) WITHOUT ROWID")
        for table in ("rolled", "touched", "rolled_groups"):
            self._db.execute(f"DELETE FROM {table}")
        if fresh:
            self.open_remote()
        return self.newest_created()

    def numbered_below(self, baselines: Mapping[str, Mapping[str, int]]) -> set[str]:
        """The scopes of `baselines` (scope → {"max_id": the newest id before the run's first call to it, …}) a call
        of this run created records in that was given an id at or below that newest one: ids that do not grow (seed
        002 promises e-conomic's entry numbers only to be unique). One query where every id is above every baseline;
        else one a call."""
        highest = max((int(b.get("max_id", 0)) for b in baselines.values()), default=0)
        (lowest,) = self._db.execute("SELECT MIN(id) FROM created WHERE id != ?", (NO_ID,)).fetchone()
        if lowest is None or lowest > highest:
            return set()
        found: set[str] = set()
        calls = self._db.execute("SELECT file_idx, lines, summary FROM chunks WHERE state = 'done'").fetchall()
        for file_idx, blob, summary in calls:
            scopes = [scope for scope in _decode(summary or "{}") if scope in baselines and scope not in found]
            if not scopes:
                continue
            locs = [(file_idx << LOC_SHIFT) + line for line in _lines(blob)]
            (low,) = self._db.execute(
                f"SELECT MIN(id) FROM created WHERE id != ? AND loc IN ({', '.join('?' * len(locs))})", (NO_ID, *locs)
            ).fetchone()
            found.update(scope for scope in scopes if low is not None and low <= int(baselines[scope]["max_id"]))
        return found

    @_writes
    def refusals_walked(self, whole: bool = False) -> None:
        """Once the walks listed what the API holds (`remote`), give each refused call (chunk `rejected` or `split`) a
        group this run rejected was last sent in, of those given none yet, the newest id they listed
        (`refused_walked`): what such a call stored of its groups it stored before it was answered, so numbered up to
        that id; a record of the group numbered above was written after (reconcile.fill_rejected_found). Where the
        walks listed `whole` (all the count counts), also the records of those groups they listed, not created by the
        run, to each such call given its newest id by these walks (`refused_listed`): where ids do not grow, the
        only ones it can have stored. A call whose first walks were not whole gets no list (a later whole walk lists
        what others wrote since as well): its records are told by their ids alone."""
        (newest,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM remote").fetchone()
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(REFUSED_WALKED)  # a ledger made before it has none
            self._db.execute(REFUSED_LISTED)
            if whole:  # first, and only for the calls given their newest id by this same walk (none yet): a later
                # whole walk lists what others wrote since too (the fixed rejects file's vouchers), never the call's
                self._db.execute(_REFUSED_LISTED)
                self._db.execute(
                    f"INSERT OR IGNORE INTO refused_listed SELECT DISTINCT g.seq, g.part, 0 {_REFUSED_REJECTED} "
                    f"{_NOT_WALKED_YET}"
                )
            self._db.execute(
                f"INSERT OR IGNORE INTO refused_walked SELECT DISTINCT g.seq, g.part, ? {_REFUSED_REJECTED}",
                (int(newest),),
            )

    def refused_rejected(self) -> bool:
        """Whether a refused call (chunk `rejected` or `split`) carried a group this run rejected: one whose refusal
        may have stored part of it (refusals_walked)."""
        (found,) = self._db.execute(f"SELECT EXISTS (SELECT 1 {_REFUSED_REJECTED})").fetchone()
        return bool(found)

    def rejected_lines(self, keys: Iterable[str]) -> dict[str, tuple[int, list[int]]]:
        """Of the group `keys`, those this run rejected: key -> (file index, its lines rejected, in order)."""
        wanted = sorted(set(keys))
        out: dict[str, tuple[int, list[int]]] = {}
        if not wanted:
            return out
        for key, file_idx, line in self._db.execute(
            f"SELECT grp, file_idx, line_no FROM rows WHERE bucket = 'rejected' AND grp IN "
            f"({', '.join('?' * len(wanted))}) ORDER BY file_idx, line_no",
            wanted,
        ):
            out.setdefault(key, (file_idx, []))[1].append(line)
        return out

    def newest_created(self) -> int:
        """The newest id this run created (0 for none)."""
        (newest,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM created").fetchone()
        return int(newest)

    @_writes
    def add_remote(self, rows: Iterable[tuple[int, str, str, int, int | None, str, int | None]]) -> int:
        """Take in walked records as (id, scope, group key, units, line check, currency, other line check: Listed.also);
        returns how many were listed before (an id a walk gave twice)."""
        rows = list(rows)
        before = self._db.total_changes
        with self._db:  # one transaction a page: without one, every row is its own (3.5 µs a row against 1.4)
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO remote VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows) - (self._db.total_changes - before)

    def missing_remotely(self, limit: int) -> tuple[int, list[tuple[int, int, int]]]:
        """How many records this run created the walk did not find, and the first `limit` as (id, file index,
        line) in id order; those a rollback took out (`rolled`) are not missing."""
        sql = (
            "FROM created c LEFT JOIN remote r ON r.id = c.id WHERE r.id IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM rolled x WHERE x.id = c.id)"
        )
        (n,) = self._db.execute(f"SELECT COUNT(*) {sql}").fetchone()
        # the list costs another pass: only when there is something to name
        return n, [
            (i, *_file_line(loc))
            for i, loc in self._db.execute(f"SELECT c.id, c.loc {sql} ORDER BY c.id LIMIT ?", (limit,))
        ] if n else []

    def created_id_sum(self) -> int:
        """The sum of the ids this run created and a rollback left (a hash total)."""
        (total,) = self._db.execute(
            "SELECT COALESCE(SUM(id), 0) FROM created WHERE id NOT IN (SELECT id FROM rolled)"
        ).fetchone()
        return int(total)

    def listed_only_created(self) -> bool:
        """Whether every record the walks listed (`remote`) is one this run created: none is another writer's, a
        double, or of a call in doubt or refused (reconcile.by_walk looks for none of those then). One pass over the
        walked records, ended by the first that is not the run's."""
        (only,) = self._db.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM remote r WHERE NOT EXISTS (SELECT 1 FROM created c WHERE c.id = r.id))"
        ).fetchone()
        return bool(only)

    def lines_changed(self, limit: int) -> tuple[int, list[tuple[int, int, int]]]:
        """How many walked records hold another line than this run sent (their line checks differ), and the first
        `limit` as (id, file index, line) in id order; not those whose ids were reused (`ids_reused`, which this
        finds first), nor those holding the line as the input gives it, whose kept check is damaged
        (`mark_damaged`)."""
        self._find_reused()
        self._db.execute(_DAMAGED_TABLE)
        sql = (
            f"FROM created c JOIN remote r ON r.id = c.id WHERE {_CHANGED} "
            "AND NOT EXISTS (SELECT 1 FROM reused u WHERE u.id = c.id AND u.loc = c.loc) "
            "AND NOT EXISTS (SELECT 1 FROM damaged d WHERE d.loc = c.loc AND d.held = 1)"
        )
        (n,) = self._db.execute(f"SELECT COUNT(*) {sql}").fetchone()
        return n, [
            (i, *_file_line(loc))
            for i, loc in self._db.execute(f"SELECT c.id, c.loc {sql} ORDER BY c.id LIMIT ?", (limit,))
        ] if n else []

    def checks_changed(self) -> Iterator[tuple[int, int, int, int, int | None, int | None]]:
        """(file index, line, id, the line's kept check, the walked record's line check and also_check) of every
        line `lines_changed` counts but those `mark_damaged` took out, in file and line order."""
        self._db.execute(_DAMAGED_TABLE)
        for loc, record_id, kept, walked, also in self._db.execute(
            "SELECT c.loc, c.id, c.line_check, r.line_check, r.also_check FROM created c JOIN remote r "
            f"ON r.id = c.id WHERE {_CHANGED} "
            "AND NOT EXISTS (SELECT 1 FROM reused u WHERE u.id = c.id AND u.loc = c.loc) "
            "AND NOT EXISTS (SELECT 1 FROM damaged d WHERE d.loc = c.loc) ORDER BY c.loc"
        ).fetchall():
            yield *_file_line(loc), record_id, kept, walked, also

    def mark_damaged(self, damaged: Iterable[tuple[int, int, bool]]) -> None:
        """Keep (in the temporary `damaged`) the lines, as (file index, line, held), whose kept check
        (created.line_check) is not the input's own for the line, each with whether the walked record holds the line
        as the input gives it (`held`: not changed in the API, its ledger damaged), for `lines_changed` and
        `lines_damaged`."""
        db = self._db
        db.execute(_DAMAGED_TABLE)
        rows = [((file_idx << LOC_SHIFT) + line, int(held)) for file_idx, line, held in damaged]
        with db:
            db.execute("BEGIN")
            db.executemany("INSERT INTO damaged VALUES (?, ?)", rows)

    def lines_damaged(self, limit: int) -> tuple[int, list[tuple[int, int, int, bool]]]:
        """How many lines `mark_damaged` found a kept check of that is not the input's, and the first `limit` as
        (id, file index, line, whether the API holds the line as the input gives it) in id order."""
        self._db.execute(_DAMAGED_TABLE)
        (n,) = self._db.execute("SELECT COUNT(*) FROM damaged").fetchone()
        sql = "SELECT c.id, d.loc, d.held FROM damaged d JOIN created c ON c.loc = d.loc ORDER BY c.id, d.loc LIMIT ?"
        return n, [(i, *_file_line(loc), bool(held)) for i, loc, held in self._db.execute(sql, (limit,))] if n else []

    def damaged_held(self) -> frozenset[int]:
        """The ids of the records `mark_damaged` found holding the line as the input gives it, though the check the
        ledger keeps of it is not the line's own: the run's records, their ledger damaged."""
        self._db.execute(_DAMAGED_TABLE)
        sql = "SELECT c.id FROM damaged d JOIN created c ON c.loc = d.loc WHERE d.held = 1"
        return frozenset(record_id for (record_id,) in self._db.execute(sql))

    def ids_reused(self, limit: int) -> tuple[int, list[tuple[int, int, int, str]]]:
        """How many lines this run sent hold a line of another group at the id the API gave them, the line sent found
        nowhere (as the last `lines_changed` found them), and the first `limit` as (id, file index, line, the key of
        the group the id holds now) in id order."""
        (n,) = self._db.execute("SELECT COUNT(*) FROM reused").fetchone()
        sql = (
            "SELECT c.id, c.loc, u.grp FROM reused u JOIN created c ON c.id = u.id AND c.loc = u.loc "
            "ORDER BY c.id, c.loc LIMIT ?"
        )
        return n, [(i, *_file_line(loc), grp) for i, loc, grp in self._db.execute(sql, (limit,))] if n else []

    def _find_reused(self) -> None:
        """List in the temporary `reused`, with the key of the group their walked record is of, the ids this run
        created whose walked record (`add_remote`) holds another line, of a group the call that carried the line did
        not carry, while no walked record holds the line (its check): not the run's line at its id, nor anywhere
        else. Which cause cannot be told: the API gave the group a number of its own as it stored it, the record was
        changed since, or the API lost its data (restored, reset) and gave the id to another. A record of no group
        cannot be told apart from one changed: changed. Costs a pass over the changed lines only, each group's call read
        once (a cache of the last few)."""
        db = self._db
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS reused (id INTEGER NOT NULL, loc INTEGER NOT NULL, grp TEXT NOT NULL, "
            "PRIMARY KEY (id, loc))"
        )
        db.execute("DELETE FROM reused")
        changed = db.execute(
            "SELECT c.id, c.loc, r.grp, c.line_check FROM created c JOIN remote r ON r.id = c.id "
            f"WHERE {_CHANGED} AND r.grp != ''"
        ).fetchall()
        if not changed:  # the usual case: no walked record holds another line than its id's
            return
        # whether any walked record holds the line: an index built only now, where a line changed (a correlated
        # lookup without one scanned every walked record for every created one: minutes for 200,000)
        db.execute("CREATE INDEX IF NOT EXISTS remote_check ON remote(line_check)")
        db.execute("CREATE INDEX IF NOT EXISTS remote_also ON remote(also_check)")
        held = "SELECT 1 FROM remote WHERE line_check = ? OR also_check = ? LIMIT 1"
        candidates = [
            (i, loc, grp) for i, loc, grp, check in changed if db.execute(held, (check, check)).fetchone() is None
        ]

        @functools.lru_cache(maxsize=64)
        def carried(group: str) -> frozenset[int]:  # the locs of the call that carried `group` (none: not ours)
            row = db.execute(
                "SELECT k.file_idx, k.lines FROM groups g JOIN chunks k ON k.seq = g.seq AND k.part = g.part "
                "WHERE g.key = ?",
                (group,),
            ).fetchone()
            return frozenset() if row is None else frozenset((row[0] << LOC_SHIFT) + n for n in _lines(row[1]))

        # by id and line: an id the API gave to rows of two calls (ids_twice) is in `created` once for each, and
        # only the lines it was given to that their walked record's group does not hold are reused
        reused = [(record_id, loc, group) for record_id, loc, group in candidates if loc not in carried(group)]
        if reused:
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT INTO reused VALUES (?, ?, ?)", reused)

    def walked_apart(self) -> tuple[frozenset[int], dict[int, str | None]]:
        """After the walks of the scopes this run wrote into, over its ids (`add_remote`), for rollback: the ids it
        created that no walk listed (gone from where it created them), and those whose walked record is not the
        run's, each with what it holds: None for another line than the run sent (`lines_changed`'s checks: its id
        given again, or the record changed since), or the key of the group it is of (another voucher, another
        journal or scope) where the call which carried the line did not carry that group. One pass over the created
        ids joined to the walk; each call of a walked group read once (a cache of the last few)."""
        db = self._db
        absent = frozenset(
            i
            for (i,) in db.execute(
                "SELECT DISTINCT c.id FROM created c WHERE NOT EXISTS (SELECT 1 FROM remote r WHERE r.id = c.id)"
            )
        )
        apart: dict[int, str | None] = {
            i: None
            for (i,) in db.execute(f"SELECT DISTINCT c.id FROM created c JOIN remote r ON r.id = c.id WHERE {_CHANGED}")
        }
        calls = {key: (seq, part) for key, seq, part in db.execute("SELECT key, seq, part FROM groups")}

        @functools.lru_cache(maxsize=64)
        def carried(seq: int, part: str) -> frozenset[int]:  # the locs of the call (seq, part)
            row = db.execute("SELECT file_idx, lines FROM chunks WHERE seq = ? AND part = ?", (seq, part)).fetchone()
            return frozenset() if row is None else frozenset((row[0] << LOC_SHIFT) + n for n in _lines(row[1]))

        for record_id, loc, group in db.execute(
            "SELECT c.id, c.loc, r.grp FROM created c JOIN remote r ON r.id = c.id WHERE r.grp != '' ORDER BY c.loc"
        ):
            call = calls.get(group)
            if record_id not in apart and (call is None or loc not in carried(*call)):
                apart[record_id] = group
        return absent, apart

    @_writes
    def pair_by_walk(self) -> int:
        """Give each line of a done call the id that the walk (`add_remote`) lists holding it, where the call's
        answer named its ids in another order than its lines (e-conomic's bulk create promises none): a call whose
        lines' checks are, as a multiset, the walked checks of its ids (pairing.pair), with a line holding another
        check than its id's. Lines of one check are interchangeable. A call whose multisets differ (a line changed
        in the API), or one with an id the walk did not list, is left as it is. Returns how many calls were paired
        again; rollback, resume and the success file then name the right lines. Reads every done call's lines where
        a line's check differs (`lines_changed` says whether one does)."""
        changed = {
            loc
            for (loc,) in self._db.execute(f"SELECT c.loc FROM created c JOIN remote r ON r.id = c.id WHERE {_CHANGED}")
        }
        moves: list[tuple[int, int]] = []  # (id, loc)
        calls = 0
        for file_idx, blob in self._db.execute("SELECT file_idx, lines FROM chunks WHERE state = 'done'"):
            base = file_idx << LOC_SHIFT
            locs = [base + line for line in _lines(blob)]
            if changed.isdisjoint(locs):
                continue
            rows = [
                row
                for start in range(0, len(locs), 500)  # SQLite's 999 bound values at most, before 3.32
                for row in self._db.execute(
                    "SELECT c.loc, c.id, c.line_check, r.line_check, r.also_check FROM created c "
                    f"JOIN remote r ON r.id = c.id WHERE c.loc IN ({','.join('?' * len(locs[start : start + 500]))})",
                    locs[start : start + 500],
                )
            ]
            if len(rows) != len(locs) or len({record_id for _, record_id, _, _, _ in rows}) != len(rows):
                continue  # an id not walked, or one shared by lines (merged): no pairing of lines to ids
            order = pair(
                [sent for _, _, sent, _, _ in rows], [(w,) if also is None else (w, also) for *_, w, also in rows]
            )
            if order is None:
                continue  # what the call's ids hold is not what it sent: a change in the API (lines_changed)
            moves += [(rows[j][1], loc) for (loc, record_id, *_), j in zip(rows, order) if rows[j][1] != record_id]
            calls += 1
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("UPDATE created SET id = ? WHERE loc = ?", moves)
        return calls

    def _remote_groups(self) -> Iterator[tuple[str, int, int, int]]:
        """(key, lines, total, debit) of each group the walk found, in key order, summed in Python (no overflow)."""
        rows = self._db.execute("SELECT grp, units FROM remote WHERE grp != '' ORDER BY grp")
        for key, entries in groupby(rows, key=itemgetter(0)):
            units = [u for _, u in entries]
            total = sum(units)
            yield key, len(units), total, (sum(map(abs, units)) + total) // 2

    # --- rollback --------------------------------------------------------------------------------------
    def created_in(self, file_idx: int) -> dict[int, int]:
        """line -> id of every row of one file that this run created or updated."""
        lo = file_idx << LOC_SHIFT
        return dict(
            self._db.execute(
                "SELECT loc - ?, id FROM created WHERE loc >= ? AND loc < ?", (lo, lo, lo + (1 << LOC_SHIFT))
            ).fetchall()
        )

    def ids_of_lines(self, file_idx: int, lines: Sequence[int]) -> dict[int, int]:
        """line -> id of the rows at `lines` of one file (a call's) that this run created or updated."""
        lo = file_idx << LOC_SHIFT
        marks = ",".join("?" * len(lines))
        return dict(
            self._db.execute(
                f"SELECT loc - ?, id FROM created WHERE loc IN ({marks})", (lo, *(lo + line for line in lines))
            ).fetchall()
        )

    def ids_in(self, files: Iterable[int]) -> frozenset[int]:
        """The ids of every row of these files (their indexes) that this run created or updated."""
        return frozenset(record_id for file_idx in files for record_id in self.created_in(file_idx).values())

    def created_lines(self) -> Iterator[tuple[int, int, int]]:
        """(file index, line, id) of every row this run created or updated, in id order."""
        for loc, record_id in self._db.execute("SELECT loc, id FROM created ORDER BY id"):
            yield *_file_line(loc), record_id

    def open_calls(self) -> dict[tuple[int, str], OpenCall]:
        """Every call that may have been carried out without the ledger knowing its outcome: `sending` (in flight
        when the run stopped) and `in_doubt`, by (seq, part)."""
        return _open_calls(self._db)

    @staticmethod
    def left_open(path: str | os.PathLike[str]) -> dict[tuple[int, str], OpenCall]:
        """`open_calls` of the ledger at `path` (a file's path, or a PostgreSQL ledger's URL as the record of loads
        names it), read without taking its lock: of a run no process works on now (Ledger.running). {} where there
        is no ledger there to be read (gone, not a ledger, a server that cannot be reached)."""
        return _peeked(path, _open_calls, {})

    @staticmethod
    def written(path: str | os.PathLike[str]) -> frozenset[int]:
        """The ids of the records the run of the ledger at `path` (as `left_open`'s) created or changed: its done
        calls' (a cost a PATCH set); none where there is no ledger there to be read."""
        return _peeked(
            path, lambda db: frozenset(i for (i,) in db.execute("SELECT DISTINCT id FROM created")), frozenset()
        )

    @staticmethod
    def kept(path: str | os.PathLike[str]) -> dict[int, frozenset[int]]:
        """By file index, the ids of the records the run of the ledger at `path` (as `left_open`'s) was answered for,
        created or changed, less those its rollback removed or found gone (`removals`: all but "failed"); {} where
        there is no ledger there to be read."""
        return _peeked(path, _kept, {})

    @staticmethod
    def last_write(path: str | os.PathLike[str]) -> float | None:
        """When the run of the ledger at `path` (as `left_open`'s) last sent a call or was answered one, or deleted
        a record (rollback), in epoch seconds; None where it never did, or there is no ledger there to be read. A
        look that settled a call (a resume's or a rollback's GET: `done`, `settle` with `wrote` False) is no write."""
        return _peeked(path, _last_write, None)

    def last_written(self) -> float | None:
        """Ledger.last_write of this ledger: when its run last sent a call or was answered one, or deleted a record."""
        return _last_write(self._db)

    def rival(self, seq: int, part: str, files: Iterable[int], looks: bytes) -> tuple[int, str, list[int]] | None:
        """(seq, part, lines) of a call of the run's `files` but the chunk (seq, part) whose outcome the ledger does
        not know (sending: in flight, here or when an earlier process stopped; in doubt) and whose `looks` (as
        `sending` recorded them) are model.alike `looks`, or unknown (sent by a bulkload that kept none): a record a
        look for the chunk's found may be that call's. None where there is none. Reads every call open, of every
        process: a look is rare, and there are few."""
        wanted = set(files)
        for other, other_part, file_idx, blob, theirs in self._db.execute(
            "SELECT seq, part, file_idx, lines, looks FROM chunks WHERE state IN ('sending', 'in_doubt') "
            "ORDER BY seq, part"
        ):
            if file_idx in wanted and (other, other_part) != (seq, part) and (theirs is None or alike(looks, theirs)):
                lines = _lines(blob)
                return other, other_part, lines.tolist()
        return None

    def removals(self) -> dict[tuple[str, int], str]:
        """(scope, id) -> what a rollback recorded of it: "removing" (its DELETE may have been sent), "deleted" (its
        DELETE answered as done, not read back yet), "removed" (read back gone),
        "gone" (a 404 after a DELETE of ours), "unexplained" (a 404 no rollback of ours explains), "failed"
        (refused, not carried out)."""
        return {(scope, i): outcome for i, scope, outcome in self._db.execute("SELECT id, scope, outcome FROM removed")}

    def line_of(self, record_id: int) -> tuple[int, int] | None:
        """(file index, line) of the first source line that became `record_id`."""
        row = self._db.execute("SELECT MIN(loc) FROM created WHERE id = ?", (record_id,)).fetchone()
        return None if row is None or row[0] is None else _file_line(row[0])

    @_writes
    def mark_removed(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """(id, scope, outcome) of records a rollback is removing or settled (see `removals`). "removing" is
        written before the DELETE leaves, so that a 404 on a later run is known for our own."""
        removes = sum(1 for _, _, outcome in rows if outcome == "removing")
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO removed VALUES (?, ?, ?, ?)", [(i, sc, o, time.time()) for i, sc, o in rows]
            )
            if removes:  # counted as sends are (`sends`): a lost "removing" is found out as a lost "sending" is
                found = self._db.execute("SELECT value FROM meta WHERE key = 'removes'").fetchone()
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('removes', ?)", (str(int(found[0] if found else 0) + removes),)
                )
        if removes:
            self._count_sends(removes)

    # --- baselines and the call quota ---------------------------------------------------------------------
    def baselines(self) -> dict[str, dict[str, int]]:
        return {scope: _decode(data) for scope, data in self._db.execute("SELECT scope, data FROM baselines")}

    @_writes
    def set_baseline(self, scope: str, data: dict[str, int]) -> None:
        self._db.execute("INSERT OR IGNORE INTO baselines VALUES (?, ?)", (scope, _json(data)))

    @_writes
    def counted_before(self, scope: str, count: int) -> None:
        """Raise `scope`'s baseline count to `count`, the records a count found at or below its newest id (`max_id`)
        where the baseline's count, which lagged, counted fewer: so a later reconciliation counts those gone since
        from what was there, not from the lagging count. A baseline it counts no fewer than is left as it is."""
        data = self.baselines().get(scope)
        if data is not None and count > int(data.get("count", 0)):
            self._db.execute("INSERT OR REPLACE INTO baselines VALUES (?, ?)", (scope, _json({**data, "count": count})))

    def calls(self) -> dict[int, int]:
        return dict(self._db.execute("SELECT minute, n FROM calls").fetchall())

    @_writes
    def save_calls(self, calls: Mapping[int, int]) -> None:
        """Store these minutes' call counts (counts, not increments): the calls made outside a chunk's write."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO calls VALUES (?, ?)", list(calls.items()))

    def _save_calls(self, calls: dict[int, int]) -> None:
        if calls:
            latest = max(calls)
            self._db.executemany(
                "INSERT OR REPLACE INTO calls VALUES (?, ?)", [(m, n) for m, n in calls.items() if m >= latest - 1]
            )


#: the digest of a group an earlier ledger of another check version loaded: compared by its lines and totals,
#: unless what the API holds of it is found (Ledger.skip)
OLDER = -1


def _family_known(
    conn: sqlite3.Connection,
    at: str,
    earlier: Path | str,
    files: Sequence[str],
    label: Callable[[str], str],
    name: str,
    family: Callable[[str], str],
    family_label: Callable[[str], str],
    can_delete: bool,
    settle: str,
    found: origins.Found | None,
) -> None:
    """The input's groups the `earlier` run (its tables `at`; `files`: its input files) did not load, but one of
    whose `family` it sent a line of, of a group or not: into skip_groups as rejected (known_to); and where both
    ledgers record the families of their rows and their parts (file_families), the input's families and parts of
    which it sent a line as another part, or a group: into skip_families, which rejects the input's rows of no group
    of one (planning.make_planner). Rows of no group of a family it sent only rows of no group of, all of their
    part, are not rejected so: given with every line it loaded of the part, or with none, they are lines added (but
    skipped where loaded, below); given with some of them but not all (one changed, or left out), the family is
    given otherwise than the books hold it, and its rows are all rejected, naming a line left out (skip_lines'
    differs, Planner.line_differs). Nor are a
    family's rows where each is a row of a rejects file naming a line the earlier run rejected of the family
    (`found`, what origins.identified found against that run: ledger.origins_known): that line, never sent, fixed;
    where one row of the family is not, the family's rows are rejected, the reason saying which row and why (it may
    be a correction of what the run loaded of the family, and the family loads whole or not at all); and where a row
    names a line the earlier run loaded from a rejects file of its own (origins.taken), its family's are rejected. A
    line in doubt there is said to be, with `settle`. A row of no group that is a line the run loaded (done), given
    as it is, is skipped, its family rejected so or not (the run's lines of the input's families and parts, by their
    checks, counted: skip_lines, Planner.line_loaded); a line in doubt there, given as it was, is in doubt too. In
    Python: one pass
    over the earlier run's groups, which a family is asked for only where the target has one
    (RecordKind.group_family)."""
    undo = f" (or undo that run: `{command_on('rollback', earlier)}`)" if can_delete else ""
    theirs: set[str] = set()
    # family -> part (None: a group, or a line whose part that ledger does not tell) -> what the earlier run sent
    # of it, as a message names it, and whether it was done (not in doubt), one that was if any
    sent: dict[str, dict[str | None, tuple[str, bool]]] = {}

    def saw(of: str, part: str | None, what: str, done: bool) -> None:
        parts = sent.setdefault(of, {})
        if part not in parts or done and not parts[part][1]:
            parts[part] = (what, done)

    for key, state in conn.execute(
        f"SELECT g.key, c.state FROM {at}groups g JOIN {at}chunks c ON c.seq = g.seq AND c.part = g.part "
        "WHERE c.state IN ('done', 'sending', 'in_doubt')"
    ):
        theirs.add(key)
        saw(family(key), None, label(key), state == "done")
    parts: list[tuple[str, str]] = []  # the input's (family, part)s: which are of rows of no group is told as planned
    # a rejects file's rows that are the lines the earlier run rejected of their order, and those it took already
    exempt = found.families if found is not None else frozenset()
    unidentified = found.unidentified if found is not None else {}
    taken: dict[str, tuple[int, str, int]] = {}
    if found is not None and _has(conn, at, "file_origins"):  # found: the input has rows of a rejects file
        ours, known = _has(conn, "", "origin_inputs"), _has(conn, at, "origin_inputs")
        taken = origins.taken(conn, at, ours, known, _has(conn, at, "origin_chain"))
        if _has(conn, "", "origin_groups"):  # a kind of no families: the groups whose rows name such a line
            taken.update(origins.taken(conn, at, ours, known, _has(conn, at, "origin_chain"), groups=True))
    if _has(conn, "", "file_families", "part") and _has(conn, at, "file_families"):
        parts = conn.execute("SELECT DISTINCT family, part FROM file_families WHERE part IS NOT NULL").fetchall()
        for of, part, loc, done in _sent_lines(conn, at):
            file_idx, line = _file_line(loc)
            shown = files[file_idx] if file_idx < len(files) else "its input"
            saw(of, part, f"{family_label(of)} (line {line} of {shown})", done)

    def other_lines(what: str, other: str, why: str) -> str:
        """Why `what` is rejected where the earlier run loaded `other` of its family (`why`: how, where said): this
        file gives the family otherwise than the books hold it."""
        return (
            f"{what}: an earlier run (ledger {earlier}) loaded {other}, the same {name} with other lines{why}: "
            f"not created, which would book the {name} twice; if this file's version is the right one, correct it "
            f"in the API by hand{undo}"
        )

    def reason(what: str, of: str, part: str | None) -> str | None:
        """Why `what`, of the family `of` as `part` (None: a group the earlier run did not load), is rejected: the
        earlier run sent a line of the family as another part, or a group of it (None: it did not), or a row of a
        rejects file that a row of the family in this input is too; not where every row of the family in this input
        is a line it rejected of the family."""
        if of in taken:
            return f"{what}: {taken_reason(earlier, *taken[of], undo)}"
        if of in exempt:
            return None
        seen = [said for other, said in sent.get(of, {}).items() if part is None or other != part]
        if not seen:
            return None
        other, done = max(seen, key=lambda said: said[1])
        # a rejects file's row that is none of the lines that run rejected of the family: it may be a correction
        why = f" ({unidentified[of].said(name)}; no line it rejected of the {name})" if of in unidentified else ""
        if done:
            return other_lines(what, other, why)
        return (
            f"{what}: an earlier run (ledger {earlier}; in doubt there) may have loaded {other}, the same {name} "
            f"with other lines{why}: not created, which would book the {name} twice if it did; it is settled in that "
            f"run, not by loading this file again{f': {settle}' if settle else ''}; once it is, if this file's "
            f"version is the right one, correct it in the API by hand{undo}"
        )

    rejected = [
        (key, "rejected", why, None, None, None, None, None)
        for (key,) in conn.execute("SELECT key FROM file_groups").fetchall()
        if key not in theirs and (why := reason(label(key), family(key), None)) is not None
    ]
    _in_batches(conn, f"INSERT OR IGNORE INTO skip_groups ({SKIP_GROUPS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rejected)
    untold = _untold_parts(conn, at) if parts else set()

    def untold_reason(of: str, part: str) -> str | None:
        """Why a row of no group of the family `of` as `part` that is no line the earlier run loaded (skip_lines:
        asked first) is rejected all the same: that run loaded lines of it whose checks cannot be compared with this
        version's (`_untold_parts`), and the row may be one of them, written otherwise (None: it did not)."""
        if (of, part) not in untold or of in exempt:
            return None
        what, _ = sent.get(of, {}).get(part, (family_label(of), True))
        return (
            f"{family_label(of)}: an earlier run (ledger {earlier}, kept by an older bulkload) loaded {what}, and "
            "cannot tell whether this line is one it loaded: it kept its lines as they were written, so a line given "
            "again written otherwise (100,50 as 100,5, a date as the date at midnight) is none it knows. Not created, "
            "which could book it twice; if it is a new line, load it in a file of its own with --allow-duplicate-load"
        )

    if parts and _has(conn, "", "skip_families", "part"):
        _in_batches(
            conn,
            "INSERT OR IGNORE INTO skip_families VALUES (?, ?, ?)",
            [
                (of, part, why)
                for of, part in parts
                if (why := reason(family_label(of), of, part) or untold_reason(of, part)) is not None
            ],
        )
        if _has(conn, "", "skip_lines") and _has(conn, at, "file_families", "part"):
            checks_whole(conn, at, earlier, files)  # a line it loaded is told by its check
            _in_batches(
                conn,
                "INSERT OR IGNORE INTO skip_lines (family, part, line_check, reason, n, differs, in_doubt)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                _loaded_lines(conn, at, earlier, files, family_label, exempt, other_lines, name, settle),
            )


def taken_reason(earlier: Path | str, line: int, origin: str, origin_line: int, undo: str) -> str:
    """Why the input's row at `line` (or its group) is rejected: its `file, line` name line `origin_line` of
    `origin`, which the run of the `earlier` ledger loaded from a rejects file of its own (origins.taken); `undo`:
    the words that name its rollback, where the API can delete ("" where not)."""
    return (
        f"an earlier run (ledger {earlier}) loaded line {origin_line} of {origin} from a rejects file, which line "
        f"{line} of this file is too: not created again, which would book it twice; if this file's version is the "
        f"right one, correct it in the API by hand{undo}; where the row is a line of its own, empty its `line` cell"
    )


def _loaded_lines(
    conn: sqlite3.Connection,
    at: str,
    earlier: Path | str,
    files: Sequence[str],
    family_label: Callable[[str], str],
    exempt: frozenset[str],
    other_lines: Callable[[str, str, str], str],
    name: str,
    settle: str,
) -> Iterator[tuple[str, str, int, str, int, str, int | None]]:
    """(family, part, check, reason, n, differs, in_doubt) of the lines the run of the ledger `at` (`files`: its input
    files) loaded of the input's families and parts, by their check (created.line_check: chunking.record_check, of
    model.CHECKS_VERSION; chunking.older_check, of model.OLDER_CHECKS: Planner.line_loaded asks both), n lines of
    each, for skip_lines: a row of no group of one that the input gives again is skipped with the reason, whether
    or not the family is rejected as corrected (Planner.line_loaded); where the input gives some of the lines of the
    family and part but not this one (n times), every row of the family is rejected with `differs`, as
    `other_lines` words a family given otherwise (Planner.line_differs). Not of the `exempt` families, whose every row
    in the input is a line that run rejected of it, never created (a fixed rejects file's: origins.Found.families),
    which none it loaded can be. None of a ledger that kept no checks of such lines (made before 2026-12), or of
    another version: its lines cannot be told (nor are they loaded again: `_untold_parts`). Then, in_doubt 1, the lines
    it sent of them in calls it left in doubt (`_doubted_lines`): a row giving one again is in doubt too, never sent,
    and the family given without it is given otherwise than the books may hold it. Before, such a line was sent again,
    and where the call in doubt had been carried out it was booked twice, exit 0 (a tester: 13 FEE lines of 40
    orders, the earlier run's answers dropped)."""
    if _checks_of(conn, at) not in OLDER_CHECKS | {CHECKS_VERSION}:
        return
    for of, part, check, loc, n in conn.execute(
        f"SELECT e.family, e.part, cr.line_check, MIN(cr.loc), COUNT(*) {_lines_of_input_parts(at)} "
        "WHERE cr.line_check IS NOT NULL GROUP BY e.family, e.part, cr.line_check"
    ).fetchall():
        if of in exempt:
            continue
        file_idx, line = _file_line(loc)
        shown = files[file_idx] if file_idx < len(files) else "its input"
        said = f"{family_label(of)} (line {line} of {shown})"
        how = (
            f" (this file gives other {part} lines of it as that run loaded them, but not this one: changed, or "
            "left out)"
        )
        yield of, part, check, f"{said} {loaded_by(earlier)}", n, other_lines(family_label(of), said, how), None
    if _checks_of(conn, at) != CHECKS_VERSION:
        return  # a call's checks are kept by this version only (chunks.checks)
    found: dict[tuple[str, str, int], list[int]] = {}  # (family, part, check) -> [n, the first loc]
    for of, part, check, loc in _doubted_lines(conn, at):
        if of not in exempt:
            seen = found.setdefault((of, part, check), [0, loc])
            seen[0] += 1
            seen[1] = min(seen[1], loc)
    for (of, part, check), (n, loc) in found.items():
        file_idx, line = _file_line(loc)
        shown = files[file_idx] if file_idx < len(files) else "its input"
        said = f"{family_label(of)} (line {line} of {shown})"
        way_on = f": {settle}" if settle else ""
        why = (
            f"{family_label(of)}: an earlier run (ledger {earlier}; in doubt there) may have loaded {said}, the same "
            f"{name} with other lines (this file gives other {part} lines of it as that run sent them, but not this "
            f"one: changed, or left out): not created, which would book it twice if it did; it is settled in that "
            f"run, not by loading this file again{way_on}"
        )
        doubt = (
            f"{said} was sent by an earlier run whose call is in doubt {run_named(earlier)}: whether the API holds it "
            f"cannot be told, and sent again it may be booked twice; it is settled in that run, not by loading this "
            f"file again{way_on}"
        )
        yield of, part, check, doubt, n, why, 1


def _doubted_lines(conn: sqlite3.Connection, at: str) -> Iterator[tuple[str, str, int, int]]:
    """(family, part, check, loc) of each line of the input's families and parts (file_families) that the run of
    the ledger `at` sent in a call it left in doubt (sending, in doubt: few), by the check kept as the call left
    (chunks.checks). None of a ledger made before the checks were kept."""
    ours = set(conn.execute("SELECT DISTINCT family, part FROM file_families WHERE part IS NOT NULL").fetchall())
    for file_idx, line, check in _checks_in_doubt(conn, at):
        run = conn.execute(
            f"SELECT e.family, e.last_line, e.part FROM {at}file_families e WHERE e.file_idx = ? AND e.line <= ? "
            "ORDER BY e.line DESC LIMIT 1",
            (file_idx, line),
        ).fetchone()
        if run is not None and run[1] >= line and (run[0], run[2]) in ours:
            yield run[0], run[2], check, (file_idx << LOC_SHIFT) + line


def _checks_in_doubt(conn: sqlite3.Connection, at: str) -> Iterator[tuple[int, int, int]]:
    """(file index, line, check) of each row the run of the ledger `at` sent in a call it left in doubt (sending, in
    doubt: few), by the check kept as the call left (chunks.checks). None of a ledger made before the checks were
    kept."""
    if not _has(conn, at, "chunks", "checks"):
        return
    for file_idx, blob, kept in conn.execute(
        f"SELECT file_idx, lines, checks FROM {at}chunks WHERE state IN ('sending', 'in_doubt') AND checks IS NOT NULL"
    ).fetchall():
        checks = array("q")
        checks.frombytes(bytes(kept))
        for line, check in zip(_lines(bytes(blob)), checks, strict=True):
            yield file_idx, line, check


def _untold_parts(conn: sqlite3.Connection, at: str) -> set[tuple[str, str]]:
    """The input's (family, part)s of which the run of the ledger `at` created a line whose check cannot be compared
    with this version's (Planner.line_loaded): any, where that ledger's checks are of another version (one of
    model.OLDER_CHECKS tells a line given again only as it was written then: chunking.older_check), else those it
    kept no check of (Ledger._renew_checks forgets those of an older version). Empty where either ledger does not
    record parts (its rows are rejected for that already)."""
    if not (_has(conn, "", "file_families", "part") and _has(conn, at, "file_families", "part")):
        return set()
    which = "" if _checks_of(conn, at) != CHECKS_VERSION else " AND cr.line_check IS NULL"
    return set(
        conn.execute(
            f"SELECT DISTINCT e.family, e.part {_lines_of_input_parts(at)} WHERE e.part IS NOT NULL{which}"
        ).fetchall()
    )


def _lines_of_input_parts(at: str) -> str:
    """SQL from FROM on: the lines (`cr`, created) the run of the ledger `at` created of the input's families and
    parts (`e`, that run's file_families, of a family and part the input's file_families name)."""
    span = 1 << LOC_SHIFT
    return (
        f"FROM {at}file_families e JOIN {at}created cr "
        f"ON cr.loc BETWEEN e.file_idx * {span} + e.line AND e.file_idx * {span} + e.last_line "
        "JOIN (SELECT DISTINCT family, part FROM file_families WHERE part IS NOT NULL) f "
        "ON f.family = e.family AND f.part = e.part"
    )


def _sent_lines(conn: sqlite3.Connection, at: str) -> Iterator[tuple[str, str | None, int, bool]]:
    """(family, part, created.loc of a line, done) for the input's families (file_families) whose line the run of
    the ledger `at` sent (its file_families), of a group or not: done (created), or in a call that may have arrived
    (sending, in doubt: few, looked up one line at a time). Of a ledger made before the parts were recorded, of
    part None: it cannot tell them."""
    span = 1 << LOC_SHIFT
    parted = _has(conn, at, "file_families", "part")
    part = "e.part" if parted else "NULL"
    for of, found, loc in conn.execute(
        f"SELECT e.family, {part}, MIN(cr.loc) FROM {at}file_families e JOIN {at}created cr ON cr.loc BETWEEN "
        f"e.file_idx * {span} + e.line AND e.file_idx * {span} + e.last_line "
        f"WHERE e.family IN (SELECT family FROM file_families) GROUP BY e.family{', e.part' if parted else ''}"
    ).fetchall():
        yield of, found, loc, True
    ours = {f for (f,) in conn.execute("SELECT DISTINCT family FROM file_families").fetchall()}
    for file_idx, blob in conn.execute(
        f"SELECT file_idx, lines FROM {at}chunks WHERE state IN ('sending', 'in_doubt')"
    ).fetchall():
        lines = _lines(blob)
        for line in lines:
            run = conn.execute(
                f"SELECT e.family, e.last_line, {part} FROM {at}file_families e WHERE e.file_idx = ? AND e.line <= ? "
                "ORDER BY e.line DESC LIMIT 1",
                (file_idx, line),
            ).fetchone()
            if run is not None and run[1] >= line and run[0] in ours:
                yield run[0], run[2], (file_idx << LOC_SHIFT) + line, False


def _has(conn: sqlite3.Connection, at: str, table: str, column: str = "1") -> bool:
    """Whether the ledger of the tables `at` has `table` (and its `column`): one made before they were added has
    not."""
    try:
        conn.execute(f"SELECT {column} FROM {at}{table} LIMIT 0")
    except sqlite3.Error:
        return False
    return True


def _shared_families(conn: sqlite3.Connection, at: str, family: Callable[[str], str]) -> tuple[int, str | None]:
    """How many of the input's families (its file_families) the run of the ledger `at` has rows of, and the first:
    by its file_families, or where it has none (made before them), by its groups' keys."""
    if not _has(conn, "", "file_families") or conn.execute("SELECT 1 FROM file_families LIMIT 1").fetchone() is None:
        return 0, None
    if _has(conn, at, "file_families"):
        n, first = conn.execute(
            "SELECT COUNT(DISTINCT family), MIN(family) FROM file_families WHERE family IN "
            f"(SELECT family FROM {at}file_families)"
        ).fetchone()
        return int(n), first
    theirs = {family(key) for (key,) in conn.execute(f"SELECT key FROM {at}file_groups").fetchall()}
    found = sorted({f for (f,) in conn.execute("SELECT DISTINCT family FROM file_families").fetchall()} & theirs)
    return len(found), found[0] if found else None


def _versions() -> list[tuple[str, str]]:
    """What a new ledger's meta says of the versions it is written in."""
    return [("schema_version", str(SCHEMA_VERSION)), ("checks", str(CHECKS_VERSION))]


def _checks_of(conn: sqlite3.Connection, at: str) -> int:
    """The version of the line checks and group digests a ledger holds, as this version's are: of the version it
    was made with (1: made before the ledger said), the latest that made its run's target's the same
    (model.checks_alike: an e-conomic ledger of 5 holds version 6's, a Visma Core one does not)."""
    said = dict(conn.execute(f"SELECT key, value FROM {at}meta WHERE key IN ('checks', 'run')").fetchall())
    target = TARGETS.get(str(_decode(said["run"]).get("target"))) if "run" in said else None
    return checks_alike(int(said.get("checks", 1)), None if target is None else target.api.checks_by)


def _locked(path: Path) -> bool:
    """Whether another process holds an exclusive flock on the file at `path` (False when there is none)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def not_a_ledger(path: Path | str) -> str | None:
    """Why the file at `path` is no bulkload ledger, in a message's words (`an empty file`, `not a SQLite database`,
    `a SQLite database bulkload did not make`); None when it is one, or may be: one SQLite cannot read (opening it
    tells why: wal_advice), one with a -wal beside it (in use, or holding writes), or one that cannot be read.
    Nothing is written, nor made beside it: SQLite would make an empty file a database, and a ledger's WAL mode would
    change another program's. A SQLite file with no -wal beside it is read as it is (`immutable`), which makes no
    -wal or -shm: a ledger's tables are in its file from its making on (Ledger.create writes them before it takes WAL
    mode)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except OSError:
        return None
    if not head:
        return "an empty file"
    if head != _SQLITE_HEADER:
        return "not a SQLite database"
    if os.path.lexists(f"{path}-wal"):
        return None
    tables = _tables(path, through_wal=False)
    return None if not isinstance(tables, set) or tables >= _LEDGER_TABLES else _NOT_MADE


def is_ledger(path: Path | str) -> bool:
    """Whether the file at `path` is a bulkload ledger, or may be one as `not_a_ledger` tells (a SQLite database
    with a ledger's tables, or one with a -wal beside it); False for no file there, one that cannot be read, and any
    other file (a pipe or a device is not opened). Nothing is written, nor made beside it."""
    if not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as fh:
            if fh.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
                return False
    except OSError:
        return False
    return not_a_ledger(path) is None


#: the tables every ledger has from its making on, and what is said of a SQLite file without them
_LEDGER_TABLES = frozenset({"meta", "chunks"})
_NOT_MADE = "a SQLite database bulkload did not make"


def _tables(path: Path | str, *, through_wal: bool) -> set[str] | str | None:
    """The tables of the SQLite file at `path`, read without writing to it: as it is (`immutable`: no -wal or -shm
    made), or `through_wal`, the -wal beside it (as loads.run_of reads a ledger). SQLite's reason where it finds
    the file damaged (`database disk image is malformed`); None where it cannot open it at all (permissions, a
    lock: no fault of the file's)."""
    mode = "ro" if through_wal else "ro&immutable=1"
    try:
        db = sqlite3.connect(f"file:{urllib.request.pathname2url(os.path.abspath(path))}?mode={mode}", uri=True)
    except sqlite3.Error:
        return None
    try:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.OperationalError:
        return None
    except sqlite3.DatabaseError as exc:  # malformed, not a database: what resume's open would say too
        return str(exc)
    finally:
        db.close()


def path_taken(path: Path | str, again: str = "") -> LedgerError:
    """The refusal of a new run at the ledger file `path`, which is there (Ledger.create; a dry run's the same): it
    holds a run (`again` as Ledger.create takes it), or it is no ledger (not_a_ledger, or read through a -wal beside
    it, another program's database), or SQLite cannot read it as one (damaged: resume would refuse it too), and is
    left as it is."""
    why = not_a_ledger(path)
    tables = _tables(path, through_wal=os.path.lexists(f"{path}-wal")) if why is None else None
    if isinstance(tables, set) and not tables >= _LEDGER_TABLES:
        why = _NOT_MADE
    if why is not None:
        return LedgerError(f"{path} is not a bulkload ledger ({why}): choose another --ledger")
    if isinstance(tables, str):
        advice = wal_advice(path, sqlite3.DatabaseError(tables))
        return LedgerError(
            f"{path} cannot be read as a bulkload ledger ({tables}): choose another --ledger, or if it is the ledger "
            "of a run, see docs/troubleshooting.md (a ledger SQLite cannot read)" + (f". {advice}" if advice else "")
        )
    return LedgerError(
        f"the ledger {path} already holds a run; use `{command_on('resume', path)}` to continue it"
        + (again or ANOTHER_LEDGER)
    )


def created_nothing_at(path: str) -> bool:
    """Ledger.created_nothing of the SQLite ledger at `path`, read without its lock and writing nothing (a dry run
    tells by it whether a load would start that run over: runner._start_over); False where it cannot be read."""
    return not _peeked(path, lambda db: bool(db.execute(_ANY_SENT).fetchone()[0]), True)


def unreadable(earlier: Path | str, ours: sqlite3.Connection | str) -> str | None:
    """Why a load whose own ledger is `ours` (its connection, or its --ledger: a file's path or a URL) cannot read
    the earlier ledger `earlier` (a file's path that is there, or a URL) beside its own as `known_to` does, in a
    message's words; None when it can. A file is attached as known_to attaches it and its run read: SQLite cannot
    open one on a read-only mount (a WAL ledger is read through the -wal and -shm files beside it, which it must be
    able to make), without permission, or damaged (or no ledger: no run in it). A ledger of the other backend is
    never read, nor a PostgreSQL ledger in another database than a PostgreSQL load's (ledger_pg.same_database:
    known_to reads only its own database's schemas)."""
    pg = isinstance(ours, ledger_pg.Connection) or isinstance(ours, str) and ledger_pg.is_url(ours)
    if ledger_pg.is_url(str(earlier)):
        if not pg:
            return "a PostgreSQL ledger, which a load whose ledger is a SQLite file does not read"
        if not ledger_pg.same_database(str(earlier), cast(ledger_pg.Connection | str, ours)):
            return "a PostgreSQL ledger in another database than this load's, which it does not read"
        return None
    if pg:
        return "a SQLite file, which a load whose ledger is in PostgreSQL does not read"
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("ATTACH DATABASE ? AS earlier", (str(earlier),))
        if conn.execute("SELECT value FROM earlier.meta WHERE key='run'").fetchone() is None:
            return "no run in it: not a bulkload ledger"
    except sqlite3.Error as exc:
        return f"SQLite cannot read it: {exc}"
    finally:
        conn.close()
    return None


def known_to(
    conn: sqlite3.Connection,
    earlier: Path | str,
    label: Callable[[str], str],
    name: str,
    *,
    api_finds: bool = False,
    can_delete: bool = True,
    family: Callable[[str], str] | None = None,
    family_label: Callable[[str], str] = str,
    gone: str = "",
    settle: str = "",
    found: origins.Found | None = None,
    name_of: Callable[[int], str] | None = None,
    also: bool = False,
    offline: bool = False,
) -> int:
    """What the run of the `earlier` ledger did with the groups of the input (`conn`: the new ledger, its
    `file_groups` filled): a group it loaded is skipped (or rejected, when this input's version differs), one
    that may have arrived is in doubt here too. An earlier run that has not finished, has created records and
    shares groups with the input, or families (`family`: an order whose lines it gives as another cost type, say),
    is refused: whatever it does next must not meet what this run does. A run rolled
    back counts only for the groups whose records were gone before its rollback came to them (unexplained: they
    may be in the books). A ledger that cannot be read this way (gone, another version) is passed over, and so is
    one of the other backend or (PostgreSQL) of another database: a load refuses before it gets here while the
    ledger of an earlier load that may share its groups is gone or there but not to be read by it
    (loads.unusable_ledgers, `unreadable`). Where the target finds the groups the API holds
    itself (`api_finds`), what the API holds of a group decides over what is said here (Ledger.skip): the words
    here then stand for groups the API no longer holds (`gone`: what that may mean, Api.gone_means), which are not
    created again but with --reload-gone. An earlier ledger whose digests are of another version (`_checks_of`)
    (model.CHECKS_VERSION) cannot tell a group loaded from a corrected one: its groups are compared by their lines
    and totals (digest OLDER, or NULL). The reasons name `bulkload rollback` where the target `can_delete`
    (Api.can_delete). A group it did not load, of a `family` (RecordKind.group_family) one of its groups is of, is
    rejected: the input gives that thing (an order) other lines; so is a row of no group (RecordKind.row_family)
    of a family it sent a line of as another part (a cost type) or a group of, as messages name it by
    `family_label` (where both ledgers record their rows' families and parts: one made before cannot tell). A group
    in doubt there is settled there: `settle` says how (doubt.way_on, for that ledger), and so is a line of a family
    in doubt there (the input's lines of the family are rejected, saying so). `found`: which rows of the input's
    rejects files are lines it rejected (origins_known, of that ledger). `name_of`: the group name (`name`, where
    not given) of the input's file by its index, by which a refusal counts the groups it shares (PayorCRM's
    customers and invoices). `also`: the kind's group digests leave out a field the API also sets itself
    (RecordKind.checks_also): each group it loaded says the line checks that run kept of its lines (model.Known.also),
    so that a line that gives the field is compared with what that run sent. `offline`: a dry run's, which does not
    ask the API what it holds (`api_finds`): a group loaded with other lines is told for either case. Returns how many
    groups it knows."""
    with _beside(conn, earlier) as at:
        if at is None:
            return 0
        return _known_to(
            conn,
            at,
            earlier,
            label,
            name,
            name_of or (lambda _: name),
            api_finds,
            can_delete,
            family,
            family_label,
            gone,
            settle,
            found,
            also,
            offline,
        )


def _known_to(
    conn: sqlite3.Connection,
    at: str,
    earlier: Path | str,
    label: Callable[[str], str],
    name: str,
    name_of: Callable[[int], str],
    api_finds: bool,
    can_delete: bool,
    family: Callable[[str], str] | None,
    family_label: Callable[[str], str],
    gone: str,
    settle: str,
    found: origins.Found | None,
    also: bool,
    offline: bool,
) -> int:
    """known_to, of the `earlier` ledger read beside `conn` as the tables `at` (`_beside`)."""
    pg = isinstance(conn, ledger_pg.Connection)
    try:
        found_run = conn.execute(f"SELECT value FROM {at}meta WHERE key='run'").fetchone()
        if found_run is None:  # no run in it: no ledger of ours (a load refuses such a one first: `unreadable`)
            return 0
        (run,) = found_run
        info = _decode(run)
        status = info.get("status")
        # of a run rolled back, only the groups whose (first) record was gone before the rollback came to it
        gone_only = (
            f" AND EXISTS (SELECT 1 FROM {at}file_groups e JOIN {at}created cr ON cr.loc = e.file_idx * "
            f"{1 << LOC_SHIFT} + e.line JOIN {at}removed r ON r.id = cr.id WHERE e.key = f.key AND "
            "r.outcome = 'unexplained')"
            if status == "rolled_back"
            else ""
        )
        # it created nothing; resumed, it learns before its first call what this run did with its groups, as this
        # run learns it now (runner._learn_again). Unless it is under way now, about to send: then the groups it
        # shares with this input are its own
        sent, under_way = _stirred(conn, at, earlier)
        if not sent and not under_way:
            return 0
        if status not in ("complete", "rolled_back"):
            shared = conn.execute(
                f"SELECT file_idx, COUNT(*), MIN(key) FROM file_groups WHERE key IN (SELECT key FROM {at}file_groups) "
                "GROUP BY file_idx ORDER BY file_idx"
            ).fetchall()
            counts: dict[str, int] = {}  # of each kind's groups, in the order of the input's files
            for file_idx, n, _ in shared:
                counts[name_of(file_idx)] = counts.get(name_of(file_idx), 0) + n
            first = min((least for *_, least in shared), default="")
            named = label
            if not counts and family is not None:  # the same order given as lines of another cost type, say
                (n, of), named = _shared_families(conn, at, family), family_label
                counts, first = ({name: n}, of) if n else ({}, "")
            if counts:
                raise SharedUnfinished(
                    f"{counted(counts)} of this input (e.g. {named(first)})",
                    str(earlier),
                    str(status),
                    can_delete=can_delete,
                    under_way=under_way,
                    belong="belongs" if sum(counts.values()) == 1 else "belong",
                )
        loaded = f" {loaded_by(earlier)}"
        # settled in that run, it is loaded there (or stays in doubt): this input has nothing to add to it
        doubt = (
            f" may have been loaded by an earlier run (ledger {earlier}; in doubt there): not sent again; it is "
            "settled in that run, not by loading this file again" + (f": {settle}" if settle else "")
        )
        other = " with other lines, amounts, accounts, currencies, codes, dates or texts than this file has"
        if api_finds and offline:  # a dry run: the API is not asked whether it holds the group still
            differs = (
                f"{loaded}{other}: not created again. Whether the API holds it still is what a load looks at first, "
                "and a dry run does not: where it does, the load refuses this file's version of it (correct it there "
                f"to this file's lines); where it no longer does: {gone}, and once it is in no book, load this run's "
                "rejects file (its lines) with --reload-gone"
            )
        elif api_finds:  # what the API holds replaces this where it holds the group (Ledger.skip): it is gone
            differs = (
                f"{loaded}, and the API no longer holds it: {gone}. It was loaded{other}: not created again, as "
                "the books may hold it. Once it is in no book (reversed there, or it was deleted, never booked), "
                "load this run's rejects file (its lines) with --reload-gone"
            )
        else:  # an API bulkload cannot read back: only the user can tell what it holds now
            undo = f" (or undo that run: `{command_on('rollback', earlier)}`)" if can_delete else ""
            differs = (
                f"{loaded}{other}: not created again (loading this file again changes nothing for it); if this "
                f"file's version is the right one, correct it in the API by hand{undo}"
            )
        # a digest of another version, or none kept (0), tells nothing: the group is compared by lines and totals,
        # unless what the API holds is found to decide (a voucher booked since is no longer in the draft journal:
        # the ledger's word stays for it)
        unknown = str(OLDER) if api_finds else "NULL"
        digest = f"COALESCE(NULLIF(g.digest, 0), {unknown})" if _checks_of(conn, at) == CHECKS_VERSION else unknown
        joined = (
            f"FROM file_groups f JOIN {at}groups g ON g.key = f.key JOIN {at}chunks c ON c.seq = g.seq AND "
            f"c.part = g.part WHERE c.state IN ('done', 'sending', 'in_doubt'){gone_only}"
        )
        before = conn.total_changes
        if pg:  # PostgreSQL runs no Python in a statement: the labels are made here
            rows = conn.execute(f"SELECT f.key, c.state, g.lines, g.total, g.debit, {digest} {joined}").fetchall()
            conn.executemany(
                f"INSERT OR IGNORE INTO skip_groups ({SKIP_GROUPS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        "skipped" if state == "done" else "in_doubt",
                        label(key) + (loaded if state == "done" else doubt),
                        lines,
                        total,
                        debit,
                        label(key) + differs,
                        digest,
                    )
                    for key, state, lines, total, debit, digest in rows
                ],
            )
        else:
            conn.create_function("label", 1, label, deterministic=True)
            conn.execute(
                f"INSERT OR IGNORE INTO skip_groups ({SKIP_GROUPS}) SELECT f.key, CASE c.state WHEN 'done' THEN "
                "'skipped' ELSE 'in_doubt' END, label(f.key) || CASE c.state WHEN 'done' THEN ? ELSE ? END, g.lines, "
                f"g.total, g.debit, label(f.key) || ?, {digest} {joined}",
                (loaded, doubt, differs),
            )
        if family is not None and status != "rolled_back":  # what a rollback left is told by its own groups
            files = [f.get("path", "") for f in info.get("files", [])]
            _family_known(conn, at, earlier, files, label, name, family, family_label, can_delete, settle, found)
        learned = conn.total_changes - before
        if also and _checks_of(conn, at) == CHECKS_VERSION:  # the skipped groups this ledger said (its reason)
            said = [(also_blob(checks), key, label(key) + loaded) for key, checks in _lines_sent(conn, at)]
            # one transaction: in autocommit each UPDATE was a commit of its own, 33 s for 83,000 vouchers
            with conn:
                conn.execute("BEGIN")
                conn.executemany("UPDATE skip_groups SET also_checks = ? WHERE key = ? AND reason = ?", said)
        return learned
    except sqlite3.Error:
        return 0  # not a ledger of this version: nothing to learn from it


#: what a rollback recorded of a record that its own DELETE took out, or was answered as taking out (Ledger.removals):
#: not `unexplained`, a record gone before the rollback came to it (booked, say: still in the books)
TAKEN_OUT = ("removed", "gone", DELETED)


def taken_back(conn: sqlite3.Connection, earlier: Path | str) -> tuple[set[str], set[str]]:
    """Of the groups the ledger `conn` skipped as loaded by an earlier run (skip_groups, bucket `skipped`, and its
    rows skipped: one the input gives with other lines is rejected, its skip_groups row kept), those the run of the
    `earlier` ledger loaded (its call done), as two sets of group keys: (those a rollback of that run took out
    since — the group's first record removed by a DELETE of that rollback, TAKEN_OUT —, those that run still
    holds). Both empty where the `earlier` ledger cannot be read beside `conn` (`_beside`: gone, of the other
    backend) or is of another version."""
    with _beside(conn, earlier) as at:
        if at is None:
            return set(), set()
        try:
            rows = conn.execute(
                f"SELECT s.key, EXISTS (SELECT 1 FROM {at}created cr JOIN {at}removed r ON r.id = cr.id "
                f"WHERE cr.loc = e.file_idx * {1 << LOC_SHIFT} + e.line AND r.outcome IN "
                f"({', '.join(repr(o) for o in TAKEN_OUT)})) FROM skip_groups s "
                f"JOIN {at}file_groups e ON e.key = s.key JOIN {at}groups g ON g.key = s.key "
                f"JOIN {at}chunks c ON c.seq = g.seq AND c.part = g.part "
                "WHERE s.bucket = 'skipped' AND c.state = 'done' "
                "AND s.key IN (SELECT grp FROM rows WHERE bucket = 'skipped')"
            ).fetchall()
        except sqlite3.Error:
            return set(), set()
    return {key for key, out in rows if out}, {key for key, out in rows if not out}


def lines_taken_back(conn: sqlite3.Connection, earlier: Path | str) -> dict[int, tuple[int, int]]:
    """Of the records the run of the `earlier` ledger created whose line check (created.line_check) is one the ledger
    `conn` skipped rows of no group as (skip_lines: a record of an earlier run the row sends again), by that check:
    (how many a rollback of that run took out since, TAKEN_OUT; how many it holds). Empty where the `earlier` ledger
    cannot be read beside `conn` (`_beside`), either keeps no such tables, or is of another version."""
    with _beside(conn, earlier) as at:
        if at is None or not _has(conn, "", "skip_lines"):
            return {}
        try:
            rows = conn.execute(
                f"SELECT c.line_check, SUM(CASE WHEN r.outcome IN ({', '.join(repr(o) for o in TAKEN_OUT)}) "
                f"THEN 1 ELSE 0 END), COUNT(*) FROM {at}created c LEFT JOIN {at}removed r ON r.id = c.id "
                "WHERE c.line_check IN (SELECT line_check FROM skip_lines) GROUP BY c.line_check"
            ).fetchall()
        except sqlite3.Error:
            return {}
    return {check: (int(out), int(n) - int(out)) for check, out, n in rows}


def skipped_lines(conn: sqlite3.Connection) -> dict[int, list[tuple[int, int]]]:
    """The rows of no group the ledger `conn` skipped as a record an earlier run created (their reasons end with the
    reason skip_lines keeps of that record), by the record's line check: (file index, line) each, in file order.
    Empty for a ledger that keeps no skip_lines."""
    if not _has(conn, "", "skip_lines"):
        return {}
    found: dict[int, list[tuple[int, int]]] = {}
    for check, file_idx, line in conn.execute(
        "SELECT s.line_check, w.file_idx, w.line_no FROM rows w JOIN skip_lines s ON "
        "substr(w.reason, length(w.reason) - length(s.reason) + 1) = s.reason "  # its end, in SQLite and PostgreSQL
        "WHERE w.bucket = 'skipped' AND w.grp = '' "
        "ORDER BY w.file_idx, w.line_no"
    ):
        found.setdefault(int(check), []).append((int(file_idx), int(line)))
    return found


def _lines_sent(conn: sqlite3.Connection, at: str) -> Iterator[tuple[str, list[int]]]:
    """The groups of the input the run of the ledger `at` loaded (their call done), each with the line checks it
    kept of the group's lines (its created.line_check), in its call's order. A call's groups, in order, cover its
    lines exactly (model.Chunk.groups), each from its first line (that run's file_groups): a call whose groups do not
    so tile its lines, or a group of a line it kept no check of, is not told."""
    # every group of those calls in one pass, by call: asked a call at a time, each was a scan of all the groups of
    # that ledger (none is indexed by its call), 1.5-2.4 s for 83,000 vouchers in 401 calls
    members = conn.execute(
        f"SELECT g.seq, g.part, g.key, g.lines, e.file_idx, e.line FROM {at}groups g JOIN {at}file_groups e "
        f"ON e.key = g.key WHERE (g.seq, g.part) IN (SELECT c.seq, c.part FROM file_groups f JOIN {at}groups h "
        f"ON h.key = f.key JOIN {at}chunks c ON c.seq = h.seq AND c.part = h.part WHERE c.state = 'done') "
        "ORDER BY g.seq, g.part"
    )
    for (seq, part), of_call in groupby(members, itemgetter(0, 1)):
        file_idx, blob = conn.execute(
            f"SELECT file_idx, lines FROM {at}chunks WHERE seq = ? AND part = ?", (seq, part)
        ).fetchone()
        lines = _lines(blob)
        index = {line: i for i, line in enumerate(lines)}
        starts = sorted((index.get(line, -1) if of == file_idx else -1, n, key) for *_, key, n, of, line in of_call)
        if [start for start, _, _ in starts] != list(accumulate((n for _, n, _ in starts[:-1]), initial=0)) or (
            not lines or sum(n for _, n, _ in starts) != len(lines)
        ):
            continue
        base = file_idx << LOC_SHIFT
        kept = dict(
            conn.execute(
                f"SELECT loc, line_check FROM {at}created WHERE loc BETWEEN ? AND ?",
                (base + min(lines), base + max(lines)),
            ).fetchall()
        )
        for start, n, key in starts:
            checks = [kept.get(base + line) for line in lines[start : start + n]]
            if None not in checks:
                yield key, cast(list[int], checks)


def shared_with(conn: sqlite3.Connection, earlier: Path | str) -> tuple[dict[int, int], int, str]:
    """The groups of the input (`conn`: the new ledger, its `file_groups` filled) the run of the `earlier` ledger was
    given too, where it has sent a call or created a record, or is under way now (`_stirred`): (how many of each of
    the input's files, by its index, the file of the least of their keys, that key); ({}, 0, "") for none, and for
    a ledger not to be read beside `conn` (`_beside`). By file, as its kind names them: a customers file and an
    invoices file share customers and invoices, never "3 customers" for one customer and two invoices (t56a)."""
    with _beside(conn, earlier) as at:
        if at is None:
            return {}, 0, ""
        try:
            if not any(_stirred(conn, at, earlier)):  # under way, about to send: two jobs of a manifest (t56a)
                return {}, 0, ""
            shared = f"FROM file_groups WHERE key IN (SELECT key FROM {at}file_groups)"
            counts = conn.execute(f"SELECT file_idx, COUNT(*) {shared} GROUP BY file_idx ORDER BY file_idx").fetchall()
            first = conn.execute(f"SELECT file_idx, key {shared} ORDER BY key LIMIT 1").fetchone()
        except sqlite3.Error:
            return {}, 0, ""  # not a ledger of this version: a load refuses such a one first (`unreadable`)
    return ({int(i): int(n) for i, n in counts}, int(first[0]), str(first[1])) if first else ({}, 0, "")


def _stirred(conn: sqlite3.Connection, at: str, earlier: Path | str) -> tuple[bool, bool]:
    """(whether the run of the `earlier` ledger, read as the tables `at`, has sent a call or created a record,
    whether a process works on it now: Ledger.running)."""
    (sent,) = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM {at}chunks WHERE state IN ('done', 'sending', 'in_doubt')) "
        f"OR EXISTS (SELECT 1 FROM {at}created)"
    ).fetchone()
    return bool(sent), Ledger.running(earlier)


#: what a load of rows of no group is refused for, while a run into the same place has not finished
#: (rows_known_to): SharedUnfinished's fact
ROWS_UNTOLD = (
    "this input's rows of no group (each a record of its own, told by what an earlier run sent: a row it has yet to "
    "send, or sent with no answer, cannot be told)"
)


def counted(counts: dict[str, int]) -> str:
    """Counts of things by name in words: "3 customers and 5 invoices"."""
    said = [f"{n:,} {name}{'s' if n != 1 else ''}" for name, n in counts.items()]
    return " and ".join(said) if len(said) < 3 else f"{', '.join(said[:-1])} and {said[-1]}"


def _checks_blob(checks: Sequence[int] | None) -> bytes | None:
    """The line checks of a call's rows of no group as chunks.checks keeps them (read back by `_rows_in_doubt`)."""
    return None if checks is None else array("q", checks).tobytes()


def loaded_by(earlier: Path | str) -> str:
    """The words that end a reason naming what the run of the `earlier` ledger loaded (skip_groups, skip_lines):
    what unsent_lines keeps of that run."""
    return f"was loaded by an earlier run {run_named(earlier)}"


#: how many lines rows_known_to writes at once
_ROWS_BATCH = 10_000


def _in_batches(conn: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """`sql` for each of `rows`, one transaction a batch of _ROWS_BATCH, each batch read before its transaction
    begins (a read that fails inside one would end it on PostgreSQL): on the ledger's autocommit connection an
    executemany commits each row on its own (rows_known_to, _family_known, origins_known: 50,000 lines learnt from
    an earlier run, ~25 s of commits)."""
    it = iter(rows)
    while batch := list(islice(it, _ROWS_BATCH)):
        with conn:
            conn.execute("BEGIN")
            conn.executemany(sql, batch)


def rows_known_to(conn: sqlite3.Connection, earlier: Path | str, *, can_delete: bool = True, settle: str = "") -> None:
    """The records the run of the `earlier` ledger created (done: in doubt there is not known to be so), each by its
    check (created.line_check: chunking.record_check of what was sent; of model.OLDER_CHECKS, chunking.older_check),
    n of each, into skip_lines of family and part ROWS of the new ledger `conn`, with the reason naming that run's
    line and ledger: the input's rows of no group and no family that give one again are the records it created,
    skipped (planning._rows_loaded), so a changed copy of a file books only its changed and added rows. Asked only of
    the earlier loads into the same place (loads.may_share: its API, agreement and destination), and not by a
    re-runnable load. A ledger that kept no checks of its lines (made before 2026-12, or of HaloPSA before
    this), or of another version, tells nothing: its records are not told (docs/loading-again.md says so).
    SharedUnfinished while that run has not finished and has sent a call or is under way now (the reasons name
    `bulkload rollback` where the target `can_delete`): what it has yet to send, or sent with no answer, is known by
    no check, and a row of the input may be one of them (a tester: a changed copy of a run's file loaded while it
    was killed created its rows in flight again, and its resume created what the copy had loaded: 108 entries of
    60 rows). Rows of its calls in doubt are in doubt, `settle` saying what settles them in that run
    (`_rows_in_doubt`)."""
    with _beside(conn, earlier) as at:
        if at is None:
            return
        try:
            run = conn.execute(f"SELECT value FROM {at}meta WHERE key='run'").fetchone()
            status = _decode(run[0]).get("status") if run else "complete"  # no run in it: no ledger of ours
            if status not in ("complete", "rolled_back"):
                sent, under_way = _stirred(conn, at, earlier)
                if sent or under_way:
                    raise SharedUnfinished(
                        ROWS_UNTOLD,
                        str(earlier),
                        str(status),
                        can_delete=can_delete,
                        under_way=under_way,
                        belong="may belong",
                    )
            if status != "rolled_back":  # a run rolled back took out what it loaded (as _family_known)
                _rows_taken(conn, at, earlier, can_delete)
            if _checks_of(conn, at) not in OLDER_CHECKS | {CHECKS_VERSION} or not _has(conn, "", "skip_lines"):
                return
            files = [f.get("path", "") for f in _decode(run[0]).get("files", [])] if run else []
            checks_whole(conn, at, earlier, files)
            found = iter(
                conn.execute(
                    f"SELECT line_check, MIN(loc), COUNT(*) FROM {at}created WHERE line_check IS NOT NULL "
                    "GROUP BY line_check"
                )
            )

            def said(check: int, loc: int, n: int) -> tuple[str, str, int, str, int]:
                file_idx, line = _file_line(loc)
                shown = files[file_idx] if file_idx < len(files) else "its input"
                return (ROWS, ROWS, check, f"(line {line} of {shown}) {loaded_by(earlier)}", n)

            _in_batches(
                conn,
                "INSERT OR IGNORE INTO skip_lines (family, part, line_check, reason, n) VALUES (?, ?, ?, ?, ?)",
                (said(check, loc, n) for check, loc, n in found),
            )
            _rows_in_doubt(conn, at, earlier, files, settle)
        except sqlite3.Error:
            return  # not a ledger of this version: nothing to learn from it


def _rows_taken(conn: sqlite3.Connection, at: str, earlier: Path | str, can_delete: bool) -> None:
    """Into the new ledger's taken_rows, with the reason (`taken_reason`): the input's rows of a rejects file whose
    `file, line` name a line the run of the ledger `at` loaded from a rejects file of its own (origins.taken_rows),
    which planning rejects where such a row is of no group and is no record that run created given again
    (planning._rows_loaded). Nothing where the input has no rows of a rejects file or that ledger kept none."""
    if not _has(conn, "", "file_origins") or not _has(conn, at, "file_origins"):
        return
    if conn.execute("SELECT 1 FROM file_origins LIMIT 1").fetchone() is None:
        return
    conn.execute(TAKEN_ROWS)  # a ledger made before it, resumed
    ours, theirs = _has(conn, "", "origin_inputs"), _has(conn, at, "origin_inputs")
    undo = f" (or undo that run: `{command_on('rollback', earlier)}`)" if can_delete else ""
    taken = origins.taken_rows(conn, at, ours, theirs, _has(conn, at, "origin_chain"))
    conn.executemany(
        "INSERT OR IGNORE INTO taken_rows VALUES (?, ?, ?)",
        [(i, line, taken_reason(earlier, line, *named, undo)) for (i, line), named in sorted(taken.items())],
    )


def checks_whole(conn: sqlite3.Connection, at: str, earlier: Path | str, files: Sequence[str]) -> None:
    """LedgerError where a check the `earlier` ledger (tables at `at`) keeps of a line its run created
    (created.line_check) is not the one its call kept of the line (chunks.checks, written with it): a byte of the
    ledger changed since (a failing disk, an edit; SQLite's own checks see no wrong value), and the record that line
    created would not be told given again: a changed copy of the file would book it twice, exit 0 (tester t70f: a
    Visma Core entry without an order). Reads each done call's checks and its lines' kept ones, a call at a time."""
    calls = conn.execute(
        f"SELECT file_idx, lines, checks FROM {at}chunks WHERE state = 'done' AND checks IS NOT NULL ORDER BY seq"
    ).fetchall()
    for file_idx, blob, kept in calls:
        lines, checks = _lines(blob), array("q")
        checks.frombytes(kept)
        if len(lines) != len(checks):
            continue
        base = file_idx << LOC_SHIFT
        sent = {base + line: check for line, check in zip(lines, checks, strict=True)}
        locs = list(sent)
        for start in range(0, len(locs), 500):  # SQLite's 999 bound values at most, before 3.32
            part = locs[start : start + 500]
            for loc, check in conn.execute(
                f"SELECT loc, line_check FROM {at}created WHERE loc IN ({','.join('?' * len(part))}) "
                "AND line_check IS NOT NULL",
                part,
            ):
                if check != sent[loc]:
                    _, line = _file_line(loc)
                    shown = files[file_idx] if file_idx < len(files) else "its input"
                    raise LedgerError(
                        f"the ledger {earlier} of an earlier load into the same place is damaged: the check it keeps "
                        f"of line {line} of {shown}, which its run loaded, is not the one its call kept (a byte of "
                        "it changed since), so whether a row of this input is that record cannot be told, and it "
                        "could be booked twice. Put back a whole copy of that ledger from a backup (the file with "
                        "its -wal), then load again; nothing was sent"
                    )


def _rows_in_doubt(conn: sqlite3.Connection, at: str, earlier: Path | str, files: list[str], settle: str) -> None:
    """rows_known_to's records of the calls the finished run of the `earlier` ledger (tables at `at`) left in doubt,
    by the checks of their rows kept as they left (chunks.checks), n of each, into skip_lines of family and part ROWS
    with in_doubt 1: the input's rows that give one again are in doubt too, never sent. Before, they were sent, and
    where the call in doubt had been carried out the record was doubled, exit 0 (t46c: Visma Core entries without
    an order, 3 of 60 doubled). Their reason says what settles them in that run (`settle`: doubt.way_on, as an
    order's lines in doubt say it, `_loaded_lines`): before, it named only `--resend-in-doubt`, for where the API holds
    none, and nothing for where it holds the record (a row given again stayed in doubt in every later load), nor
    that a look settles it where the API has one (HaloPSA). None of a ledger made before the checks were kept."""
    found: dict[int, list[int]] = {}  # check -> [n, the first loc]
    for file_idx, line, check in _checks_in_doubt(conn, at):
        loc = (file_idx << LOC_SHIFT) + line
        seen = found.setdefault(check, [0, loc])
        seen[0] += 1
        seen[1] = min(seen[1], loc)
    lines = []
    for check, (n, loc) in found.items():
        file_idx, line = _file_line(loc)
        shown = files[file_idx] if file_idx < len(files) else "its input"
        said = (
            f"(line {line} of {shown}) was sent by an earlier run whose call is in doubt {run_named(earlier)}: whether "
            f"the API holds it cannot be told, and sent again it may be booked twice; it is settled in that run, not "
            f"by loading this file again{f': {settle}' if settle else ''}"
        )
        lines.append((ROWS, ROWS, check, said, n))
    _in_batches(
        conn,
        "INSERT OR IGNORE INTO skip_lines (family, part, line_check, reason, n, in_doubt) VALUES (?, ?, ?, ?, ?, 1)",
        lines,
    )


@contextlib.contextmanager
def _beside(conn: sqlite3.Connection, earlier: Path | str) -> Iterator[str | None]:
    """The `earlier` ledger read beside the ledger `conn`: the prefix of its tables (SQLite: attached as `earlier`
    while this lasts; PostgreSQL: its schema), or None where it cannot be read so (of the other backend, gone, not
    to be attached)."""
    pg = isinstance(conn, ledger_pg.Connection)
    if pg != ledger_pg.is_url(str(earlier)):
        yield None
    elif pg:
        found = ledger_pg.schema_of(cast(ledger_pg.Connection, conn), str(earlier))
        yield None if found is None else f'"{found}".'
    else:
        try:
            attached = Path(earlier).is_file()
            if attached:
                conn.execute("ATTACH DATABASE ? AS earlier", (str(earlier),))
        except (OSError, sqlite3.Error):
            attached = False
        try:
            yield "earlier." if attached else None
        finally:
            if attached:
                conn.execute("DETACH DATABASE earlier")


def _given(files: Any, n: int) -> list[str]:
    """An earlier run's `n` inputs as it was given them (its RunInfo.settings' files, which its rejects files'
    `file` column writes, relative to the folder it was started in), where its ledger keeps them so: else none."""
    ok = isinstance(files, list) and len(files) == n and all(isinstance(f, str) for f in files)
    return files if ok else []


def origins_known(conn: sqlite3.Connection, ledgers: Sequence[Path | str]) -> dict[Path | str, origins.Found]:
    """Where the rows of the input's rejects files come from (`conn`: the new ledger, its file_origins and
    file_families filled), as the runs of the earlier `ledgers` tell: first the lines each row is through the
    rejects file it names, where an earlier run read that file (origins.chain: into origin_chain), then, of each
    ledger, the families whose every row is a line it rejected of that family (origins.identified), their rows
    that name one into origin_inputs with the SHA-256 of its input they are lines of (its RunInfo.files), and its
    rows that are a line it rejected, never sent, of any family or none (origins.unsent), into unsent_lines with
    the words that end its reasons (`loaded_by`): none of them is a line it loaded given again (planning's
    line_loaded, row_loaded). What known_to then tells a line loaded from a rejects file by (origins.taken), of every
    earlier ledger at once: read before known_to reads any, which is given each ledger's Found. A ledger not to be
    read so is passed over."""
    if not _has(conn, "", "file_origins") or conn.execute("SELECT 1 FROM file_origins LIMIT 1").fetchone() is None:
        return {}
    conn.execute(ORIGIN_INPUTS)  # a ledger made before 2026-12, resumed
    conn.execute(ORIGIN_CHAIN)  # one made before it was kept
    conn.execute(UNSENT_LINES)  # one made before it was kept
    found: dict[Path | str, origins.Found] = {}
    for chaining in (True, False):  # every ledger's chain first: a row is identified by any ledger through them
        for earlier in ledgers:
            with _beside(conn, earlier) as at:
                if at is None or not _has(conn, at, "file_families"):
                    continue
                try:
                    run = conn.execute(f"SELECT value FROM {at}meta WHERE key='run'").fetchone()
                    info = _decode(run[0]) if run else {}
                    files = info.get("files", [])
                    paths = [f.get("path", "") for f in files]
                    given = _given(info.get("settings", {}).get("files"), len(paths))
                    if chaining:
                        if _has(conn, at, "origin_inputs"):
                            origins.chain(conn, at, paths, given, _has(conn, at, "origin_chain"))
                        continue
                    shas = [f.get("sha256", "") for f in files]
                    found[earlier] = origins.identified(conn, at, paths, given, shas, 1 << LOC_SHIFT)
                    unsent = origins.unsent(conn, at, paths, given, shas, 1 << LOC_SHIFT)
                    rows = found[earlier].rows
                    if _has(conn, "", "origin_groups"):  # a kind of no families: its rows by their groups
                        rows = [*rows, *origins.grouped(conn, at, paths, given)]
                    # in batches: in autocommit each INSERT was a commit of its own, 2.7 s for a rejects file of
                    # 60,000 customers
                    _in_batches(
                        conn,
                        "INSERT OR IGNORE INTO unsent_lines VALUES (?, ?, ?)",
                        [(i, line, loaded_by(earlier)) for i, line in unsent],
                    )
                    _in_batches(
                        conn,
                        "INSERT OR IGNORE INTO origin_inputs VALUES (?, ?, ?)",
                        [(i, line, shas[idx]) for i, line, idx in rows if shas[idx]],
                    )
                except sqlite3.Error:
                    continue  # not a ledger of this version: nothing to learn from it
    return found
