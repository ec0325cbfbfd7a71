"""The PostgreSQL ledger: the same tables, states and guarantees as the SQLite one (ledger.py), in one schema of a
PostgreSQL database per ledger, named by a URL: ``postgresql://USER@HOST:PORT/DB?ledger=NAME`` (NAME: the schema,
``bulkload`` when left out; letters, digits and ``_``). Workers on several machines reach the same ledgers.

One copy of the SQL: `Connection` takes the SQLite dialect ledger.py, profile.py and reconcile.py speak
(``?`` placeholders, ``INSERT OR IGNORE`` / ``INSERT OR REPLACE``, ``BEGIN`` in autocommit mode, ``IS NOT``,
``INTEGER``/``REAL``/``BLOB`` columns, ``total_changes``) and runs it on a psycopg 3 connection: statements are
translated once and cached. What SQLite does with files has a PostgreSQL meaning here:

- the run's lock (flock on the ledger file): a session-level ``pg_try_advisory_lock`` on the ledger's identity,
  which PostgreSQL releases when the holder's connection dies (a killed worker), so another worker can resume it;
- a ledger made whole or not at all (a draft file renamed into place): a draft schema renamed into place;
- the file the run is tied to (device and inode): the database's and the schema's OIDs, which a rename keeps and
  a dump restored elsewhere (a copy) does not.

Synchronous, like the SQLite ledger: one short transaction per state change, on the event loop, the rows of an
executemany INSERT in one statement; 5-7.5 ms a chunk against SQLite's 0.4 (benchmarks/bench_ledger_pg.py,
docs/postgresql.md).
A password in the URL is registered with redact and never shown: the ledger's name (`Location.display`) leaves
it out; PGPASSWORD or ~/.pgpass (libpq's own) keep it off the command line.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

from .errors import POSTGRES_EXTRA, LedgerError, LedgerUnavailable, killed_while_made
from .ledger_schema import STATEMENTS
from .redact import redact, register, without_password

#: URL schemes that name a PostgreSQL ledger
SCHEMES = ("postgresql://", "postgres://")
#: the schema of a URL without ?ledger=
DEFAULT_NAME = "bulkload"
#: what a ledger's name becomes while it is made (`Location.draft`): no new ledger's name ends so (`check_new`)
DRAFT_SUFFIX = "__draft"
#: a schema name (PostgreSQL's names are 63 bytes at most: 51 leaves room for the draft's ``__draft``) that is not
#: one PostgreSQL reserves (``pg_…``: "unacceptable schema name" when the ledger is made)
_NAME = re.compile(r"(?!pg_)[a-z_][a-z0-9_]{0,50}")


def is_url(where: object) -> bool:
    """Whether `where` (a --ledger value) names a PostgreSQL ledger."""
    return isinstance(where, str) and where.startswith(SCHEMES)


def is_other_url(where: str) -> bool:
    """Whether `where` is a URL of some other scheme (mysql://, a typo): no file path, and no ledger or queue."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", where) is not None and not is_url(where)


def split(url: str) -> urllib.parse.SplitResult:
    """`url` (a ledger's or a queue's) in its parts, its port read; LedgerError, which never shows it (it may hold a
    password), where urllib cannot split it: an IPv6 address whose ``[`` is not closed, a port that is no number or
    past 65535."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        raise LedgerError(
            f"the PostgreSQL URL (not shown: it may hold a password) cannot be read as a URL: {exc}; an IPv6 address "
            "goes in [ ], a port is a number up to 65535"
        ) from None
    return parts


def url_arg(value: str) -> str:
    """A --ledger or --queue value as argparse takes it: a URL urllib cannot split is refused
    (argparse.ArgumentTypeError, saying why as `split` does); any other value as it is."""
    if is_url(value):
        try:
            split(value)
        except LedgerError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def name_of(where: str) -> str:
    """A --ledger value as the run names its ledger everywhere (messages, the record of loads, the report): a
    URL without its password, or the file's absolute path."""
    return Location.parse(where).display if is_url(where) else str(Path(where).absolute())


@dataclass(frozen=True)
class Location:
    """A PostgreSQL ledger: `url` (as given, password included), `conninfo` (the URL libpq connects with, without
    ?ledger=), `display` (the URL without password: the ledger's name in messages, reports, the record of loads),
    `schema` (its name)."""

    url: str
    conninfo: str
    display: str
    schema: str

    @classmethod
    def parse(cls, url: str) -> Location:
        """Raises LedgerError for a URL urllib cannot split (`split`), or a ledger name that is not a plain schema
        name."""
        parts = split(url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        names = [v for k, v in query if k == "ledger"]
        rest = [(k, v) for k, v in query if k != "ledger"]
        register(urllib.parse.unquote(parts.password or ""), *(v for k, v in rest if k == "password"))
        name = names[-1] if names else DEFAULT_NAME
        if not _NAME.fullmatch(name):
            raise LedgerError(
                f"ledger={name!r}: a PostgreSQL ledger's name is a schema name of lower-case letters, digits and _ "
                "(at most 51, not starting with a digit nor with pg_, which PostgreSQL keeps for itself)"
            )
        # the other parameters (sslmode, …) stay: the name connects again, with PGPASSWORD or ~/.pgpass
        named = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode([*rest, ("ledger", name)])))
        display = without_password(named)
        return cls(url, urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(rest))), display, name)

    def __str__(self) -> str:
        return self.display

    def __fspath__(self) -> str:
        return self.display

    def absolute(self) -> Location:
        """As a Path's: a URL is absolute already."""
        return self

    @property
    def draft(self) -> str:
        """The schema the ledger is made in before it is renamed into place (`make`, `publish`)."""
        return f"{self.schema}{DRAFT_SUFFIX}"

    def check_new(self) -> None:
        """A new ledger's name may not be another one's draft (LedgerError): that one's maker would take the ledger
        for its dead draft. One made under such a name by an earlier bulkload is still opened."""
        if self.schema.endswith(DRAFT_SUFFIX):
            raise LedgerError(
                f"ledger={self.schema!r}: a name ending in {DRAFT_SUFFIX} is what bulkload names a ledger while it "
                f"is made (here the ledger {self.schema.removesuffix(DRAFT_SUFFIX)!r}): choose another ledger name"
            )


# --- the SQLite dialect, as PostgreSQL says it --------------------------------------------------------------
_COLUMN_TYPES = [(r"\bINTEGER\b", "BIGINT"), (r"\bREAL\b", "DOUBLE PRECISION"), (r"\bBLOB\b", "BYTEA")]


def _tables() -> dict[str, tuple[list[str], list[str]]]:
    """Table -> (columns, primary key) of the ledger's schema (ledger_schema), for INSERT OR REPLACE."""
    out = {}
    for statement in STATEMENTS:
        found = re.search(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+) \((.*)\)", statement, re.S)
        if not found:
            continue
        body = found.group(2)
        pk = re.search(r"PRIMARY KEY \(([^)]*)\)", body)
        columns, key = [], [c.strip() for c in pk.group(1).split(",")] if pk else []
        for item in re.split(r",\s*(?![^()]*\))", body):
            words = item.split()
            if words and words[0] != "PRIMARY":
                columns.append(words[0])
                if "PRIMARY" in words:
                    key = [words[0]]
        out[found.group(1)] = (columns, key)
    return out


@functools.lru_cache(maxsize=512)
def translate(sql: str, with_params: bool) -> str:
    """`sql` in SQLite's dialect (as ledger.py writes it) in PostgreSQL's; `with_params`: placeholders to bind."""
    out = sql
    if with_params:
        out = out.replace("%", "%%").replace("?", "%s")
    for pattern, replacement in _COLUMN_TYPES:
        out = re.sub(pattern, replacement, out)
    out = re.sub(r"\)\s*WITHOUT ROWID", ")", out)
    out = re.sub(r"\bIS NOT (?!NULL\b)", "IS DISTINCT FROM ", out)
    replace = re.match(r"\s*INSERT OR REPLACE INTO (\w+)", out)
    if replace:
        columns, key = _tables()[replace.group(1)]
        update = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
        out = re.sub(r"INSERT OR REPLACE INTO", "INSERT INTO", out, count=1)
        out += f" ON CONFLICT ({', '.join(key)}) DO " + (f"UPDATE SET {update}" if update else "NOTHING")
    elif re.match(r"\s*INSERT OR IGNORE INTO", out):
        out = re.sub(r"INSERT OR IGNORE INTO", "INSERT INTO", out, count=1) + " ON CONFLICT DO NOTHING"
    return out


#: bound values one statement may carry (PostgreSQL's protocol counts them in 16 bits)
MAX_PARAMS = 65_535


@functools.lru_cache(maxsize=256)
def _many_rows(sql: str) -> tuple[str, str, str, tuple[int, ...] | None] | None:
    """An executemany INSERT as one multi-row statement (one round trip instead of one a row): (the translated
    statement up to VALUES, one row's placeholders, the rest, and for INSERT OR REPLACE the key's positions);
    None for a statement that must see each row in turn (an upsert that updates)."""
    if not re.match(r"\s*INSERT\b", sql) or "DO UPDATE" in sql:
        return None
    translated = translate(sql, True)
    found = re.search(r"VALUES (\((?:%s, )*%s\))", translated)
    if found is None:
        return None
    key = None
    replace = re.match(r"\s*INSERT OR REPLACE INTO (\w+) VALUES", sql)
    if replace:
        columns, pk = _tables()[replace.group(1)]
        key = tuple(columns.index(c) for c in pk)
    return translated[: found.start(1)], found.group(1), translated[found.end(1) :], key


def _plain(value: Any) -> Any:
    """A value as sqlite3 gives it: whole numbers PostgreSQL sums as numeric are ints; bytea is bytes."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, memoryview):
        return value.tobytes()
    return value


class Cursor:
    """The rows of one statement, as sqlite3's cursor gives them (tuples; iterable)."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = iter(rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return next(self._rows, None)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self._rows


class PostgresError(sqlite3.OperationalError):
    """A psycopg error as the sqlite3 error the ledger's callers already handle, its text naming the backend (the
    command line says it as it is, not as SQLite's) and without credentials."""


class ConnectionLost(PostgresError):
    """The ledger's connection is gone (PostgreSQL restarted, its backend terminated, the network cut): with it
    the run's lock. The run stops resumable; a queued job is retried (queue.RETRY)."""


def _error(exc: Exception) -> sqlite3.Error:
    """`exc` (a psycopg error) as PostgresError, or ConnectionLost for psycopg's OperationalError (a connection
    closed or broken: libpq's, or the server's admin shutdown)."""
    import psycopg

    text = redact(str(exc)).strip()
    if isinstance(exc, psycopg.OperationalError):
        return ConnectionLost(f"the ledger's PostgreSQL connection was lost: {text}")
    return PostgresError(f"the ledger's PostgreSQL refused: {text}")


class Connection:
    """The part of sqlite3.Connection the ledger uses, on a psycopg 3 connection in autocommit mode: ``BEGIN``
    opens a transaction, ``with conn:`` commits it (or rolls it back on an error). psycopg errors are raised as
    sqlite3.OperationalError, so the ledger's one error boundary (ledger._writes) holds for both. psycopg is imported
    where it is first used: the SQLite ledger needs none of it."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.total_changes = 0

    @property
    def lost(self) -> bool:
        """Whether the connection is gone (ConnectionLost): nothing more is read or written through it."""
        return bool(self._conn.closed or self._conn.broken)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        import psycopg

        try:
            cur = self._conn.execute(translate(sql, bool(params)), tuple(params) or None)
            if cur.rowcount > 0 and not cur.description:
                self.total_changes += cur.rowcount
            rows = [tuple(map(_plain, row)) for row in cur.fetchall()] if cur.description else []
        except psycopg.Error as exc:
            raise _error(exc) from exc
        return Cursor(rows)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        import psycopg

        batch = [tuple(row) for row in rows]
        if not batch:
            return Cursor([])
        many = _many_rows(sql)
        try:
            if many is None:  # an upsert that counts (DO UPDATE SET n = n + 1) sees each row in turn
                with self._conn.cursor() as cur:
                    cur.executemany(translate(sql, True), batch)
                    self.total_changes += max(cur.rowcount, 0)
                return Cursor([])
            head, group, tail, key = many
            if key is not None:  # INSERT OR REPLACE, row after row: the last row of a key is what stays
                batch = list({tuple(row[i] for i in key): row for row in batch}.values())
            per = max(1, MAX_PARAMS // len(batch[0]))
            for start in range(0, len(batch), per):
                part = batch[start : start + per]
                statement = head + ", ".join([group] * len(part)) + tail
                cur = self._conn.execute(statement, [v for row in part for v in row])
                self.total_changes += max(cur.rowcount, 0)
        except psycopg.Error as exc:
            raise _error(exc) from exc
        return Cursor([])

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        import psycopg
        from psycopg.pq import TransactionStatus

        if self._conn.info.transaction_status == TransactionStatus.IDLE:
            return
        try:
            self._conn.execute("ROLLBACK" if kind is not None else "COMMIT")
        except psycopg.Error as error:
            if kind is None:
                raise _error(error) from error

    def close(self) -> None:
        self._conn.close()

    def __del__(self) -> None:  # a reader left to the garbage collector (planning's) closes as sqlite3's does
        self._conn.close()


#: Ledger.rows_by_kind's done_rows, which SQLite fills with a Python function: each done call's lines (chunks.lines:
#: little-endian int32s) as created.loc values, the first scope of its summary, and a number for the call (<< and |
#: share one precedence in PostgreSQL: every shift is in brackets)
DONE_ROWS = (
    "INSERT INTO done_rows SELECT (c.file_idx << 32) + (get_byte(c.lines, 4 * i) | (get_byte(c.lines, 4 * i + 1) << 8) "
    "| (get_byte(c.lines, 4 * i + 2) << 16) | (get_byte(c.lines, 4 * i + 3) << 24)), "
    "(SELECT k FROM json_object_keys(c.summary::json) k LIMIT 1), c.call "
    "FROM (SELECT row_number() OVER () AS call, * FROM chunks WHERE state = 'done') c, "
    "generate_series(0, length(c.lines) / 4 - 1) i "
    "WHERE (SELECT k FROM json_object_keys(c.summary::json) k LIMIT 1) IS NOT NULL ON CONFLICT DO NOTHING"
)


# --- opening: the lock, the draft, the identity ---------------------------------------------------------------
def connect(where: Location, timeout_s: int = 30) -> Connection:
    """A connection to the ledger's database (LedgerUnavailable when there is none to be had within `timeout_s`;
    LedgerError without psycopg)."""
    try:
        import psycopg
    except ImportError:
        raise LedgerError(f"a PostgreSQL ledger needs psycopg: {POSTGRES_EXTRA}") from None
    try:
        raw = psycopg.connect(where.conninfo, autocommit=True, connect_timeout=timeout_s)
    except psycopg.Error as exc:
        raise LedgerUnavailable(f"cannot reach the ledger {where}: {redact(str(exc)).strip()}") from None
    return Connection(raw)


def reader(url: str) -> sqlite3.Connection:
    """A connection that reads the ledger of `url` (no lock taken: the run's process holds it), speaking sqlite3's
    dialect."""
    where = Location.parse(url)
    conn = connect(where)
    open_existing(conn, where)
    return cast(sqlite3.Connection, conn)


def _use(conn: Connection, schema: str) -> None:
    conn.execute(f'SET search_path TO "{schema}"')


#: the run's lock of a ledger: a session-level advisory lock on its database and schema
_LOCK = "hashtextextended(current_database() || '/bulkload ledger/' || ?, 0)"
#: how often and how far apart `hold` tries the lock: a look by another process (being_made) holds it a moment only
HOLD_TRIES, HOLD_EVERY_S = 20, 0.05


def hold(conn: Connection, where: Location) -> None:
    """The run's lock: one process on a ledger at a time (LedgerUnavailable when another holds it). Held by the session:
    released when the connection closes or dies. A look (being_made) holds it for a moment: waited out, up to
    HOLD_TRIES × HOLD_EVERY_S seconds."""
    for attempt in range(HOLD_TRIES):
        (taken,) = conn.execute(f"SELECT pg_try_advisory_lock({_LOCK})", (where.schema,)).fetchone() or (False,)
        if taken:
            return
        if attempt + 1 < HOLD_TRIES:
            time.sleep(HOLD_EVERY_S)
    conn.close()
    raise LedgerUnavailable.held(where)


def exists(conn: Connection, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = ?", (schema,)).fetchone() is not None


#: the tables every ledger has from its making on (ledger.py's _LEDGER_TABLES)
_LEDGER_TABLES = ("meta", "chunks")


def not_a_ledger(conn: Connection, schema: str) -> str | None:
    """Why the schema `schema`, which is there, is no bulkload ledger, in a message's words; None when it is one."""
    (held,) = conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = ? AND tablename IN (?, ?)", (schema, *_LEDGER_TABLES)
    ).fetchone() or (0,)
    return None if held == len(_LEDGER_TABLES) else "a schema with no bulkload tables in it"


def _draft_mark(where: Location) -> str:
    """What a draft's schema says of itself (its comment): only a schema that says so is dropped as a dead maker's."""
    return f"bulkload: the ledger {where.schema} being made"


def _drop_draft(conn: Connection, where: Location) -> bool:
    """Drop this ledger's draft, a dead maker's (while its lock is held); True when one was there. A schema of the
    draft's name not marked as this ledger's draft (a ledger an earlier bulkload let a user name so, another
    program's) is left as it is: LedgerError."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = ?", (where.draft,)
    ).fetchone()
    if row is None:
        return False
    if row[0] != _draft_mark(where):
        raise LedgerError(
            f"cannot make the ledger {where}: the schema {where.draft}, where it would be made, is there and is not a "
            "draft of this ledger (a ledger named so by an earlier bulkload, or another program's schema); it is left "
            "as it is: choose another ledger name"
        )
    conn.execute(f'DROP SCHEMA "{where.draft}" CASCADE')
    return True


def make(conn: Connection, where: Location, statements: Sequence[str], meta: Sequence[tuple[str, str]]) -> None:
    """The ledger's schema made as a draft, marked as one (a dead maker's draft dropped first: `_drop_draft`) holding
    `statements` and `meta`; left as the connection's search path, for what must be in the ledger before it
    exists."""
    _drop_draft(conn, where)
    with conn:
        conn.execute("BEGIN")
        conn.execute(f'CREATE SCHEMA "{where.draft}"')
        conn.execute(f"COMMENT ON SCHEMA \"{where.draft}\" IS '{_draft_mark(where)}'")
        _use(conn, where.draft)
        for statement in statements:
            conn.execute(statement)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta)


def discard_draft(conn: Connection, where: Location) -> None:
    """A ledger not made after all: its draft goes (while its lock is held), and the connection with the lock."""
    try:
        _drop_draft(conn, where)
    except (sqlite3.Error, LedgerError):
        pass  # the next maker drops it; a schema that is no draft of this ledger's stays
    finally:
        conn.close()


def publish(conn: Connection, where: Location) -> None:
    """The draft becomes the ledger, no longer marked as a draft (one transaction: whole or not at all)."""
    with conn:
        conn.execute("BEGIN")
        conn.execute(f'ALTER SCHEMA "{where.draft}" RENAME TO "{where.schema}"')
        conn.execute(f'COMMENT ON SCHEMA "{where.schema}" IS NULL')
    _use(conn, where.schema)


def drop(conn: Connection, where: Location) -> None:
    """Remove the ledger (its run created nothing and starts over), while its lock is held."""
    conn.execute(f'DROP SCHEMA IF EXISTS "{where.schema}" CASCADE')


def being_made(url: str) -> bool:
    """Whether a process holds the lock of the ledger `url` (making it, or running its run): Ledger.being_made."""
    try:
        where = Location.parse(url)
        conn = connect(where, timeout_s=5)
    except LedgerError:
        return False
    try:
        (taken,) = conn.execute(f"SELECT pg_try_advisory_lock({_LOCK})", (where.schema,)).fetchone() or (False,)
        if taken:  # released at once, not when the server gets round to the closed session: a maker may be waiting
            conn.execute(f"SELECT pg_advisory_unlock({_LOCK})", (where.schema,))
    finally:
        conn.close()
    return not taken


def open_existing(conn: Connection, where: Location) -> None:
    """Use the ledger's schema (LedgerError when there is none, or it is no ledger: `not_a_ledger`)."""
    if not exists(conn, where.schema):
        # a draft left is a load killed while it made the ledger, before its first call
        left = killed_while_made(f"the schema {where.draft}") if exists(conn, where.draft) else ""
        conn.close()
        raise LedgerError(f"no ledger at {where}{left}")
    why = not_a_ledger(conn, where.schema)
    if why is not None:
        conn.close()
        raise LedgerError(f"{where} is not a bulkload ledger ({why})")
    _use(conn, where.schema)


def identity(conn: Connection, where: Location) -> dict[str, Any]:
    """The ledger as the run is tied to it: its name, the database's OID ("dev") and the schema's ("ino")."""
    row = conn.execute(
        "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), "
        "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
    ).fetchone()
    dev, ino = row if row else (None, None)
    return {"ledger": where.display, "dev": int(dev or 0), "ino": int(ino or 0)}


def same_database(url: str, ours: Connection | str) -> bool:
    """Whether the ledger `url` is in the database of `ours` (a ledger's connection, or its URL): the same host,
    port and database name, a part `url` leaves out being `ours`'s. Of a URL `ours`, only what it spells out is
    known: a part it leaves out is not one `url` gives (unsure: another database). False for a URL that is not a
    ledger's."""
    import psycopg.conninfo

    try:
        theirs = psycopg.conninfo.conninfo_to_dict(Location.parse(url).conninfo)
        if isinstance(ours, Connection):
            info = ours._conn.info
            known: dict[str, Any] = {"host": info.host, "port": info.port, "dbname": info.dbname}
        else:
            known = psycopg.conninfo.conninfo_to_dict(Location.parse(ours).conninfo)
    except (LedgerError, psycopg.Error):
        return False
    parts = ("host", "port", "dbname")
    return all(str(theirs.get(k) or known.get(k) or "") == str(known.get(k) or "") for k in parts)


def schema_of(conn: Connection, url: str) -> str | None:
    """The schema of the ledger `url` names when it is in `conn`'s database (`same_database`), for reading it beside
    the ledger of `conn`; None when it is elsewhere or not there."""
    if not same_database(url, conn):
        return None
    where = Location.parse(url)
    return where.schema if exists(conn, where.schema) else None


def run_of(url: str) -> dict[str, Any] | None:
    """The run the ledger `url` holds, read without taking its lock (the record of loads asks); None when there is
    none to be read (no server, no such ledger)."""
    found = _peek(url)
    return found[0] if found else None


def account_of(url: str) -> dict[str, Any] | None:
    """The fingerprint of the account the run of the ledger `url` writes into (Ledger.account), read without taking
    its lock; None when there is none to be read."""
    found = _peek(url, "account")
    return found[0] if found else None


def profiles_of(url: str) -> list[Any] | None:
    """The profiles of the input files (profile.FileProfile, as builtins) the run of the ledger `url` read, read
    without taking its lock; None when there are none to be read."""
    found = _peek(url, "profiles")
    return found[0] if found else None


def identity_at(url: str) -> dict[str, Any] | None:
    """The ledger `url` names as `identity` gives it, with its run's id (`run`); None when it is not there."""
    found = _peek(url)
    return {**found[1], "run": found[0].get("key_prefix")} if found else None


def _peek(url: str, key: str = "run") -> tuple[Any, dict[str, Any]] | None:
    """(what its meta table keeps under `key`: the run, an object, or the profiles, a list; identity) of the ledger
    `url`, read without its lock; None when there is none to be read."""
    import msgspec

    try:
        where = Location.parse(url)
        conn = connect(where, timeout_s=5)
    except LedgerError:
        return None
    try:
        open_existing(conn, where)
        row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        run = msgspec.json.decode(row[0]) if row else None
        return (run, identity(conn, where)) if isinstance(run, list if key == "profiles" else dict) else None
    except (LedgerError, sqlite3.Error, ValueError):
        return None
    finally:
        conn.close()


def ledger_url(url: str, manifest: str, name: str) -> str:
    """Where a queued job's ledger is kept: a PostgreSQL ledger in the queue's database, named after
    the manifest and the job, so that a worker on any machine resumes it with the same idempotency keys."""
    digest = hashlib.sha256(f"{manifest}#{name}".encode()).hexdigest()[:24]
    return in_database(url, f"job_{digest}")


def in_database(url: str, schema: str) -> str:
    """The URL of the ledger `schema` in the database `url` names (a queue's URL, or a ledger's: its ledger=
    replaced), its password and other parameters kept."""
    parts = urllib.parse.urlsplit(url)
    rest = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "ledger"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode([*rest, ("ledger", schema)])))
