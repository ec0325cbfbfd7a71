"""The ledger's tables, for both backends (ledger.py, ledger_pg.py): SQLite's column types, which ledger_pg
translates for PostgreSQL."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

#: the input's group keys as the inspection finds them (profile.py), with whether a key came back after another
FILE_GROUPS = """
CREATE TABLE IF NOT EXISTS file_groups (
    key TEXT PRIMARY KEY, file_idx INTEGER NOT NULL, line INTEGER NOT NULL,
    dup INTEGER NOT NULL DEFAULT 0, last_file INTEGER, last_line INTEGER) WITHOUT ROWID"""

#: the families (RecordKind.group_family: Visma Core's orders) the input's rows name, as runs of lines of one family
#: and part one after another, where the kind names any (RecordKind.row_family; profile.py): which families this
#: input holds, and in an earlier run's ledger, which of them it sent a line of (created.loc and the chunks' lines),
#: its rows of no group too, and as which part (`part`: a Visma Core line's cost type; NULL for a bad line of a
#: group, which cannot be told). A ledger made before it has none: its families cannot be told but by its groups;
#: one made before `part` was added tells no parts
FILE_FAMILIES = """
CREATE TABLE IF NOT EXISTS file_families (
    file_idx INTEGER NOT NULL, line INTEGER NOT NULL, last_line INTEGER NOT NULL, family TEXT NOT NULL, part TEXT,
    PRIMARY KEY (file_idx, line)) WITHOUT ROWID"""

#: the input's families and parts an earlier run sent a line of as another part, or a group of (ledger.known_to):
#: the input's rows of no group of one are rejected with the reason (planning.make_planner)
SKIP_FAMILIES = """
CREATE TABLE IF NOT EXISTS skip_families (
    family TEXT NOT NULL, part TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (family, part)) WITHOUT ROWID"""

#: the lines of no group an earlier run loaded of the input's families and parts (ledger.known_to), by their check
#: (chunking.record_check, which that run kept in created.line_check): a row of no group of a family and part whose
#: check is one of these is that line given again, skipped with the reason (one row a check and line named: `n`, how
#: many lines of that check that run loaded: the first n rows giving it), not booked again nor rejected as a
#: correction where skip_families would (planning.make_planner). A ledger made before it has none: such rows are
#: loaded, or rejected where skip_families says. `differs`: why the input's rows of the family are all rejected where
#: they give some of the lines that run loaded of the family and part, but not this one (changed, or left out: the
#: order given otherwise than the books hold it; planning._LinesLoaded); NULL where that is not told (rows of no
#: family, and a ledger made before it, 2026-12, which gets the column when opened: Ledger._add_columns). `in_doubt`
#: 1: a line of a family that run sent in a call it left in doubt, by the check kept as the call left (chunks.checks):
#: a row giving it again is in doubt too, never sent; NULL: a line it loaded (and a ledger made before the column)
#: the family and part under which skip_lines keeps the records earlier loads into the same place created of rows
#: of no group and no family (ledger.rows_known_to, planning._rows_loaded): no family is named so
ROWS = ""
SKIP_LINES = """
CREATE TABLE IF NOT EXISTS skip_lines (
    family TEXT NOT NULL, part TEXT NOT NULL, line_check INTEGER NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL,
    differs TEXT, in_doubt INTEGER, PRIMARY KEY (family, part, line_check, reason)) WITHOUT ROWID"""

#: where each row of an input that is a rejects file came from (origins.py): the earlier file as its `file` column
#: names it and the line (NULL: none, or claimed by two rows), of every kind; what lets its row that is a line an
#: earlier run rejected of an order load although that run loaded the order's other lines, one that sends what a line
#: that run loaded sent (unsent_lines), and what tells a line a later run loaded from a rejects file of its own, given
#: again in a group of another number (origins.taken)
FILE_ORIGINS = """
CREATE TABLE IF NOT EXISTS file_origins (
    file_idx INTEGER NOT NULL, line INTEGER NOT NULL, origin TEXT NOT NULL, origin_line INTEGER,
    PRIMARY KEY (file_idx, line)) WITHOUT ROWID"""
#: a later load looks a row's origin line up among an earlier run's (origins.taken)
FILE_ORIGINS_INDEX = "CREATE INDEX IF NOT EXISTS file_origins_line ON file_origins (origin_line)"
#: the group (RecordKind.group_key, as regroup.keyed reads it) of each row of an input that is a rejects file, where
#: the kind names no families of rows (those are file_families'): the groups origins.taken rejects, whose rows name a
#: line an earlier run loaded from a rejects file of its own. A row of no group has none
ORIGIN_GROUPS = """
CREATE TABLE IF NOT EXISTS origin_groups (
    file_idx INTEGER NOT NULL, line INTEGER NOT NULL, grp TEXT NOT NULL, PRIMARY KEY (file_idx, line)) WITHOUT ROWID"""
#: the earlier input each row of an input that is a rejects file names, as the run found it by an earlier run's
#: ledger (origins.identified): that input's SHA-256 (the earlier run's RunInfo.files), one row each where more than
#: one earlier run rejected that line of that order; what tells a line loaded from a rejects file by the file it is
#: of, not by how its `file` column writes the file's name (origins.taken)
ORIGIN_INPUTS = """
CREATE TABLE IF NOT EXISTS origin_inputs (
    file_idx INTEGER NOT NULL, line INTEGER NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (file_idx, line, sha256)) WITHOUT ROWID"""

#: the further earlier lines each row of an input that is a rejects file is, where the line it names is a row of a
#: rejects file an earlier run read and found to be a line of an earlier input (origins.chain): that input's SHA-256
#: and line. What tells a row of the rejects file of a run that loaded a rejects file by the first file's line
ORIGIN_CHAIN = """
CREATE TABLE IF NOT EXISTS origin_chain (
    file_idx INTEGER NOT NULL, line INTEGER NOT NULL, sha256 TEXT NOT NULL, origin_line INTEGER NOT NULL,
    PRIMARY KEY (file_idx, line, sha256, origin_line)) WITHOUT ROWID"""

#: the input's rows of a rejects file that are a line an earlier run rejected, never sent (origins.unsent): `said`,
#: the words that end each reason skip_lines gives of that run's lines (ledger.loaded_by). Such a row is no line that
#: run loaded given again (planning._rows_loaded, _lines_loaded), also where it sends what one sent
UNSENT_LINES = """
CREATE TABLE IF NOT EXISTS unsent_lines (
    file_idx INTEGER NOT NULL, line INTEGER NOT NULL, said TEXT NOT NULL,
    PRIMARY KEY (file_idx, line, said)) WITHOUT ROWID"""

#: the input's rows of a rejects file whose `file, line` name a line an earlier run loaded from a rejects file of its
#: own (origins.taken_rows, ledger.rows_known_to), with the reason (ledger.taken_reason): such a row of no group is
#: rejected, unless it is a record that run created given again, skipped (planning._rows_loaded)
TAKEN_ROWS = """
CREATE TABLE IF NOT EXISTS taken_rows (
    file_idx INTEGER NOT NULL, line INTEGER NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (file_idx, line)) WITHOUT ROWID"""

#: the newest id a reconciliation's walks listed once each refused call (a chunk `rejected` or `split`) that a group
#: this run rejected was last sent in had been answered (Ledger.refusals_walked): a refusal that stored part of what
#: it carried (seed 002 never says it stores nothing) stored it by then, numbered up to it; a record of the group
#: numbered above was written after (a later run of the fixed rejects file). A ledger made before it (2026-12) gets it
#: at its next reconciliation
REFUSED_WALKED = """
CREATE TABLE IF NOT EXISTS refused_walked (
    seq INTEGER NOT NULL, part TEXT NOT NULL, upto INTEGER NOT NULL, PRIMARY KEY (seq, part))"""

#: the records of the groups a refused call carried and this run rejected, not created by it, that a reconciliation's
#: walks listed whole (every record the count counts) once the call had been answered, per call (Ledger.refusals_walked
#: `whole`), and id 0 for each call so given its list: where ids do not grow a number tells nothing, and what the
#: refusal stored was stored by then, so a record listed only later is another's (a later run of the fixed rejects
#: file, whatever its ledger says or where it is: reconcile.fill_rejected_found). A call without one is read as before
REFUSED_LISTED = """
CREATE TABLE IF NOT EXISTS refused_listed (
    seq INTEGER NOT NULL, part TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (seq, part, id))"""

#: skip_groups' columns, as model.Known's fields, but the last: `also_checks` (Known.also, kept by `also_blob`), which a
#: ledger made before it (2026-12) gets when opened (Ledger._add_columns), and which a group not loaded has none of
SKIP_GROUPS = "key, bucket, reason, lines, total, debit, differs, digest"


def also_blob(also: Sequence[int] | None) -> bytes | None:
    """model.Known.also as skip_groups.also_checks keeps it: line checks as 64-bit integers; None: not known."""
    return None if also is None else array("q", also).tobytes()


def also_of(blob: bytes | None) -> tuple[int, ...] | None:
    """skip_groups.also_checks as model.Known.also: the line checks `also_blob` kept; None: not known."""
    if blob is None:
        return None
    checks = array("q")
    checks.frombytes(blob)
    return tuple(checks)


SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE chunks (
    seq INTEGER NOT NULL, part TEXT NOT NULL, file_idx INTEGER NOT NULL, key TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, n_rows INTEGER NOT NULL,
    lines BLOB NOT NULL, body_hash TEXT NOT NULL, summary TEXT, returned TEXT, error TEXT, updated REAL NOT NULL,
    sent_at REAL, looks BLOB, held BLOB, checks BLOB, sent_boot TEXT,
    PRIMARY KEY (seq, part));
CREATE TABLE rows (
    file_idx INTEGER NOT NULL, line_no INTEGER NOT NULL, bucket TEXT NOT NULL, field TEXT NOT NULL,
    reason TEXT NOT NULL, grp TEXT NOT NULL, PRIMARY KEY (file_idx, line_no));
CREATE TABLE groups (
    key TEXT PRIMARY KEY, seq INTEGER NOT NULL, part TEXT NOT NULL, lines INTEGER NOT NULL, total TEXT NOT NULL,
    debit TEXT NOT NULL, imbalance TEXT NOT NULL, digest INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE skip_groups (
    key TEXT PRIMARY KEY, bucket TEXT NOT NULL, reason TEXT NOT NULL, lines INTEGER, total TEXT, debit TEXT,
    differs TEXT, digest INTEGER, also_checks BLOB) WITHOUT ROWID;
CREATE TABLE created (loc INTEGER PRIMARY KEY, id INTEGER NOT NULL, line_check INTEGER);
CREATE TABLE baselines (scope TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE calls (minute INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE removed (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, outcome TEXT NOT NULL, at REAL NOT NULL);
"""

#: every statement that makes a new ledger's tables, one by one
STATEMENTS = [
    statement
    for statement in [
        *SCHEMA.split(";"),
        FILE_GROUPS,
        FILE_FAMILIES,
        SKIP_FAMILIES,
        SKIP_LINES,
        FILE_ORIGINS,
        FILE_ORIGINS_INDEX,
        ORIGIN_GROUPS,
        ORIGIN_INPUTS,
        ORIGIN_CHAIN,
        UNSENT_LINES,
        TAKEN_ROWS,
        REFUSED_WALKED,
        REFUSED_LISTED,
    ]
    if statement.strip()
]


def run_named(earlier: object) -> str:
    """The words that name the run of the `earlier` ledger in each reason skip_lines keeps of it, of a line it loaded
    (ledger.loaded_by) or sent in a call it left in doubt: `named_by` finds them."""
    return f"(ledger {earlier})"


def named_by(said: str) -> str:
    """The words that name a run in each reason skip_lines keeps of it (`run_named`), of the words that end its
    reasons of what it loaded (ledger.loaded_by), as unsent_lines keeps them: planning._unsent tells that run's
    reasons by them, those of its lines in doubt too."""
    return said[said.find("(ledger ") :]
