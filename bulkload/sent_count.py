"""How many calls a run has recorded as sending, kept outside its ledger, so that a ledger that lost its latest
writes is found out before it is resumed or rolled back (a rollback's DELETEs count as sends: Ledger.sends).

A SQLite ledger holds its latest writes in its ``-wal`` file until SQLite copies them into the ledger itself. A
``-wal`` deleted or cut after a kill, or a ledger put back from a backup over the same file, takes those writes
with it, and nothing in the ledger says so: calls it had recorded as sending look unsent, and a resume would send
them again (an API without idempotency keys creates their records twice). So after each ``Ledger.sending`` the
run's count of sends (the sum of its chunks' attempts, which only grows) is also written here, in the user's cache
(``$XDG_CACHE_HOME/bulkload/sent/RUN``): 8 bytes written in place, one pwrite(2) a call, no fsync. A kill loses no
write the kernel holds, which is the case this covers; a power loss may take the ledger's writes and this count
alike. A run whose count was never written here (a ledger in PostgreSQL, which keeps every write it committed;
another cache) is not checked. A load, resume or rollback whose cache cannot be written is refused before it sends
(outputs.check_cache); a count that cannot be written later (the cache's disk failed meanwhile) is said at WARNING.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from .outputs import PRIVATE, cache_dir, private_dir

log = logging.getLogger(__name__)


def _path(run_id: str) -> Path:
    return cache_dir() / "sent" / run_id


class SentCount:
    """The run `run_id`'s count of sends, from `start` (what its ledger holds now) on. Never stops a run: where the
    cache cannot be written (checked before the run began: outputs.check_cache), the count is no longer kept, a
    WARNING says so, and a later resume has nothing to check against."""

    def __init__(self, run_id: str, start: int) -> None:
        self._count = start
        try:
            self._fd = os.open(
                private_dir(_path(run_id).parent) / run_id, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE
            )
        except OSError as exc:
            self._fd = -1
            _lost(exc)
        self._write()

    def add(self, n: int = 1) -> None:
        """`n` more sends, recorded in the ledger a moment ago."""
        self._count += n
        self._write()

    def _write(self) -> None:
        if self._fd >= 0:
            try:
                os.pwrite(self._fd, self._count.to_bytes(8, "little"), 0)
            except OSError as exc:
                self.close()
                _lost(exc)

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


def _lost(exc: OSError) -> None:
    log.warning(
        "cannot write the run's count of sends in bulkload's cache %s (%s): a ledger that loses its latest writes "
        "(its -wal) from now on is not found out by the next resume or rollback",
        cache_dir() / "sent",
        exc.strerror or exc,
    )


def recorded(run_id: str) -> int | None:
    """The count of sends last written for the run; None where none was (or it cannot be read)."""
    try:
        data = _path(run_id).read_bytes()
    except OSError:
        return None
    return int.from_bytes(data[:8], "little") if len(data) >= 8 else None


def restart(run_id: str, count: int) -> None:
    """The run goes on from a ledger that holds `count` sends (one adopted after it lost writes)."""
    SentCount(run_id, count).close()
