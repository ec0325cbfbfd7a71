"""A manifest job whose run finished is not loaded again: `bulkload run MANIFEST` (with `--resume` or not) and a
worker show its stored report. Unless the manifest now gives it other files than its run read, or one of them
changed since (again.since_run): refused, naming each difference and the way on in the manifest's words
(docs/migrations.md), never shown complete while rows of its files were never loaded."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .again import creates_only_new, since_run
from .errors import ConfigError, command_on
from .job import Job
from .manifest import ManifestJob


def check_finished(mjob: ManifestJob, run: Mapping[str, Any]) -> None:
    """ConfigError, naming what differs and what to do, where the files the manifest gives `mjob` now are not the
    files its finished run read (`run`: the run its ledger holds, loads.run_of), as they were. Nothing was sent.
    The rollback it may name is the command line's (fleet.with_credentials says it with the job's credentials)."""
    stored = [f for f in run.get("files") or [] if isinstance(f, dict)]
    diff = since_run(stored, [str(p) for p in mjob.settings["files"]])
    if not any(diff.values()):
        return
    said = [f"{_named(mjob, p)} added{'' if os.path.isfile(p) else ' (no such file)'}" for p in diff["added"]]
    said += [f"{_named(mjob, p)} taken out" for p in diff["removed"]]
    said += [f"{_named(mjob, p)} gone (no such file now)" for p in diff["gone"]]
    said += [f"{_named(mjob, p)} changed since its run loaded it" for p in diff["changed"]]
    ways = _ways(mjob, diff, [str(f["path"]) for f in stored])
    raise ConfigError(
        f"job {mjob.name!r}: its run finished (ledger {mjob.ledger_name}) with other files than the manifest gives it "
        f"now: {', '.join(said)}. A finished job is not loaded again, and nothing was sent: {'; '.join(ways)}; then "
        f"run the manifest again (`{mjob.run_again(resume=False)}`)"
    )


def _ways(mjob: ManifestJob, diff: Mapping[str, list[str]], loaded: list[str]) -> list[str]:
    """What to do about `diff` (again.since_run) in the manifest of `mjob`: a file to load goes in a job of its
    own (a new ledger: a new run, which loads a changed file as `bulkload load` loads a corrected one, creating
    only what the earlier runs did not, where its target can tell so: `_whole`; else only the rows added go, in a
    file of their own, as rows of no group loaded again would be created again); the finished job keeps the files
    its run loaded (`loaded`), or where one of them changed or is gone, it leaves the manifest (its ledger and
    report stay, on record for the new run)."""
    out_of = f"take job {mjob.name!r} out of the manifest (its ledger and report stay in {mjob.out_dir})"
    changed, added = diff["changed"], diff["added"]
    ways = []
    if changed and _whole(mjob, len(loaded)):
        ways.append(
            f"to load {_them(changed, 'the changed file')}, give {_them(changed, 'it')} a job of "
            f"{_them(changed, 'its')} own in place of this one, {_new_job(mjob, changed + added)} (a new run: it "
            "creates only what this run did not, as a corrected file's load does, see Loading a file again), and "
            f"{out_of}; or put "
            f"{_them(changed, 'it')} back as {_them(changed, 'it was')}"
        )
    elif changed:
        ways.append(
            f"put {_them(changed, 'the changed file')} back as {_them(changed, 'it was')}, or {out_of}; and to "
            "load the rows added, put only the rows added (or those of its rejects file, fixed) in a file of their "
            f"own (NEW.csv, say) and give it a job of its own, {_new_job(mjob, ['NEW.csv', *added])}: not "
            f"{_them(changed, 'the changed file')} whole, whose rows of no group cannot be told from those this run "
            "created (loaded whole, they would be created again; a row it loaded, changed, is in the books as it "
            "was loaded: correct it there)"
        )
    elif added:
        ways.append(
            f"to load {_them(added, 'the new file')}, give {_them(added, 'it')} a job of "
            f"{_them(added, 'its')} own, {_new_job(mjob, added)}"
        )
    if diff["gone"]:
        ways.append(f"put {_them(diff['gone'], 'the file')} back as {_them(diff['gone'], 'it was')}, or {out_of}")
    if not changed and (added or diff["removed"]):
        ways.append(f"give job {mjob.name!r} back the files its run loaded (files = {_listed(mjob, loaded)})")
    if diff["removed"]:
        ways.append(
            "a file taken out of the manifest takes out nothing its run created: to remove that, roll the run back "
            f"(`{command_on('rollback', mjob.ledger_name)}`)"
        )
    return ways


def _whole(mjob: ManifestJob, files: int) -> bool:
    """Whether a new run of a changed copy of the `files` files the run of `mjob` loaded creates only what that run
    did not (again.creates_only_new, of the job's target as the manifest sets it)."""
    return creates_only_new(Job(target=mjob.target, **mjob.settings).make_target(), files)


def _new_job(mjob: ManifestJob, files: Sequence[str]) -> str:
    return f"a [[job]] of another name with agreement = {json.dumps(mjob.agreement)} and files = {_listed(mjob, files)}"


def _them(paths: Sequence[str], one: str) -> str:
    """`one` (the file, it, its, it was) said of `paths`, one or more."""
    many = {"it": "them", "its": "their", "it was": "they were", "the file": "the files"}
    if len(paths) == 1:
        return one
    return many.get(one, f"{one}s")


def _listed(mjob: ManifestJob, paths: Sequence[str]) -> str:
    """`paths` as a manifest's `files` lists them (TOML)."""
    return f"[{', '.join(json.dumps(_named(mjob, p)) for p in paths)}]"


def _named(mjob: ManifestJob, path: str) -> str:
    """`path` (absolute) as the manifest of `mjob` names it: relative to the manifest's folder, where it is in it."""
    home = str(mjob.manifest.parent)
    return os.path.relpath(path, home) if path.startswith(home + os.sep) else path
