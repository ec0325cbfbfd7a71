"""Bring each group's rows together, in bounded memory: the rows go to a temporary SQLite file and come back
ordered by group (groups in the order of their first row, rows of a group in file order).

General-ledger and account-statement exports are sorted by account, so a voucher's lines lie far apart; a
voucher travels in one call, so such a file is regrouped before it is planned. SQLite sorts on disk when the
rows do not fit its cache, so a 10-million-row file needs no more memory than a small one.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .errors import SourceError
from .sources import BadRow, Row

#: rows written per statement
_BATCH = 10_000


Keyed = tuple[str | None, Row | BadRow]


def keyed(rows: Iterable[Row | BadRow], key_of: Callable[[Mapping[str, Any]], str | None]) -> Iterator[Keyed]:
    """Each row with its group key. A row that cannot be read and names no group (a line too broken to tell)
    takes the key of the rows around it when they are of one group: it is taken for that group's line, so the
    group is rejected with it rather than loaded without it. The inspection, the regrouping and the planner all
    read rows through this, so they agree on every row's group."""
    held: list[BadRow] = []  # broken rows waiting for the next row that can be read
    before: str | None = None
    try:
        for item in rows:
            if isinstance(item, BadRow):
                key = key_of(item.partial) if item.partial is not None else None
                if key is None:
                    held.append(item)
                    continue
            else:
                key = key_of(item[1])
            if held:
                around = key if key is not None and key == before else None
                for broken in held:
                    yield around, broken
                held.clear()
            yield key, item
            before = key
    except SourceError:  # the input breaks off: what was held is still a row read
        for broken in held:
            yield None, broken
        raise
    for broken in held:
        yield None, broken


def regrouped(
    rows: Iterable[Row | BadRow], key_of: Callable[[Mapping[str, Any]], str | None], workdir: str
) -> Iterator[Row | BadRow]:
    """`rows` with the rows of each group key together (a row of no group keeps its place among the groups).
    The spill file is created in `workdir` (never following a link) and removed when the iteration ends."""
    fd, path = tempfile.mkstemp(prefix=".bulkload-regroup-", suffix=".sqlite", dir=workdir)
    os.close(fd)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE grp (key TEXT PRIMARY KEY, ord INTEGER NOT NULL) WITHOUT ROWID")
        db.execute("CREATE TABLE row (key TEXT NOT NULL, line INTEGER NOT NULL, item BLOB NOT NULL)")
        db.execute("BEGIN")
        groups: list[tuple[str, int]] = []
        spilled: list[tuple[str, int, bytes]] = []
        dumps = pickle.dumps
        for order, (key, item) in enumerate(keyed(rows, key_of)):
            line = item.line_no if type(item) is BadRow else item[0]
            if key is None:
                key = f"\x00{line}"  # alone, where it stands
            groups.append((key, order))
            spilled.append((key, line, dumps(item, pickle.HIGHEST_PROTOCOL)))
            if len(spilled) >= _BATCH:
                _flush(db, groups, spilled)
        _flush(db, groups, spilled)
        db.execute("COMMIT")
        loads = pickle.loads
        for (data,) in db.execute("SELECT row.item FROM row JOIN grp USING (key) ORDER BY grp.ord, row.line"):
            yield loads(data)
    finally:
        db.close()
        os.unlink(path)


def _flush(db: sqlite3.Connection, groups: list[tuple[str, int]], spilled: list[tuple[str, int, bytes]]) -> None:
    db.executemany("INSERT OR IGNORE INTO grp VALUES (?, ?)", groups)  # the first row of a group sets its place
    db.executemany("INSERT INTO row VALUES (?, ?, ?)", spilled)
    groups.clear()
    spilled.clear()
