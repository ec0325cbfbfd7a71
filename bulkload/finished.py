"""A manifest job whose run finished is not loaded again: `bulkload run MANIFEST` (with `--resume` or not) and a
worker show its stored report. Unless the manifest now gives it other files than its run read, or one of them
changed since (again.since_run), or its credentials are now another account's than the one its run loaded into
(`check_credentials`): refused, naming each difference and the way on in the manifest's words
(docs/migrations.md), never shown complete while rows of its files were never loaded where it now says. A job
whose run did not finish is continued by `--resume` (and a worker) only with the files that run began with, and
the settings, but for those `bulkload resume` replaces (`check_unfinished`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, fields, replace
from typing import Any

import msgspec

from . import account
from .again import creates_only_new, since_run
from .errors import ConfigError, command_on
from .job import JOB_KEYS, Job
from .manifest import ManifestJob
from .targets import TARGETS


def check_finished(mjob: ManifestJob, run: Mapping[str, Any]) -> None:
    """ConfigError, naming what differs and what to do, where the files the manifest gives `mjob` now are not the
    files its finished run read (`run`: the run its ledger holds, loads.run_of), as they were. Nothing was sent.
    The rollback it may name is the command line's (manifest.with_credentials says it with the job's credentials)."""
    stored = [f for f in run.get("files") or [] if isinstance(f, dict)]
    diff = since_run(stored, [str(p) for p in mjob.settings["files"]])
    if not any(diff.values()):
        return
    said = _differences(mjob, diff)
    ways = _ways(mjob, diff, [str(f["path"]) for f in stored])
    raise ConfigError(
        f"job {mjob.name!r}: its run finished (ledger {mjob.ledger_name}) with other files than the manifest gives it "
        f"now: {', '.join(said)}. A finished job is not loaded again, and nothing was sent: {'; '.join(ways)}; then "
        f"run the manifest again (`{mjob.run_again(resume=False)}`)"
    )


def check_unfinished(mjob: ManifestJob, run: Mapping[str, Any]) -> None:
    """ConfigError, naming what differs and what to do, where the manifest gives `mjob`, whose run did not finish
    (`run`: loads.run_of), other files than that run began with: `--resume` (and a queued job's worker) continues
    the run with its own files, so a file added would never be sent, and one taken out loaded all the same, while
    the job said complete. A file of the run's gone or changed, with none added or taken out, is left to
    runner.resume, which says more of it. Then any setting (an option, a column, a load setting) the manifest gives
    it other than that run began with, but for those `--resume` takes as they are now (_check_settings). Nothing
    was sent; a rollback it names is the command line's (as check_finished's)."""
    stored = [f for f in run.get("files") or [] if isinstance(f, dict)]
    diff = since_run(stored, [str(p) for p in mjob.settings["files"]])
    if not (diff["added"] or diff["removed"]):
        _check_settings(mjob, run)
        return
    loaded = [str(f["path"]) for f in stored]
    ways = [
        f"to continue it, give job {mjob.name!r} back the files its run began with (files = {_listed(mjob, loaded)})"
        f"{_put_back(mjob, diff)}, then run the manifest again (`{mjob.run_again()}`)"
    ]
    if diff["added"]:
        ways.append(
            f"to load {_them(diff['added'], 'the new file')}, give {_them(diff['added'], 'it')} a job of "
            f"{_them(diff['added'], 'its')} own, {_new_job(mjob, diff['added'])}, after this one"
        )
    if diff["removed"]:
        ways.append(
            f"to leave {_them(diff['removed'], 'the file')} out, roll the run back "
            f"(`{command_on('rollback', mjob.ledger_name)}`: it removes what the run created), set its ledger "
            f"aside and run the manifest again (`{mjob.run_again(resume=False)}`): a new run of the files given"
        )
    raise ConfigError(
        f"job {mjob.name!r}: its run did not finish (ledger {mjob.ledger_name}, {run.get('status')}), and the "
        f"manifest gives it other files than that run began with: {', '.join(_differences(mjob, diff))}. A run goes "
        f"on with the files it began with only, and nothing was sent: {'; '.join(ways)}"
    )


#: the Job fields `bulkload run MANIFEST --resume` (and a queued job's worker) takes from the manifest as it is now,
#: as `bulkload resume` takes --daily-quota, --concurrency, --rate, --timeout and --base-url (fleet._run; base_url
#: only while the run has created nothing, runner.resume), and those no setting of the manifest's job is: its files
#: (compared first), outputs and the run's own; allow_duplicate_load, which the manifest's check of its accounts
#: reads as it is now and may tell a job to set (fleet.check_accounts), is the run's for its own files
_RESUMED_AS_NOW: tuple[str, ...] = ("daily_quota", "concurrency", "rate", "timeout_s", "base_url")
_NOT_COMPARED = _RESUMED_AS_NOW + ("files", "ledger", "rejects", "report", "agreement", "manifest_job")
_NOT_COMPARED += ("config", "config_credentials", "allow_duplicate_load")
#: a Job field by the key the manifest gives it by
_KEY = {**{field: key for key, field in JOB_KEYS.items()}, "target_options": "options"}


def _check_settings(mjob: ManifestJob, run: Mapping[str, Any]) -> None:
    """ConfigError naming each setting the manifest gives `mjob` (whose run did not finish, `run`: loads.run_of)
    other than that run began with, with both values, where `--resume` would go on with the run's own
    (_RESUMED_AS_NOW are taken as they are now): an option, a column, a load setting edited since is never
    ignored without a word. Nothing was sent."""
    began = run.get("settings")
    if not isinstance(began, dict):
        return  # a ledger that keeps no settings: nothing to compare
    now = msgspec.to_builtins(asdict(Job(target=mjob.target, **mjob.settings)))
    edited = []
    for name in (f.name for f in fields(Job) if f.name not in _NOT_COMPARED and f.name in began):
        was, given = began[name], now[name]
        if isinstance(was, dict) and isinstance(given, dict):
            edited += [
                (f"{_KEY.get(name, name)}.{k}", was.get(k), given.get(k))
                for k in {**was, **given}
                if was.get(k) != given.get(k)
            ]
        elif was != given:
            edited.append((_KEY.get(name, name), was, given))
    if not edited:
        return
    said = ", ".join(f"{key} = {_value(given)} (its run began with {_value(was)})" for key, was, given in edited)
    back = ", ".join(f"no {key}" if was is None else f"{key} = {_value(was)}" for key, was, _ in edited)
    anew = (
        f"; to load with the new ones, roll the run back (`{command_on('rollback', mjob.ledger_name)}`: it removes "
        f"what the run created), set its ledger aside and run the manifest again (`{mjob.run_again(resume=False)}`): "
        "a new run"
        if TARGETS[mjob.target].api.can_delete
        else ""
    )
    raise ConfigError(
        f"job {mjob.name!r}: its run did not finish (ledger {mjob.ledger_name}, {run.get('status')}), and the "
        f"manifest gives it other settings than that run began with: {said}. A run goes on with the settings it "
        "began with (`--resume` takes only daily_quota, concurrency, rate, timeout and base_url as the manifest "
        "gives them now, as `bulkload resume` replaces them), and nothing was sent: to continue it, put them back "
        f"as its run had them ({back}), then run the manifest again (`{mjob.run_again()}`){anew}"
    )


def _value(value: Any) -> str:
    """A setting's value as the manifest writes it (TOML, as JSON quotes it); `none` where it is not set."""
    return "none" if value is None else json.dumps(value)


def _put_back(mjob: ManifestJob, diff: Mapping[str, list[str]]) -> str:
    """What else a stopped run needs to go on: its files gone or changed back as they were."""
    back = diff["gone"] + diff["changed"]
    if not back:
        return ""
    named = ", ".join(_named(mjob, p) for p in back)
    return f", with {_them(back, 'the file')} {named} back as {_them(back, 'it was')}"


def _differences(mjob: ManifestJob, diff: Mapping[str, list[str]]) -> list[str]:
    """Each file of `diff` (again.since_run) named with how it differs, as a refusal says it."""
    said = [f"{_named(mjob, p)} added{'' if os.path.isfile(p) else ' (no such file)'}" for p in diff["added"]]
    said += [f"{_named(mjob, p)} taken out" for p in diff["removed"]]
    said += [f"{_named(mjob, p)} gone (no such file now)" for p in diff["gone"]]
    said += [f"{_named(mjob, p)} changed since its run loaded it" for p in diff["changed"]]
    return said


def check_credentials(mjob: ManifestJob, job: Job, run: Mapping[str, Any], kept: Mapping[str, str] | None) -> None:
    """ConfigError where the credentials the manifest gives the finished job `mjob` now (`job`: its Job, with them)
    are for another account than the one its run loaded into (`kept`: the fingerprint its ledger keeps,
    loads.account_of; None, or a target whose credentials name no account: not checked), at the address it loaded
    at (`run`: loads.run_of): its rows are in that other account (a wrong grant token, corrected since), and its
    stored report is not this one's. Names the variables, never a value; nothing was sent."""
    target = job.make_target()
    names = target.credentials.account_names
    if kept is None or not names:
        return
    at = replace(job, base_url=str(run.get("base_url") or job.api_url))
    if account.kept_for(kept, at, target, job.credentials(job.config_credentials)):
        return
    noun, ledger = target.credentials.account_noun, mjob.ledger_name
    old = _with_old(mjob, names)
    loaded = [str(f["path"]) for f in run.get("files") or [] if isinstance(f, dict)]
    raise ConfigError(
        f"job {mjob.name!r} finished with other credentials than the ones now given "
        f"({mjob.credentials_from(names)}; its ledger {ledger} keeps a keyed fingerprint of those it loaded with, "
        f"never their values): its rows went to the {noun} of those credentials, not to the one these name, "
        f"and its stored report is that {noun}'s. A finished job is not loaded again, and nothing was sent. If the "
        f"credentials now given are the right ones: see what the run left in that {noun} "
        f"({old(command_on('reconcile', ledger))}), remove it from there if it does not belong there "
        f"({old(command_on('rollback', ledger))}), and load the files into this {noun} as a new job, "
        f"{_new_job(mjob, loaded)}, and take job {mjob.name!r} out of the manifest (its ledger and report stay in "
        f"{mjob.out_dir}); then run the manifest again (`{mjob.run_again(resume=False)}`). If those it loaded with "
        f"were the right ones, give them back ({mjob.credentials_from(names)})"
    )


def _with_old(mjob: ManifestJob, names: tuple[str, ...]) -> Callable[[str], str]:
    """How a command on the job's ledger is run with the credentials its run loaded with: those that name the
    account (`names`) set by the user to the values the run had (never shown: bulkload does not know them), the
    others as the job gives them (its variables, or its credentials file)."""
    said = " and ".join(names)
    if mjob.credentials_file is not None:
        return lambda command: (
            f"`{command}` with each NAME = value of {mjob.credentials_file} set as NAME in the environment, but "
            f"{said} set to the value the run loaded with"
        )
    given = " ".join(
        f"{name}=VALUE_THE_RUN_LOADED_WITH" if name in names else f'{name}="${var}"'
        for name, var in mjob.credentials_env.items()
    )
    return lambda command: f"`{given} {command}`"


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
