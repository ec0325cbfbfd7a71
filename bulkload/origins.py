"""Where the rows of a rejects file came from, and what an earlier run did with those lines (ledger.known_to).

A rejects file names, in its leading columns `file, line`, the earlier file and line each row was rejected from.
`record` keeps them in the new ledger (file_origins) as the input is inspected. Against an earlier run's ledger,
`identified` finds the input's families (Visma Core's orders) whose every row is a line that run rejected of that
very family, never sent: such rows are the lines it did not load, fixed, and no correction of what it loaded of the
family under another part; the earlier input each of their rows is a line of, by its SHA-256, is kept in the new
ledger (origin_inputs, ledger.origins_known). `taken` finds the families of rows whose line an earlier run loaded
already from a rejects file of its own (an edited copy of the fixed rejects file loaded again): those are. Lines
are told apart by the input they are of (SHA-256 and line), never by how a `file` column writes its name: where
either run found no such input (a ledger made before 2026-12 kept none), by whether the names `could_be` one file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import PurePath

from .errors import RunStopped
from .sources import Source

#: origins written to the ledger per statement
_BATCH = 10_000


def record(db: sqlite3.Connection, file_idx: int, source: Source, stop: threading.Event | None = None) -> None:
    """Every record of `source`, when it is a rejects file, into `db`'s file_origins: (file_idx, line, the `file`
    cell, the `line` cell as a number or NULL); then an earlier line claimed by two records is claimed by neither
    (two rows cannot both be that one line). RunStopped soon after `stop` is set."""
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


def matching(name: str, paths: Sequence[str]) -> int | None:
    """The index of the one file of `paths` (an earlier run's inputs, absolute) that `name` (a rejects file's
    `file` cell: the path as that run was given it, absolute or relative to where it was started) names: the path
    that ends with it. None when none does, or more than one (a name that could be either names neither), or the
    name climbs (`..`), which no absolute path shows."""
    if not name:
        return None
    parts = PurePath(os.path.normpath(name)).parts
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


def identified(
    conn: sqlite3.Connection, at: str, paths: Sequence[str], span: int, parts: bool
) -> dict[str, list[tuple[int, int, int]]]:
    """The input's families (its file_families) whose every row is of a rejects file and names as its origin a line
    the run of the ledger `at` (its inputs `paths`; `span`: created.loc's lines per file) rejected of that family
    (its rows and file_families) and never created: those rows are the lines it did not load, not a correction of
    what it loaded of the family. A row that names no such line (an ordinary file's, one edited to another order,
    a line the run loaded) leaves its family out: the family is then told as before. `parts`: whether that
    ledger records its rows' families (an older one does not, and identifies none). Family -> its rows: (file
    index, line, the index in `paths` of the input whose line the row is)."""
    if not parts:
        return {}
    names = [name for (name,) in conn.execute("SELECT DISTINCT origin FROM file_origins WHERE origin_line IS NOT NULL")]
    pairs = [(name, i) for name in names if (i := matching(name, paths)) is not None]
    if not pairs:
        return {}
    index = "CASE o.origin " + " ".join(f"WHEN ? THEN {i}" for _, i in pairs) + " END"
    found: dict[str, list[tuple[int, int, int]]] = {}
    left: set[str] = set()  # of a row that is no such line
    for family, file_idx, line, idx, rejected in conn.execute(
        "SELECT f.family, x.file_idx, x.line, x.idx, CASE WHEN x.idx IS NOT NULL AND x.origin_line IS NOT NULL "
        f"AND EXISTS (SELECT 1 FROM {at}rows r WHERE r.file_idx = x.idx AND r.line_no = x.origin_line "
        "AND r.bucket = 'rejected') "
        f"AND NOT EXISTS (SELECT 1 FROM {at}created cr WHERE cr.loc = x.idx * {span} + x.origin_line) "
        f"AND (SELECT CASE WHEN e.last_line >= x.origin_line THEN e.family END FROM {at}file_families e "
        "WHERE e.file_idx = x.idx AND e.line <= x.origin_line ORDER BY e.line DESC LIMIT 1) = f.family "
        "THEN 1 ELSE 0 END "
        f"FROM file_families f JOIN (SELECT o.file_idx, o.line, o.origin_line, {index} AS idx FROM file_origins o) x "
        "ON x.file_idx = f.file_idx AND x.line BETWEEN f.line AND f.last_line",
        tuple(name for name, _ in pairs),
    ):
        if rejected:
            found.setdefault(family, []).append((file_idx, line, idx))
        else:
            left.add(family)
    # a run of lines of the family with no origin is an ordinary file's
    left.update(
        family
        for (family,) in conn.execute(
            "SELECT DISTINCT f.family FROM file_families f WHERE NOT EXISTS (SELECT 1 FROM file_origins o WHERE "
            "o.file_idx = f.file_idx AND o.line BETWEEN f.line AND f.last_line)"
        )
    )
    return {family: rows for family, rows in found.items() if family not in left}


def taken(conn: sqlite3.Connection, at: str, ours: bool, theirs: bool) -> dict[str, tuple[int, str, int]]:
    """The input's families with a row whose origin is a line that a row of a rejects file the run of the ledger
    `at` read (its file_origins) is too, and that run did not reject (it loaded that line, or may have): family ->
    (the input's line, the origin's file and line, as the row names them), the first such row. Two rows are one
    line where each was found to be a line of an earlier input (`ours`, `theirs`: whether this ledger and that one
    keep origin_inputs; a ledger made before 2026-12 does not) and an input of the one is one of the other (by
    SHA-256), of the same line; else (either was not found so) where their names `could_be` one file, of the same
    line: on the safe side, a file of that name elsewhere is held to be it."""
    known = (
        (
            "EXISTS (SELECT 1 FROM origin_inputs r WHERE r.file_idx = o.file_idx AND r.line = o.line) AND EXISTS "
            f"(SELECT 1 FROM {at}origin_inputs er WHERE er.file_idx = eo.file_idx AND er.line = eo.line), EXISTS "
            f"(SELECT 1 FROM origin_inputs r JOIN {at}origin_inputs er ON er.sha256 = r.sha256 WHERE "
            "r.file_idx = o.file_idx AND r.line = o.line AND er.file_idx = eo.file_idx AND er.line = eo.line)"
        )
        if ours and theirs
        else "0, 0"
    )
    out: dict[str, tuple[int, str, int]] = {}
    for family, line, origin, origin_line, other, found, same in conn.execute(
        f"SELECT f.family, o.line, o.origin, o.origin_line, eo.origin, {known} FROM file_families f JOIN "
        "file_origins o ON o.file_idx = f.file_idx AND o.line BETWEEN f.line AND f.last_line JOIN "
        f"{at}file_origins eo ON eo.origin_line = o.origin_line WHERE o.origin_line IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {at}rows r WHERE r.file_idx = eo.file_idx AND r.line_no = eo.line AND r.bucket = 'rejected') "
        "ORDER BY o.file_idx, o.line"
    ):
        if family not in out and (same if found else could_be(origin, other)):
            out[family] = (line, origin, origin_line)
    return out
