"""Records of a run that another run of ours sent to since: a rollback's word on a record it keeps.

A rollback keeps a record its id no longer holds as the run sent it (still_ours.py), and said that which happened
"cannot be told from here". Where a later run on record into the same place sent that very id (an update by `id`,
its ledger's `created`), it can: tester t36e, a manifest's second HaloPSA job that updated two records the first
created, whose rollback then kept them as possibly another's. The reason now names that run and its line.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable

import msgspec

from . import ledger_pg
from .job import Job
from .ledger import LOC_SHIFT, Ledger
from .loads import runs_into


def sent_by_others(ledger: Ledger, job: Job, ids: Iterable[int]) -> dict[int, str]:
    """Of `ids` (of records the run of `ledger` created), those another run on record into the same API, agreement
    and place (loads.runs_into, later runs too) sent a call for that its ledger holds the id of (created: its record
    created, or updated by id), each with where: "the run of ledger L (line N of FILE)", the latest such run's. Ledgers
    of PostgreSQL, or that cannot be read, are passed over."""
    wanted = set(ids)
    if not wanted:
        return {}
    own = os.path.realpath(str(ledger.path))
    found: dict[int, str] = {}
    for other, _ in runs_into(job, str(ledger.path), ledger.run.key_prefix, later=True):
        path = str(other)
        if ledger_pg.is_url(path) or not os.path.isfile(path) or os.path.realpath(path) == own:
            continue
        found.update(_sent_in(path, wanted))
    return found


def _sent_in(path: str, wanted: set[int]) -> dict[int, str]:
    """Of `wanted` ids, those the ledger at `path` holds (created), each with the run's line that sent it; read
    only, without its lock (nothing is written)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    try:
        marks = ",".join("?" * len(wanted))
        rows = db.execute(f"SELECT id, loc FROM created WHERE id IN ({marks})", sorted(wanted)).fetchall()
        (run,) = db.execute("SELECT value FROM meta WHERE key = 'run'").fetchone() or ("{}",)
        files = [str(f.get("path", "")) for f in msgspec.json.decode(run).get("files", [])]
    except (sqlite3.Error, msgspec.DecodeError, TypeError, AttributeError):
        return {}
    finally:
        db.close()
    said = {}
    for record_id, loc in rows:
        file_idx, line = loc >> LOC_SHIFT, loc & ((1 << LOC_SHIFT) - 1)
        where = f"line {line} of {files[file_idx]}" if file_idx < len(files) else f"line {line}"
        said[int(record_id)] = f"the run of ledger {path} ({where})"
    return said
