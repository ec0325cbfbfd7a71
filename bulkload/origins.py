"""Where the rows of a rejects file came from, and what an earlier run did with those lines (ledger.known_to).

A rejects file names, in its leading columns `file, line`, the earlier file and line each row was rejected from.
`record` keeps them in the new ledger (file_origins) as the input is inspected. Against an earlier run's ledger,
`identified` finds the input's families (Visma Core's orders) whose every row is a line that run rejected of that
very family, never sent: such rows are the lines it did not load, fixed, and no correction of what it loaded of the
family under another part; the earlier input each of their rows is a line of, by its SHA-256, is kept in the new
ledger (origin_inputs, ledger.origins_known); `chain` keeps, for a row whose line is a row of a rejects file an
earlier run read (a rejects file of a rejects file), the lines that row was found to be (origin_chain), by which a
row is identified against the run that rejected the first line. `taken` finds the families of rows whose line an
earlier run loaded already from a rejects file of its own (an edited copy of the fixed rejects file loaded again):
those are. `unsent` finds the rows, of any family or none, that are a line that run rejected and never sent: no line
it loaded given again (unsent_lines), also where one now sends what a line it loaded sent. Lines are told apart by
the input they are of (SHA-256 and line), never by how a `file` column writes
its name: where either run found no such input (a ledger made before 2026-12 kept none), by whether the names
`could_be` one file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby, islice
from pathlib import PurePath
from typing import NamedTuple
from weakref import WeakKeyDictionary

from .errors import RunStopped
from .regroup import SHADOWS, keyed
from .sources import BadRow, Source
from .targets.base import RecordKind

#: origins written to the ledger per statement
_BATCH = 10_000


def record(db: sqlite3.Connection, file_idx: int, source: Source, stop: threading.Event | None = None) -> None:
    """Every record of `source`, when it is a rejects file, into `db`'s file_origins: (file_idx, line, the `file`
    cell, the `line` cell as a number or NULL); then an earlier line claimed by two records is claimed by neither
    (two rows cannot both be that one line). RunStopped soon after `stop` is set. Nothing for any other file."""
    if source.fmt != "csv" or not source.rejects_file:
        return
    batch: list[tuple[int, int, str, int | None]] = []
    records = source.cells()
    try:
        for line, cells in records:
            if type(cells) is not list or len(cells) < 2:
                continue  # a record over the size cap, kept as text: it names no line
            said = cells[1].strip()
            batch.append((file_idx, line, cells[0].strip(), int(said) if said.isascii() and said.isdigit() else None))
            if len(batch) >= _BATCH:
                db.executemany("INSERT OR IGNORE INTO file_origins VALUES (?, ?, ?, ?)", batch)
                batch.clear()
                if stop is not None and stop.is_set():
                    raise RunStopped(f"{source.path}: stopped while it was read before the first call")
    finally:
        records.close()  # type: ignore[attr-defined]
    db.executemany("INSERT OR IGNORE INTO file_origins VALUES (?, ?, ?, ?)", batch)
    db.execute(
        "UPDATE file_origins SET origin_line = NULL WHERE (origin, origin_line) IN (SELECT origin, origin_line FROM "
        "file_origins WHERE origin_line IS NOT NULL GROUP BY origin, origin_line HAVING COUNT(*) > 1)"
    )


#: the most rows of a rejects file that may name a line an earlier row names (`copies`): past them the file is no
#: rejects file fixed by hand, but one joined with itself, and is refused whole
MOST_COPIES = 1_000


@contextmanager
def rejects_rows(
    db: sqlite3.Connection, source: Source, kind: RecordKind, groups: bool, kept: int | None = None
) -> Iterator[bool]:
    """While the block runs, scratch tables of `db` hold the rows of `source`, when it is a rejects file, read once
    for `copies` and every `mates_left_out`: named_lines, each row's `file` cell, its `line` cell (rows whose `line`
    cell is a number) and the line it is on; and (`groups`: where its rows are read against an earlier run) row_groups,
    each row's line and its group as `kind` reads it (regroup.keyed; "" for none). Where `kept` (the file's index) is
    given, those groups, keyed in the same one pass, also go to the ledger's origin_groups: (kept, line, group key),
    rows of no group left out, for `taken`. The scratch tables are dropped after, however the block ends. Yields
    whether it is a rejects file (no tables for any other). A big file costs no memory."""
    if source.fmt != "csv" or not source.rejects_file:
        yield False
        return
    db.execute("CREATE TEMP TABLE IF NOT EXISTS named_lines (origin TEXT, origin_line INTEGER, line INTEGER)")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS row_groups (line INTEGER PRIMARY KEY, grp TEXT)")
    try:
        for table in ("named_lines", "row_groups"):
            db.execute(f"DELETE FROM {table}")
        _insert(db, "INSERT INTO named_lines VALUES (?, ?, ?)", _lines_named(source))
        db.execute("CREATE INDEX IF NOT EXISTS named_lines_line ON named_lines (origin, origin_line, line)")
        if groups or kept is not None:
            _insert(db, "INSERT OR IGNORE INTO row_groups VALUES (?, ?)", _groups_of(source, kind))
        if kept is not None:
            kept_groups = "INSERT OR IGNORE INTO origin_groups SELECT ?, line, grp FROM row_groups WHERE grp != ''"
            db.execute(kept_groups, (kept,))
        yield True
    finally:
        for table in ("named_lines", "row_groups"):
            db.execute(f"DROP TABLE IF EXISTS {table}")  # its index with it


def copies(db: sqlite3.Connection) -> list[tuple[int, int, str, int]]:
    """(line, the earlier line that names it too, the `file` cell, the `line` cell) of each row of the rejects file
    `rejects_rows` holds whose `file, line` name the line an earlier row of it names: two rows cannot both be that
    one line (a row copied while the file was fixed by hand), and loading both would book the line twice. Not for a
    row whose `line` is empty (a line of its own). At most MOST_COPIES + 1 are given."""
    earliest = "(SELECT MIN(e.line) FROM named_lines e WHERE e.origin = n.origin AND e.origin_line = n.origin_line)"
    found = db.execute(
        f"SELECT n.line, {earliest}, n.origin, n.origin_line FROM named_lines n WHERE n.line > {earliest} "
        f"ORDER BY n.line LIMIT {MOST_COPIES + 1}"
    ).fetchall()
    return [(int(line), int(first), str(origin), int(origin_line)) for line, first, origin, origin_line in found]


class RejectedBy(NamedTuple):
    """The run whose rejects file an input is (loads.rejected_by): its `ledger` as messages name it, the input whose
    rows the rejects file holds as that run was given it (`given`) and as its ledger keeps it (`path`), and
    `rejected`, which gives (line, group key, reason) of each row of that input the run rejected."""

    ledger: str
    given: str
    path: str
    rejected: Callable[[], Iterable[tuple[int, str, str]]]


def mates_left_out(db: sqlite3.Connection, by: RejectedBy, kind: RecordKind) -> list[tuple[int, str]]:
    """(line, reason) of rows of the rejects file `rejects_rows` holds (with its groups) whose group, as `kind` reads
    it, the run `by` rejected would be booked in part: of the first row of each group whose rows name some of the lines
    that run rejected of it but leave out a line it rejected only with its group (a reason starting "<group_label(key)>
    rejected: ", or "<group_label(key)> refused by the API", which refused the group whole, as one record or naming no
    line: no line of it is told to be the bad one; a row deleted while the file was fixed by hand), and of the first row
    in each group of this file of a group of that run whose rows this file puts in more than one group (a group key
    edited on some of its rows: each part would be booked without lines that run held one group). Each such row is
    rejected, with its group. Read through scratch tables of `db`, so a big file costs no memory."""
    given, path, ledger = by.given, by.path, by.ledger
    db.execute("CREATE TEMP TABLE IF NOT EXISTS our_origins (origin TEXT PRIMARY KEY)")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS named_rows (origin_line INTEGER, line INTEGER)")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS rejected_rows (line INTEGER PRIMARY KEY, grp TEXT, mate INTEGER)")
    for table in ("our_origins", "named_rows", "rejected_rows"):
        db.execute(f"DELETE FROM {table}")
    # the rows naming that run's input: its `file` cells matched in Python (`matching`), each once
    cells = [origin for (origin,) in db.execute("SELECT DISTINCT origin FROM named_lines").fetchall()]
    _insert(db, "INSERT INTO our_origins VALUES (?)", ((o,) for o in cells if matching(o, [path], [given]) == 0))
    db.execute(
        "INSERT INTO named_rows SELECT n.origin_line, n.line FROM named_lines n "
        "JOIN our_origins o ON o.origin = n.origin"
    )
    db.execute("CREATE INDEX IF NOT EXISTS named_rows_origin ON named_rows (origin_line)")
    label = kind.group_label
    rejected = (
        (
            line,
            group,
            int(
                bool(group) and reason.startswith((f"{label(group)} rejected: ", f"{label(group)} refused by the API"))
            ),
        )
        for line, group, reason in by.rejected()
    )
    _insert(db, "INSERT OR IGNORE INTO rejected_rows VALUES (?, ?, ?)", rejected)
    db.execute("CREATE INDEX IF NOT EXISTS rejected_rows_grp ON rejected_rows (grp, mate)")
    found = db.execute(  # in the dialect both ledgers speak: no alias of a column in HAVING (PostgreSQL)
        "SELECT first, grp, missing FROM (SELECT MIN(n.line) AS first, r.grp AS grp, (SELECT MIN(m.line) FROM "
        "rejected_rows m WHERE m.grp = r.grp AND m.mate = 1 AND NOT EXISTS (SELECT 1 FROM named_rows k WHERE "
        "k.origin_line = m.line)) AS missing FROM named_rows n JOIN rejected_rows r ON r.line = n.origin_line WHERE "
        "r.grp != '' GROUP BY r.grp) g WHERE missing IS NOT NULL ORDER BY first"
    ).fetchall()
    # each part, in a group of this file, of a group of that run whose rows are in more than one: (its first row,
    # the line it names, that run's group, the group of this file)
    parts = "FROM named_rows n JOIN rejected_rows r ON r.line = n.origin_line JOIN row_groups g ON g.line = n.line"
    split = db.execute(
        f"SELECT MIN(n.line), MIN(n.origin_line), r.grp, g.grp {parts} WHERE r.grp != '' AND r.grp IN (SELECT r.grp "
        f"{parts} GROUP BY r.grp HAVING COUNT(DISTINCT g.grp) > 1) GROUP BY r.grp, g.grp ORDER BY MIN(n.line)"
    ).fetchall()
    for table in ("our_origins", "named_rows", "rejected_rows"):
        db.execute(f"DROP TABLE {table}")
    left = [
        (
            int(line),
            f"line {missing} of {given}, which the run of the ledger {ledger} rejected only with {label(group)}, is "
            f"not in this file: loaded without it, {label(group)} would be booked in part (a row deleted while the "
            "file was fixed?). Give its row back (that run's rejects file has it); where it is meant without it, "
            "empty the `line` cells of its rows",
        )
        for line, group, missing in found
    ]
    apart: dict[str, list[tuple[int, int, str]]] = {}  # that run's group -> its parts: (first row, its line, group)
    for line, origin_line, group, now in split:
        apart.setdefault(str(group), []).append((int(line), int(origin_line), str(now)))
    for group, held in apart.items():
        name, fields = kind.group_name, " or ".join(sorted(kind.group_fields))
        where = "; ".join(
            f"line {origin_line} of it in {label(now) if now else f'no {name}'} (line {line} of this file)"
            for line, origin_line, now in held
        )
        reason = (
            f"the run of the ledger {ledger} rejected {label(group)} of {given} whole, and this file puts its lines "
            f"in {len(held)} {name}s ({where}): loaded so, each would be booked without lines {label(group)} held "
            f"(its {fields} edited on some of its rows while the file was fixed?). Give its rows one {name} again, "
            "all moved or none; where they are meant apart, empty the `line` cells of its rows"
        )
        left += [(line, reason) for line, _, _ in held]
    return sorted(left)


def _groups_of(source: Source, kind: RecordKind) -> Iterator[tuple[int, str]]:
    """(line, its group as `kind` reads it: regroup.keyed; "" for none) of each row of `source`."""
    only = kind.group_fields | kind.number_fields | kind.date_fields | {*kind.filled_down, *kind.filled_alike}
    for key, item in keyed(source.rows(only), kind):
        if type(item) is BadRow:
            if item.kind not in SHADOWS:
                yield item.line_no, key if type(key) is str else ""
        else:
            yield item[0], key if type(key) is str else ""


def _lines_named(source: Source) -> Iterator[tuple[str, int, int]]:
    """(its `file` cell, its `line` cell, the line it is on) of each row of the rejects file `source` whose `line`
    cell is a number."""
    records = source.cells()
    try:
        for line, cells in records:
            if type(cells) is list and len(cells) > 1 and (said := cells[1].strip()).isascii() and said.isdigit():
                yield cells[0].strip(), int(said), line
    finally:
        records.close()  # type: ignore[attr-defined]


def _insert(db: sqlite3.Connection, sql: str, rows: Iterable[tuple[object, ...]]) -> None:
    """`sql` for each of `rows`, _BATCH at a time: a big file costs no memory."""
    it = iter(rows)
    while batch := list(islice(it, _BATCH)):
        db.executemany(sql, batch)


def copied_reason(first: int, origin: str, origin_line: int) -> str:
    """Why a row of a rejects file that names line `origin_line` of `origin`, as its row at line `first` does, is
    rejected (`copies`), with its group."""
    return (
        f"the row names line {origin_line} of {origin}, as line {first} of this file does: two rows cannot both be "
        "that one line, and loading both would book it twice (a row copied while the file was fixed?). Delete the "
        "copy; where it is a line of its own, empty its `line` cell"
    )


def named_input(source: Source) -> str | None:
    """The one input a rejects file's records name in their `file` cell (None: no rejects file, or its records
    name none or more than one: two inputs may have been read two ways)."""
    names = named_inputs(source, 2)
    return names[0] if len(names) == 1 and names[0] else None


#: the most inputs one rejects file's records are read for (named_inputs): a run's inputs, joined by hand
MOST_NAMED = 100


def named_inputs(source: Source, most: int = MOST_NAMED) -> list[str]:
    """The inputs a rejects file's records name in their `file` cell, in the order first named ("" for a record
    that names none), at most `most` of them ([] for no rejects file): two rejects files joined by hand name two.
    The file is read for them once a Source (the first MOST_NAMED kept): a load asks three times (the run's
    options, how its input was read, which run rejected its rows), and each read of a rejects file that names one
    input went through all of it (0.6 s of 60,000 rows)."""
    if source.fmt != "csv" or not source.rejects_file:
        return []
    if most > MOST_NAMED:
        return _named(source, most)
    named = _NAMED.get(source)
    if named is None:
        named = _NAMED[source] = _named(source, MOST_NAMED)
    return named[:most]


#: the inputs each rejects file's records name (named_inputs), by the Source that read it: for as long as it is used
_NAMED: WeakKeyDictionary[Source, list[str]] = WeakKeyDictionary()


def _named(source: Source, most: int) -> list[str]:
    """named_inputs read from the file."""
    names: dict[str, None] = {}
    records = source.cells()
    try:
        for _, cells in records:
            if type(cells) is list and cells:
                names.setdefault(cells[0].strip())
            if len(names) >= most:
                break
    finally:
        records.close()  # type: ignore[attr-defined]
    return list(names)


def matching(name: str, paths: Sequence[str], given: Sequence[str]) -> int | None:
    """The index of the one input of an earlier run that `name` (a rejects file's `file` cell: the path that run
    was given, absolute or relative to the folder it was started in) names: the input that run was given as `name`
    (`given`: its inputs' paths as it was given them, what its rejects file writes; so wherever this run is
    started), else the one of `paths` (their absolute paths) that ends with it. None when none is, or more than one
    (a name that could be either names neither); a name that climbs (`..`) ends no absolute path: it names only an
    input given so."""
    if not name:
        return None
    written = os.path.normpath(name)
    found = [i for i, path in enumerate(given) if path and os.path.normpath(path) == written]
    if not found:
        parts = PurePath(written).parts
        if ".." in parts:
            return None
        found = [i for i, path in enumerate(paths) if PurePath(path).parts[-len(parts) :] == parts]
    return found[0] if len(found) == 1 else None


def _tail(name: str) -> tuple[str, ...]:
    """The path parts of `name` (a rejects file's `file` cell) that name its file wherever it was written from:
    after the last `..` of the normalised path, if any."""
    parts = PurePath(os.path.normpath(name)).parts if name else ()
    return parts[len(parts) - parts[::-1].index("..") :] if ".." in parts else parts


def could_be(name: str, other: str) -> bool:
    """Whether the `file` cells `name` and `other` (of two rejects files, each the path a run was given, absolute
    or relative to a folder this cannot know) may name one file: the one's parts end the other's (`orders.csv`,
    `./orders.csv`, `.//orders.csv` and `/home/a/orders.csv` may all be one file; `a/orders.csv` and
    `b/orders.csv` are not). Empty cells name no file but each other."""
    mine, theirs = _tail(name), _tail(other)
    if not mine or not theirs:
        return mine == theirs
    short, long = sorted((mine, theirs), key=len)
    return long[len(long) - len(short) :] == short


def _lines_of(at: str, chained: bool) -> str:
    """The earlier lines each row of a rejects file of the ledger `at` was found to be: (file index, line, SHA-256
    of the earlier input, its line), named (origin_inputs) or through the rejects file it names (origin_chain,
    where the ledger keeps one: `chained`)."""
    named = (
        f"SELECT r.file_idx, r.line, r.sha256, o.origin_line FROM {at}origin_inputs r JOIN {at}file_origins o "
        "ON o.file_idx = r.file_idx AND o.line = r.line"
    )
    return f"{named} UNION SELECT file_idx, line, sha256, origin_line FROM {at}origin_chain" if chained else named


def taken(
    conn: sqlite3.Connection, at: str, ours: bool, theirs: bool, chained: bool, groups: bool = False
) -> dict[str, tuple[int, str, int]]:
    """The input's families (`groups`: its groups, by origin_groups, where the kind names no families) with a row
    whose origin is a line that a row of a rejects file the run of the ledger `at` read (its file_origins) is too,
    and that run did not reject (it loaded that line, or may have): family (group key) -> (the input's line, the
    origin's file and line, as the row names them), its first such row. Two rows are one line as `_taken` tells."""
    grouped = "(SELECT file_idx, line, line AS last_line, grp AS family FROM origin_groups)"
    within = grouped if groups else "file_families"
    rows = f"{within} f JOIN file_origins o ON o.file_idx = f.file_idx AND o.line BETWEEN f.line AND f.last_line"
    found: dict[str, tuple[int, int, str, int]] = {}  # family -> its first such row: (file index, line, origin, line)
    for family, file_idx, line, origin, origin_line in _taken(conn, at, ours, theirs, chained, rows, "f.family"):
        row = (file_idx, line, origin, origin_line)
        found[family] = min(found.get(family, row), row)
    return {family: (line, origin, origin_line) for family, (_, line, origin, origin_line) in found.items()}


def taken_rows(
    conn: sqlite3.Connection, at: str, ours: bool, theirs: bool, chained: bool
) -> dict[tuple[int, int], tuple[str, int]]:
    """As `taken`, row by row: (file index, line) of each row of the input's rejects files whose origin is a line a
    row of a rejects file the run of the ledger `at` read is too, and that run did not reject -> the origin's file
    and line, as the row names them. For rows of no group, each a record of its own (HaloPSA's)."""
    found = _taken(conn, at, ours, theirs, chained, "file_origins o", "NULL")
    return {(file_idx, line): (origin, origin_line) for _, file_idx, line, origin, origin_line in found}


def _taken(
    conn: sqlite3.Connection, at: str, ours: bool, theirs: bool, chained: bool, rows: str, family: str
) -> list[tuple[str, int, int, str, int]]:
    """(family, file index, line, origin, origin line) of the input's rows (`rows`: SQL of them as `o`, their
    file_origins, with `family`, SQL of each one's family) whose origin is a line that a row of a rejects file the
    run of the ledger `at` read (its file_origins) is too, and that run did not reject. Two rows are one
    line where each was found to be a line of an earlier input (`ours`, `theirs`: whether this ledger and that one
    keep origin_inputs; a ledger made before 2026-12 does not) and they share one, by SHA-256 and line, named or
    through the rejects files they name (origin_chain; `chained`: whether that ledger keeps one); else (either was
    not found so) where their names `could_be` one file, of the same line: on the safe side, a file of that name
    elsewhere is held to be it."""
    found: list[tuple[str, int, int, str, int]] = []
    not_rejected = (
        f"NOT EXISTS (SELECT 1 FROM {at}rows r WHERE r.file_idx = eo.file_idx AND r.line_no = eo.line "
        "AND r.bucket = 'rejected')"
    )
    if ours and theirs:
        found += conn.execute(
            f"SELECT DISTINCT {family}, o.file_idx, o.line, o.origin, o.origin_line FROM {rows} JOIN "
            f"({_lines_of('', True)}) a ON a.file_idx = o.file_idx AND a.line = o.line JOIN "
            f"({_lines_of(at, chained)}) b ON b.sha256 = a.sha256 AND b.origin_line = a.origin_line JOIN "
            f"{at}file_origins eo ON eo.file_idx = b.file_idx AND eo.line = b.line WHERE {not_rejected}"
        ).fetchall()
    known = (
        "EXISTS (SELECT 1 FROM origin_inputs r WHERE r.file_idx = o.file_idx AND r.line = o.line) AND EXISTS "
        f"(SELECT 1 FROM {at}origin_inputs er WHERE er.file_idx = eo.file_idx AND er.line = eo.line)"
        if ours and theirs
        else "0"
    )
    for of, file_idx, line, origin, origin_line, other, both in conn.execute(
        f"SELECT {family}, o.file_idx, o.line, o.origin, o.origin_line, eo.origin, {known} FROM {rows} JOIN "
        f"{at}file_origins eo ON eo.origin_line = o.origin_line WHERE o.origin_line IS NOT NULL AND {not_rejected}"
    ):
        if not both and could_be(origin, other):
            found.append((of, file_idx, line, origin, origin_line))
    return found


def _index(conn: sqlite3.Connection, paths: Sequence[str], given: Sequence[str]) -> list[tuple[str, int]]:
    """(a `file` cell of the input's rejects files, the index in `paths` of the input it names: `matching`)."""
    names = [name for (name,) in conn.execute("SELECT DISTINCT origin FROM file_origins WHERE origin_line IS NOT NULL")]
    return [(name, i) for name in names if (i := matching(name, paths, given)) is not None]


def chain(conn: sqlite3.Connection, at: str, paths: Sequence[str], given: Sequence[str], chained: bool) -> None:
    """Into the input's origin_chain: for each row of a rejects file whose origin is a line of an input of the run
    of the ledger `at` (its inputs `paths`, and as it was given them `given`: `matching`) that run found to be a
    line of an earlier input (its origin_inputs, and `chained`: its origin_chain, which a ledger made before it was
    kept does not have), those earlier lines, by SHA-256 and line. So a row of the rejects file of a run that loaded
    a rejects file is the lines that file's row is."""
    for name, i in _index(conn, paths, given):
        conn.execute(
            "INSERT OR IGNORE INTO origin_chain SELECT o.file_idx, o.line, er.sha256, eo.origin_line FROM "
            f"file_origins o JOIN {at}origin_inputs er ON er.file_idx = ? AND er.line = o.origin_line JOIN "
            f"{at}file_origins eo ON eo.file_idx = er.file_idx AND eo.line = er.line WHERE o.origin = ? AND "
            "eo.origin_line IS NOT NULL",
            (i, name),
        )
        if chained:
            conn.execute(
                "INSERT OR IGNORE INTO origin_chain SELECT o.file_idx, o.line, ec.sha256, ec.origin_line FROM "
                f"file_origins o JOIN {at}origin_chain ec ON ec.file_idx = ? AND ec.line = o.origin_line "
                "WHERE o.origin = ?",
                (i, name),
            )


def _candidates(
    conn: sqlite3.Connection, paths: Sequence[str], given: Sequence[str], shas: Sequence[str]
) -> tuple[str, list[str]]:
    """SQL (and its parameters) of each row of the input's rejects files with the lines of an earlier run's inputs
    (`paths`, as it was given them `given`, their SHA-256 `shas`) it may be: (file_idx, line, origin_line, idx: the
    index of that run's input, NULL where it names none, direct): the one it names (`matching`; direct 1), and
    those origin_chain finds it is (0)."""
    pairs = _index(conn, paths, given)
    names = " ".join(f"WHEN ? THEN {i}" for _, i in pairs)
    by_sha = [(sha, i) for i, sha in enumerate(shas) if sha]
    inputs = " ".join(f"WHEN ? THEN {i}" for _, i in by_sha)
    named_idx = f"CASE o.origin {names} END" if pairs else "NULL"
    candidates = f"SELECT o.file_idx, o.line, o.origin_line, {named_idx} AS idx, 1 AS direct FROM file_origins o"
    if by_sha:
        candidates += (
            f" UNION ALL SELECT c.file_idx, c.line, c.origin_line, CASE c.sha256 {inputs} END, 0 FROM origin_chain c "
            f"WHERE c.sha256 IN ({', '.join('?' for _ in by_sha)})"
        )
    return candidates, [*(name for name, _ in pairs), *(sha for sha, _ in by_sha), *(sha for sha, _ in by_sha)]


def unsent(
    conn: sqlite3.Connection, at: str, paths: Sequence[str], given: Sequence[str], shas: Sequence[str], span: int
) -> list[tuple[int, int]]:
    """(file index, line) of each row of the input's rejects files that is a line the run of the ledger `at` (its
    inputs `paths`, as it was given them `given`, their SHA-256 `shas`; `span`: created.loc's lines per file)
    rejected and never created, of any family or none: the row names it (`matching`), or the line it names is one
    (origin_chain). That run did not load it: such a row, fixed, is no line it loaded given again, also where it
    now sends what a line it loaded sent (a duplicate record of the file, its bad cell fixed)."""
    candidates, params = _candidates(conn, paths, given, shas)
    return conn.execute(
        f"SELECT DISTINCT x.file_idx, x.line FROM ({candidates}) x WHERE x.idx IS NOT NULL AND x.origin_line IS NOT "
        f"NULL AND EXISTS (SELECT 1 FROM {at}rows r WHERE r.file_idx = x.idx AND r.line_no = x.origin_line AND "
        f"r.bucket = 'rejected') AND NOT EXISTS (SELECT 1 FROM {at}created cr WHERE cr.loc = x.idx * {span} + "
        "x.origin_line)",
        params,
    ).fetchall()


def grouped(
    conn: sqlite3.Connection, at: str, paths: Sequence[str], given: Sequence[str]
) -> list[tuple[int, int, int]]:
    """(file index, line, the index of that run's input) of each row of the input's rejects files of a kind of no
    families (origin_groups) whose `file, line` name (`matching`) a line the run of the ledger `at` (its inputs
    `paths`, as it was given them `given`) rejected as a line of the group the row is of (its rows' `grp`): what
    origin_inputs keeps, by which `taken` tells two rows one line by their input's SHA-256, not the name their
    `file` cells write (two months' `export.csv`, each in a folder of its own). A row given another group (a
    voucher renumbered) is not found so, and is told by that name, as before."""
    pairs = _index(conn, paths, given)
    if not pairs:
        return []
    names = " ".join(f"WHEN ? THEN {i}" for _, i in pairs)
    return conn.execute(
        f"SELECT x.file_idx, x.line, x.idx FROM (SELECT g.file_idx, g.line, g.grp, o.origin_line, CASE o.origin "
        f"{names} END AS idx FROM origin_groups g JOIN file_origins o ON o.file_idx = g.file_idx AND o.line = g.line "
        f"WHERE o.origin_line IS NOT NULL) x WHERE x.idx IS NOT NULL AND EXISTS (SELECT 1 FROM {at}rows r WHERE "
        "r.file_idx = x.idx AND r.line_no = x.origin_line AND r.bucket = 'rejected' AND r.grp = x.grp)",
        [name for name, _ in pairs],
    ).fetchall()


class Unidentified(NamedTuple):
    """A row of the input that is no line the earlier run rejected of its family, and why: `named` (the line its
    `file, line` name, as written: None where it is a row of no rejects file, or names no line), `cause` one of
    "no rejects file", "no line", "no input", "not rejected", "loaded", "another family"."""

    line: int
    named: tuple[str, int] | None
    cause: str

    def said(self, name: str) -> str:
        """Why, in words, `name` being what a family is called ("order")."""
        if self.named is None:
            what = (
                "is a row of no rejects file"
                if self.cause == "no rejects file"
                else "names no one line: its `line` is no line number, or another row names that line too"
            )
            return f"line {self.line} of this file {what}"
        origin, origin_line = self.named
        return (
            f"line {self.line} of this file names line {origin_line} of {origin}, "
            + {
                "no input": "which names no one input of that run (as it was given one, or the end of one's path)",
                "not rejected": "which that run did not reject",
                "loaded": "which that run loaded",
                "another family": f"which that run rejected as a line of another {name}",
            }[self.cause]
        )


class Found(NamedTuple):
    """What `identified` found of the input's families against one earlier ledger."""

    #: the families whose every row is a line that run rejected of that family and never created
    families: frozenset[str]
    #: (file index, line, the index of that run's input) of their rows that name such a line as it is written
    #: (not found only through origin_chain): what origin_inputs keeps
    rows: list[tuple[int, int, int]]
    #: family of a row of a rejects file -> its first row that is no such line, where one is
    unidentified: dict[str, Unidentified]


def identified(
    conn: sqlite3.Connection, at: str, paths: Sequence[str], given: Sequence[str], shas: Sequence[str], span: int
) -> Found:
    """The input's families (its file_families) whose every row is of a rejects file and is a line the run of the
    ledger `at` (its inputs `paths`, and as it was given them `given`, their SHA-256 `shas`; `span`: created.loc's
    lines per file) rejected of that family (its rows and file_families) and never created: those rows are the
    lines it did not load, not a correction of what it loaded of the family. A row is such a line where its `file,
    line` name one (`matching`), or where the line it names is one, through the rejects file of a run that loaded
    that run's (origin_chain). A row that is no such line (an ordinary file's, one edited to another order, a line
    the run loaded) leaves its family out, as it may be a correction of what the run loaded of it: the family is
    then told as before, and the first such row of a family of a rejects file is said, with why (`Unidentified`).
    Only where that ledger records its rows' families: an older one identifies none."""
    candidates, params = _candidates(conn, paths, given, shas)
    found: dict[str, list[tuple[int, int, int]]] = {}  # family -> its rows found, as origin_inputs keeps them
    unidentified: dict[str, Unidentified] = {}
    query = conn.execute(
        "SELECT f.family, x.file_idx, x.line, x.idx, x.direct, x.idx IS NOT NULL AND x.origin_line IS NOT NULL, "
        f"EXISTS (SELECT 1 FROM {at}rows r WHERE r.file_idx = x.idx AND r.line_no = x.origin_line "
        "AND r.bucket = 'rejected'), "
        f"EXISTS (SELECT 1 FROM {at}created cr WHERE cr.loc = x.idx * {span} + x.origin_line), "
        f"(SELECT CASE WHEN e.last_line >= x.origin_line THEN e.family END FROM {at}file_families e "
        "WHERE e.file_idx = x.idx AND e.line <= x.origin_line ORDER BY e.line DESC LIMIT 1) = f.family, "
        "o.origin, o.origin_line "
        f"FROM file_families f JOIN ({candidates}) x ON x.file_idx = f.file_idx AND x.line BETWEEN f.line AND "
        "f.last_line JOIN file_origins o ON o.file_idx = x.file_idx AND o.line = x.line "
        "ORDER BY x.file_idx, x.line, x.direct DESC",
        params,
    )
    for (family, file_idx, line), seen in groupby(query, key=lambda r: (r[0], r[1], r[2])):
        why: Unidentified | None = None
        for _, _, _, idx, direct, named, rejected, made, same, origin, origin_line in seen:
            if named and rejected and not made and same:
                found.setdefault(family, []).extend([(file_idx, line, idx)] if direct else [])
                why = None
                break
            if direct:  # why not, as the row names its line
                cause = (
                    "no line"
                    if origin_line is None
                    else "no input"
                    if not named
                    else "not rejected"
                    if not rejected
                    else "loaded"
                    if made
                    else "another family"
                )
                why = Unidentified(line, None if origin_line is None else (origin, origin_line), cause)
        if why is not None:
            unidentified.setdefault(family, why)
    # a run of lines of the family with no origin is an ordinary file's
    for family, line in conn.execute(
        "SELECT f.family, MIN(f.line) FROM file_families f WHERE NOT EXISTS (SELECT 1 FROM file_origins o WHERE "
        "o.file_idx = f.file_idx AND o.line BETWEEN f.line AND f.last_line) GROUP BY f.family"
    ):
        if family in found or family in unidentified:
            unidentified.setdefault(family, Unidentified(line, None, "no rejects file"))
    families = frozenset(found) - unidentified.keys()
    return Found(families, [row for family in families for row in found[family]], unidentified)
