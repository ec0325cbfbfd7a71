"""The record of loads kept beside the files a load reads and writes, for every user and machine that reaches them:
a `.bulkload-loads.USER@HOST.jsonl` in the folder of the run's rejects files, where its outputs go (beside the first
input by default), one file for each writer, so no user needs to write another's; read in those folders and in each
input's. The record in the user's cache (loads.py) is the user's own: a load
of the same content by another user (another `$XDG_CACHE_HOME` or `HOME`), or on another machine that shares the
folder, never saw it, and where the API has no key and no look of its own (PayorCRM, Visma Core, HaloPSA without
--match-on) created every record a second time, exit 0 (tester t70g: 400 invoices of a 200-invoice file).

Each line is a load whose ledger was made: the target, the API address, the account as a fingerprint under a salt
of its own (account.fingerprint: never a credential, nor a plain hash of one), the names of the file's content
(loads.names_of), where its rows go (RecordKind.destination), the ledger, the run, when, and by whom ("user@host");
or a run that created nothing and let its files go (loads.release: `released`). It names no secret.

A load is refused (LoadedBefore, as one the user's record holds) where a record beside one of its inputs or rejects
files holds a load of the same content into the same API, account and place by a run the user's own record does
not know (that record decides on its own runs), unless that run's ledger says it was rolled back, or that a run
started over at its path with the same content (on record itself), or, for a file a finished run's groups are
skipped by (Phases.given_again), that it finished. A ledger that cannot be read (on another machine, say) cannot
say that the run was rolled back: the load is refused, its message naming who loaded the file.

A folder that cannot be written keeps no record: the load goes on, with a WARNING that a load by another user that
reads the file there will not see this one.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from . import account, loads
from .errors import ConfigError, LoadedBefore
from .job import Job
from .ledger import Ledger
from .loads import entries_in, holds, named_place, names_of, places_of, run_of, runs_on_record, same_place
from .outputs import FRESH_LINE
from .targets.base import Target
from .who import user_at_host

log = logging.getLogger(__name__)

#: the start of each record's name in a folder; the writer and ".jsonl" follow
PREFIX = ".bulkload-loads."
#: a record's mode (before the umask): readable by everyone who loads the files, as it must be (it names no secret)
SHARED = 0o644


def _writer() -> str:
    """Who writes this process's record (user@host), as a file name may hold it."""
    return re.sub(r"[^A-Za-z0-9@._-]", "_", user_at_host())


def folders(job: Job, *, read: bool = False) -> list[Path]:
    """The folders a load writes its record to: those of its rejects files, where its outputs go (beside the first
    input, unless --rejects says where), never an input's folder the user sent the outputs away from (the shipped
    samples the demo reads, a read-only mount). With `read`, also each input's: the folders whose records a load
    reads. Each once."""
    paths = [*(job.files if read else ()), *(p for p, _ in job.rejects_paths())]
    return list(dict.fromkeys(Path(os.path.abspath(p)).parent for p in paths))


def _entries(places: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """Every line of the records in `places`, each folder's records in the order of their names; a line that is
    no JSON object (cut short by a crash) is passed over."""
    for folder in places:
        try:
            named = sorted(p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(".jsonl"))
        except OSError:
            continue
        for path in named:
            yield from entries_in(path)


def on_record(job: Job) -> bool:
    """Whether a record is beside any of the job's files: else there is nothing to check, nor files to hash."""
    for folder in folders(job, read=True):
        try:
            if any(p.name.startswith(PREFIX) for p in folder.iterdir()):
                return True
        except OSError:
            continue
    return False


def _write(places: Sequence[Path], lines: Sequence[Mapping[str, Any]]) -> list[tuple[Path, str]]:
    """Append `lines` to this writer's record in each of `places`; the folders that could not be written, each with
    the system's error."""
    text = FRESH_LINE + "".join(msgspec.json.encode(line).decode() + "\n" for line in lines)
    failed = []
    for folder in places:
        try:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
            fd = os.open(folder / f"{PREFIX}{_writer()}.jsonl", flags, SHARED)
            try:
                data = text.encode()
                # one write: lines of two processes never mix. A disk with less room than the lines (or a limit of
                # file size) takes part of them and says so only by the count: the load was on record nowhere, and
                # no WARNING said so
                if os.write(fd, data) < len(data):
                    raise OSError(errno.ENOSPC, "written in part: no space left on the device, or a file size limit")
            finally:
                os.close(fd)
        except OSError as exc:
            failed.append((folder, exc.strerror or str(exc)))
    return failed


def remember(
    job: Job,
    target: Target,
    credentials: Mapping[str, str],
    files: Sequence[Mapping[str, Any]],
    ledger: str,
    run: str,
    *,
    again: bool = False,
) -> None:
    """Put the load of the job's files (`files`: their RunInfo.files entries) by the run `run` of `ledger` on record
    beside its outputs (`folders`); a folder that cannot be written is named in a WARNING, and the load goes on.
    `again` (a resume): only in the folders whose records do not name the run yet, those the load could not write
    (a full disk, stopping the run): before, a resume once space was freed never put it there, and a load of its
    files by another user created their records again."""
    places = folders(job)
    if again:
        places = [folder for folder in places if not any(e.get("run") == run for e in _entries([folder]))]
        if not places:
            return
    salt = secrets.token_bytes(account.SALT_BYTES)
    kept = {"salt": salt.hex(), "fingerprint": account.fingerprint(salt, job, target, credentials)}
    at, by = time.strftime("%Y-%m-%d %H:%M:%S"), _writer()
    lines = [
        {
            "target": target.name,
            "api": job.api_address,
            "account": kept,
            "content": names_of(stored),
            "to": place,
            "file": os.path.abspath(path),
            "ledger": ledger,
            "run": run,
            "at": at,
            "by": by,
        }
        for path, stored, place in zip(job.files, files, places_of(job, target))
    ]
    for folder, why in _write(places, lines):
        log.warning(
            "the record of this load cannot be kept beside its outputs in %s (%s): a load of its files by another "
            "user, or on another machine, will not see this one and may create their records again",
            folder,
            why,
        )


def release(ledger: Ledger) -> None:
    """The run of `ledger` created nothing and lets its files go (loads.release): in the user's record of loads, and
    in the records beside its rejects files, so a later load of its files by another user is not refused for it. A
    folder that cannot be written keeps the load on record there: that load is refused, naming the ledger."""
    loads.release(ledger)
    run = ledger.run
    try:
        places = folders(Job.from_settings({**run.settings, "files": [str(f["path"]) for f in run.files]}))
    except (ConfigError, KeyError, TypeError, ValueError):  # settings of another version: its record is not found
        return
    line = {"run": run.key_prefix, "released": True, "at": time.strftime("%Y-%m-%d %H:%M:%S"), "by": _writer()}
    _write(places, [line])


def refuse_loaded(
    job: Job,
    target: Target,
    credentials: Mapping[str, str],
    files: Sequence[Mapping[str, Any]],
    run: str,
    *,
    resuming: bool = False,
) -> None:
    """LoadedBefore naming the latest load on record beside the job's files (see the module) of the content of one
    of them (`files`: their RunInfo.files entries, or at least their digests) into the job's API, account and place
    by a run that is not `run` (this one) and that the user's record of loads does not know. `resuming`: said to
    the resume of `run`, which created nothing."""
    entries = list(_entries(folders(job, read=True)))
    let_go = {str(e.get("run")) for e in entries if e.get("released")}
    known = runs_on_record()
    for i, (path, stored, place) in enumerate(zip(job.files, files, places_of(job, target))):
        names = names_of(stored)
        earlier = None
        for entry in entries:
            of = str(entry.get("run"))
            if (
                of in (run, *let_go)
                or of in known
                or entry.get("target") != target.name
                or entry.get("api") != job.api_address
                or not set(names) & {str(n) for n in entry.get("content") or ()}
                or not same_place(entry.get("to") or {}, place)
                or not _same_account(entry, job, target, credentials)
            ):
                continue
            held = run_of(str(entry.get("ledger")))
            if held is not None and held.get("key_prefix") != of and holds(held, names):
                continue  # started over at its path with this content: that run is on record itself
            ours = held is not None and held.get("key_prefix") == of
            status = str(held.get("status")) if ours and held is not None else None
            if status == "rolled_back" or status == "complete" and target.phases.given_again(i):
                continue
            earlier = (entry, status)
        if earlier is not None:
            raise _loaded(job, path, *earlier, resuming=resuming)


def earlier_ledgers(job: Job, target: Target, credentials: Mapping[str, str], run: str) -> list[Path | str]:
    """The ledgers of the loads on record beside the job's files (see the module) into its API and account, to a
    place one of its files goes (`same_place`), by runs other than `run` (this one) that the user's record of loads
    does not know, whose ledger this process can read and holds that run, not rolled back: what they created of the
    groups (or records) of a corrected copy is told by them as by the user's own earlier loads (runner's
    `_learn_earlier`). Before, another user's corrected copy created every group again (tester t70g: 200 PayorCRM
    invoices). Each once, oldest first; a ledger not to be read here (another machine's) is not among them."""
    entries = list(_entries(folders(job, read=True)))
    let_go = {str(e.get("run")) for e in entries if e.get("released")}
    known = runs_on_record()
    places = places_of(job, target)
    found: dict[str, None] = {}
    for entry in entries:
        of, ledger = str(entry.get("run")), str(entry.get("ledger"))
        if (
            of in (run, *let_go)
            or of in known
            or entry.get("target") != target.name
            or entry.get("api") != job.api_address
            or not any(same_place(entry.get("to") or {}, place) for place in places)
            or not _same_account(entry, job, target, credentials)
        ):
            continue
        held = run_of(ledger)
        if held is not None and held.get("key_prefix") == of and held.get("status") != "rolled_back":
            found[ledger] = None
    return [loads.as_ledger(ledger) for ledger in found]


def _same_account(entry: Mapping[str, Any], job: Job, target: Target, credentials: Mapping[str, str]) -> bool:
    kept = entry.get("account")
    if not isinstance(kept, dict):
        return False
    try:
        return account.kept_for(kept, job, target, credentials)
    except (KeyError, TypeError, ValueError):
        return False


def _loaded(job: Job, path: str, entry: Mapping[str, Any], status: str | None, *, resuming: bool) -> LoadedBefore:
    """The refusal of a load of `path` that `entry` (a line of a record beside it) holds; `status`: its run's, as
    its ledger says (None: the ledger cannot be read here)."""
    ledger = str(entry.get("ledger"))
    was = str(entry.get("file") or "")
    copy = f" as {was}, of the same content" if was and was != os.path.abspath(path) else ""
    where = named_place(entry.get("to") or {})
    # where it is not there, it may be on another machine's disk at that path: nothing to "put back"
    unread = " (not to be read here: on another machine, moved or removed)" if status is None else ""
    fact = (
        f"{path} was already loaded by {entry.get('by')} into {job.api_url}{where} ({entry.get('at')}, ledger "
        f"{ledger}{unread}){copy}, as the record of loads beside the file says (a load your own record of loads does "
        "not hold: another user's, or another machine's): loading it again would create its records again"
    )
    return LoadedBefore(
        fact,
        ledger,
        resuming=resuming,
        status=status,
        under_way=status == "running" and Ledger.running(ledger),
    )
