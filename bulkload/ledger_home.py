"""Which file a run goes on in: the one its ledger was made as, under whatever name it has now.

A run goes on in one file: the one its ledger was made as (its device and inode, which a rename keeps and a copy
does not). The ledger says which file that is, and so does the record of loads (loads.py), under the run's id, with
the name it last had. A copy (a backup) does not know what the run did after it was made: resumed, it would send
that again (doubles where the API has no idempotency key); rolled back, it would leave it behind. The run's own file
that lost its latest writes (its -wal deleted or cut after a kill: sent_count) is such a copy too.
"""

from __future__ import annotations

import os
from typing import Any

from . import ledger_pg, sent_count
from .errors import LedgerError, pasted
from .ledger import Ledger
from .loads import record, run_home, run_of
from .targets import TARGETS


def _same(a: dict[str, Any], b: dict[str, Any], keys: tuple[str, ...] = ("dev", "ino")) -> bool:
    return all(a.get(k) == b.get(k) for k in keys)


def tie(ledger: Ledger) -> None:
    """The run goes on in this file, under its present name: said in the ledger and in the record of loads."""
    here = ledger.identity()
    if ledger.home is None or not _same(ledger.home, here, ("ledger", "dev", "ino")):
        ledger.set_home(here)
    recorded, _ = run_home(ledger.run.key_prefix)
    if recorded is None or not _same(recorded, here, ("ledger", "dev", "ino")):
        record({"run": ledger.run.key_prefix, **here})


def record_status(ledger: Ledger, status: str) -> None:
    """The run finished (`complete`) or was rolled back: a copy made before cannot say otherwise."""
    record({"run": ledger.run.key_prefix, "status": status})


def _still_there(home: dict[str, Any], run_id: str) -> bool:
    """Whether the file the run is tied to is where it was last named, and still holds the run."""
    if ledger_pg.is_url(str(home.get("ledger"))):
        found = ledger_pg.identity_at(str(home["ledger"]))
        return found is not None and _same(found, home) and found.get("run") == run_id
    try:
        st = os.stat(str(home.get("ledger")))
    except OSError:
        return False
    if (st.st_dev, st.st_ino) != (home.get("dev"), home.get("ino")):
        return False
    run = run_of(str(home["ledger"]))
    return run is None or run.get("key_prefix") == run_id  # unreadable now: it may well be the run's


def check_home(ledger: Ledger, *, resuming: bool, adopt: bool = False) -> None:
    """Before a resume or a rollback: the ledger must be the file the run is tied to (LedgerError otherwise). Moved
    (the same file by another name), it is, and the new name is recorded. A copy is refused while the run's file
    is there; when it is gone, a copy is used only when the user says so (`adopt`, see Ledger.adopt), and never
    to resume a run recorded as finished since."""
    run = ledger.run
    here = ledger.identity()
    recorded, status = run_home(run.key_prefix)
    home = recorded or ledger.home
    if home is None or _same(home, here):
        tie(ledger)  # the run's own file (perhaps moved), or a ledger made before runs were tied to their files
        _check_whole(ledger, adopt, None if home is None else str(home.get("ledger")))
        return
    real = str(home.get("ledger"))
    if _still_there(home, run.key_prefix):
        raise LedgerError(
            f"{ledger.path} is a copy of the run's ledger, {real}: the run goes on in that file only (a copy does not "
            f"know what the run did after it was made, and would do it again); use --ledger {pasted(real)}"
        )
    if resuming and status == "complete" and run.status != "complete":
        raise LedgerError(
            f"the run of {ledger.path} finished (its ledger, {real}, said so) after this copy was made: there is "
            "nothing to resume, and resuming the copy would send again what the run sent since; nothing was sent"
        )
    if not adopt:
        raise LedgerError(
            f"{ledger.path} is not the file the run's ledger was made as ({real}, gone or another file now): a copy, "
            "a backup, or a ledger moved to another file system. It does not know what the run did after it was "
            "made: resuming it could send that again, rolling it back could leave it behind. If it is all that is "
            "left of the run, pass --adopt-copy: it becomes the run's ledger, and every call it does not know the "
            'outcome of, sent or not, is in doubt (see the README, "A copy of a ledger"); nothing was sent'
        )
    _adopt(ledger, real)


def _adopt(ledger: Ledger, real: str) -> None:
    """The ledger becomes the run's, knowing it may have missed what the run did (Ledger.adopt)."""
    run = ledger.run
    ledger.adopt(real, "sending" if TARGETS[run.target].api.idempotent else "in_doubt")
    sent_count.restart(run.key_prefix, ledger.sends())
    tie(ledger)


def _check_whole(ledger: Ledger, adopt: bool, named: str | None = None) -> None:
    """The run's own ledger must hold every call the run recorded as sending (sent_count): one that lost writes
    (its -wal deleted or cut after a kill, the file put back from a backup) is used only as an adopted copy.
    `named`: the path the run's file was last known by (renamed since, its -wal may be there under that name)."""
    recorded = sent_count.recorded(ledger.run.key_prefix)
    held = ledger.sends()
    if recorded is None or recorded <= held:
        return
    if not adopt:
        wal = f"{named}-wal"
        if named is not None and named != str(ledger.path) and os.path.isfile(wal):
            beside = " beside it" if os.path.dirname(named) == os.path.dirname(ledger.path) else ""
            back = (
                f"Its -wal file is{beside} under the ledger's old name, {wal}: rename it to {ledger.path}-wal (while "
                "no bulkload works on the ledger) and run the command again"
            )
        else:
            back = "Put the -wal back if you have it"
        raise LedgerError(
            f"{ledger.path} has lost its latest writes: it has {held:,} calls on record as sent, the run made "
            f"{recorded:,} (resends counted). Its -wal file, which holds the latest writes until SQLite copies them "
            "into the ledger, was deleted or cut after the run stopped, or the ledger was put back from a backup. It "
            "does not know "
            "what those calls did: resuming it could send them again, rolling it back could leave their records "
            f"behind. {back}; else pass --adopt-copy: every call the ledger does not know "
            'the outcome of, sent or not, is then in doubt (see the README, "A copy of a ledger"); nothing was sent'
        )
    _adopt(ledger, str(ledger.path))
