"""The daily quota belongs to the agreement, not to a run (e-conomic's fair use: 50,000 calls per 24 h per
agreement): the calls every run made against one agreement, per run and per minute, kept in the user's cache
(`$XDG_CACHE_HOME/bulkload/quota/<agreement>.json`, 0600) the way the rolling windows are.

The agreement is named by a keyed hash (HMAC-SHA256) of the target, the API address and the credentials that
identify the agreement (`Credentials.agreement`; e-conomic: the agreement grant token), under a random key made once
per user (`quota/key`, 0600): the file names neither the token nor anything a guess at it could be checked against
without the key. Each run writes its own entry only (under its run id, the ledger's key prefix), so a resume merges
the ledger's count with the entry by taking the larger per minute, never adding them; two runs at once take turns on
a lock file and replace the file whole. A cache: a run without it (no home, a full disk) is merely less careful.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from .meters import DailyQuota
from .outputs import PRIVATE, cache_dir, held_lock, private_dir, write_private

#: how long an exchange waits for another run to be done with the file before it skips this round
LOCK_WAIT_S = 0.2
#: the quota's rolling window, in minutes: the agreement's calls older than that no longer count
WINDOW_MIN = DailyQuota.WINDOW_MIN


def _key(folder: Path) -> bytes:
    path = folder / "key"
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
        with open(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    key = path.read_bytes()
    if len(key) < 32:  # a key file cut short (a crash as it was made): a new one; only the counts so far are lost
        write_private(path, secrets.token_hex(32))
        key = path.read_bytes()
    return key


def keyed(parts: Sequence[str]) -> str | None:
    """`parts` as a keyed hash (HMAC-SHA256 under the user's key, its first 128 bits in hex): a name for them in the
    user's cache that nothing can be checked against without the key; None when the cache cannot be made."""
    try:
        key = _key(private_dir(cache_dir() / "quota"))
    except OSError:
        return None
    return hmac.new(key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def agreement_file(target: str, api_url: str, identity: Sequence[str]) -> Path | None:
    """Where the calls against one agreement are kept; None when the cache cannot be made."""
    name = keyed([target, api_url, *identity])
    if name is None:
        return None
    folder = cache_dir() / "quota"
    _forget_old(folder)
    return folder / f"{name}.json"


def _forget_old(folder: Path) -> None:
    """Files no run has written to for 24 h hold no call that still counts (an agreement used once, a sandbox
    on a port of its own): removed, so the cache does not grow with them."""
    stale = time.time() - WINDOW_MIN * 60
    for path in folder.glob("*.json"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < stale:
                path.unlink()
                path.with_suffix(".lock").unlink(missing_ok=True)


class AgreementCalls:
    """One run's view of the agreement's file: `own()` is what it last kept for the run (to merge with the
    ledger's count on resume), `exchange` (a DailyQuota exchange) keeps the run's calls and returns the others'."""

    def __init__(self, path: Path | None, run_id: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.run_id = run_id
        self._clock = clock
        self._others: dict[int, int] = {}

    def own(self) -> dict[int, int]:
        runs = self._read()
        return dict(runs.get(self.run_id, {}))

    def exchange(self, mine: Mapping[int, int], changed: Mapping[int, int]) -> dict[int, int]:
        if self.path is None:
            return {}
        with self._held() as held:
            if not held:
                return self._others  # another run holds the file: the last count seen, until the next round
            floor = int(self._clock() // 60) - WINDOW_MIN
            runs = {run: {m: n for m, n in calls.items() if m > floor} for run, calls in self._read().items()}
            # the run's count as it is (merged with what the file kept for it as the run began: limits.daily_quota),
            # so that a call its quota counted and then took back (meters.DailyQuota.take) is no longer counted
            runs[self.run_id] = {m: n for m, n in mine.items() if m > floor}
            runs = {run: calls for run, calls in runs.items() if calls}
            text = msgspec.json.encode({run: {str(m): n for m, n in calls.items()} for run, calls in runs.items()})
            with contextlib.suppress(OSError):
                write_private(self.path, text.decode())
        others: dict[int, int] = {}
        for run, calls in runs.items():
            if run != self.run_id:
                for m, n in calls.items():
                    others[m] = others.get(m, 0) + n
        self._others = others
        return others

    def _read(self) -> dict[str, dict[int, int]]:
        if self.path is None:
            return {}
        try:
            data: Any = msgspec.json.decode(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        runs: dict[str, dict[int, int]] = {}
        if isinstance(data, dict):
            for run, calls in data.items():
                if isinstance(calls, dict):
                    runs[str(run)] = {
                        int(m): n for m, n in calls.items() if str(m).isdigit() and isinstance(n, int) and n > 0
                    }
        return runs

    def _held(self) -> contextlib.AbstractContextManager[bool | None]:
        assert self.path is not None
        return held_lock(self.path.with_suffix(".lock"), LOCK_WAIT_S)
