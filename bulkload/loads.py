"""The user's record of loads (`$XDG_CACHE_HOME/bulkload/loads.jsonl`): which file content went into which API,
under which ledger. It guards against loading a file twice, and names the earlier runs whose groups a new load
of a corrected file must not create again.

A load is put on record before its ledger is made, in the same step as the check that no earlier load holds its
content (under a lock on the record), so two loads of one file started together cannot both pass the check. That
first entry is a claim: it stands while its ledger is being made or exists and holds the content; a load refused
or killed before its ledger was made leaves a claim that no longer stands. Once the ledger exists the load is
recorded for good.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .job import Job
from .ledger import Ledger
from .outputs import append_private, private_dir

#: how long a load waits for another to finish with the record (it holds it for a moment: one check, one write)
LOCK_WAIT_S = 30.0


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bulkload"


def _api_key(job: Job) -> str:
    return f"{job.target}|{job.api_url}|"


def _entries() -> Iterator[dict[str, Any]]:
    try:
        lines = (cache_dir() / "loads.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry


@contextlib.contextmanager
def _record_held() -> Iterator[None]:
    """The record of loads, for one process at a time. Without a cache to keep it in there is no record to guard."""
    try:
        fd = os.open(private_dir(cache_dir()) / "loads.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"the record of loads ({cache_dir()}) has been held by another bulkload process for "
                        f"{LOCK_WAIT_S:.0f} s (a stopped process?); nothing was sent"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def loaded_before(job: Job, digest: str, making: str = "") -> dict[str, str] | None:
    """The latest earlier load of the same file content into the same API, from the user's record of loads; a
    load that was rolled back since created nothing that is still there, and does not count, nor does a claim
    whose ledger was never made (`making`: the ledger this process is making, whose earlier claims are dead)."""
    key = _api_key(job) + digest
    found = None
    for entry in _entries():
        if entry.get("key") != key:
            continue
        ledger = str(entry.get("ledger"))
        run = _run_of(ledger)
        if entry.get("claim") and (ledger == making or not (
                run is not None and _holds(run, digest) or Ledger.being_made(ledger))):
            continue
        if run is None or run.get("status") != "rolled_back":
            found = {"at": str(entry.get("at")), "ledger": ledger, "claim": "yes" if entry.get("claim") else ""}
    return found


def _run_of(ledger: str) -> dict[str, Any] | None:
    """The run a ledger holds, read without taking its lock; None when there is no such ledger."""
    try:
        conn = sqlite3.connect(f"file:{urllib.request.pathname2url(os.path.abspath(ledger))}?mode=ro", uri=True)
        try:
            (run,) = conn.execute("SELECT value FROM meta WHERE key='run'").fetchone()
        finally:
            conn.close()
        found = json.loads(run)
        return found if isinstance(found, dict) else None
    except (sqlite3.Error, OSError, TypeError, ValueError):
        return None


def _holds(run: dict[str, Any], digest: str) -> bool:
    return any(isinstance(f, dict) and f.get("sha256") == digest for f in run.get("files") or [])


def earlier_ledgers(job: Job) -> list[Path]:
    """The ledgers of every earlier load into the same API, newest first, each once."""
    prefix = _api_key(job)
    seen: dict[str, None] = {}
    for entry in _entries():
        if str(entry.get("key", "")).startswith(prefix) and entry.get("ledger"):
            seen.pop(str(entry["ledger"]), None)
            seen[str(entry["ledger"])] = None
    return [Path(p) for p in reversed(seen)]


def claim_load(job: Job, paths: list[str], digests: list[str], ledger: str, *, check: bool) -> None:
    """Check that no earlier load holds the content (`check`) and put this one on record, as one step: ConfigError
    names the earlier load. Called while the ledger's path is locked, before the ledger is made."""
    with _record_held():
        if check:
            for path, digest in zip(paths, digests):
                if (earlier := loaded_before(job, digest, ledger)) is not None:
                    under_way = "being loaded" if earlier["claim"] else "loaded"
                    raise ConfigError(
                        f"{path} was already {under_way} into {job.api_url} ({earlier['at']}, ledger "
                        f"{earlier['ledger']}): loading it again would create its records again. Continue that run "
                        f"with `bulkload resume --ledger {earlier['ledger']}`, or pass --allow-duplicate-load"
                    )
        _append(job, digests, ledger, claim=True)


def remember_load(job: Job, digests: list[str], ledger: str) -> None:
    """The load's ledger exists: on record for good (even if the ledger is moved or removed later)."""
    with _record_held():
        _append(job, digests, ledger, claim=False)


def _append(job: Job, digests: list[str], ledger: str, *, claim: bool) -> None:
    at = time.strftime("%Y-%m-%d %H:%M:%S")
    extra = {"claim": True} if claim else {}
    try:
        with append_private(private_dir(cache_dir()) / "loads.jsonl") as fh:
            for digest in digests:
                fh.write(json.dumps({"key": _api_key(job) + digest, "at": at, "ledger": ledger, **extra}) + "\n")
    except OSError:
        pass  # the record only guards against loading twice; a load goes on without it
