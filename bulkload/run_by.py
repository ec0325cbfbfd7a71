"""Who runs a manifest's job: the workers of a queue (`bulkload run MANIFEST --queue URL`) or `bulkload run MANIFEST`
itself, kept in the job's folder of outputs (`RUN_BY`).

The two keep their ledgers apart (the queue's in its PostgreSQL, the other in the folder) and record their loads in
the cache of the user who runs them, so neither knows of the other's run: a manifest queued and also run without
--queue (a colleague's shell, another HOME) loaded each job's files twice (tester t70c: 1,888 of 5,000 rows
doubled). What both see is the job's folder: every worker writes its rejects and report there, and so does
`bulkload run`. So the first to take the job writes `RUN_BY` there, made whole or not at all and never replaced
(O_EXCL: of two at once, one makes it), and the other way is refused before its first call, naming who has it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .errors import ConfigError, manifest_command, pasted
from .manifest import ManifestJob
from .redact import without_password
from .who import user_at_host

#: the file in a job's folder of outputs that says who runs the job
RUN_BY = "run_by.json"


def take(mjob: ManifestJob, queue: str | None) -> bool:
    """Take `mjob`'s folder of outputs for the queue at `queue` (its URL) or, None, for `bulkload run` without
    --queue, unless that same way has it. True where this call made RUN_BY (`give_up` undoes it), False where the
    same way had it. ConfigError, nothing sent, where the other way has it (`check`), or where the file cannot be
    made."""
    if check(mjob, queue):
        return False
    path = mjob.out_dir / RUN_BY
    mine = {
        "queue": None if queue is None else without_password(queue),
        "manifest": str(mjob.manifest),
        "job": mjob.name,
        "by": user_at_host(),
        "at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    # written whole beside it, then linked into place: a link is never made over a file (of two at once, one is
    # made), and a crash leaves no RUN_BY part written
    draft = mjob.out_dir / f".{RUN_BY}.{os.getpid()}.{time.monotonic_ns()}"
    try:
        mjob.out_dir.mkdir(parents=True, exist_ok=True)
        draft.write_text(json.dumps(mine, indent=1) + "\n", encoding="utf-8")
        os.link(draft, path)
    except FileExistsError:  # taken meanwhile: whoever made it has it
        check(mjob, queue)
        return False
    except OSError as exc:
        raise ConfigError(
            f"job {mjob.name!r}: cannot write {path}, which says who runs the job ({exc.strerror or exc}): its "
            "folder of outputs must be writable; nothing was sent"
        ) from exc
    finally:
        draft.unlink(missing_ok=True)
    return True


def give_up(mjob: ManifestJob) -> None:
    """Give `mjob`'s folder of outputs up (RUN_BY removed), for a run that `take` let in and that was refused
    before it made its ledger: it sent nothing, and the job is still either way's to run."""
    (mjob.out_dir / RUN_BY).unlink(missing_ok=True)


def check(mjob: ManifestJob, queue: str | None) -> bool:
    """Whether `mjob`'s folder of outputs is taken by `queue`'s way (True) or by nobody yet (False); ConfigError,
    naming who, where the other way has it: a queue, or `bulkload run` (also by a ledger.sqlite there from before
    RUN_BY was kept, for a queue), or where a RUN_BY there cannot be read."""
    theirs = _read(mjob.out_dir / RUN_BY)
    if theirs is None and queue is not None and (mjob.out_dir / "ledger.sqlite").exists():
        theirs = {"queue": None}  # a run of `bulkload run` there, from before RUN_BY was kept
    if theirs is None:
        return False
    if "unread" not in theirs and _same_way(theirs.get("queue"), queue):
        return True
    raise ConfigError(_refusal(mjob, theirs, queue))


def _read(path: Path) -> dict[str, Any] | None:
    """The RUN_BY file at `path`; None where there is none. One that cannot be read, or is not bulkload's, is
    {"unread": why}: refused, never taken for nobody's."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return {"unread": exc.strerror or str(exc)}
    try:
        said = json.loads(text)
    except ValueError:
        said = None
    # its queue a URL, or null for `bulkload run`: anything else would be taken for one way or the other by guess
    if not isinstance(said, dict) or not isinstance(said.get("queue", 0), str | None):
        return {"unread": "it is not what bulkload writes there"}
    return said


def _same_way(theirs: object, queue: str | None) -> bool:
    """Whether the folder's taker `theirs` (a queue's URL, or None for `bulkload run`) is `queue`'s way: both
    `bulkload run`, or both a queue. Queues are not told apart: one database is reached by many addresses (a
    proxy, a pooler, another host name), which its URL cannot tell from another database's."""
    return (theirs is None) == (queue is None)


def _refusal(mjob: ManifestJob, theirs: dict[str, Any], queue: str | None) -> str:
    """Why `mjob` is not run this way (`queue`), the folder being `theirs`'s (RUN_BY's content)."""
    folder = pasted(mjob.out_dir)
    when = f" ({', '.join(w for w in (theirs.get('by'), theirs.get('at')) if w)})" if theirs.get("by") else ""
    unread = theirs.get("unread")
    if unread is not None:
        return (
            f"job {mjob.name!r}: its folder {folder} holds {RUN_BY}, which says who runs the job, and it cannot be "
            f"read ({unread}): a run of the job by another way would load its files a second time. Nothing was "
            "sent. Find which way runs it (`bulkload status --queue URL` lists the jobs a queue has; a ledger.sqlite "
            f"in the folder is `bulkload run`'s), then remove {mjob.out_dir / RUN_BY} and run the job that way: it "
            "takes the folder again"
        )
    other = theirs.get("queue")
    if other is None:
        return (
            f"job {mjob.name!r}: its folder {folder} is `bulkload run`'s without --queue{when}: that run keeps its "
            f"ledger there ({mjob.out_dir / 'ledger.sqlite'}), and a queue's workers, whose ledger is in the queue, "
            f"would know nothing of it: they would load the job's files a second time. Run it as it began (`"
            f"{manifest_command(mjob.manifest, resume=True)}`); nothing was queued or sent"
        )
    status = f"`bulkload status --queue {pasted(str(other))}`"
    return (
        f"job {mjob.name!r} is run by the queue at {pasted(str(other))}{when}, as its folder {folder} says "
        f"({RUN_BY}): the queue's workers load it under a ledger in that queue, which a run without --queue knows "
        f"nothing of: it would load the job's files a second time. {status} shows it; "
        f"`{manifest_command(mjob.manifest, queue=other)}` queues it again; nothing was sent"
    )
