"""The commands as functions: load, resume, reconcile and the dry run. Scripts call these; the CLI too. Each
checks what it is given, opens its ledger and a `Run` (run.py) against the API; the dry run needs neither."""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import msgspec
from msgspec import UNSET

from . import account, ledger_pg, loads_beside, logs, origins, prestart
from .again import beside_earlier, creates_only_new, load_again
from .agreement_calls import agreement_file
from .alongside import refuse_alongside
from .columns import (
    column_letter,
    did_you_mean,
    given_twice,
    local_amounts,
    missing,
    not_taken,
    option_flag,
    refusal,
)
from .doubt import way_on
from .errors import (
    BulkloadError,
    ChangedSinceRun,
    ConfigError,
    EarlierUnread,
    FileChanged,
    LedgerError,
    MappedTwice,
    RunStopped,
    SharedUnfinished,
    command_on,
    pasted,
)
from .instants import boot_mark
from .job import Job, address, mapped_to_no_field, mapping_typos
from .kept_rejects import check_kept, never_written
from .ledger import (
    Ledger,
    RunInfo,
    created_nothing_at,
    is_ledger,
    known_to,
    origins_known,
    path_taken,
    rows_known_to,
)
from .ledger_home import check_home, tie
from .ledger_schema import STATEMENTS
from .loads import (
    claim_load,
    earlier_ledgers,
    forget,
    forgettable,
    made,
    may_share,
    named_loads,
    on_record,
    read_before,
    refuse_loaded,
    refuse_same_content,
    rejected_by,
    rejecting_run,
    remember_load,
    run_home,
    run_of,
    twice_in_load,
    unusable_ledgers,
)
from .manifest import continued_by as continued_by_manifest
from .manifest import kept_by, manifests_way_on, with_its_credentials
from .model import NO_IMBALANCE, RowOutcome, imbalance_of
from .origins import Found
from .other_keys import refuse_other_key, renewed_here, unfinished_other_key
from .outputs import check_cache, check_outputs, refuse_folder
from .planning import PlanningInProcess, PlanSpec, opened_planner, planned_rows, planning_for
from .profile import FileProfile, as_planned, inspect, line_refusal, one_encoding
from .progress import Snapshot, shown, shown_beside
from .redact import redact
from .reject_reasons import Tally, most
from .report import LEFT_BY_ROLLBACK, Written, rejects_fields, report_written, write_rejects_files, write_report
from .results import Groups, Report, unbalanced_entry
from .run import REPORT_LIST, Run, Shared, phase_context
from .sides import other_side, side_column
from .skipped_gone import taken_back_said
from .sources import (
    HeaderUndecodable,
    Pinned,
    Source,
    changed_message,
    check_regular,
    digests_of,
    other_delimiter,
    pin,
    sha256_of,
)
from .stages import PLANNING_CALLS, Stages
from .targets import TARGETS
from .targets.base import RecordKind, Target

log = logging.getLogger(__name__)


def _read_with(source: Source, other: str) -> str:
    """Why a file whose header names the fields separated by `other` was read with another delimiter, and what to
    give: the --delimiter, .tsv name or sep= line that said so (Source.delimiter_told), else that bulkload judges
    ',', ';' or tab from the header by itself, and `other` is none of them."""
    told = source.delimiter_told()
    if told is None:
        return (
            "which bulkload does not take for a delimiter by itself (it judges ',', ';' or tab from the header): "
            f"give --delimiter '{other}'"
        )
    judged = other in ",;\t"  # what bulkload judges from the header by itself
    if told.startswith("its sep="):
        fix = "remove that line (the header then tells it) or give" if judged else "give"
        return f"but {told}: {fix} --delimiter {other!r}"
    if told.startswith("--delimiter") and judged:
        return f"but {told}: give --delimiter {other!r}, or leave it out (bulkload judges ',', ';' or tab by itself)"
    return f"but {told}: give --delimiter {other!r}"


def open_sources(job: Job, target: Target) -> list[Source]:
    """Open every file before anything is sent: unreadable files, one file given twice (a path or a link to it),
    unknown columns and missing ones (columns.py) stop the run here."""
    for path in job.files:
        check_regular(path)
    _one_file_each(job.files, creates=not target.books.creates_nothing)
    sources = [job.source(path, target.kind_of(i)) for i, path in enumerate(job.files)]
    for file_idx, source in enumerate(sources):
        kind = target.kind_of(file_idx)
        try:
            fields = source.fields()
        except MappedTwice as exc:
            if exc.field not in kind.signed_fields:
                raise
            first, second = map(column_letter, exc.columns)
            advice = kind.signed_advice.format(first=first, second=second)
            raise ConfigError(f"{exc.said}. {advice}; nothing was sent") from None
        except HeaderUndecodable as exc:  # told with the code page the file more likely is, as a line below it is
            raise one_encoding(line_refusal(source, exc.bad), sources) from None
        except ConfigError as exc:  # a file's encoding: told where the run's files are in more than one
            raise one_encoding(exc, sources) from exc.__cause__
        if fields is None:
            continue
        known = kind.fields
        unknown = [f for f in fields if f not in known]
        if kind.given_fields and (twice := given_twice(str(source.path), dict.fromkeys(unknown), kind)):
            raise twice
        typos = mapping_typos(job.columns, source.header() or [], unknown)
        if typos:
            raise ConfigError(f"{source.path}: {typos}")
        if unknown and (refused := not_taken(str(source.path), unknown, kind)) is not None:
            raise refused
        if wrong := mapped_to_no_field(job.columns, source.header() or [], unknown, known):
            raise ConfigError(
                f"{source.path}: the [columns] table of --config maps columns to names that are no {target.name} "
                f'fields: {wrong}. Map each to a field, or to "" to drop it; nothing was sent. Fields: '
                f"{', '.join(sorted(known))}"
            )
        if unknown and (other := _other_kind(target, kind, fields) or _other_target(target, fields)) is not None:
            raise ConfigError(f"{source.path}: {other}; nothing was sent")
        if unknown and len(unknown) == len(fields):
            header = source.header() or []
            if len(header) == 1 and source.delimiter:
                names = set(known) | set(job.columns)
                # the header read whole as one cell: its names are separated by a character not taken for the delimiter
                other = other_delimiter(header[0], source.delimiter, functools.partial(_field_names, names=names))
                if other:
                    raise ConfigError(
                        f"{source.path}: its header was read as one column, {header[0]!r}: it names the "
                        f"{target.name} fields separated by {other!r}, {_read_with(source, other)}; nothing was sent"
                    )
        if unknown and len(unknown) == len(fields) and not any(did_you_mean(f, known) for f in unknown):
            # no column is a field, nor near one: a title or notes line above the header, taken for the header
            first = ", ".join(repr(f) for f in fields[:3]) + (", …" if len(fields) > 3 else "")
            raise ConfigError(
                f"{source.path}: its first line ({first}) names none of the {target.name} fields: the header must "
                "be the file's first line (blank lines and Excel's sep= line aside). If title or notes lines stand "
                f"above the header, remove them; else name the columns as the fields are named or map them in the "
                f"[columns] table of --config. Fields: {', '.join(sorted(known))}"
            )
        if (sides := side_column(source, unknown, kind) or other_side(source, unknown, kind)) is not None:
            raise ConfigError(sides)
        if (local := local_amounts(str(source.path), source.header() or [], source.columns, kind)) is not None:
            raise ConfigError(local)
        lacking = missing(kind, fields)
        if unknown or lacking:
            # a rejects file lacking a field an option gave its run's rows: that run's options say the value
            given = source.rejects_file and any(f in kind.option_fields for e in lacking for f in e)
            earlier = (
                (rejecting_run(job, str(source.path), origins.named_input(source)) or {}).get("options")
                if given
                else None
            )
            raise refusal(str(source.path), fields, unknown, lacking, kind, target.name, earlier=earlier)
        named = origins.named_input(source) if source.rejects_file else None
        if source.rejects_file and (changed := _option_changed(job, target, kind, str(source.path), named)):
            raise ConfigError(f"{source.path}: {changed}; nothing was sent")
        if source.rejects_file and (changed := _meaning_changed(job, target, kind, str(source.path), named)):
            raise ConfigError(f"{source.path}: {changed}; nothing was sent")
    return sources


def _meaning_changed(job: Job, target: Target, kind: RecordKind, path: str, named: str | None) -> str:
    """Where the rejects file `path` (its rows naming the input `named`) is loaded without the value of an option
    that says what its rows mean
    (RecordKind.row_options: PayorCRM's --amount-unit, HaloPSA's --match-on) that the run whose rejects file it is
    had, or with another: why that is refused; else "". Its rows would be loaded as other values or records than that
    run meant them as (tester t42a: a row of 1500 rejected by a run given --amount-unit major, loaded back without it,
    was booked as 1500 minor units, 15.00; a row updating record Acme by --match-on name, loaded back without it,
    created a second Acme)."""
    if not kind.row_options:
        return ""
    options = target.options()
    earlier: Mapping[str, Any] = (rejecting_run(job, path, named) or {}).get("options") or {}
    for key, flag in kind.row_options.items():
        was, now = earlier.get(key) or None, options.get(key) or None
        if was is not None and now != was:
            given = f"with {flag} {_option_value(now)}" if now is not None else f"without {flag}"
            return (
                f"it is the rejects file of a run given {flag} {_option_value(was)}, and its rows mean what they do "
                f"with it: {given} they would be loaded as other values or records. Give {flag} "
                f"{_option_value(was)}, as that run was"
            )
    return ""


def _option_value(value: Any) -> str:
    """A target option's value as its flag takes it: a list (--match-on's fields) comma-separated."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _option_changed(job: Job, target: Target, kind: RecordKind, path: str, named: str | None) -> str:
    """Where the rejects file `path` (its rows naming the input `named`) is loaded with an option that gives its
    rows a field (RecordKind.option_fields:
    Visma Core's --cost-type) set to another value than the run whose rejects file it is gave: why that is refused;
    else "". Its rows were that run's, of that value: booked as another (two FEE entries where the file meant one
    OUTLAY entry of their sum: a tester, t41b) they are other records, and which is meant cannot be told."""
    options = target.options()
    given = [(name, *option_flag(option)) for name, option in kind.option_fields.items()]
    given = [(name, flag, key) for name, flag, key in given if options.get(key) is not None]
    if not given:
        return ""  # the earlier run's ledger is read only where such an option is given
    earlier: Mapping[str, Any] = (rejecting_run(job, path, named) or {}).get("options") or {}
    for field_name, flag, key in given:
        value = options[key]
        if earlier.get(key) is not None and value != earlier[key]:
            return (
                f"it is the rejects file of a run given {flag} {earlier[key]}, and its rows were rejected as "
                f"{field_name} {earlier[key]}: given {flag} {value} they would be booked as other records. Give "
                f"{flag} {earlier[key]}, as that run was; where {value} is meant (the {field_name} was what was "
                f"wrong), write it in a column {field_name} of the file instead of {flag}"
            )
    return ""


def _other_kind(target: Target, kind: RecordKind, fields: Sequence[str]) -> str | None:
    """Where a file's columns (`fields`, after mapping) are no columns of `kind`, the kind it was given as, but every
    one is a column of another kind the target's --kind names and that kind lacks none: what the file is and the
    options that load it so (before: PayorCRM customers given as invoices were told "its first line names none of
    the payorcrm fields … if title or notes lines stand above the header, remove them", tester t36d)."""
    flags = target.flags
    for choice in next((f.choices or () for f in flags.flags if f.flag == "--kind"), ()):
        other = type(target).from_options({"kind": choice}).kind_of(0)
        if type(other) is not type(kind) and all(f in other.fields for f in fields) and not missing(other, fields):
            shown = ", ".join(repr(f) for f in fields[:4]) + (", …" if len(fields) > 4 else "")
            given = (
                f"--{choice} FILE, or FILE... --kind {choice}" if choice in flags.file_options else f"--kind {choice}"
            )
            return (
                f"its columns ({shown}) are those of {target.name} {choice}, not of what the file was given as: load "
                f"it as {choice} ({given})"
            )
    return None


def _other_target(target: Target, fields: Sequence[str]) -> str | None:
    """Where a file's columns (`fields`, after mapping) are no columns of `target` but every one is a column of what
    another target loads (by its --kind where it has one) and that lacks none: the command that loads it there
    (before: an e-conomic file given to halopsa was told to remove "title or notes lines" above its header, and one
    given to payorcrm "did you mean 'voucherNumber'?" for invoiceNumber). A target whose options must name its kind
    otherwise (a HaloPSA resource) is not offered."""
    for other_target in TARGETS.values():
        if other_target.name == target.name:
            continue
        choices = next((f.choices or () for f in other_target.flags.flags if f.flag == "--kind"), ())
        for choice in choices or (None,):
            try:
                other = other_target.from_options({"kind": choice} if choice else {}).kind_of(0)
            except ConfigError:
                continue
            if all(f in other.fields for f in fields) and not missing(other, fields):
                shown = ", ".join(repr(f) for f in fields[:4]) + (", …" if len(fields) > 4 else "")
                what = f"{other_target.name} {choice}" if choice else other_target.name
                command = f"bulkload load {other_target.name}" + (f" --kind {choice}" if choice else "")
                return (
                    f"its columns ({shown}) are those of {what}, not of {target.name}: is it the file you meant? "
                    f"Load it with `{command}`, or give {target.name} its own file"
                )
    return None


def _one_file_each(paths: list[str], *, creates: bool) -> None:
    """ConfigError where two of a load's input files are one file: the same path, or a link to it (their device and
    inode); `creates`: the target's load creates records (loads.twice_in_load). A file that cannot be looked at is
    left to its open, which says why."""
    seen: dict[tuple[int, int], str] = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            raise twice_in_load(seen[key], path, "are one file", creates=creates)
        seen[key] = path


def _field_names(cells: list[str], *, names: set[str]) -> bool:
    """Whether `cells` (a header split by some character) are two or more names of `names`."""
    return sum(cell.strip() in names for cell in cells) >= 2


def _hashed(paths: list[str], digests: Callable[[str], Any] = sha256_of) -> tuple[list[Pinned], list[Any]]:
    """Each file's size and mtime, then its `digests` (its SHA-256, or sources.digests_of). Sources pinned to them
    read no byte past what was hashed, and stop (FileChanged) when a read finds the file changed since."""
    pins = [pin(path) for path in paths]
    return pins, [digests(path) for path in paths]


def _as_hashed(sources: list[Source]) -> None:
    """Raise ConfigError for the first file whose size or mtime is not what it was when it was hashed."""
    for source in sources:
        if source.pinned is not None and pin(source.path) != source.pinned:
            raise ConfigError(f"{changed_message(source.path)} Load it once it is complete; nothing was sent")


#: the files SQLite and bulkload keep beside a ledger
LEDGER_FILES = ("", "-wal", "-shm", "-journal", ".lock")


#: the files a run writes beside its ledger (check_paths' `outputs`)
RUN_OUTPUTS = ("rejects", "success", "in_doubt", "report")


def outputs_of(job: Job, outputs: Iterable[str], *, dry_run: bool = False) -> list[tuple[str, str]]:
    """What and path of each file a run of `job` writes (`outputs`: "rejects", "success", "in_doubt", "report"):
    --rejects and the rejects file of each input after the first (Job.rejects_paths), the success and
    in-doubt files, --report; `dry_run`: the rejects files and report of a dry run too (dry_run_path of each, those
    of `outputs`). ConfigError for settings the job's target refuses."""
    outputs = list(outputs)
    # the rejects file of each input after the first (Job.rejects_paths)
    kinds = job.rejects_paths()[1:] if "rejects" in outputs else []
    more = [(f"the rejects file of {job.files[of[0]]}", path) for path, of in kinds]
    paths: dict[str, list[tuple[str, str | None]]] = {
        "rejects": [("--rejects", job.rejects_path), *more],
        "success": [("the success file", job.success_path)],
        "in_doubt": [("the in-doubt file", job.in_doubt_path)],
        "report": [("--report", job.report)],
    }
    written = [(what, path) for name in outputs for what, path in paths[name] if path]
    if dry_run and "rejects" in outputs:
        named = [("", job.rejects_path), *((f" of {job.files[of[0]]}", path) for path, of in kinds)]
        written += [(f"the dry-run rejects file{of}", dry_run_path(path)) for of, path in named]
    if dry_run and "report" in outputs and job.report:
        written.append(("the dry-run report", dry_run_path(job.report)))
    return written


def check_paths(
    job: Job,
    *,
    outputs: Iterable[str],
    new_ledger: bool = False,
    ledger: bool = True,
    log_file: str | None = None,
    read: Iterable[tuple[str, str]] = (),
    dry_run: bool = False,
    earlier: bool = False,
) -> None:
    """Before anything is sent: no file the run writes (`outputs_of` the job's `outputs`: "rejects", "success",
    "in_doubt", "report"; with `dry_run` a dry run's own too) may land on an input, the ledger, a file of `read`
    (what and path of each other file the command reads: the job file --config, the manifest of `bulkload run`), the
    ledger of an earlier load into the job's API (`earlier`: a load or resume, which reads them through the record
    of loads, loads.earlier_ledgers), any bulkload ledger at all (ledger.is_ledger: a ledger is never an output) or
    another output, and each must be writable; a new PostgreSQL ledger (`new_ledger`) is not named as a ledger's
    draft (Location.check_new), before a load starts over one so named. `log_file` (--log-file, appended to) may
    land on none of them either. ConfigError."""
    inputs = [("the input", path) for path in job.files]
    written = outputs_of(job, outputs, dry_run=dry_run)
    in_file = ledger and not ledger_pg.is_url(job.ledger_path)  # a PostgreSQL ledger is no file to collide with
    if new_ledger and in_file:
        check_outputs([("--ledger", job.ledger_path)], inputs)
    elif new_ledger and ledger:
        ledger_pg.Location.parse(job.ledger_path).check_new()
    kept = inputs + list(read)
    kept += [("the ledger", job.ledger_path + suffix) for suffix in LEDGER_FILES] if in_file else []
    if earlier:
        files = [str(path) for path in earlier_ledgers(job) if not ledger_pg.is_url(path)]
        what = "the ledger of an earlier load into the same API"
        kept += [(what, path + suffix) for path in files for suffix in LEDGER_FILES]
    if log_file:
        check_outputs([("--log-file", log_file)], kept, whole=False)
        kept.append(("--log-file", log_file))
    check_outputs(written, kept)
    for what, path in [*written, *([("--log-file", log_file)] if log_file else [])]:
        if is_ledger(path):
            raise ConfigError(
                f"{what} {path} would overwrite a bulkload ledger {path}: a ledger is never an output (its run could "
                "no longer be reconciled, resumed or rolled back, and a later load would be refused for it); give "
                "it another path; nothing was sent"
            )


def check_on_ledger(ledger: str, report: str | None, log_file: str | None) -> None:
    """check_paths of a command on the run of `ledger` (resume, reconcile, rollback) before its first line: its
    --report `report` and --log-file `log_file` on none of the run's inputs, its ledger or its outputs (as its
    settings name them), nor each other, nor for the run of a manifest's job (Job.manifest_job) the manifest and its
    combined report (manifest.kept_by), which the command's own check of its report does not know. ConfigError. A
    ledger whose run cannot be read is left for the command to refuse."""
    try:
        held = run_of(ledger)
        if held is None:
            return
        files = [f["path"] for f in held["files"]]
        job = Job.from_settings({**held["settings"], "files": files, "target_options": held["options"]})
    except BulkloadError:
        return
    read = kept_by(job.manifest_job)
    check_paths(replace(job, ledger=ledger, report=report), outputs=RUN_OUTPUTS, log_file=log_file, read=read)


def _starts_over(path: str) -> bool:
    """Whether a load's ledger path holds a run that created nothing (stopped on a wrong address or refused
    credentials, say), which the load starts over once nothing refuses it (Ledger.create's `over`: `_over`); the
    record of loads lets go of that run now, as its end did (`_let_go`; not if it was killed), so that the load's
    claim of its files is no load twice. Anything else there is left for Ledger.create to refuse: a run that created
    records, one in use, a copy, no ledger."""
    if not (ledger_pg.is_url(path) or os.path.isfile(path)):
        return False
    try:
        old = Ledger.open(path)
    except LedgerError:
        return False
    try:
        if not _created_nothing(old):
            return False
        loads_beside.release(old)
        return True
    finally:
        old.close()


def _created_nothing(old: Ledger) -> bool:
    """Whether `old` is a run's own ledger (not a copy of one: ledger_home.check_home) and its run created nothing."""
    try:
        check_home(old, resuming=True)
    except LedgerError:
        return False
    return old.created_nothing()


def _over(old: Ledger) -> bool:
    """Ledger.create's `over` for a load whose ledger path held a run that created nothing (`_starts_over`), asked
    once every check of the load has passed: whether that run still created nothing (no resume went on with it
    since), and then its ledger goes."""
    if not _created_nothing(old):
        return False
    log.warning(
        "the ledger %s held a run into %s that created nothing: this load starts it over", old.path, old.run.base_url
    )
    return True


def finished(report: Report, raise_on_stop: bool) -> Report:
    """A run's report, or, when the run stopped and the caller wants that raised, RunStopped carrying it."""
    if raise_on_stop and report.status == "stopped":
        raise RunStopped(report.stop_reason or "the run stopped", report=report)
    return report


def _started(given: float | None) -> float:
    """When a load or resume began (time.monotonic()): `given`, or now. Its `elapsed_s` counts from then, the
    reading, hashing and checking of its inputs before the first call included, as a reconcile's, a rollback's and
    a dry run's count from their start (docs/report.md: the whole command's wall time). Before, a load's counted from
    its first call's setup: a 200,000-row file's 8.4 s load said 7.0 s, where its dry run counted the reading."""
    return time.monotonic() if given is None else given


async def load(
    job: Job,
    *,
    env: Mapping[str, str] | None = None,
    progress: bool = False,
    raise_on_stop: bool = True,
    interrupted: Callable[[Report], object] | None = None,
    shared: Shared | None = None,
    command: Sequence[str] | None = None,
    started: float | None = None,
) -> Report:
    """Start a new run: read, validate, chunk, send, reconcile. Returns the report (`Report`) of a run that went to
    the end (its `exit_code`: 0, or 1 with rows rejected or in doubt, or 3 on a mismatch). A run that stopped
    before the end raises RunStopped carrying its report (`err.report`; resume it with `resume(err.report.ledger)`),
    or with `raise_on_stop=False` returns it (status "stopped", exit_code 4, or 2 for settings to correct). Raises
    ConfigError (and its kinds) for what must be corrected before anything is sent; credentials come from `env`
    (default os.environ). `progress`: draw the progress display on stderr. A run interrupted (Ctrl-C, SIGTERM,
    cancelled) once it sends hands its partial report to `interrupted`, then the interrupt goes on. `shared`: what
    the run shares with others of this process (run.Shared). `command`: the words of the command line that started
    the load (`bulkload` first), which the refusal of a ledger that holds a run gives back with names of its own.
    `started`: when the command began (time.monotonic(); default: now), from which the report's `elapsed_s` and
    `load_s` count (`_started`)."""
    started = _started(started)
    target = job.make_target()
    job.check_options(target)
    job.check_account_word()
    if job.reload_gone and not target.books.finds_groups:
        raise ConfigError(
            f"--reload-gone: bulkload cannot read back what {target.name} holds of a group before loading it, so "
            "it cannot tell which are gone; nothing was sent"
        )
    credentials = job.credentials(env)  # before any file is read
    check_cache("load")  # the record of loads and the agreement's key are in it
    job = beside_earlier(replace(job, agreement=agreement_of(job, target, credentials)))
    log.info("planning: reading and checking %s", ", ".join(job.files), extra={"target": target.name})
    sources = open_sources(job, target)
    check_paths(job, outputs=RUN_OUTPUTS, new_ledger=True, earlier=True)
    pins, digests = await anyio.to_thread.run_sync(_hashed, job.files, digests_of)
    refuse_same_content(job, digests, target)
    for source, pinned in zip(sources, pins):
        source.pinned = pinned
    info = RunInfo(
        target=target.name,
        base_url=job.api_url,
        # each file's size and mtime as hashed: a manifest tells a finished job's file changed without hashing it
        files=[
            {"path": os.path.abspath(p), **d, "size": pinned.size_bytes, "mtime_ns": pinned.mtime_ns}
            for p, d, pinned in zip(job.files, digests, pins)
        ],
        options=target.options(),
        settings=job.settings(),
        key_prefix=uuid.uuid4().hex[:16],
        created_boot=boot_mark(),
    )
    checked = not (job.allow_duplicate_load or target.books.rerunnable)
    who = account.anywhere(job, target, credentials)  # the same account under another spelling of its address
    ledger_at = ledger_pg.name_of(job.ledger_path)  # found again from any directory; a URL without its password
    if job.forget_ledger:
        forget(job, job.forget_ledger)

    def claim() -> None:
        # under the ledger's lock, before it is made: two loads of one content started together cannot both pass
        if checked:  # another user's or machine's load of the files, which the user's record never saw
            loads_beside.refuse_loaded(job, target, credentials, info.files, info.key_prefix)
        claim_load(job, info.files, ledger_at, info.key_prefix, check=checked, who=who)

    def prepare(conn: sqlite3.Connection) -> None:
        # the whole-file decisions go into the ledger as it is made: a run refused (or killed) before the first
        # call leaves no ledger behind, and a ledger always knows how its files are read
        refuse_alongside(job, target, ledger_at, info.key_prefix, stop)  # after the claim: the later one is refused
        with conn:
            conn.execute("BEGIN")
            try:
                found = inspect(
                    sources,
                    target,
                    job.given(),
                    conn,
                    stop,
                    planner.part_reader(),
                    read_before(job, sources),
                    reading.advance,
                    rejected_by(job, sources),
                )
                profiles = [msgspec.to_builtins(p) for p in found]
            except FileChanged:
                _as_hashed(sources)
                raise
            _as_hashed(sources)  # what was decided for a file may not hold for what it now is
            conn.execute("INSERT INTO meta VALUES ('profiles', ?)", (msgspec.json.encode(profiles).decode(),))
        if checked:
            beside = loads_beside.earlier_ledgers(job, target, credentials, info.key_prefix)
            _learn_earlier(conn, job, ledger_at, info.key_prefix, target, stop, who=who, beside=beside)
        if stop.is_set():
            raise RunStopped("stopped before the first call")

    # a cancel (Ctrl-C, SIGTERM) does not wait for the thread, and the message says nothing was sent: the thread
    # must then make no ledger (it would be found after the message, and a new load of the file refused for it)
    stop = threading.Event()
    # the rows the read of the files before the first call has come to, for the progress display: minutes of a big
    # file (a 2,000,000-row file took 10 s) showed nothing, on a terminal or off it
    reading = Stages()
    made_at = job.ledger_path if ledger_pg.is_url(job.ledger_path) else ledger_at  # a URL with its password
    # the first phase's planner (a child process for all but small files) starts now: its Python start and imports,
    # some 0.5 s, pass while the files are inspected instead of before the first call
    planner = (PlanningInProcess if shared else planning_for(job.files))()
    prestart.discard()  # a child started for a load whose files are planned here after all
    try:
        over = _over if await anyio.to_thread.run_sync(_starts_over, made_at) else None
        held = None if ledger_pg.is_url(made_at) else run_of(made_at)
        again = "" if held is None else load_again(job, command, made_at, held, info.files)
        async with shown(lambda: Snapshot(reading.name, reading.done, None, reading.unit), None, progress):
            ledger = await anyio.to_thread.run_sync(Ledger.create, made_at, info, prepare, claim, again, over)
    except BaseException:
        stop.set()
        with anyio.CancelScope(shield=True):
            await planner.close()
        raise
    try:
        remember_load(job, info.files, ledger_at, info.key_prefix, who)
        loads_beside.remember(job, target, credentials, info.files, ledger_at, info.key_prefix)
        tie(ledger)  # the run goes on in this file: a copy of it cannot resume it
        with logs.bound(run=ledger.run.key_prefix, target=target.name):
            log.info("ledger: %s", ledger_at)
            async with Run.open(job, target, ledger, credentials, shared, started=started) as run:
                report = await run.load(sources, progress=progress, interrupted=interrupted, planner=planner)
            return finished(report, raise_on_stop)
    finally:
        with anyio.CancelScope(shield=True):
            await planner.close()  # closed by the run already, unless the run never began
        _let_go(ledger)


def _refuse_gone(
    conn: sqlite3.Connection,
    job: Job,
    making: str,
    run: str,
    target: Target,
    own: str = "",
    forgetting: Collection[str] = (),
) -> None:
    """EarlierUnread naming the earlier loads whose ledger is gone or there but not to be read by this load
    (loads.unusable_ledgers: a file SQLite cannot open, a ledger of the other backend or, in PostgreSQL,
    of another database), when the input has groups (`conn`: the new ledger, its `file_groups` filled): what their
    runs created can no longer be told apart from what this input would create again. `own`: as unusable_ledgers'
    (--other-account: another account's loads are set aside, their ledgers too). `forgetting`: the ledgers a dry
    run's --forget-ledger names (loads.forgettable), which a load forgets before it gets here: not named either."""
    if conn.execute("SELECT 1 FROM file_groups LIMIT 1").fetchone() is None:
        return  # rows of no group: no earlier ledger could tell this load anything
    group = target.kind_of(0).group_name
    gone, unread = unusable_ledgers(job, making, run, conn, own)
    gone = [g for g in gone if g["ledger"] not in forgetting]
    unread = [u for u in unread if u["ledger"] not in forgetting]
    rollback = "or `bulkload rollback --ledger NEW` " if target.api.can_delete else ""
    if gone:
        back = (
            "Put it back where it was (moved within its folder, it is found under any name; moved elsewhere, "
            f"`bulkload resume --ledger NEW` {rollback}records where it is)"
        )
        fact = (
            f"the ledger of an earlier load into {job.api_url} is gone: {named_loads(gone)}. A ledger says which "
            f"{group}s its run created; without it, this load could create them again."
        )
        raise EarlierUnread(fact, back, back, [g["ledger"] for g in gone], group)
    if unread:
        readable = (
            "Make it readable where it is (SQLite reads a ledger through the -wal and -shm files beside it: its "
            "folder must be writable, no read-only mount)"
        )
        fact = (
            f"the ledger of an earlier load into {job.api_url} cannot be read by this load: {named_loads(unread)}. A "
            f"ledger says which {group}s its run created; unread, this load could create them again."
        )
        other = (
            ", or load with a --ledger of the backend that earlier load used (a file's path, or a postgresql:// URL "
            "of the database its ledger is in)"
        )
        # a manifest decides where its jobs' ledgers are: a file under output_dir, or the queue's PostgreSQL
        own = "; a job of a manifest reads no ledger of the other backend, nor one in another PostgreSQL database"
        raise EarlierUnread(fact, readable + other, readable + own, [g["ledger"] for g in unread], group)


def agreement_of(job: Job, target: Target, credentials: Mapping[str, str]) -> str:
    """The agreement a run loads into, as a keyed hash of the credentials that name it, where the target says which
    do (e-conomic's grant token: one address serves every agreement); "" otherwise (an address is an account)."""
    if not target.credentials.agreement:
        return ""
    found = agreement_file(target.name, job.api_address, target.credentials.agreement_of(credentials))
    return found.stem if found is not None else ""


def job_of(ledger: Ledger, report: str | None = None) -> Job:
    """The job of the run `ledger` holds, for a command on it. Its inputs by the absolute paths the ledger keeps, as
    its `rejects` and `report` are (Job.settings): the files named after them (the rejects, success and in-doubt
    files, where no --rejects was given) are where the run wrote them, from whatever folder the command is run in
    (before, reconcile named them relative to the folder the load was started in)."""
    job = Job.from_settings(ledger.run.settings)
    job.files = [f["path"] for f in ledger.run.files] or job.files  # a run that kept none: its settings' own
    job.target_options = ledger.run.options  # as the target's setup left them: the same plan again
    job.ledger = str(ledger.path)
    if report is not None:
        job.report = report
    return job


def settings_given(
    job: Job,
    ledger: Ledger,
    *,
    daily_quota: int | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
) -> Job:
    """`job` with the settings a command on its ledger was given, each None where it was not: `daily_quota` (calls
    per 24 h, after the agreement's quota was raised; 0 turns it off), `rate` (requests/s) and `concurrency` (calls
    in flight), checked as a load's flags are (ConfigError), and kept by the ledger for the commands after this one,
    as resume keeps them; `job` itself where none was given. A rollback of a run loaded at a low `--rate` went at
    it, a DELETE a call (tester t65b: 10,000 entries at 3/s, 56 minutes), where the agreement allowed more."""
    given: dict[str, Any] = {
        name: value
        for name, value in {"daily_quota": daily_quota, "rate": rate, "concurrency": concurrency}.items()
        if value is not None
    }
    if not given:
        return job
    changed = replace(job, **given)
    ledger.set_settings({**ledger.run.settings, **given})
    return changed


async def resume(
    ledger_path: str,
    *,
    report: str | None = None,
    env: Mapping[str, str] | None = None,
    progress: bool = False,
    daily_quota: int | None = None,
    resend_in_doubt: bool = False,
    adopt_copy: bool = False,
    raise_on_stop: bool = True,
    base_url: str | None = None,
    concurrency: int | None = None,
    rate: float | None = None,
    timeout_s: float | None = None,
    same_account: bool = False,
    interrupted: Callable[[Report], object] | None = None,
    shared: Shared | None = None,
    started: float | None = None,
) -> Report:
    """Continue a stopped or killed run with its stored settings; done chunks are never sent again.
    `daily_quota` (calls per 24 h, after the agreement's quota was raised), `concurrency` (calls in flight), `rate`
    (requests per second) and `timeout_s` (seconds for one answer) replace the stored ones, for this resume and the
    commands after it. `base_url` moves the run to another address, only while it has created nothing where it was
    (a wrong address, refused credentials): LedgerError otherwise, since the rest of its files would go to another
    API, agreement or tenant. `resend_in_doubt` sends again the calls whose outcome was unknown, which only the
    user may decide; `adopt_copy` continues the run from a copy of its ledger when its own is gone
    (ledger_home.check_home). Returns and raises as `load` does (RunStopped with the report if the run stops again,
    unless `raise_on_stop=False`); ConfigError for an override a load's flag would refuse, OtherAccount for
    credentials of another account than the run's once it created records (account.py), but with `same_account`
    (the user's word that they are its account's, renewed since, where only the key names it: account.renew;
    ConfigError elsewhere); `interrupted` and `shared` as for load."""
    started = _started(started)
    check_cache("resume")  # check_home reads the run's count of sends from it
    ledger = Ledger.open(ledger_path, to_write=True)
    try:
        check_home(ledger, resuming=True, adopt=adopt_copy)
        status = ledger.run.status
        if status in ("rolling_back", "rolled_back"):  # what the ledger says loaded is no longer in the API
            in_part = status == "rolling_back"  # stopped, by the quota say: rollback continues it, never resume
            # a quota raised for it goes to the rollback, which takes it as resume would
            raised = f" --daily-quota {daily_quota}" if daily_quota is not None else ""
            finish = f"finish the rollback (`{command_on('rollback', ledger.path)}{raised}`), then "
            raise LedgerError(
                f"the run of {ledger.path} was rolled back{' in part' if in_part else ''}: its ledger no longer "
                f"says what the API holds; {finish if in_part else ''}load the files again as a new run"
            )
        if base_url is not None and address(base_url) == address(ledger.run.base_url):
            base_url = None  # the same address, spelled otherwise: the stored spelling names it (quota, record)
        given: dict[str, Any] = {"base_url": base_url, "concurrency": concurrency, "rate": rate, "timeout_s": timeout_s}
        overrides = {k: v for k, v in {**given, "daily_quota": daily_quota}.items() if v is not None}
        job = replace(job_of(ledger, report), **overrides)  # checked as a load's flags are
        moved = job.api_url != ledger.run.base_url
        if moved and not ledger.created_nothing():
            raise LedgerError(_stays(ledger, job.api_url, in_manifest=bool(job.manifest_job.get("manifest"))))
        target = job.make_target()
        if same_account:
            job.check_key_names_account("--same-account", "so a run goes on with its own credentials: give those")
        credentials = job.credentials(env)
        # the user's word, for this resume only (never kept as a setting a later command reads), and kept by the
        # ledger only once every refusal below has passed: a refused resume sends nothing and changes nothing
        renewing = (
            same_account and not ledger.created_nothing() and account.other_than_kept(ledger, job, target, credentials)
        )
        # OtherAccount when they are another account's and the run created records; Run.open keeps them
        if not renewing:
            moved = account.switched(ledger, job, target, credentials) or moved
        agreement = agreement_of(job, target, credentials)
        if agreement != job.agreement:  # moved to another address, or a ledger made before agreements were told apart
            job = replace(job, agreement=agreement)
            overrides["agreement"] = agreement
        for stored in ledger.run.files:
            if not os.path.isfile(stored["path"]):
                raise LedgerError(_input_gone(ledger, stored, target.api.can_delete))
        pins, hashes = await anyio.to_thread.run_sync(_hashed, [f["path"] for f in ledger.run.files])
        for stored, digest in zip(ledger.run.files, hashes):
            if digest != stored["sha256"]:
                whole = creates_only_new(target, len(ledger.run.files))
                raise ChangedSinceRun(
                    stored["path"], stored["sha256"], ledger.path, can_delete=target.api.can_delete, whole=whole
                )
        sources = open_sources(job, target)
        for source, pinned in zip(sources, pins):
            source.pinned = pinned
        check_paths(job, outputs=RUN_OUTPUTS, earlier=True)
        check_kept(ledger, job, target)
        checked = not (job.allow_duplicate_load or target.books.rerunnable)
        own = str(ledger.path.absolute())
        refuse_alongside(job, target, own, ledger.run.key_prefix, threading.Event(), resuming=True)
        if ledger.created_nothing():  # its files were let go when it stopped (`_let_go`): on record again
            told = ledger.told()
            who = account.anywhere(job, target, credentials)
            _claim_again(ledger, job, target, credentials, checked=checked, moved=moved, who=who)
            if checked:
                _learn_again(ledger, job, target, told, who)
        else:  # where the load could not put it on record beside its outputs (a full disk there), now
            at = ledger_pg.name_of(job.ledger_path)  # as the load named it
            loads_beside.remember(job, target, credentials, ledger.run.files, at, ledger.run.key_prefix, again=True)
        if overrides:  # kept: a later resume, reconcile or rollback runs with them (and counts the raised quota)
            ledger.set_settings({**ledger.run.settings, **overrides})
        if renewing:
            account.renew(ledger, job, target, credentials)
        with logs.bound(run=ledger.run.key_prefix, target=target.name):
            log.info("resuming the run of the ledger %s", ledger.path)
            async with Run.open(job, target, ledger, credentials, shared, started=started) as run:
                result = await run.load(
                    sources, progress=progress, resend_in_doubt=resend_in_doubt, interrupted=interrupted
                )
            return finished(result, raise_on_stop)
    finally:
        _let_go(ledger)


def _let_go(ledger: Ledger) -> None:
    """Close the ledger of a load or resume that has ended; a run that created nothing (a wrong address, refused
    credentials, every row rejected) no longer holds its files in the record of loads: they may be loaded again,
    by a new run or by resuming this one."""
    try:
        if ledger.created_nothing():
            loads_beside.release(ledger)
    except (BulkloadError, sqlite3.Error):
        pass  # kept on record: a load of its files is refused, naming this ledger to resume
    finally:
        ledger.close()


def _input_gone(ledger: Ledger, stored: Mapping[str, str], can_delete: bool) -> str:
    """Why the run of `ledger` cannot be resumed while its input `stored` (a RunInfo.files entry) is not at its path:
    a run reads its inputs at the absolute paths it was started with, never another file. A file of the same name
    and content beside the ledger (the folder moved, input and ledger together) is named, to be moved back, not
    taken (a PostgreSQL ledger is beside none). A rollback is offered where the API deletes (`can_delete`) and it
    needs no input: it rebuilds from it each call left in flight or in doubt (undo._settle), and every call of a
    copy of a ledger adopted."""
    path = stored["path"]
    # a PostgreSQL ledger is beside no file
    beside = ledger.path.parent / os.path.basename(path) if isinstance(ledger.path, Path) else None
    try:
        same = beside is not None and os.path.abspath(beside) != path and sha256_of(beside) == stored["sha256"]
    except (OSError, BulkloadError):
        same = False
    way = (
        f": {beside} beside the ledger holds the same content (the folder moved?); move it back to {path}, then "
        "resume it"
        if same
        else ": put the file back there as it was, then resume it"
    )
    undo = can_delete and not ledger.open_calls() and ledger.adopted() is None
    # a finished run's place is recorded as its ledger was opened: a later load reads it where it is now
    finished = (
        f"the run of {ledger_pg.name_of(str(ledger.path))} finished (nothing is left to resume), and where its ledger "
        "is now is recorded: a later load into its API reads it here. "
        if ledger.run.status == "complete"
        else ""
    )
    return finished + (
        f"the run's input {path} is gone; resume needs the same files at exactly the paths the run started with, as "
        f"they were then (their SHA-256 is in the ledger){way}{', or roll it back' if undo else ''}"
    )


def _stays(ledger: Ledger, url: str, *, in_manifest: bool = False) -> str:
    """Why the run of `ledger` cannot move to `url`: it created records (or may have) where it is. Undoing it is
    offered only where its API can delete (Api.can_delete: else rollback answers not_supported). A manifest's job
    (`in_manifest`: its resume, `bulkload run MANIFEST --resume`, takes the base_url the manifest gives) is told to
    give the run's back first, or that resume is refused the same way again."""
    here = ledger.run.base_url
    back = f"Put the job's base_url back in the manifest (base_url = {json.dumps(here)}), then continue"
    go_on = back if in_manifest else "Continue"
    undo = (
        f", or undo it (`{command_on('rollback', ledger.path)}`) and load the files into {url} as a new run"
        if TARGETS[ledger.run.target].api.can_delete
        else ""
    )
    return (
        f"the run of {ledger.path} has created records at {here} (or may have: calls in doubt), so it goes on there "
        f"only: at {url} the rest of its files would go to another API, agreement or tenant, or, were it the same "
        f"one by another address, what may have arrived would be sent again. {go_on} it with "
        f"`{command_on('resume', ledger.path)}`{undo}; nothing was sent"
    )


def _claim_again(
    ledger: Ledger,
    job: Job,
    target: Target,
    credentials: Mapping[str, str],
    *,
    checked: bool,
    moved: bool,
    who: str,
) -> None:
    """The run created nothing: its files go on record as loaded by it, at `job.api_url` (in the user's record and
    beside its files: loads_beside), refused (`checked`) when another load holds them there now (one another user
    made too), or at another spelling of its address with the same credentials (`who`, account.anywhere;
    ConfigError). `moved`: it goes on there from where it was (another address, or another account at it:
    account.switched), and what it read there is forgotten (Ledger.repoint)."""
    path, run = str(ledger.path.absolute()), ledger.run.key_prefix
    if checked:
        loads_beside.refuse_loaded(job, target, credentials, ledger.run.files, run, resuming=True)
    claim_load(job, ledger.run.files, path, run, check=checked, resuming=True, who=who)
    if moved:
        loads_beside.release(ledger)
    remember_load(job, ledger.run.files, path, run, who)
    loads_beside.remember(job, target, credentials, ledger.run.files, path, run)
    if moved:
        ledger.repoint(job.api_url)


def _learn_again(ledger: Ledger, job: Job, target: Target, told: set[tuple[str | int | None, ...]], who: str) -> None:
    """The run created nothing, and its files are on record as its own again (`_claim_again`), which refuses only
    a load of the same files: other loads may have created its groups since it stopped. Before its first call it
    learns what each earlier load did with them, as a new load does (`_learn_earlier`). Its calls were planned
    with what it was told then (`told`: Ledger.told); where it has recorded some (stopped by the quota, refused
    credentials) and is told otherwise now, the plan would no longer find them (a group left out moves the
    later ones to other calls): LedgerError, to load its files again as a new run. `who`: as `_learn_earlier`'s."""
    path, run = str(ledger.path.absolute()), ledger.run.key_prefix
    _learn_earlier(ledger.db(), job, path, run, target, threading.Event(), who=who)
    now = ledger.told()
    if now == told or not ledger.chunks():
        return
    group = target.kind_of(0).group_name
    new = sorted(str(said[0]) for said in now - told if said[1:] == (None,))  # groups
    said = ""
    if new:
        (reason,) = ledger.db().execute("SELECT reason FROM skip_groups WHERE key = ?", (new[0],)).fetchone()
        said = f" ({len(new):,} {group}{'s' if len(new) != 1 else ''}, e.g. {reason})"
    raise LedgerError(
        f"the run of {ledger.path} created nothing before it stopped, and what other loads did with its {group}s "
        f"has changed since it planned its calls{said}: planned again, its calls would not be the ones it recorded. "
        f"Load its files again as a new run (`bulkload load` with --ledger {pasted(ledger.path)} starts this one "
        "over), which skips or rejects them; nothing was sent"
    )


def _learn_earlier(
    conn: sqlite3.Connection,
    job: Job,
    making: str,
    run: str,
    target: Target,
    stop: threading.Event,
    offline: bool = False,
    who: str = "",
    beside: Sequence[Path | str] = (),
) -> None:
    """Before the first call of the run `run` (its ledger `making` as the record of loads names it; `conn`: that
    ledger, its `file_groups` filled, what earlier loads said of them not yet in it): refused while an earlier load
    that may share its groups has a ledger gone or not to be read by it (`_refuse_gone`), or went to the same
    address with another key that names the account (other_keys.refuse_other_key; `who`: this one's,
    account.anywhere), then told what each earlier load on record did with its groups (ledger.known_to: refused,
    SharedUnfinished, while one that has not finished shares them), once every earlier ledger has told which of its
    inputs each row of a rejects file is a line of (ledger.origins_known). A load put on record before this run's
    claim and still inspecting its files is waited for: what it creates is known once its ledger is made (before:
    both passed, and the groups they shared were created twice). RunStopped when `stop` is set meanwhile.
    `offline`: a dry run's (ledger.known_to). `beside`: the ledgers of other users' loads the records beside the
    files name (loads_beside.earlier_ledgers), told by as the user's own earlier loads are."""
    own = who if job.other_account else ""  # the loads with other keys went into other accounts: not learned from
    # a dry run forgets nothing: the ledgers its --forget-ledger names are passed over as a load would forget them
    forgetting = forgettable(job, job.forget_ledger) if offline and job.forget_ledger else {}
    _refuse_gone(conn, job, making, run, target, own, forgetting)
    ledgers = [*earlier_ledgers(job, making=making, run=run), *beside]
    for earlier in ledgers:
        made(earlier, stop)
    # once every earlier ledger is made: another manifest job's load into another account, started beside it
    keyed_otherwise = refuse_other_key(conn, job, making, run, target, who)
    if own:  # another account's loads set aside: not learned from
        ledgers = [*earlier_ledgers(job, making=making, run=run, own=own), *beside]
    found = origins_known(conn, ledgers)  # which earlier input each row of a rejects file is a line of: first
    renewing = renewed_here(job, who, making, run)
    for earlier in ledgers:
        try:
            _learn_from(conn, earlier, target, found.get(earlier), offline)
        except SharedUnfinished as exc:
            if str(earlier) not in renewing:
                raise
            raise exc.renewed() from exc  # a bare `resume` of it with this key is refused (OtherAccount)
    if not target.books.rerunnable and not all(target.kind_of(i).rows_grouped for i in range(len(job.files))):
        # the records its rows of no group create: in its place only
        for earlier in [*may_share(job, making, run, own), *beside]:
            settle = way_on(target, [0], ledger_pg.name_of(str(earlier)))
            try:
                rows_known_to(conn, earlier, can_delete=target.api.can_delete, settle=settle)
            except SharedUnfinished as exc:
                if str(earlier) in renewing:  # --same-account: that run goes on with this key, on the same word
                    raise exc.renewed() from exc
                raise unfinished_other_key(exc, earlier, keyed_otherwise, target) from exc


def _learn_from(
    conn: sqlite3.Connection, earlier: Path | str, target: Target, found: Found | None, offline: bool
) -> None:
    """What the run of the `earlier` ledger did with the groups of the ledger `conn` (ledger.known_to), told in
    the target's words; `found`: the rows of its rejects files that are lines that run rejected (origins_known);
    `offline`: a dry run's."""
    kind = target.kind_of(0)
    known_to(
        conn,
        earlier,
        kind.group_label,
        kind.group_name,
        api_finds=target.books.finds_groups,
        can_delete=target.api.can_delete,
        family=kind.group_family,
        family_label=kind.family_label,
        gone=target.api.gone_means,
        settle=way_on(target, [0], ledger_pg.name_of(str(earlier))),
        found=found,
        name_of=lambda file_idx: target.kind_of(file_idx).group_name,
        also=kind.checks_also,
        offline=offline,
    )


async def reconcile(
    ledger_path: str,
    *,
    report: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    progress: bool = False,
    daily_quota: int | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
) -> Report:
    """Compare the ledger with what the API holds now, any time after a load. OtherAccount, before any call, for
    credentials of another account than the one the run wrote into (account.py). `progress`: draw the progress
    display on stderr (the walk of a big journal takes minutes against a real API). `report`: a path, as a `str` or
    a `pathlib.Path` (a Path raised a TypeError once the walk was done, and no report was written: tester t49g).
    `daily_quota`, `rate` and `concurrency`: replace the stored ones, for this command and those after it, as
    resume's do (`settings_given`): a run its quota stopped in its reconciliation is told to continue with
    `bulkload reconcile` and to give a raised quota with `--daily-quota N` (before, reconcile took no such flag)."""
    started = time.monotonic()
    report = None if report is None else os.fspath(report)
    ledger = Ledger.open(ledger_path, to_write=True)
    try:
        job = settings_given(
            job_of(ledger, report), ledger, daily_quota=daily_quota, rate=rate, concurrency=concurrency
        )
        check_paths(job, outputs=["report"] if report else [])
        target = job.make_target()
        credentials = job.credentials(env)
        rejects = job.rejects_paths()
        with logs.bound(run=ledger.run.key_prefix, target=target.name):
            log.info("ledger: %s", ledger.path)
            async with Run.open(job, target, ledger, credentials) as run, shown(run.snapshot, None, progress):
                recon = await run.reconcile([f["path"] for f in ledger.run.files])
        recon = taken_back_said(recon, ledger, target)
        figures = ledger.figures()
        c = run.dispatcher.counters
        held = _rejects_held(ledger, rejects, job.files, run.words)  # in its manifest's words, as its rejects file
        out = Report(
            target=target.name,
            status="reconciled" if recon.ok else "mismatch",
            rows_read=figures.rows_read,
            loaded=figures.loaded,
            rejected=figures.rejected,
            in_doubt=figures.in_doubt,
            skipped=figures.skipped,
            requests=c.requests,
            retries=c.retries,
            rate_limited=c.rate_limited,
            elapsed_s=round(time.monotonic() - started, 3),
            reconcile=recon,
            ledger=str(ledger.path),
            rejects_file=job.rejects_path,
            **rejects_fields(target, rejects, held, job.reading_args()),
            report_file=report,
            **_progress(ledger, figures.rows_not_sent),
        )
        if ledger.run.status in ("rolling_back", "rolled_back"):  # its rows are to be loaded again, not its rejects
            out.rejects_load = None  # (tester t30b: after a rollback it still said "fix them, then load them")
        if out.rejected and (why := never_written(ledger, job.rejects_path)):  # no file to fix and load
            goes_on = ledger.run.status in ("running", "stopped")
            writes = f"; `{command_on('resume', ledger_pg.name_of(str(ledger.path)))}` writes it" if goes_on else ""
            out.unwritten, out.rejects_load = [f"the rejects file: {why}{writes}"], None
        if out.in_doubt:
            earlier = sum(1 for _ in ledger.rows_in_doubt())
            name = ledger_pg.name_of(str(ledger.path))
            said = way_on(target, range(len(job.files)), name, own=out.in_doubt > earlier, earlier=earlier > 0)
            # a run not finished: its manifest's way on, where it is a manifest's job's (as its load's report says);
            # the other commands on its ledger with the job's credentials as the manifest names them
            said = manifests_way_on(said, name, job.manifest_job) if out.run_finished is False else said
            out.in_doubt_way_on = with_its_credentials(said, name, job.manifest_job)
            if ledger.run.status in ("rolling_back", "rolled_back"):  # resume refuses it: its rollback's way on
                out.in_doubt_way_on = LEFT_BY_ROLLBACK
        # only where asked: the stored --report path holds the load's own report
        name = ledger_pg.name_of(str(ledger.path))
        again = with_its_credentials(f"`{command_on('reconcile', name)}` again writes it", name, job.manifest_job)
        report_written(report, out, again)
        return out
    finally:
        ledger.close()


def _rejects_held(
    ledger: Ledger,
    paths: Sequence[tuple[str, Sequence[int]]],
    files: Sequence[str],
    words: Callable[[str], str] | None = None,
) -> list[Written]:
    """What each rejects file of `paths` (Job.rejects_paths) holds as the ledger tells it, for a report that does not
    write them (reconcile's): the rejected rows of its inputs (`files`) and their reasons (`masked` 0: which of them
    show a secret as ``***`` only the file, as written, says), in the words of the manifest whose job the run is
    (`words`: manifest_keys.words_of), as the file says them."""
    rejected: Counter[int] = Counter()
    reasons = {i: Tally() for _, of in paths for i in of}
    for row in ledger.rows("rejected"):
        rejected[row.file_idx] += 1
        if row.file_idx in reasons:
            reason = row.reason if words is None else words(row.reason)
            reasons[row.file_idx].add(row.field, redact(reason), files[row.file_idx], row.line_no)
    return [
        Written(sum(rejected[i] for i in of), 0, reasons=most(r for i in of for r in reasons[i].most()))
        for _, of in paths
    ]


def _progress(ledger: Ledger, left: int | None) -> dict[str, Any]:
    """How far the run of `ledger` got, as the reconcile command's report says it: `run_finished` (marked complete,
    or no row of its inputs left to send), `rows_not_sent` (`left`, Ledger.figures) and `continue_with`, the command
    that sends them. Nothing for a run rolled back or rolling back: it is not continued."""
    status = ledger.run.status
    # a copy of the ledger made before the run finished knows less than the record of loads, which says where the
    # run's own ledger is and whether it finished since
    home, recorded = run_home(ledger.run.key_prefix)
    if status == "complete" or (status in ("running", "stopped") and recorded == "complete"):
        return {"run_finished": True, "rows_not_sent": 0, "continue_with": None}
    if status not in ("running", "stopped"):  # killed (never marked) or stopped: else rolled back, in part or whole
        return {}
    if left == 0:  # every row sent: what is left are calls in doubt, which the summary's in-doubt line settles
        return {"run_finished": True, "rows_not_sent": 0, "continue_with": None}
    where = str(home["ledger"]) if home and home.get("ledger") else ledger_pg.name_of(str(ledger.path))
    return {"run_finished": False, "rows_not_sent": left, "continue_with": continued_by(ledger, where)}


def continued_by(ledger: Ledger, where: str) -> str:
    """The command that continues the run of `ledger` (as messages name it: `where`): where the run is a manifest's
    job's (Job.manifest_job), the manifest's (manifest.continued_by: `bulkload run MANIFEST --resume`, or for a
    queued job `--queue URL`), since `bulkload resume` knows neither the manifest's credential variables nor the
    queue's shared budget, and on a queued job's ledger goes around the queue; else `bulkload resume --ledger`."""
    origin = ledger.run.settings.get("manifest_job")
    return (continued_by_manifest(origin) if isinstance(origin, dict) else None) or command_on("resume", where)


def dry_run_path(path: str) -> str:
    """Where a dry run writes what a real run would write at `path`: `FILE.rejects.csv` -> `FILE.rejects.dry-run.csv`,
    `report.json` -> `report.dry-run.json`, `out` -> `out.dry-run`. A dry run never overwrites a real run's files."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.dry-run{p.suffix}" if p.suffix else f"{p.name}.dry-run"))


def dry_run(
    job: Job,
    *,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
    progress: bool = False,
) -> Report:
    """Read, decide, validate and chunk with no network and no ledger; say what would be sent (`would_load` rows,
    `would_send_requests` calls, `would_send_bytes` request bytes) and what would be skipped as earlier loads on
    record loaded it (`skipped`, `groups`), as a load of `job` would tell. Its rejects file and report go to paths
    of its own (dry_run_path of the run's), never to those a real run writes. Raises ConfigError (files, columns,
    paths) and the refusals a load would make for earlier loads (`_refused_as_load`), writing nothing anywhere
    else: no ledger, no lock taken, the record of loads as it was. `env`, `command`: as for load; `progress`: show
    the rows read, then those planned into calls, as a load shows its own (a dry run of 2,000,000 rows was a
    minute of silence)."""
    started = time.monotonic()
    target = job.make_target()
    job.check_options(target)
    job.check_account_word()
    sources = open_sources(job, target)
    check_paths(job, outputs=("rejects", "report"), ledger=False)  # a path that names an input is wrong either way
    job, checked, who = _refused_as_load(job, target, env, command)
    check_paths(job, outputs=("rejects", "report"), ledger=False, dry_run=True)
    rejects = [(dry_run_path(path), of) for path, of in job.rejects_paths()]
    job = replace(job, rejects=rejects[0][0], report=job.report and dry_run_path(job.report))
    workdir = Path(job.rejects_path).parent
    workdir.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".bulkload-dry-run-", suffix=".sqlite", dir=workdir)
    os.close(fd)
    db = sqlite3.connect(scratch, isolation_level=None)
    db.execute("PRAGMA journal_mode=MEMORY")
    db.execute("PRAGMA synchronous=OFF")  # a scratch file, removed below: no write of it waits for the disk
    try:
        # shown once its settings and paths are checked above: a refusal of them is the one line on stderr
        stages = Stages()
        with shown_beside(lambda: Snapshot(stages.name, stages.done, stages.total, stages.unit), progress):
            scratched = Ledger(Path(scratch), db, -1)
            return _dry_run(job, target, sources, scratched, checked, who, started, rejects, stages)
    finally:
        db.close()
        os.unlink(scratch)


def _refused_as_load(
    job: Job, target: Target, env: Mapping[str, str] | None, command: Sequence[str] | None
) -> tuple[Job, bool, str]:
    """What a dry run of `job` tells of earlier loads before it reads on, as a load would (no lock, nothing written):
    a --ledger path that holds a run a load would not start over (`_start_over`: one that created nothing) is
    refused as Ledger.create refuses it, a file loaded before as claim_load refuses it (loads.refuse_loaded), and
    two files of one content as a load refuses them (loads.refuse_same_content). Returns `job` with its agreement
    (agreement_of, where the credentials are given), whether the dry run learns what earlier loads did with its
    groups (`_learn_earlier`), and whose account it loads into at any host name (account.anywhere; "" unknown). A
    PostgreSQL --ledger is not connected to: earlier loads are not looked at then, nor for an agreement whose
    credentials are not given."""
    checked = not (job.allow_duplicate_load or target.books.rerunnable)

    @functools.cache
    def files() -> list[dict[str, Any]]:
        return [{"path": os.path.abspath(path), **digests_of(path)} for path in job.files]

    if len(job.files) > 1:
        refuse_same_content(job, files(), target)
    if ledger_pg.is_url(job.ledger_path):
        log.warning("a dry run does not connect to a PostgreSQL ledger: what earlier loads loaded is not counted")
        return job, False, ""
    ledger_at = ledger_pg.name_of(job.ledger_path)
    refuse_folder("--ledger", job.ledger_path)  # as the load would: no run is there to resume
    held = run_of(ledger_at)
    if os.path.exists(ledger_at) and not (held is not None and created_nothing_at(ledger_at)):
        raise path_taken(Path(ledger_at), "" if held is None else load_again(job, command, ledger_at, held, files()))
    try:
        credentials: Mapping[str, str] | None = job.credentials(env)
    except ConfigError:
        credentials = None
    if checked and credentials is not None and loads_beside.on_record(job):
        loads_beside.refuse_loaded(job, target, credentials, files(), "")
    if not (checked and on_record(job)):
        return job, False, ""
    if not all(target.kind_of(i).plans_offline() for i in range(len(job.files))):
        log.warning(
            "a dry run plans %s's calls without what a load looks up in the API first: what earlier loads "
            "loaded of them is not counted",
            target.name,
        )
        checked = False
    if credentials is None and target.credentials.agreement:
        log.warning(
            "without the credentials (%s) a dry run cannot tell which agreement earlier loads went to: what they "
            "loaded is not counted",
            ", ".join(target.credentials.names),
        )
        return job, False, ""
    job = replace(job, agreement=agreement_of(job, target, credentials or {}))
    who = account.anywhere(job, target, credentials) if credentials else ""
    refuse_loaded(job, files(), ledger_at, "", who=who)
    return job, checked, who


def _dry_run(
    job: Job,
    target: Target,
    sources: list[Source],
    scratch: Ledger,
    checked: bool,
    who: str,
    started: float,
    rejects: list[tuple[str, list[int]]],
    stages: Stages,
) -> Report:
    """The dry run in `scratch`, a ledger's tables in a file of its own that no run knows; `checked`: it learns there
    what earlier loads did with the input's groups (`_learn_earlier`; `who`: its account, there), and plans as a
    load does with what it learned.
    `stages`: told the rows read (PLANNING), then those planned (PLANNING_CALLS)."""
    db, workdir = scratch.db(), str(Path(job.rejects_path).parent)
    profiles = inspected_offline(job, target, sources, db, counted=stages.advance)
    if checked:
        at = ledger_pg.name_of(job.ledger_path)
        _learn_earlier(db, job, at, "", target, threading.Event(), offline=True, who=who)
    # as a load's plan (run.py): a plan given a ledger looks each group up in it, a query a group (83,000 for 200,000
    # e-conomic rows: an eighth of the dry run's CPU), worth it only where earlier loads told it something to skip
    spec = offline_spec(job, target, profiles, str(scratch.path) if checked and scratch.skips() else None, workdir)
    would = {"calls": 0, "rows": 0, "bytes": 0}
    unbalanced: list[tuple[str, str]] = []  # the groups it would load that do not balance in the input (the first)
    n_unbalanced = 0
    stop_reason = None
    stages.enter(PLANNING_CALLS, sum(p.rows for p in profiles), "rows")
    # phase by phase, as a load plans them (phase_context): a later phase learns from the rows of the earlier ones
    # that it rejected (PayorCRM's invoices, the customers that would not load); those it would send count as
    # loaded, as the API's word on them is what a dry run cannot know
    phases = list(target.phases.of(len(job.files)))
    for n, phase in enumerate(phases):
        if stop_reason:
            break
        context = phase_context(target, scratch, sources, phases, n)
        target.phases.use(context)
        of_phase = replace(
            spec,
            files=[spec.files[i] for i in phase],
            indexes=phase,
            profiles=None if spec.profiles is None else [spec.profiles[i] for i in phase],
            context=context,
        )
        with opened_planner(target, of_phase) as planner:

            def keep_rows() -> None:  # a file of bad rows needs no memory: they go to SQLite as they are found
                db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?)", planner.rejected)
                planner.rejected.clear()

            try:
                for file_idx, rows in planned_rows(target, of_phase):
                    for chunk in planner.plan(file_idx, rows):
                        stages.advance(len(planner.rejected) + (0 if chunk is None else len(chunk)))
                        keep_rows()
                        if chunk is not None:
                            would["calls"] += 1
                            would["rows"] += len(chunk)
                            would["bytes"] += len(chunk.body)
                            off = [(g.key, g.imbalance) for g in chunk.groups if g.imbalance != NO_IMBALANCE]
                            n_unbalanced += len(off)
                            unbalanced += off[: REPORT_LIST - len(unbalanced)]
            except BulkloadError as exc:
                stop_reason = str(exc)
            keep_rows()

    def rejected() -> Iterator[RowOutcome]:
        query = "SELECT * FROM rows WHERE bucket = 'rejected' ORDER BY file_idx, line_no"
        return (RowOutcome(*row) for row in db.execute(query))

    written = write_rejects_files(rejects, rejected, sources, job.files, [p.decimal for p in profiles])
    n_rejected = sum(w.rows for w in written)
    groups = scratch.group_counts()
    # would_load stands in for loaded: rows_read = would_load + rejected + in_doubt + skipped, skipped being the rows
    # an earlier load loaded; the rest of the inputs' rows (a dry run that stopped did not get to them) are not yet
    # sent, as a stopped load's (Ledger.figures)
    figures = scratch.figures()
    skipped, in_doubt = figures.skipped, figures.in_doubt  # in doubt: in an earlier run, never sent by the load
    settled = would["rows"] + n_rejected + in_doubt + skipped
    elapsed = time.monotonic() - started
    report = Report(
        target=target.name,
        status="stopped" if stop_reason else "dry_run",
        rows_read=settled,
        loaded=0,
        would_load=would["rows"],
        rejected=n_rejected,
        in_doubt=in_doubt,
        in_doubt_way_on=_in_doubt_earlier(db, job.files) if in_doubt else UNSET,
        skipped=skipped,
        rows_not_sent=max(0, sum(p.rows for p in profiles) - settled),
        skipped_groups=groups["skipped"] if groups["skipped"] else UNSET,
        groups=_planned(target, groups, scratch, n_unbalanced, unbalanced)
        if groups["skipped"] or n_unbalanced
        else UNSET,
        requests=0,
        would_send_requests=would["calls"],
        would_send_bytes=would["bytes"],
        retries=0,
        elapsed_s=round(elapsed, 3),
        rows_per_s=round(settled / elapsed, 1) if elapsed > 0 else 0.0,
        stop_reason=stop_reason,
        reconcile=None,
        inputs=as_planned([msgspec.to_builtins(p) for p in profiles], db, target),
        ledger=None,
        rejects_file=job.rejects_path,
        report_file=job.report,
        **rejects_fields(target, rejects, written, job.reading_args(), dry_run=True),
    )
    if job.report:
        write_report(job.report, report)
    return report


def _in_doubt_earlier(db: sqlite3.Connection, files: Sequence[str]) -> str:
    """What a dry run says of the rows it found in doubt in an earlier run (ledger.known_to): the load sends none of
    them, and the first one's reason, which names that run's ledger and what settles them there."""
    file_idx, line, reason = db.execute(
        "SELECT file_idx, line_no, reason FROM rows WHERE bucket = 'in_doubt' ORDER BY file_idx, line_no LIMIT 1"
    ).fetchone()
    return f"the load would not send them, e.g. line {line} of {files[file_idx]}: {reason}"


def inspected_offline(
    job: Job,
    target: Target,
    sources: Sequence[Source],
    db: sqlite3.Connection,
    counted: Callable[[int], object] | None = None,
) -> list[FileProfile]:
    """A plan's tables made in `db` (a scratch database no run knows: a dry run's, across_jobs') and `sources`, the
    files of `job`, inspected into them: each file's profile, decided for it before its first row is planned.
    ConfigError as a load's inspection raises it. `counted`: told the rows read, as inspect tells it."""
    for statement in STATEMENTS:
        db.execute(statement)
    with db:
        db.execute("BEGIN")
        return inspect(
            sources,
            target,
            job.given(),
            db,
            before=read_before(job, sources),
            counted=counted,
            rejected_by=rejected_by(job, sources),
        )


def offline_spec(
    job: Job, target: Target, profiles: Sequence[FileProfile], skip_db: str | None, workdir: str
) -> PlanSpec:
    """The PlanSpec of a plan of `job`'s files made with no ledger (a dry run's, across_jobs'): every file, in this
    process, read as `profiles` decided; `skip_db`: the database of what earlier loads did with its groups, where
    they are to be skipped (None: none is); `workdir`: where the planner keeps its scratch files."""
    return PlanSpec(
        target.name,
        target.options(),
        job.files,
        list(range(len(job.files))),
        {},
        job.delimiter,
        job.columns,
        job.items_per_call,
        target.api.max_bytes,
        encoding=job.encoding,
        profiles=[msgspec.to_builtins(p) for p in profiles],
        skip_db=skip_db,
        workdir=workdir,
    )


def _planned(
    target: Target, counts: Mapping[str, int], scratch: Ledger, unbalanced: int, listed: Sequence[tuple[str, str]]
) -> Groups:
    """What a dry run's report says of groups, where an earlier load loaded some (`counts`: Ledger.group_counts) or
    some it would load do not balance in the input (`unbalanced`, and the first of them: `listed`, each its key and
    imbalance as the ledger keeps it, model.imbalance_text): how many would be rejected and skipped, why they would
    be skipped, and those out of balance; none would be loaded yet."""
    kind = target.kind_of(0)
    return Groups(
        name=kind.group_name,
        loaded=0,
        rejected=counts["rejected"],
        skipped=counts["skipped"],
        unbalanced=unbalanced,
        unbalanced_list=[unbalanced_entry(kind.group_label(key), imbalance_of(text)) for key, text in listed],
        skipped_reasons=scratch.skipped_reasons(REPORT_LIST),
    )
