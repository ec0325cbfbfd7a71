"""Where the rows of a rejects file came from, and what an earlier run did with those lines (ledger.known_to).

A rejects file names, in its leading columns `file, line`, the earlier file and line each row was rejected from.
`record` keeps them in the new ledger (file_origins) as the input is inspected. Against an earlier run's ledger,
`identified` finds the input's families (Visma Core's orders) whose every row is a line that run rejected of that
very family, never sent: such rows are the lines it did not load, fixed, and no correction of what it loaded of the
family under another part. `taken` finds the families of rows whose line an earlier run loaded already from a
rejects file of its own (an edited copy of the fixed rejects file loaded again): those are.
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


def identified(conn: sqlite3.Connection, at: str, paths: Sequence[str], span: int, parts: bool) -> set[str]:
    """The input's families (its file_families) whose every row is of a rejects file and names as its origin a line
    the run of the ledger `at` (its inputs `paths`; `span`: created.loc's lines per file) rejected of that family
    (its rows and file_families) and never created: those rows are the lines it did not load, not a correction of
    what it loaded of the family. A row that names no such line (an ordinary file's, one edited to another order,
    a line the run loaded) leaves its family out: the family is then told as before. `parts`: whether that
    ledger records its rows' families (an older one does not, and identifies none)."""
    if not parts:
        return set()
    names = [name for (name,) in conn.execute("SELECT DISTINCT origin FROM file_origins WHERE origin_line IS NOT NULL")]
    pairs = [(name, i) for name in names if (i := matching(name, paths)) is not None]
    if not pairs:
        return set()
    index = "CASE o.origin " + " ".join(f"WHEN ? THEN {i}" for _, i in pairs) + " END"
    rows = conn.execute(
        "SELECT f.family, MIN(CASE WHEN x.idx IS NOT NULL AND x.origin_line IS NOT NULL "
        f"AND EXISTS (SELECT 1 FROM {at}rows r WHERE r.file_idx = x.idx AND r.line_no = x.origin_line "
        "AND r.bucket = 'rejected') "
        f"AND NOT EXISTS (SELECT 1 FROM {at}created cr WHERE cr.loc = x.idx * {span} + x.origin_line) "
        f"AND (SELECT CASE WHEN e.last_line >= x.origin_line THEN e.family END FROM {at}file_families e "
        "WHERE e.file_idx = x.idx AND e.line <= x.origin_line ORDER BY e.line DESC LIMIT 1) = f.family "
        "THEN 1 ELSE 0 END) "
        f"FROM file_families f JOIN (SELECT o.file_idx, o.line, o.origin_line, {index} AS idx FROM file_origins o) x "
        "ON x.file_idx = f.file_idx AND x.line BETWEEN f.line AND f.last_line GROUP BY f.family",
        tuple(name for name, _ in pairs),
    ).fetchall()
    # a run of lines of the family with no origin is an ordinary file's
    unnamed = {
        family
        for (family,) in conn.execute(
            "SELECT DISTINCT f.family FROM file_families f WHERE NOT EXISTS (SELECT 1 FROM file_origins o WHERE "
            "o.file_idx = f.file_idx AND o.line BETWEEN f.line AND f.last_line)"
        )
    }
    return {family for family, every in rows if every == 1} - unnamed


def taken(conn: sqlite3.Connection, at: str) -> dict[str, tuple[int, str, int]]:
    """The input's families with a row whose origin a row of a rejects file the run of the ledger `at` read
    (its file_origins) names too, and that run did not reject (it loaded that line, or may have): family -> (the
    input's line, the origin's file and line), the first such row."""
    out: dict[str, tuple[int, str, int]] = {}
    for family, line, origin, origin_line in conn.execute(
        "SELECT f.family, o.line, o.origin, o.origin_line FROM file_families f JOIN file_origins o ON "
        "o.file_idx = f.file_idx AND o.line BETWEEN f.line AND f.last_line WHERE o.origin_line IS NOT NULL AND "
        f"EXISTS (SELECT 1 FROM {at}file_origins eo WHERE eo.origin = o.origin AND eo.origin_line = o.origin_line "
        f"AND NOT EXISTS (SELECT 1 FROM {at}rows r WHERE r.file_idx = eo.file_idx AND r.line_no = eo.line AND "
        "r.bucket = 'rejected')) ORDER BY o.file_idx, o.line"
    ):
        out.setdefault(family, (line, origin, origin_line))
    return out
