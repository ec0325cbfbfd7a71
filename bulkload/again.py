"""Loading files again as a new run: the ledger, the report and the rejects, success and in-doubt files an earlier
run wrote are its record (which ids it created, which rows it rejected), so a new run never writes over them. A load
whose ledger holds a run is refused by Ledger.create; where loading its files again loads nothing twice (a
re-runnable load, a run rolled back), with the command that loads them again beside that run's files, under names of
their own (`FILE.2.ledger.sqlite`, `FILE.2.rejects.csv`, `rep.2.json`), as the shell reads it back (`load_again`).
A new ledger whose default output files are another run's gets such names for its own files (`beside_earlier`)."""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import command_on
from .job import Job
from .ledger import ANOTHER_LEDGER
from .loads import holds, names_of
from .sources import pin, sha256_of
from .targets import TARGETS

log = logging.getLogger(__name__)

#: the names bulkload gives a run's files, numbered before them: FILE.ledger.sqlite -> FILE.2.ledger.sqlite
_ENDINGS = (".ledger.sqlite", ".rejects.csv", ".success.csv", ".in_doubt.csv")


def outputs(job: Job) -> list[str]:
    """Every file a run of `job` writes of its rows: the rejects file of each input, the success and the
    in-doubt file."""
    return [path for path, _ in job.rejects_paths()] + [job.success_path, job.in_doubt_path]


def numbered(path: str, n: int) -> str:
    """`path` with `.n` before the name bulkload gives it (before its last suffix when it has none of them)."""
    p = Path(path)
    ending = next((e for e in _ENDINGS if p.name.endswith(e)), p.suffix)
    stem = p.name[: len(p.name) - len(ending)] if ending else p.name
    return str(p.with_name(f"{stem}.{n}{ending}"))


def free_names(job: Job, whole_run: bool) -> dict[str, str]:
    """The options that give a run of `job` files no run wrote (`--rejects`; with `whole_run` the `--ledger` too, and
    the `--report` where the job writes one): the first number n from 2 at which none of them is there. Where the
    run has several inputs, their rejects files are named after their inputs in the rejects file's
    folder: a numbered folder of its own then."""
    several = len(job.rejects_paths()) > 1
    n = 2
    while True:
        if several:
            rejects = str(Path(job.rejects_path).parent / f"run{n}" / Path(job.rejects_path).name)
        else:
            rejects = numbered(job.rejects_path, n)
        named = {"--rejects": rejects}
        if whole_run:
            named = {"--ledger": numbered(job.ledger_path, n), **named}
            if job.report:
                named["--report"] = numbered(job.report, n)
        trial = replace(job, ledger=named.get("--ledger", job.ledger), rejects=rejects)
        if not any(os.path.lexists(p) for p in [*named.values(), *outputs(trial)]):
            return named
        n += 1


def command_with(command: Sequence[str], named: dict[str, str]) -> str:
    """`command` (its words, `bulkload` first) with the options `named` given instead of any it gave (`--ledger X`,
    `--ledger=X`, or an abbreviation argparse took for it), quoted as a shell reads it back."""
    words, out, rest = list(command), [], []
    if "--" in words:  # what follows is files only
        rest = words[words.index("--") :]
        words = words[: words.index("--")]
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        flag = word.split("=", 1)[0]
        if len(flag) > 3 and any(option.startswith(flag) for option in named):
            skip = "=" not in word
            continue
        out.append(word)
    for option, value in named.items():
        out += [option, value]
    return shlex.join(out + rest)


def load_again(
    job: Job, command: Sequence[str] | None, ledger: str, held: Mapping[str, Any], files: Sequence[Mapping[str, Any]]
) -> str:
    """What the refusal of `job`'s ledger (`ledger`, as the refusal names it), which holds a run (`held`, as
    loads.run_of reads it), says after "use resume to continue it" (Ledger.create's `again`). Where that run read
    none of `files` (this load's RunInfo.files), "" (choose another --ledger). Where loading them again loads nothing
    twice (`job`'s target re-runnable, Books.rerunnable, or that run rolled back): the command that loads them again
    as a new run beside it, with names of its own (`free_names`; for a script the Job's keywords). Else no command,
    as a new run would create that run's records again (refused as loaded, or with an empty cache loaded twice): roll
    it back first, where its API can delete."""
    if not holds(held, [name for f in files for name in names_of(f)]) or _given_again_only(job, held, files):
        return ""
    if job.make_target().books.rerunnable or held.get("status") == "rolled_back":
        named = free_names(job, whole_run=True)
        if command:
            way = f"`{command_with(command, named)}`"
        else:
            way = ", ".join(f"{option.removeprefix('--')}={value!r}" for option, value in named.items()) + " in its Job"
        return f"{ANOTHER_LEDGER}; to load its files again as a new run, beside that run's files: {way}"
    target = TARGETS.get(str(held.get("target")))
    undo = (
        f". To load them again as a new run, roll it back first (`{command_on('rollback', ledger)}`)"
        if target is None or target.api.can_delete
        else f", and {target.name} offers no delete to roll it back with: go on from that run instead, its rows in "
        f"doubt (check the API for them; where it holds none, `{command_on('resume', ledger)} --resend-in-doubt` "
        "sends them) and its rejects file, fixed, under another --ledger"
    )
    return (
        " (for a run that finished, resume has nothing to do). That run loaded these files: a new run of them beside "
        f"it would create its records again{undo}"
    )


def _given_again_only(job: Job, held: Mapping[str, Any], files: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the run `held` finished and read only files that this load gives again for what a later phase learns
    from them (Phases.given_again: PayorCRM's customers beside invoices): their records are skipped by that run's
    word (loads.refuse_loaded), so a new run under another --ledger creates none of them again."""
    phases = job.make_target().phases
    again = {name for i, f in enumerate(files) if phases.given_again(i) for name in names_of(f)}
    read = [f for f in held.get("files") or [] if isinstance(f, dict)]
    return held.get("status") == "complete" and all(again.intersection(names_of(f)) for f in read)


def beside_earlier(job: Job) -> Job:
    """`job`, or where another run's rejects, success or in-doubt file is at the default path of one of its own
    (no --rejects given, a new ledger), `job` with a --rejects no run wrote (`free_names`): a new run never writes
    over them. A ledger path that holds a run keeps the paths: Ledger.create refuses the load, or it starts over a run
    that created nothing, whose files are its own."""
    if job.rejects or os.path.lexists(job.ledger_path):
        return job
    taken = [path for path in outputs(job) if os.path.lexists(path)]
    if not taken:
        return job
    rejects = free_names(job, whole_run=False)["--rejects"]
    log.warning(
        "%s is another run's (the rows it rejected or loaded, the ids of the records it created): this run writes "
        "its rejects, success and in-doubt files beside it, at --rejects %s",
        taken[0],
        rejects,
    )
    return replace(job, rejects=rejects)


def since_run(stored: Sequence[Mapping[str, Any]], paths: Sequence[str]) -> dict[str, list[str]]:
    """How a job's inputs now (`paths`, absolute) differ from the files its run read (`stored`: RunInfo.files):
    {"added": given now, not read by the run; "removed": read by the run, not given now; "gone": given, read, and
    no longer there; "changed": given, read, and of other content now}, each in the order given (all empty: the
    same files). A file whose size and mtime are those the run hashed it at is taken as the same (a ledger that
    kept them); one of another size has changed; only else is it hashed again (sources.sha256_of). A file given at
    another path than the run read it at, of the content of one the run read that is gone from its own path, is
    that file moved: in none of the lists. ConfigError for a file that cannot be read."""
    read = {str(f["path"]): f for f in stored}
    # as the ledger keeps a path (runner: os.path.abspath), `..` taken out: a manifest's `../data/a.csv` is joined
    # to its folder as it is written (`/srv/m/../data/a.csv`), the same file as the run's `/srv/data/a.csv`
    paths = [os.path.abspath(path) for path in paths]
    out: dict[str, list[str]] = {"added": [], "removed": [], "gone": [], "changed": []}
    for path in paths:
        was = read.get(path)
        if was is None:
            out["added"].append(path)
        elif not os.path.isfile(path):
            out["gone"].append(path)
        elif _changed(path, was):
            out["changed"].append(path)
    out["removed"] = [path for path in read if path not in paths]
    # a file the run read, gone from its path, whose content is given now at another: that file moved (its folder
    # with it, say: tester t70h), neither added nor taken out
    gone = {read[p]["sha256"]: p for p in out["removed"] if not os.path.lexists(p) and read[p].get("sha256")}
    for path in list(out["added"]) if gone else ():
        moved = gone.pop(sha256_of(path), None) if os.path.isfile(path) else None
        if moved is not None:
            out["added"].remove(path)
            out["removed"].remove(moved)
    return out


def _changed(path: str, was: Mapping[str, Any]) -> bool:
    now = pin(path)
    if was.get("size") is not None and now.size_bytes != was["size"]:
        return True
    if (was.get("size"), was.get("mtime_ns")) == (now.size_bytes, now.mtime_ns):
        return False
    return sha256_of(path) != was.get("sha256")


def creates_only_new(target: Any, files: int) -> bool:
    """Whether a new run of changed copies of the `files` files a run loaded creates only what that run did not
    (`target`: a targets.base.Target): its books change nothing loaded again (Books.rerunnable), or every row of each
    file's kind belongs to a group (RecordKind.rows_grouped), which a new run skips where the earlier one created
    it. Else rows of no group (Visma Core entries without an orderId, HaloPSA records without --match-on) would be
    created again: they cannot be told from those the run created (docs/loading-again.md)."""
    return bool(target.books.rerunnable) or all(target.kind_of(i).rows_grouped for i in range(files))
