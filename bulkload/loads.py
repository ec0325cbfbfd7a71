"""What the user's cache keeps of loads between runs: the calls made in each API's rolling windows, and the record
of loads (`$XDG_CACHE_HOME/bulkload/loads.jsonl`): which file content went into which API, under which ledger. It
guards against loading a file twice, and names the earlier runs whose groups a new load of a corrected file must
not create again. A load, resume or rollback whose cache cannot be written is refused before its first call
(outputs.check_cache), and so is a claim or a load that cannot be put on record (ConfigError): without the record the
next load of the file would be refused nothing.

A load is put on record before its ledger is made, in the same step as the check that no earlier load holds its
content (under a lock on the record), so two loads of one file started together cannot both pass the check. That
first entry is a claim: it stands while its ledger is being made or exists and holds the content; a load refused
or killed before its ledger was made leaves a claim that no longer stands. Once the ledger exists the load is
recorded for good.

Two loads are the same load when they bring the same content to the same API and agreement (the entry's key) and
to the same place there (`same_place`): each entry keeps the settings that decide where its file's rows go
(RecordKind.destination, e.g. e-conomic's --journal) as "to", and only loads that give one of them differently go to
another place. An entry without "to" (written before 2026-12, or by a load that gave none) may have gone anywhere.

One server may be reached under two addresses (`http://127.0.0.1:P` one day, `http://localhost:P` the next), which
no look at their text tells apart (none is resolved): each entry keeps the address ("api") and a keyed hash of whose
account its load went to at that address under any host name ("who", account.anywhere). A load of content an
earlier load brought with the same "who" to another host is refused as possibly the same load (`loaded_before` with
`who`); where they are two servers, --allow-duplicate-load says so.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from . import ledger_pg, origins
from .errors import ConfigError, LedgerError, LoadedBefore, RunStopped
from .job import Job, address
from .ledger import Ledger, not_a_ledger, unreadable
from .numbers import Reading
from .outputs import GUARDS, append_private, cache_dir, cache_refused, held_lock, private_dir
from .sources import Source
from .targets.base import Target

#: how long a load waits for another to finish with the record (it holds it for a moment: one check, one write)
LOCK_WAIT_S = 30.0


def _api_key(job: Job) -> str:
    return _key(job.target, job.api_address, job.agreement)


def _key(target: str, api_url: str, agreement: str = "") -> str:
    """What the record of loads files a load under: the API, and the agreement where one address serves many."""
    return f"{target}|{api_url}|" + (f"{agreement}|" if agreement else "")


def _keyed_otherwise(entry: Mapping[str, Any], who: str) -> bool:
    """Whether the load of `entry` went with other credentials than those `who` names (account.anywhere); one that
    kept none (a load from before 2026-12) tells nothing, and is no other's."""
    return entry.get("who") not in (None, "", who)


def as_ledger(where: str) -> Path | str:
    """A ledger the record of loads names (`where`), as earlier_ledgers and may_share give it: a file's Path, or a
    PostgreSQL ledger's URL."""
    return where if ledger_pg.is_url(where) else Path(where)


def _api_of(key: str) -> str:
    """The API's key (`_key`) a load entry's key is filed under: all of it but the name of the file's content."""
    return key.rpartition("|")[0] + "|"


def places_of(job: Job, target: Target | None = None) -> list[dict[str, str]]:
    """Where the rows of each of the job's files go beyond the API and agreement (RecordKind.destination); `target`:
    the job's, where the caller has made it already."""
    target = target or job.make_target()
    return [target.kind_of(i).destination() for i in range(len(job.files))]


def same_place(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether rows sent under the settings `a` and `b` (RecordKind.destination) may land in the same place: unless a
    setting both give differs. One left out is left to the rows, which may name the other's (e-conomic: rows naming
    journal 1 loaded without --journal land where --journal 1 puts them)."""
    return all(str(a[name]) == str(b[name]) for name in a.keys() & b.keys())


def _place_of(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    to = entry.get("to")
    return to if isinstance(to, dict) else {}


def named_place(place: Mapping[str, Any]) -> str:
    """A place as messages name it: " (journal 1)", or "" for none."""
    return f" ({', '.join(f'{name} {value}' for name, value in place.items())})" if place else ""


def _entries() -> Iterator[dict[str, Any]]:
    return entries_in(cache_dir() / "loads.jsonl")


def entries_in(path: Path) -> Iterator[dict[str, Any]]:
    """The loads a record of loads at `path` holds, one JSON object a line; none where it cannot be read, and no line
    that is no JSON object (cut short by a full disk, say). A byte that is not UTF-8 (a damaged disk, another tool)
    spoils its own line, not the record: before, the whole record read as nothing, or stopped the load."""
    try:
        lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return
    for line in lines:
        try:
            entry = msgspec.json.decode(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry


#: what the record of loads keeps, as a refusal to go without it names it (outputs.cache_refused)
KEEPS = GUARDS[""]


@contextlib.contextmanager
def record_held() -> Iterator[None]:
    """The record of loads, for one process at a time. ConfigError where it cannot be kept (outputs.cache_refused:
    a load that went on without it would be refused nothing; WritesRefused on a full disk) or another process holds
    it too long."""
    try:
        lock = private_dir(cache_dir()) / "loads.lock"
    except OSError as exc:
        raise cache_refused(cache_dir(), exc, KEEPS, "load") from exc
    with held_lock(lock, LOCK_WAIT_S) as held:
        if held is None:
            raise cache_refused(cache_dir(), f"its lock file {lock.name} cannot be made", KEEPS, "load")
        if held is False:
            raise ConfigError(
                f"the record of loads ({cache_dir()}) has been held by another bulkload process for "
                f"{LOCK_WAIT_S:.0f} s (a stopped process?); nothing was sent"
            )
        yield


class _Record:
    """The record of loads read once. Each load entry belongs to a run: the one it names ("run"), or, written by a
    bulkload from before 2026-12, the run tied to its ledger's path just after it (a release: the one tied there
    before it), else its ledger's path stands for the run. A run's ledger is where the record of loads last saw it
    (`tie`: a ledger moved, then resumed or rolled back from its new path, is recorded there) or, gone from there,
    the same file (its device and inode) under another name in that folder. A run loads into the API (and
    agreement) of its latest load entry that is no release: one that created nothing and went on at another
    address or with another account's credentials (runner._claim_again) is no load into its first one."""

    def __init__(self) -> None:
        self.entries = list(_entries())
        self.homes: dict[str, dict[str, Any]] = {}
        self._ties: dict[str, list[tuple[int, str]]] = {}  # by path: where each run was tied to it
        self.status: dict[str, str] = {}
        self.forgotten: set[str] = set()
        self._found: dict[str, str] = {}  # ledger_of, once per run
        self._named: dict[str, str] = {}  # by run: the ledger its latest load entry names
        self._into: dict[str, str] = {}  # by run: the API key (`_key`) of its latest load entry that is no release
        self._renewed: dict[str, str] = {}  # by run: the "who" it went on with on the user's word (`renewed`)
        for i, entry in enumerate(self.entries):
            run = entry.get("run")
            if not isinstance(run, str):
                continue
            if "key" in entry and entry.get("ledger"):
                self._named[run] = str(entry["ledger"])
                if not entry.get("released"):
                    self._into[run] = _api_of(str(entry["key"]))
            if "ino" in entry:
                self.homes[run] = entry
                self._ties.setdefault(str(entry.get("ledger")), []).append((i, run))
            if "status" in entry:
                self.status[run] = str(entry["status"])
            if entry.get("forgotten"):
                self.forgotten.add(run)
            if entry.get("renewed") and isinstance(entry.get("who"), str):
                self._renewed[run] = str(entry["who"])

    def loads(self, prefix: str) -> Iterator[tuple[dict[str, Any], str]]:
        """The load entries filed under `prefix` (an API's key) in the order written, each with its run, but those
        of a run that loads into another API or agreement now (see the class); those of a run that went on with a
        renewed key (`renewed`) with its "who" from then on."""
        for i, entry in enumerate(self.entries):
            key = str(entry.get("key", ""))
            if key.startswith(prefix) and entry.get("ledger"):
                run = self._run_of_entry(i, entry)
                if self._into.get(run, _api_of(key)) == _api_of(key):
                    if run in self._renewed and entry.get("who"):
                        entry = {**entry, "who": self._renewed[run]}
                    yield entry, run

    def _run_of_entry(self, i: int, entry: Mapping[str, Any]) -> str:
        run = entry.get("run")
        if isinstance(run, str):
            return run
        ledger = str(entry["ledger"])
        ties = self._ties.get(ledger if ledger_pg.is_url(ledger) else os.path.realpath(ledger), [])
        before = [r for at, r in ties if at < i][-1:]
        after = [r for at, r in ties if at > i][:1]
        found = before + after if entry.get("released") else after + before
        return found[0] if found else ledger

    def ledger_of(self, run: str) -> str:
        """Where the run's ledger is now, as far as the record of loads can tell (see the class)."""
        if run not in self._found:
            self._found[run] = self._look_for(run)
        return self._found[run]

    def _look_for(self, run: str) -> str:
        home = self.homes.get(run)
        if home is None:  # not tied yet (being made), or by a bulkload from before runs were: where it was made
            return self._named.get(run, run)
        where = str(home["ledger"])
        if ledger_pg.is_url(where) or _holds_run(where, home, run, sure=False):
            return where
        try:  # an inode is used again once its file is deleted: the run's own file holds the run
            with os.scandir(os.path.dirname(where)) as names:
                moved = [e.path for e in names if e.inode() == home.get("ino") and _holds_run(e.path, home, run)]
        except OSError:
            moved = []
        return moved[0] if moved else where

    def earlier(self, job: Job, making: str | None, run: str | None, own: str = "") -> list[tuple[dict[str, Any], str]]:
        """The load entries of the job's API with their runs. `making`, `run`: the ledger this process is making
        and its run, whose claim is on record: only the loads put on record before its last claim are earlier (a
        later one waits for this one, never the reverse), and none of its own nor of its path's dead claims.
        `own`: only those made with the credentials it names (account.anywhere) or that kept none (Job.other_account:
        the others went into other accounts at an address that serves many)."""
        entries = list(self.loads(_api_key(job)))
        if run is not None:
            ours = [i for i, (entry, r) in enumerate(entries) if entry.get("claim") and r == run]
            entries = entries[: ours[-1]] if ours else entries
        return [
            (e, r)
            for e, r in entries
            if r != run and (making is None or self.ledger_of(r) != making) and not (own and _keyed_otherwise(e, own))
        ]


def runs_on_record() -> set[str]:
    """The runs the user's record of loads holds a load of (whatever became of them since)."""
    known = _Record()
    return set(known._named) | set(known.homes) | set(known.status)


def run_home(run_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """The file the record of loads last tied the run to (its entry: "ledger", "dev", "ino"), and the last status
    it recorded for the run."""
    known = _Record()
    return known.homes.get(run_id), known.status.get(run_id)


def _holds_run(path: str, home: Mapping[str, Any], run: str, *, sure: bool = True) -> bool:
    """Whether the file at `path` is the run's: the device and inode it was tied to, holding the run (or, unless
    `sure`, unreadable now)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if (st.st_dev, st.st_ino) != (home.get("dev"), home.get("ino")):
        return False
    held = run_of(path)
    return held.get("key_prefix") == run if held is not None else not sure


def names_of(stored: Mapping[str, Any]) -> list[str]:
    """What the record of loads knows a file by (a RunInfo.files entry): the SHA-256 of its content ("content": a
    gzip file's decompressed bytes, sources.digests_of) and of its bytes ("sha256", as loads before 2026-12 filed
    a gzip file too), each once."""
    return list(dict.fromkeys(str(stored[k]) for k in ("content", "sha256") if stored.get(k)))


def refuse_same_content(job: Job, files: Sequence[Mapping[str, Any]], target: Target) -> None:
    """ConfigError naming the first two of one load's files (`files`: their RunInfo.files entries, or at least their
    digests; `target`: the job's) that hold one content as the record of loads knows it (`names_of`: a copy, a gzip
    file and what it holds) and go to the same place (`same_place`, as `loaded_before` tells loads apart: HaloPSA's
    resource, e-conomic's --journal): a load of both would create their records twice, and no earlier load holds
    them to refuse it. Nothing is refused where the target's books create nothing (Books.creates_nothing: the same
    values set twice)."""
    if target.books.creates_nothing:
        return
    seen: list[tuple[str, set[str], Mapping[str, str]]] = []
    for path, stored, place in zip(job.files, files, places_of(job, target)):
        names = set(names_of(stored))
        earlier = next((p for p, held, at in seen if names & held and same_place(at, place)), None)
        if earlier is not None:
            raise twice_in_load(earlier, path, "have the same content (a gzip file's is what it holds)")
        seen.append((path, names, place))


def twice_in_load(first: str, again: str, what: str, *, creates: bool = True) -> ConfigError:
    """The refusal of a load given one file, or one content, twice: `first` and `again` (its arguments) `what`
    ("are one file", ...); `creates`: the target's load creates records (not Books.creates_nothing)."""
    if not creates:  # the same values set twice: harmless, but one path given twice is no load anyone meant
        return ConfigError(
            f"{first} and {again} {what}: one load of both would send each of its changes twice. Give it once; "
            "nothing was sent"
        )
    return ConfigError(
        f"{first} and {again} {what}: one load of both would create each of its records twice. Give it once (a "
        "later load of it is refused as loaded already); nothing was sent"
    )


def loaded_before(
    job: Job,
    names: list[str],
    making: str = "",
    run: str = "",
    resuming: bool = False,
    place: Mapping[str, Any] | None = None,
    known: _Record | None = None,
    who: str = "",
    own: str = "",
) -> dict[str, str] | None:
    """The latest earlier load of the same file content (`names`, see `names_of`) into the same API and to the same
    place there (`place`: where this load's rows of it go, RecordKind.destination; see `same_place`), from the
    user's record of loads; a load that was rolled back since created nothing that is still there, and does not
    count, nor does a claim whose ledger was never made (`making`: the ledger this process is making, whose earlier
    claims are dead), nor one released since: its run created nothing and was started over or moved to another
    address (`release`). `resuming`: `making` is the ledger of the run `run` that goes on, whose own loads do not
    count. `known`: the record as the caller read it (else read here). `who`: instead, the loads of that content
    into the same account at the same address under another host name (account.anywhere: one server under two
    spellings of its host). The load found: {"at", "ledger" (where its ledger is now), "claim" ("yes" or ""),
    "where" (its place, as messages name it), "status" (its run's, as its ledger says; "" where it cannot be read),
    "api" (the address it loaded into), "who" (its credentials, account.anywhere; "" where none were kept)}."""
    known = known or _Record()
    here = _api_key(job)
    found: dict[str, dict[str, str]] = {}  # by run, the latest last
    for entry, of in known.loads(f"{job.target}|"):
        key = str(entry["key"])
        name = key.rpartition("|")[2]
        if name not in names or not who and key != here + name:
            continue
        if own and _keyed_otherwise(entry, own):
            continue  # Job.other_account: another account's load
        if who and not entry.get("released") and not _elsewhere(entry, job, who):
            continue
        if entry.get("released") or resuming and of in (run, making):
            found.pop(of, None)
            continue
        if not same_place(_place_of(entry), place or {}):
            continue
        ledger = known.ledger_of(of)
        held = run_of(ledger)
        if entry.get("claim") and (
            str(entry["ledger"]) == making or not (held is not None and holds(held, names) or Ledger.being_made(ledger))
        ):
            continue
        if known.status.get(of) != "rolled_back" and (held is None or held.get("status") != "rolled_back"):
            found.pop(of, None)
            found[of] = {
                "at": str(entry.get("at")),
                "ledger": ledger,
                "claim": "yes" if entry.get("claim") else "",
                "where": named_place(_place_of(entry)),
                "status": "" if held is None else str(held.get("status")),
                "api": str(entry.get("api") or job.api_address),
                "who": str(entry.get("who") or ""),
            }
    return list(found.values())[-1] if found else None


def _elsewhere(entry: Mapping[str, Any], job: Job, who: str) -> bool:
    """Whether the load of `entry` went with the credentials `who` names (account.anywhere: at the job's address
    under any host name) to another host than the job's: possibly the same server spelled otherwise."""
    api = entry.get("api")
    return entry.get("who") == who and isinstance(api, str) and api != job.api_address


def run_of(ledger: str) -> dict[str, Any] | None:
    """The run a ledger holds, read without taking its lock; None when there is no such ledger."""
    if ledger_pg.is_url(ledger):
        return ledger_pg.run_of(ledger)
    return _meta_of(ledger, "run")


def account_of(ledger: str) -> dict[str, Any] | None:
    """The fingerprint of the account a ledger's run writes into (Ledger.account: {"salt", "fingerprint"}), read
    without taking its lock; None when there is no such ledger, or it keeps none."""
    if ledger_pg.is_url(ledger):
        return ledger_pg.account_of(ledger)
    return _meta_of(ledger, "account")


def _meta_of(ledger: str, key: str) -> dict[str, Any] | None:
    found = _meta_value(ledger, key)
    return found if isinstance(found, dict) else None


def _profiles_of(ledger: str) -> list[Any] | None:
    """The profiles of the input files the run of `ledger` read (profile.FileProfile, as builtins), read without
    taking its lock; None when there are none to be read."""
    if ledger_pg.is_url(ledger):
        return ledger_pg.profiles_of(ledger)
    found = _meta_value(ledger, "profiles")
    return found if isinstance(found, list) else None


def run_as_made(ledger: str) -> dict[str, Any] | None:
    """The run a ledger holds as it was made (its settings, Job.manifest_job): a SQLite ledger's file read alone, as
    it is (immutable: no -wal or -shm made beside it, which a read of a ledger whose command just failed would leave,
    and the next command then take for a -wal of other writes); None where there is none to be read."""
    if ledger_pg.is_url(ledger):
        return ledger_pg.run_of(ledger)
    found = _meta_value(ledger, "run", "&immutable=1")
    return found if isinstance(found, dict) else None


def _meta_value(ledger: str, key: str, how: str = "") -> Any:
    if not_a_ledger(ledger) is not None:  # read as a ledger, another program's database would get a -wal beside it
        return None
    try:
        where = urllib.request.pathname2url(os.path.abspath(ledger))
        conn = sqlite3.connect(f"file:{where}?mode=ro{how}", uri=True)
        try:
            (value,) = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        finally:
            conn.close()
        return msgspec.json.decode(value)
    except (sqlite3.Error, OSError, TypeError, ValueError):
        return None


def holds(run: Mapping[str, Any], names: list[str]) -> bool:
    """Whether `run` (the run a ledger holds, `run_of`) read a file known by one of `names` (`names_of`)."""
    files = [f for f in run.get("files") or [] if isinstance(f, dict)]
    return any(name in names for f in files for name in names_of(f))


def earlier_ledgers(job: Job, making: str | None = None, run: str | None = None, own: str = "") -> list[Path | str]:
    """The ledgers of every earlier load into the same API, newest first, each once, where the record of loads
    last saw them (a file's path, or a PostgreSQL ledger's URL; see `_Record`). `making`, `run`: the ledger this
    process is making and its run; `own`: only the loads with those credentials (see `_Record.earlier`)."""
    known = _Record()
    seen: dict[str, None] = {}
    for _, of in known.earlier(job, making, run, own):
        seen.pop(of, None)
        seen[of] = None
    ledgers = [known.ledger_of(of) for of in reversed(seen)]
    return [as_ledger(p) for p in dict.fromkeys(ledgers)]


def rejecting_run(job: Job, path: str, name: str | None = None) -> dict[str, Any] | None:
    """The run (`run_of`) of the newest earlier load into the job's API one of whose rejects files (Job.rejects_paths)
    is `path`, as far as the record of loads and the ledgers still where it saw them tell: each run's files by the
    absolute paths its ledger keeps, a --rejects it was given relative read from here. For none found, where `name`
    (the input its rows name: origins.named_input) is given, the newest that read an input so named, where every
    such run was given the same options: a copy of the rejects file under another name (tester t44a: saved as
    inv-fixed.csv, loaded without its run's --amount-unit major, 2500 was booked as 25.00). None for none found."""
    named: list[dict[str, Any]] = []
    for _, run, _, own in _runs_of_rejects(job, path, name):
        if own:
            return run
        named.append(run)
    return named[0] if named and all(r.get("options") == named[0].get("options") for r in named) else None


def _runs_of_rejects(job: Job, path: str, name: str | None) -> Iterator[tuple[str, dict[str, Any], int, bool]]:
    """The runs of the earlier loads into the job's API (earlier_ledgers, newest first) whose rows a rejects file at
    `path` may hold: (ledger, run as `run_of` reads it, the index of its input, own). Own: the run whose rejects file
    it is (`_rejected_into`, by real path); else, where `name` (the input its rows name) is given, a run that read an
    input so named (origins.matching: a copy of the rejects file under another name). A ledger of another version
    is passed over."""
    real = os.path.realpath(path)
    for ledger in earlier_ledgers(job):
        run = run_of(str(ledger))
        if run is None:
            continue
        if (own := _rejected_into(run, real)) is not None:
            yield str(ledger), run, own, True
            continue
        inputs = _inputs_of(run)
        if inputs is not None and name and (at := origins.matching(name, *inputs)) is not None:
            yield str(ledger), run, at, False


def _read_here(
    runs: list[tuple[str, dict[str, Any], int]], path: str, name: str
) -> list[tuple[str, dict[str, Any], int]]:
    """Of `runs` (ledger, run, the index of its input) that read an input named `name` (a rejects file's `file`
    cell), those whose input is the file `name` gives from beside the rejects file at `path` (where a run writes
    it) or from here: an input given as `dec.csv` in two folders (tester t71h: a Save As copy of one's rejects file
    was read against neither, and a voucher whose good line was deleted booked in part, exit 0)."""
    places = {os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(path)), name)), os.path.realpath(name)}
    kept = []
    for ledger, run, at in runs:
        with contextlib.suppress(IndexError, KeyError, TypeError):  # a ledger of another version
            if os.path.realpath(str(run["files"][at]["path"])) in places:
                kept.append((ledger, run, at))
    return kept


def _inputs_of(run: dict[str, Any]) -> tuple[list[str], list[str]] | None:
    """The inputs of `run` (as `run_of` reads it) as its ledger keeps them and as it was given them; None for a
    ledger of another version."""
    try:
        return [str(f["path"]) for f in run["files"]], [str(f) for f in run["settings"]["files"]]
    except (KeyError, TypeError):
        return None


def _rejected_into(run: dict[str, Any] | None, real: str) -> int | None:
    """The index of the input of `run` whose rejects file is at the real path `real`; None for none (or a ledger of
    another version, or settings now refused)."""
    try:
        files = [str(f["path"]) for f in run["files"]] if run else []
        earlier = Job.from_settings({**run["settings"], "files": files}) if files and run else None
        rejects = earlier.rejects_paths() if earlier else []
    except (ConfigError, KeyError, TypeError, ValueError):
        return None
    return next((idx[0] for p, idx in rejects if idx and os.path.realpath(p) == real), None)


def read_before(job: Job, sources: Sequence[Source]) -> dict[int, Reading]:
    """How the input each rejects file of `sources` holds the rows of was read (by index of the source): the
    decimal mark and date format the run whose rejects file it is decided for that input (its ledger's profiles),
    else, for a copy under another name, the newest earlier load into the job's API that read an input of the name
    its rows give, where every such load read one alike; found as far as the record of loads and the ledgers still
    where it saw them tell. A rejects file whose rows name more than one input, or none an earlier run on record
    read, or one that loads read two ways, is left out: what its own rows show decides, as for any file
    (profile.inspect takes these where they show nothing)."""
    out: dict[int, Reading] = {}
    for i, source in enumerate(sources):
        name = origins.named_input(source)
        found = _reading_of(job, name, str(source.path)) if name else None
        if found is not None:
            out[i] = found
    return out


def _rejected_rows(ledger: str, at: int) -> Iterator[tuple[int, str, str]]:
    """(line, group key, reason) of each row of the input `at` the run of `ledger` rejected; none where the ledger
    cannot be read (another version's, or gone since)."""
    query = "SELECT line_no, grp, reason FROM rows WHERE file_idx = ? AND bucket = 'rejected' ORDER BY line_no"
    try:
        if ledger_pg.is_url(ledger):
            conn = ledger_pg.reader(ledger)
        elif not_a_ledger(ledger) is None:
            conn = sqlite3.connect(f"file:{urllib.request.pathname2url(os.path.abspath(ledger))}?mode=ro", uri=True)
        else:
            return
        try:
            for line, group, reason in conn.execute(query, (at,)):
                yield int(line), str(group), str(reason)
        finally:
            conn.close()
    except (sqlite3.Error, OSError, LedgerError):
        return


def rejected_by(job: Job, sources: Sequence[Source]) -> dict[int, list[origins.RejectedBy]]:
    """By the index of the source, for each input the rows of each rejects file of `sources` name (origins.
    named_inputs: two rejects files joined by hand name two), the run whose rejects file it is (by its real path, as
    the run wrote it) where that run read an input so named, else, for a copy under another name (a spreadsheet's
    Save As), the one earlier run that read an input of that name, as far as the record of loads and the ledgers
    still where they saw them tell. An input that two earlier runs read (which of them wrote its rows cannot be
    told), or that no run on record read, is left out (tester t71h: a.csv's and b.csv's rejects files joined in one,
    b.csv's voucher's good line deleted, booked the voucher in part, exit 0: a file naming two inputs was left out
    whole)."""
    out: dict[int, list[origins.RejectedBy]] = {}
    for i, source in enumerate(sources):
        for name in origins.named_inputs(source):
            runs: list[tuple[str, dict[str, Any], int]] = []
            for ledger, run, at, own in _runs_of_rejects(job, str(source.path), name):
                if own:
                    inputs = _inputs_of(run)
                    mine = origins.matching(name, *inputs) if inputs is not None else None
                    runs = [] if mine is None else [(ledger, run, mine)]
                    break
                runs.append((ledger, run, at))
            if len(runs) > 1:  # an input of that name read in several folders: the one of them the name gives
                runs = _read_here(runs, str(source.path), name)
            if len(runs) == 1:
                ledger, run, at = runs[0]
                with contextlib.suppress(IndexError, KeyError, TypeError):  # a ledger of another version
                    by = origins.RejectedBy(
                        ledger_pg.name_of(ledger),
                        str(run["settings"]["files"][at]),
                        str(run["files"][at]["path"]),
                        functools.partial(_rejected_rows, ledger, at),
                    )
                    out.setdefault(i, []).append(by)
    return out


def _reading_of(job: Job, name: str, path: str) -> Reading | None:
    """The Reading of the input whose rows the rejects file `path` holds, its `file` cells `name`: by the run whose
    rejects file it is, else by the newest earlier load of an input so named where all such loads read one alike.
    Two files of one name in two folders may be read two ways: the newest load of either is no word on the other's
    rejects file (tester t44a: a month-first file's 05/11/2026, its rejects file loaded after a day-first file of
    its name in another folder, was booked as 5 November)."""
    named: list[Reading] = []
    for ledger, run, at, own in _runs_of_rejects(job, path, name):
        try:
            profile = (_profiles_of(ledger) or [])[at]
            if profile is None:
                continue
            read = run["settings"]["files"][at]
            said = f"as the run of the ledger {ledger_pg.name_of(ledger)} read {read}, whose rows it holds"
            reading = Reading(str(profile["decimal"]), str(profile["date_format"]), said)
        except (IndexError, KeyError, TypeError):  # a ledger of another version
            continue
        if own:
            return reading
        named.append(reading)
    if not named or any(r[:2] != named[0][:2] for r in named):
        return None
    return named[0]


def _may_share(
    job: Job, making: str, run: str, other_than: str = "", own: str = ""
) -> list[tuple[str, dict[str, str]]]:
    """The earlier loads (see `_Record.earlier`) whose groups may be in this input: loads into the same API and
    agreement, to a place one of this job's files may go to (`same_place`), whose ledger was made, and whose run
    was neither rolled back nor let go (`release`) nor forgotten (`forget`). `other_than`: only those that went
    with other credentials than the ones it names (account.anywhere; an entry that kept none is passed over), their
    claims too, whose ledgers may not be made (the caller reads those that are). Each:
    (its ledger where the record of loads last saw it, {"at", "where", "api"}), oldest first."""
    known = _Record()
    places = places_of(job)
    found: dict[str, dict[str, str]] = {}
    for entry, of in known.earlier(job, making, run, own):
        if entry.get("released"):
            found.pop(of, None)
        elif other_than and not _keyed_otherwise(entry, other_than):
            continue
        # with `other_than`, a claim too: its ledger is made before its load is on record for good (remember_load)
        elif (other_than or not entry.get("claim")) and any(same_place(_place_of(entry), p) for p in places):
            found[of] = {
                "at": str(entry.get("at")),
                "where": named_place(_place_of(entry)),
                "api": str(entry.get("api") or job.api_address),
            }
    return [
        (known.ledger_of(of), load)
        for of, load in found.items()
        if of not in known.forgotten and known.status.get(of) != "rolled_back"
    ]


def may_share(job: Job, making: str, run: str, own: str = "") -> list[Path | str]:
    """The ledgers of the earlier loads whose records may be in this input (see `_may_share`), oldest first: where
    a record of a row of no group it created is the one a row of this input creates (ledger.rows_known_to)."""
    return [as_ledger(p) for p, _ in _may_share(job, making, run, own=own)]


def other_holders(job: Job, who: str, making: str, run: str) -> list[tuple[str, dict[str, str]]]:
    """The earlier loads whose groups may be in this input (`_may_share`) that went to the job's address with other
    credentials than those `who` names (account.anywhere): at an address that serves many accounts
    (Credentials.shared_address), another account's, or this one's under a key renewed since. Each: (its ledger,
    {"at", "where", "api"}), oldest first."""
    return _may_share(job, making, run, other_than=who) if who else []


def runs_into(
    job: Job, making: str, run: str, *, later: bool = False, since: bool = False
) -> list[tuple[str, dict[str, str]]]:
    """The other runs on record into the job's API and agreement, to a place one of its files goes (`same_place`):
    those put on record before the last claim of the run `run` (its ledger `making`; see `_Record.earlier`: a load
    started later waits for this one, never the reverse), with `later` every other run (a resume, whose claim
    may be long past), or with `since` those put on record after that claim (whose writes the run's resume must
    not undo: alongside.written_since). Each once: (its ledger where the record of loads last saw it, {"at": when
    its latest such load was put on record, "where": its place as messages name it}), oldest first."""
    known = _Record()
    return [(known.ledger_of(of), load) for of, load in _runs_into(known, job, making, run, later=later, since=since)]


def gone_made(job: Job, run: str) -> list[dict[str, Any]]:
    """The other runs on record into the job's API, agreement and place (`same_place`), whatever their ledger's path
    (one deleted may be where this run makes its own), whose ledger was made (a load on record that is no claim,
    nor released since: `release`) and is gone now (`_gone`), and that the record of loads was not told to forget
    (`forget`): what they wrote, and when, and what they left still committing, no ledger says. Each: {"ledger",
    "at", "where", "ended": the record of loads saw it finish (complete, or rolled back)}, oldest first."""
    known = _Record()
    places = places_of(job)
    found: dict[str, dict[str, str]] = {}
    made: dict[str, bool] = {}
    for entry, of in known.loads(_api_key(job)):
        if of == run or not any(same_place(_place_of(entry), place) for place in places):
            continue
        made[of] = not entry.get("released") and (made.get(of, False) or not entry.get("claim"))
        found.pop(of, None)
        found[of] = {"at": str(entry.get("at")), "where": named_place(_place_of(entry))}
    return [
        {**load, "ledger": known.ledger_of(of), "ended": known.status.get(of) in ("complete", "rolled_back")}
        for of, load in found.items()
        if made[of] and of not in known.forgotten and _gone(known.ledger_of(of))
    ]


def _runs_into(
    known: _Record, job: Job, making: str, run: str, *, later: bool = False, since: bool = False
) -> list[tuple[str, dict[str, str]]]:
    """`runs_into`'s runs, each by its id in the record of loads `known`."""
    places = places_of(job)
    if later:
        loads = [(e, r) for e, r in known.loads(_api_key(job)) if r != run and known.ledger_of(r) != making]
    elif since:
        before = {id(e) for e, _ in known.earlier(job, making, run)}
        loads = [
            (e, r)
            for e, r in known.loads(_api_key(job))
            if id(e) not in before and r != run and known.ledger_of(r) != making
        ]
    else:
        loads = known.earlier(job, making, run)
    found: dict[str, dict[str, str]] = {}
    for entry, of in loads:
        if any(same_place(_place_of(entry), place) for place in places):
            found.pop(of, None)
            found[of] = {"at": str(entry.get("at")), "where": named_place(_place_of(entry))}
    return list(found.items())


def named_loads(ledgers: list[dict[str, str]]) -> str:
    """Earlier loads as a refusal names them (`unusable_ledgers`', `gone_made`'s): each ledger with when and where
    it was loaded (and why it cannot be read), the first five."""
    named = "; ".join(
        f"{g['ledger']} ({g['at']}{g['where']})" + (f", {g['why']}" if g.get("why") else "") for g in ledgers[:5]
    )
    return named + (f" and {len(ledgers) - 5:,} more" if len(ledgers) > 5 else "")


def _gone(ledger: str) -> bool:
    """Whether no ledger file is at the path `ledger` (a URL never is: a PostgreSQL ledger is not looked for). One
    there that cannot be looked at (a folder without search permission) is there: this load cannot read it."""
    if ledger_pg.is_url(ledger):
        return False
    try:
        os.stat(ledger)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def unusable_ledgers(
    job: Job, making: str, run: str, ours: sqlite3.Connection | None = None, own: str = ""
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(gone, unread): the earlier loads whose groups may be in this input (`_may_share`, one pass over the record
    of loads) whose ledger file is gone (no file now where the record of loads last saw it, nor in that folder
    under another name; PostgreSQL ledgers are not looked for), and those whose ledger is there but cannot be read
    by this load, whose ledger is `making` (a file's path or a URL; `ours`: its connection; None: not asked), as
    ledger.known_to reads it: a file SQLite cannot open (a read-only mount, no permission, damaged), a ledger of the
    other backend, or a PostgreSQL ledger in another database (ledger.unreadable). Each: {"ledger", "at", "where"},
    the unread with "why" (ledger.unreadable's words), oldest first. `own`: only the loads with those credentials
    (`_Record.earlier`: another account's are set aside, Job.other_account)."""
    gone, unread = [], []
    for ledger, load in _may_share(job, making, run, own=own):
        if _gone(ledger):
            gone.append({**load, "ledger": ledger})
        elif ours is not None and (why := unreadable(ledger, ours)) is not None:
            unread.append({**load, "ledger": ledger, "why": why})
    return gone, unread


def forget(job: Job, ledgers: list[str]) -> None:
    """The user says the earlier loads of these ledgers, gone or not to be read by this load, share no group with
    what they load from now on into the job's API, or were undone by hand, or left no call still landing:
    `unusable_ledgers` and `gone_made` no longer name them, nor any other run whose ledger was at that path (a
    later load that can read one still learns from it: ledger.known_to). ConfigError, and nothing forgotten, for a
    ledger that this load can read or that no load into that API has on record (`forgettable`)."""
    for runs in forgettable(job, ledgers).values():
        for of in runs:
            record({"run": of, "forgotten": True})


def forgettable(job: Job, ledgers: list[str]) -> dict[str, list[str]]:
    """What `forget` would forget of `ledgers` (--forget-ledger's paths), forgetting nothing (a dry run's): each
    ledger as the record of loads names it -> the runs whose ledger was there. ConfigError for a ledger that this
    load can read or that no load into the job's API has on record."""
    known = _Record()
    runs: dict[str, list[str]] = {}  # each run whose ledger was there (a load refused there later, too)
    for _, of in known.loads(_api_key(job)):
        runs.setdefault(known.ledger_of(of), []).append(of)
    forgotten: dict[str, list[str]] = {}
    for given in ledgers:
        path = ledger_pg.name_of(given)
        if path not in runs and not ledger_pg.is_url(given):  # "../x.sqlite", a link to its folder: as recorded
            path = next((p for p in runs if not ledger_pg.is_url(p) and _one_path(p, given)), path)
        if path not in runs:
            raise ConfigError(
                f"--forget-ledger {given}: no earlier load into {job.api_url} has its ledger there; nothing was sent"
            )
        if not _gone(path) and unreadable(path, job.ledger_path) is None:
            raise ConfigError(
                f"--forget-ledger {given}: that ledger is there, this load reads it, and it says what its run "
                "created: it is not forgotten (roll its run back if you want its records gone); nothing was sent"
            )
        forgotten[path] = runs[path]
    return forgotten


def _one_path(recorded: str, given: str) -> bool:
    """Whether the path `given` names the file recorded as `recorded` (gone, so by their folders' real paths)."""
    return os.path.realpath(recorded) == os.path.realpath(given)


def made(ledger: Path | str, stop: threading.Event, every_s: float = 0.1) -> None:
    """Return once the earlier load of `ledger` has made its ledger (what it creates is known from then on) or
    given up; while another process is still making it (inspecting its files), wait. RunStopped when `stop` is set
    meanwhile."""
    while Ledger.being_made(ledger) and run_of(str(ledger)) is None:
        if stop.wait(every_s):
            raise RunStopped("stopped before the first call")


def claim_load(
    job: Job,
    files: list[dict[str, Any]],
    ledger: str,
    run: str,
    *,
    check: bool,
    resuming: bool = False,
    who: str = "",
) -> None:
    """Check that no earlier load holds the content of the job's files (`files`: their RunInfo.files entries) when
    `check`, and put this one on record for the run `run` of `ledger`, as one step: LoadedBefore names the earlier
    load. A file the target's phases take `given_again` may be one a finished run loaded (its ledger says complete:
    its groups are skipped by that run's word). `who`: whose account the load goes to (account.anywhere; "" for
    no telling), kept with it: a load of the content with the same `who` under another host name is refused too
    (LoadedBefore naming both addresses), as that host may be this one spelled otherwise. Called while the
    ledger's path is locked, before the ledger is made, or (`resuming`) while its run's lock is held by a resume."""
    places = places_of(job)
    with record_held():
        if check:
            refuse_loaded(job, files, ledger, run, resuming=resuming, who=who)
        _append(job, files, ledger, run, places, claim=True, who=who)


def refuse_loaded(
    job: Job, files: list[dict[str, Any]], ledger: str, run: str, *, resuming: bool = False, who: str = ""
) -> None:
    """claim_load's check, which a dry run makes too (reading the record of loads, writing nothing): LoadedBefore
    naming the earlier load that holds the content of one of the job's files (`files`: their RunInfo.files entries,
    or at least their digests) at its address, or with the same credentials (`who`) at another."""
    target = job.make_target()
    known = _Record()
    own = who if job.other_account else ""  # the loads with other keys went into other accounts: set aside
    for i, (path, stored, place) in enumerate(zip(job.files, files, places_of(job, target))):
        earlier = loaded_before(job, names_of(stored), ledger, run, resuming, place, known, own=own)
        finished = earlier is not None and not earlier["claim"] and earlier["status"] == "complete"
        if finished and target.phases.given_again(i):
            continue
        if earlier is None and who:  # never skipped: its groups are in a ledger this load does not read
            earlier = loaded_before(job, names_of(stored), ledger, run, resuming, place, known, who)
        if earlier is not None:
            raise _loaded(job, path, earlier, resuming, names_of(stored), who)


def on_record(job: Job) -> bool:
    """Whether the record of loads holds a load into the job's target at all: else no earlier load can tell a new one
    (or a dry run) anything, and its files need not be hashed for it."""
    return any(True for _ in _Record().loads(f"{job.target}|"))


def _loaded(
    job: Job, path: str, earlier: Mapping[str, str], resuming: bool, names: Sequence[str] = (), who: str = ""
) -> LoadedBefore:
    """The refusal of a load of `path` that `earlier` (loaded_before's) holds: at the job's address, or at another
    (`earlier["api"]`) with the same credentials, which may be the same server spelled otherwise. Where that run
    loaded the content (`names`: names_of the file) as another file, a copy, that file is named: "nov2.csv was already
    loaded" alone read as a load of nov2.csv itself (tester t36d). Where one address serves many accounts
    (Credentials.shared_address) and that run went with another key than this load's (`who`, account.anywhere), the
    message says so: it may have been another account's."""
    under_way = "being loaded" if earlier["claim"] else "loaded"
    when = f"{earlier['where']} ({earlier['at']}, ledger {earlier['ledger']})"
    held = run_of(earlier["ledger"]) if names else None
    files = held.get("files") if isinstance(held, dict) else None
    was = next((f.get("path") for f in files or () if isinstance(f, dict) and set(names_of(f)) & set(names)), None)
    if isinstance(was, str) and was != os.path.abspath(path):
        when += f" as {was}, of the same content"
    credentials = job.make_target().credentials
    other_key = bool(who) and _keyed_otherwise(earlier, who) and credentials.shared_address
    if earlier["api"] == job.api_address and other_key:
        key = " and ".join(credentials.account_names)
        fact = (
            f"{path} was already {under_way} into {job.api_url}{when} with another {key} than this load gives: if "
            "that is this account's, renewed since, loading it again would create its records again"
        )
        anyway = None
    elif earlier["api"] == job.api_address:
        fact = (
            f"{path} was already {under_way} into {job.api_url}{when}: loading it again would create its records again"
        )
        anyway = None
    else:
        fact = (
            f"{path} was already {under_way} into {earlier['api']}{when} with the same credentials as this load "
            f"gives for {job.api_url}: the two addresses may name one server (127.0.0.1 and localhost, a host's name "
            "and its IP address; none is looked up), and loading it again there would create its records again"
        )
        anyway = "if they really are two servers (or two accounts)"
    # a load on record whose ledger another process is making now: under way, its ledger not at its path yet (before,
    # "moved aside or removed?", with --allow-duplicate-load as the way on, which would create its records twice)
    making = bool(earlier["claim"]) and Ledger.being_made(earlier["ledger"])
    # its state decides the way on (a rollback stopped part way)
    status = earlier["status"] or ("running" if making else None)
    # a ledger saying "running" is a live run only while a process holds its lock (else it was killed)
    live = making or status == "running" and Ledger.running(earlier["ledger"])
    # no ledger at the path the record of loads keeps: moved aside or removed since (a rollback unfinished, say)
    gone = not making and not ledger_pg.is_url(earlier["ledger"]) and not Path(earlier["ledger"]).exists()
    return LoadedBefore(
        fact,
        earlier["ledger"],
        resuming=resuming,
        status=status,
        anyway=anyway,
        under_way=live,
        gone=gone,
        other_key=other_key and earlier["api"] == job.api_address,
    )


def release(ledger: Ledger) -> None:
    """The run of `ledger` created nothing in the API it was loading into, and no longer loads its files there: it
    is started over (a new ledger at its path), or goes on at another address (see Ledger.look_again). A later load
    of its files there is no load twice."""
    run = ledger.run
    at = time.strftime("%Y-%m-%d %H:%M:%S")
    api = _key(run.target, address(run.base_url), run.settings.get("agreement", ""))
    with record_held():
        try:
            with append_private(private_dir(cache_dir()) / "loads.jsonl") as fh:
                for stored in run.files:
                    for name in names_of(stored):
                        entry = {
                            "key": api + name,
                            "at": at,
                            "ledger": str(ledger.path.absolute()),
                            "run": run.key_prefix,
                            "released": True,
                        }
                        fh.write(msgspec.json.encode(entry).decode() + "\n")
        except OSError:
            pass  # no record to keep it in: none holds the load either


def remember_load(job: Job, files: list[dict[str, Any]], ledger: str, run: str, who: str = "") -> None:
    """The load's ledger exists: on record for good (even if the ledger is moved or removed later); `who` as for
    claim_load."""
    places = places_of(job)
    with record_held():
        _append(job, files, ledger, run, places, claim=False, who=who)


def _append(
    job: Job,
    files: list[dict[str, Any]],
    ledger: str,
    run: str,
    places: list[dict[str, str]],
    *,
    claim: bool,
    who: str,
) -> None:
    """Put the load of each file (its content's names, `names_of`; the `places` its rows go to; its address and
    `who`, claim_load's) on record. ConfigError where the record cannot be written (outputs.cache_refused)."""
    at = time.strftime("%Y-%m-%d %H:%M:%S")
    extra: dict[str, Any] = {"claim": True} if claim else {}
    if who:
        extra.update(api=job.api_address, who=who)
    try:
        with append_private(private_dir(cache_dir()) / "loads.jsonl") as fh:
            for stored, place in zip(files, places):
                # "to" only where a setting decides: a load that gives none is written as before
                to = {"to": place} if place else {}
                for name in names_of(stored):
                    entry = {"key": _api_key(job) + name, "at": at, "ledger": ledger, "run": run, **to, **extra}
                    fh.write(msgspec.json.encode(entry).decode() + "\n")
    except OSError as exc:  # before the first call: a load not on record would be refused nothing by the next
        raise cache_refused(cache_dir(), exc, KEEPS, "load") from exc


def renewed(run: str, who: str) -> None:
    """The run `run` goes on with a renewed key, on the user's word (account.renew): its loads are on record as made
    with `who` (account.anywhere) from now on, before the renewal too. Before, they stayed the old key's: a later load
    with the new key was refused as sharing groups with another key's load, the run's own, and with --other-account
    created its groups again (tester t57a)."""
    if who:
        record({"run": run, "who": who, "renewed": True})


def record(entry: dict[str, Any]) -> None:
    """Put one entry on the record of loads (a run tied to its file, its status, a ledger forgotten)."""
    with record_held():
        try:
            with append_private(private_dir(cache_dir()) / "loads.jsonl") as fh:
                fh.write(msgspec.json.encode({**entry, "at": time.strftime("%Y-%m-%d %H:%M:%S")}).decode() + "\n")
        except OSError:
            pass  # the ledger says which file the run is tied to as well
