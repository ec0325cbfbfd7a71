"""A rejects file the user changed since the run wrote it (fixed in place, as the summary tells them to) is theirs:
no command on the run writes over it. The run keeps each rejects file's SHA-256 as it last wrote it
(RunInfo.rejects_written); a resume refuses, before anything is sent, while one is no longer so (before, a resume of a
finished run wrote the file again and the fixes were gone: tester, 2026-12)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import ConfigError
from .report import loading
from .sources import sha256_of

if TYPE_CHECKING:
    from .job import Job
    from .ledger import Ledger
    from .targets.base import Target


def keep(ledger: Ledger, paths: Sequence[tuple[str, Sequence[int]]]) -> None:
    """Keep in the ledger the SHA-256 of the rejects files of `paths` (Job.rejects_paths) as they were just written.
    Raises what the ledger's write raises: the files are written all the same (before, a ledger that refused this
    write had the summary say `NOT WRITTEN` of rejects files that were there whole: tester, 2026-12)."""
    ledger.set_rejects_written({_key(path): sha256_of(path) for path, _ in paths})


def _key(path: str) -> str:
    """The absolute path `path` (relative to the working directory) is kept under: a load given relative paths and
    its resume, whose Job holds them absolute, name one file alike (before, a load of `e.csv` kept
    `e.csv.rejects.csv`, which its resume never found, and it wrote over the user's fixes: tester, 2026-12)."""
    return os.path.abspath(path)


def never_written(ledger: Ledger, path: str) -> str | None:
    """Why the run of `ledger` has not written its rejects file `path` (Job.rejects_path), for a report that names
    it without writing it (reconcile's); None where it wrote it, or the file is there. A run killed before its end
    (never marked: `running`) wrote none yet, whatever a file of that name holds (before, reconcile named a file that
    was not there, or an earlier run's, and the command that loads it: tester, 2026-12)."""
    if ledger.run.status == "running" and _key(path) not in ledger.run.rejects_written:
        return "the run was cut short before it wrote it"
    if not os.path.isfile(path):
        return "no such file"
    return None


def check_kept(ledger: Ledger, job: Job, target: Target) -> None:
    """Before a command on the run of `ledger` writes its rejects files again (a resume): ConfigError where one of
    them is no longer as the run wrote it, naming it and the ways on (load it as its own run, with the command that
    loads it as its input was loaded, or move it away). A file gone, or one the run's ledger kept no SHA-256 of (made
    before it was kept), is written as before."""
    kept = ledger.run.rejects_written
    for path, of in job.rejects_paths():
        was = kept.get(_key(path))
        if was is None or not os.path.isfile(path) or sha256_of(path) == was:
            continue
        command = loading(target, {of[0]: path}, job.reading_args()) if of else None
        # the command names no --base-url (nor a manifest's credentials), as the summary's does not: said as it says
        load = (
            f"load it as a run of its own (`{command}`, with the run's --base-url)"
            if command
            else "load it as a run of its own"
        )
        raise ConfigError(
            f"the rejects file {path} was changed since this run wrote it (fixed in place?): the run would write it "
            f"again and the changes would be lost. {load[0].upper()}{load[1:]}, or move it away for the run to write "
            "its rejected rows there again; nothing was sent"
        )
