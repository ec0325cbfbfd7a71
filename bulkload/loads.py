"""The user's record of loads (`$XDG_CACHE_HOME/bulkload/loads.jsonl`): which file content went into which API,
under which ledger. It guards against loading a file twice, and names the earlier runs whose groups a new load
of a corrected file must not create again."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from .job import Job


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bulkload"


def _api_key(job: Job) -> str:
    return f"{job.target}|{job.api_url}|"


def _entries() -> Iterator[dict[str, str]]:
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


def loaded_before(job: Job, digest: str) -> dict[str, str] | None:
    """The latest earlier load of the same file content into the same API, from the user's record of loads; a
    load that was rolled back since created nothing that is still there, and does not count."""
    key = _api_key(job) + digest
    found = None
    for entry in _entries():
        if entry.get("key") == key and not _rolled_back(str(entry.get("ledger"))):
            found = {"at": str(entry.get("at")), "ledger": str(entry.get("ledger"))}
    return found


def _rolled_back(ledger: str) -> bool:
    try:
        conn = sqlite3.connect(f"file:{urllib.request.pathname2url(os.path.abspath(ledger))}?mode=ro", uri=True)
        try:
            (run,) = conn.execute("SELECT value FROM meta WHERE key='run'").fetchone()
        finally:
            conn.close()
        return bool(json.loads(run).get("status") == "rolled_back")
    except (sqlite3.Error, OSError, TypeError, ValueError):
        return False


def earlier_ledgers(job: Job) -> list[Path]:
    """The ledgers of every earlier load into the same API, newest first, each once."""
    prefix = _api_key(job)
    seen: dict[str, None] = {}
    for entry in _entries():
        if str(entry.get("key", "")).startswith(prefix) and entry.get("ledger"):
            seen.pop(str(entry["ledger"]), None)
            seen[str(entry["ledger"])] = None
    return [Path(p) for p in reversed(seen)]


def remember_load(job: Job, digests: list[str], ledger: str) -> None:
    at = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        with open(cache_dir() / "loads.jsonl", "a", encoding="utf-8") as fh:
            for digest in digests:
                fh.write(json.dumps({"key": _api_key(job) + digest, "at": at, "ledger": ledger}) + "\n")
    except OSError:
        pass  # the record only guards against loading twice; a load goes on without it
