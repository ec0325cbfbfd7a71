"""The command line. Nothing else imports this module."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import re
import shlex
import sqlite3
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack, nullcontext
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import anyio
import msgspec
from msgspec import UnsetType

from . import closed_pipes, interrupts, ledger_pg, loads, logs, runner, undo, worker
from .argparsing import OUTPUT_DEFAULTS, Parser, output_options, parse
from .errors import EXIT_STOPPED, EXIT_USAGE, BulkloadError, ConfigError, cause_of, command_on
from .job import Job, JobTable, read_config
from .ledger import damaged, disk_full, wal_advice
from .load_help import attempts_help, base_url_help, batch_help, job_default, target_epilog, window_s_help
from .manifest import with_its_credentials
from .masking import MASK
from .outputs import cache_dir, private_dir, write_private
from .redact import redact
from .reject_reasons import Reason, in_words
from .report import (
    LEFT_BY_ROLLBACK,
    cut_way_on,
    json_text,
    print_rollback,
    print_summary,
    reconcile_json,
    rollback_line,
    unbalanced_said,
    unfinished_line,
    written_at,
)
from .resent import resent_count, resent_counted
from .results import Report, Rollback, counted, held_back_said
from .sources import without_end
from .targets import TARGETS

if TYPE_CHECKING:
    from .fleet import FleetReport
    from .manifest import Manifest

T = TypeVar("T")
log = logging.getLogger(__name__)

ADOPT_HELP = (
    "the ledger is a copy (a backup) and the run's own ledger is gone, or it lost its latest writes (its -wal): "
    "continue from it; every call it does not know the outcome of, sent or not, is in doubt"
)


def _delimiter(value: str) -> str:
    value = {"\\t": "\t", "tab": "\t"}.get(value, value)
    if len(value) != 1:
        raise argparse.ArgumentTypeError("one character, or \\t for tab")
    return value


def _ledger_arg(value: str) -> str:
    """A --ledger value: a file path or a postgresql:// URL (argparse.ArgumentTypeError, which never shows the value,
    for a URL of another scheme or one urllib cannot split: it may hold a password)."""
    if ledger_pg.is_other_url(value):
        raise argparse.ArgumentTypeError("--ledger takes a file path or a postgresql:// URL")
    return ledger_pg.url_arg(value)


def _add_load(sub: Any, output: argparse.ArgumentParser) -> None:
    load = sub.add_parser(
        "load", help="load files into an API", description="Load files into an API.", parents=[output]
    )
    targets = load.add_subparsers(
        dest="target", metavar="TARGET", required=True, help="the API to load into (`load TARGET --help` for its own)"
    )
    for name, cls in TARGETS.items():
        p = targets.add_parser(
            name,
            help=f"load into {name}",
            description=f"Load files into {name}, exactly once, then reconcile.",
            epilog=target_epilog(cls),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[output],
        )
        p.add_argument("files", nargs="*", metavar="FILE", help="CSV or JSONL files, optionally gzip-compressed")
        p.add_argument("--base-url", help=base_url_help(cls.api))
        p.add_argument(
            "--ledger",
            type=_ledger_arg,
            help="ledger path (default: FILE.ledger.sqlite beside the first input), or a PostgreSQL ledger: "
            "postgresql://USER@HOST:PORT/DB?ledger=NAME (see the PostgreSQL page)",
        )
        p.add_argument("--rejects", help="rejects CSV path (default: FILE.rejects.csv beside the first input)")
        p.add_argument("--report", help="write the JSON report here (default: none)")
        p.add_argument(
            "--concurrency", type=int, help=f"calls in flight at once (default {job_default('concurrency')})"
        )
        p.add_argument("--rate", type=float, help="requests per second, steady, no burst (default: no limit)")
        api = cls.api
        p.add_argument(
            "--window-limit",
            type=int,
            help="at most this many calls in any rolling --window-s "
            + (
                f"(default {api.window[0]} per {api.window[1]:.0f} s, the API's)"
                if api.window
                else "(off; give --window-s with it)"
            ),
        )
        p.add_argument("--window-s", type=float, help=window_s_help(api))
        p.add_argument("--batch-size", type=int, help=batch_help(api))
        p.add_argument(
            "--daily-quota",
            type=int,
            help=f"calls per rolling 24 h; 0 turns it off (default {job_default('daily_quota')})",
        )
        p.add_argument(
            "--timeout",
            dest="timeout_s",
            type=float,
            help=f"seconds to wait for one answer (default {job_default('timeout_s'):g})",
        )
        p.add_argument(
            "--attempts",
            type=int,
            help=attempts_help(api),
        )
        p.add_argument(
            "--settle-s",
            type=float,
            help="seconds a write whose answer was lost may still take to land: "
            "a record not found is looked for again this long after before it is sent again "
            f"(default {api.settle_s:g}{', the API documents none' if api.settle_s else ': one look'})",
        )
        p.add_argument(
            "--delimiter", type=_delimiter, help="CSV delimiter (default: detect , ; or tab, or Excel's sep= line)"
        )
        p.add_argument(
            "--encoding",
            help="the files' text encoding, e.g. cp1252 or latin-1 (default: UTF-8, or "
            "UTF-16 or UTF-32 by its BOM; a file not valid in it is refused before anything is sent)",
        )
        p.add_argument(
            "--decimal",
            choices=(".", ","),
            help="the files' decimal mark (default: decided from every "
            "amount in the file; a file whose amounts could be read both ways is refused)",
        )
        p.add_argument(
            "--date-format",
            help="the files' date order as a strptime format, e.g. %%d-%%m-%%Y or "
            "%%m/%%d/%%Y, or dmy / mdy (default: decided from every date in the file; ISO dates always read; "
            "a file with a date that proves the other order is refused)",
        )
        p.add_argument(
            "--no-regroup",
            action="store_true",
            default=None,
            help="refuse a file whose groups' lines are apart (e.g. sorted by account) instead of "
            "bringing them together before loading",
        )
        p.add_argument(
            "--config", help="TOML job file: [job] settings, [columns] mapping, [target], [credentials] (default: none)"
        )
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="read, validate and chunk only; no network (the API's own checks, such as an account or a customer "
            "that exists, are not made: a load may reject more)",
        )
        p.add_argument(
            "--allow-duplicate-load",
            action="store_true",
            default=None,
            help="load a file although it was already loaded into the same place (API, agreement, journal or kind)",
        )
        p.add_argument(
            "--same-account",
            action="store_true",
            default=None,
            help="the earlier loads into this address with another key that names the account (PayorCRM's "
            "PAYORCRM_API_KEY) went into this account, its key renewed since: what they loaded is skipped as loaded",
        )
        p.add_argument(
            "--other-account",
            action="store_true",
            default=None,
            help="the earlier loads into this address with another key that names the account (PayorCRM's "
            "PAYORCRM_API_KEY) went into other accounts: what they loaded is neither refused nor skipped; what this "
            "key loaded still is",
        )
        p.add_argument(
            "--forget-ledger",
            action="append",
            metavar="PATH",
            help="the ledger of an earlier load into the same place is gone or cannot be read by this load (a "
            "read-only mount, the other backend, another PostgreSQL database), and its run shares no group with the "
            "file (or its records were removed): it no longer stops a load, now or later (repeatable)",
        )
        p.add_argument(
            "--reload-gone",
            action="store_true",
            default=None,
            help="create again the groups an earlier run loaded that the API no longer holds (e-conomic: drafts "
            "you deleted; never vouchers that may be booked)",
        )
        p.add_argument("--no-progress", action="store_true", help=NO_PROGRESS_HELP)
        cls.flags.add_to(p)


NO_PROGRESS_HELP = "no progress display (default: shown on a terminal)"
LEDGER_HELP = (
    "the run's ledger (printed by `load`, default FILE.ledger.sqlite beside its first input), or the "
    "postgresql://…?ledger=NAME URL it was loaded with"
)


class _Version(argparse.Action):
    """--version: the installed package's version, read only when asked (importlib.metadata takes ~25 ms to import,
    on every start otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        import importlib.metadata

        print(f"bulkload {importlib.metadata.version('bulkload')}")
        parser.exit()


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser; for `argv` (the words to parse) the sandbox command's own arguments only where
    they name it: they import its aiohttp apps (~0.15 s), which `bulkload --help` or a load never needs."""
    parser = Parser(
        prog="bulkload",
        description="Stream large accounting files into accounting APIs, exactly once, and prove it.",
        parents=[output_options()],
    )
    parser.set_defaults(**OUTPUT_DEFAULTS)  # on its own copy: the commands' copies leave what it parsed alone
    output = output_options()
    parser.add_argument("--version", action=_Version, help="show the installed version and exit")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, help="what to do (`bulkload COMMAND --help` for its own)"
    )
    _add_load(sub, output)
    _add_after(sub, output)
    _add_run(sub, output)
    worker.add_commands(sub, output)  # worker, status, and run's --queue
    sandbox = sub.add_parser(
        "sandbox",
        help="serve a local sandbox that behaves like the API",
        description="Serve a local sandbox that behaves like the API (limits, 429, faults, cursors, counts), "
        "for trials and tests; it prints the address it listens on.",
        parents=[output],
    )
    if argv is None or "sandbox" in argv:
        from .sandbox import TARGETS as SANDBOXES
        from .sandbox import add_arguments as add_sandbox_arguments

        sandbox.add_argument("target", choices=sorted(SANDBOXES), help="the API the sandbox behaves like")
        add_sandbox_arguments(sandbox)
        sandbox.add_argument(
            "--agreements",
            action="store_true",
            help="economic: a sandbox of its own (store, limits, faults; with --seed, a seed of its own) for each "
            "X-AgreementGrantToken, as the API keys its agreements",
        )
    demo = sub.add_parser(
        "demo",
        help="load the samples into embedded sandboxes and reconcile, in one command",
        description="Load the sample files of every target into embedded sandboxes with faults, reconcile, and "
        "show the summaries: the whole flow in one command, no credentials needed.",
        parents=[output],
    )
    demo.add_argument("--workdir", help="where the ledger, rejects and report go (default ./bulkload-demo/<time>)")
    return parser


def _settings_given(ns: argparse.Namespace) -> dict[str, Any]:
    """The run's settings a command on its ledger replaces (None: the run's): its quota and pace."""
    return {"daily_quota": ns.daily_quota, "rate": ns.rate, "concurrency": ns.concurrency}


def _pace_args(parser: argparse.ArgumentParser) -> None:
    """--concurrency and --rate of a command on a run's ledger: they replace the run's, kept for the commands after."""
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="replace the run's calls in flight at once (kept from now on)"
    )
    parser.add_argument(
        "--rate", type=float, metavar="R", help="replace the run's requests per second (kept from now on)"
    )


def _add_after(sub: Any, output: argparse.ArgumentParser) -> None:
    """The commands that work on a run's ledger after `load`: resume, reconcile, rollback."""
    resume = sub.add_parser(
        "resume",
        help="continue a stopped or killed run from its ledger",
        description="Continue a stopped or killed run from its ledger, with the settings it was started with: "
        "calls done are never sent again; a call whose outcome is unknown is settled, not blindly resent.",
        parents=[output],
    )
    resume.add_argument("--ledger", required=True, type=_ledger_arg, help=LEDGER_HELP)
    resume.add_argument("--report", help="write the JSON report here (default: the load's --report, if it had one)")
    resume.add_argument(
        "--daily-quota", type=int, help="replace the run's daily call quota (0 turns it off; default: the run's)"
    )
    resume.add_argument(
        "--base-url",
        metavar="URL",
        help="go on at this API root instead of the stored one; only while the run has created nothing "
        "(it stopped on a wrong address or refused credentials)",
    )
    _pace_args(resume)
    resume.add_argument(
        "--timeout", dest="timeout_s", type=float, metavar="S", help="replace the run's seconds to wait for one answer"
    )
    resume.add_argument(
        "--resend-in-doubt",
        action="store_true",
        help="send again every call whose outcome is unknown: one the API did carry out is carried out twice "
        "(a duplicate where the API takes no idempotency key), so check the API first; a group a look finds "
        "stored in part is never sent again (it stays in doubt)",
    )
    resume.add_argument(
        "--same-account",
        action="store_true",
        help="PayorCRM: PAYORCRM_API_KEY is the run's account's, renewed since (the old one revoked): the run goes on "
        "with it, and its ledger keeps it from now on",
    )
    resume.add_argument("--adopt-copy", action="store_true", help=ADOPT_HELP)
    resume.add_argument("--no-progress", action="store_true", help=NO_PROGRESS_HELP)
    rec = sub.add_parser(
        "reconcile",
        help="compare a run's ledger with what the API holds now",
        description="Compare what a run's ledger says was loaded with what the API holds now: counts, control "
        "totals and, where the API can be walked, which records are missing or doubled. Exit 0 when all match, "
        "1 when they do but rows were rejected or are in doubt, 3 on a mismatch, 4 for a run that did not finish "
        "(its rows not yet sent).",
        parents=[output],
    )
    rec.add_argument("--ledger", required=True, type=_ledger_arg, help=LEDGER_HELP)
    rec.add_argument("--report", help="write the JSON report here (default: none)")
    rec.add_argument("--json", action="store_true", help="print the report's reconcile section as JSON, not a summary")
    rec.add_argument(
        "--daily-quota",
        type=int,
        help="replace the run's daily call quota, as resume's does (0 turns it off; default: the run's)",
    )
    _pace_args(rec)
    rec.add_argument("--no-progress", action="store_true", help=NO_PROGRESS_HELP)
    back = sub.add_parser(
        "rollback",
        help="remove what a run created, where the API can delete",
        description="Remove every record a run created (never those it only updated), where the API can delete: "
        "calls still in doubt are settled first. Run it again after an interruption to finish.",
        parents=[output],
    )
    back.add_argument("--ledger", required=True, type=_ledger_arg, help=LEDGER_HELP)
    back.add_argument("--report", help="write the JSON report here (default: none)")
    back.add_argument("--json", action="store_true", help="print the rollback report as JSON, not a summary")
    back.add_argument(
        "--daily-quota",
        type=int,
        help="replace the run's daily call quota, as resume's does (0 turns it off; default: the run's)",
    )
    _pace_args(back)
    back.add_argument("--adopt-copy", action="store_true", help=ADOPT_HELP)
    back.add_argument("--no-progress", action="store_true", help=NO_PROGRESS_HELP)


def _add_run(sub: Any, output: argparse.ArgumentParser) -> None:
    """`run MANIFEST`: the loads of many agreements in one process (fleet.py, docs/migrations.md)."""
    run = sub.add_parser(
        "run",
        help="run every load of a manifest (many agreements), concurrently",
        description="Run every job of a TOML manifest in this process: the agreements side by side, each under "
        "its own limits, the jobs of one agreement one after another, all within the manifest's max_connections. "
        "Each job writes its ledger, rejects and report under the manifest's output_dir; the combined report goes "
        "to fleet.json there. Exit code: the worst job's (2 > 4 > 3 > 1 > 0).",
        parents=[output],
    )
    run.add_argument("manifest", metavar="MANIFEST", help="the manifest (TOML: [defaults], [[job]] tables)")
    run.add_argument("--resume", action="store_true", help="continue every job that did not finish")
    run.add_argument("--json", action="store_true", help="print the combined report as JSON, not a summary")
    run.add_argument("--no-progress", action="store_true", help=NO_PROGRESS_HELP)


async def _run_manifest(ns: argparse.Namespace) -> int:
    """`bulkload run MANIFEST`: run it with its live display, write fleet.json, show the summary; the exit code."""
    from .fleet import run_manifest
    from .fleet_view import Board, shown
    from .manifest import read_manifest

    manifest = read_manifest(ns.manifest)
    board = Board(len(manifest.jobs))
    reports: list[FleetReport] = []  # the run's, or where it was interrupted the one of that moment
    try:
        async with shown(board, _progress(ns)):
            reports.append(
                await run_manifest(
                    manifest, resume=ns.resume, opened=board.opened, ended=board.ended, interrupted=reports.append
                )
            )
    except anyio.get_cancelled_exc_class():
        if not reports:  # before any job began: nothing to report
            raise
        # every job stopped and wrote its report: the interrupt ends here, with the combined report's exit code
        # (its worst job's: 4, or 2 where a job's settings were refused), as the report and the summary say
        code = _show_fleet(ns, manifest, reports[0])
        _said(f"bulkload: {interrupts.reason()}; {_again('run', None, os.path.abspath(ns.manifest))}")
        return code
    return _show_fleet(ns, manifest, reports[0])


def _show_fleet(ns: argparse.Namespace, manifest: Manifest, report: FleetReport) -> int:
    """Write fleet.json into the manifest's output_dir and show the combined report as -q/--json ask; the exit
    code: the report's, or where fleet.json could not be written (a full disk) EXIT_STOPPED unless the report's is
    EXIT_USAGE, said on stderr after the summary, which is shown all the same."""
    from .fleet_view import job_unbalanced, jobs_why, left_said, print_fleet
    from .skipped_gone import taken_back_line

    unwritten = None
    try:
        private_dir(manifest.output_dir)
        write_private(manifest.report_path, json_text(report) + "\n")
    except OSError as exc:  # before, the system's words alone, no path, no summary, and each job's why unsaid
        unwritten = f"cannot write the combined report {manifest.report_path}: {exc.strerror or exc}"
    code = report.exit_code if unwritten is None or report.exit_code == EXIT_USAGE else EXIT_STOPPED
    if ns.json:  # its exit_code the process's: a report unwritten is no clean run
        _print_json(report if code == report.exit_code else msgspec.structs.replace(report, exit_code=code))
    elif ns.quiet:  # a cron log keeps only this line: each job's vouchers loaded out of balance said in it
        warned = "".join(f"; warning: {o.name}: {said}" for o in report.jobs if (said := job_unbalanced(o)))
        # and what a rollback took out of a finished job's books
        warned += "".join(
            f"; {o.name}: {said}" for o in report.jobs if o.report and (said := taken_back_line(o.report.reconcile))
        )
        warned += "".join(f"; warning: {left_said(left, report.manifest)}" for left in report.left or ())
        where = f"report: {manifest.report_path}" if unwritten is None else "report not written"
        print(redact(f"bulkload run: exit {code}; {where}{warned}"))
        for line in jobs_why(report):  # errors are still shown: a cron log keeps why a job was refused or stopped
            print(f"bulkload run: {line}", file=sys.stderr)
    else:
        print_fleet(report)
        if unwritten is None:
            print(f"combined report: {manifest.report_path}")
    if unwritten is None:
        return code
    again = (
        "run the manifest again to write it"
        if report.exit_code in (0, 1, 3)
        else _again("run", None, str(manifest.path))
    )
    _said(redact(f"bulkload run: {unwritten}; free space (or make it writable), then {again}"))
    return code


def _job(ns: argparse.Namespace) -> Job:
    settings: dict[str, Any] = read_config(ns.config, ns.target)
    for name in JobTable.__struct_fields__:  # the fields of the job file's [job] keys: the load flags' dests
        value = getattr(ns, name)
        if value is not None:
            settings[name] = value
    cls = TARGETS[ns.target]
    target_options = dict(settings.pop("target_options", {}))
    for name in cls.flags.names:
        value = getattr(ns, name, None)
        if value is not None:
            target_options[name] = value
    config = os.path.abspath(ns.config) if ns.config else None  # named by the command that loads the rejects back
    return Job(target=ns.target, files=list(ns.files), target_options=target_options, config=config, **settings)


def _print_json(value: Any, stream: TextIO | None = None) -> None:
    """`value` as indented JSON on stdout, credentials masked. Characters the output's encoding cannot show (an
    ASCII or Latin-1 terminal) are written as JSON's \\uXXXX escapes: the same JSON, never an encoding error."""
    out = stream or sys.stdout
    text = json_text(value)
    try:
        text.encode(out.encoding or "utf-8")
    except UnicodeEncodeError:
        text = _JSON_UNSAFE.sub(_json_escape, text)
    print(text, file=out)


#: what an ASCII-only JSON text escapes (outside strings a JSON text has only ASCII)
_JSON_UNSAFE = re.compile(r"[^\x00-\x7f]")


def _json_escape(match: re.Match[str]) -> str:
    """One character as JSON escapes: beyond the BMP, its UTF-16 surrogate pair."""
    units = match.group().encode("utf-16-be")
    return "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))


def _finish(ns: argparse.Namespace, report: Report) -> int:
    """Show a run's summary (one line when quiet) and log its outcome; its exit code."""
    log.info(
        "%s: %s loaded, %s rejected, %s in doubt, %s skipped, %s requests, %.1f s",
        report.status,
        report.loaded,
        report.rejected,
        report.in_doubt,
        report.skipped,
        report.requests,
        report.elapsed_s,
        extra={"target": report.target, "status": report.status, "elapsed_s": report.elapsed_s},
    )
    _show(ns, report)
    return report.exit_code


def _show(ns: argparse.Namespace, report: Report) -> None:
    """A run's summary as -q asks: one line when quiet, else the table and what needs doing."""
    if ns.quiet:
        print(quiet_summary(report))
    else:
        print_summary(report)


def _show_rollback(ns: argparse.Namespace, undone: Rollback) -> None:
    """A rollback's summary (its report as JSON with --json, one line with -q), also of one an interrupt cut short,
    whose `stopped:` says why and what finishes it: with -q the line that ends the command."""
    if ns.json:
        shown = msgspec.to_builtins(undone)
        shown |= {"failed": shown.pop("failed")[:20]}  # the first few, last
        _print_json(shown)
    elif ns.quiet:
        print(rollback_line(undone, ns.report))
    else:
        print_rollback(undone, ns.report)
    ns.summarised = True


def _show_stopped(ns: argparse.Namespace, partial: Report) -> None:
    """The summary of a run an interrupt cut short (its partial report), which says why and what continues it: with
    -q the line that ends the command (_failed says it again only where not quiet)."""
    _show(ns, partial)
    ns.summarised = True


def quiet_summary(report: Report) -> str:
    """The summary of --quiet: one line of what became of the rows, and where to look when not all loaded."""
    loaded = (
        f"{report.loaded:,} loaded" if isinstance(report.would_load, UnsetType) else f"{report.would_load:,} would load"
    )
    # the reconcile command's, of a run with rows not yet sent: what it compared is what the run sent so far
    not_done = " so far: the run did not finish" if report.run_finished is False else ""
    # rows held back unsent that the ledger has as sent (report.held_back): in doubt, said so
    held = held_back_said(counted(report, "held_back"))
    line = (
        f"bulkload {report.target}: {report.status}{not_done}: {loaded}, {report.rejected:,} rejected, "
        f"{report.in_doubt:,} in doubt{held}, {report.skipped:,} skipped"
    )
    left = report.rows_not_sent
    if report.status == "stopped" and not isinstance(left, UnsetType) and left != 0:  # in no bucket: resume sends them
        line += f", {left:,} not yet sent" if isinstance(left, int) else ", rows not yet sent: not known"
    if resent := resent_counted(resent_count(report)):  # the full summary says what it risks and what to do
        line += f", {resent}"
    if report.reconcile is not None and not report.reconcile.ok:
        line += "; reconciliation: MISMATCH"
    elif report.reconcile is not None and report.reconcile.in_doubt_found_count and report.run_finished is not False:
        # what the run's calls sent (of a run that did not finish, its line below says so with the rest)
        landed = report.reconcile.in_doubt_found_count
        line += f"; {landed:,} entries of calls in doubt landed, not doubles: " + (
            LEFT_BY_ROLLBACK
            if report.reconcile.rolled_back
            else "`bulkload resume` records what it can of them (--resend-in-doubt would double them)"
        )
    if report.reconcile is not None and report.reconcile.rolled_back:  # the reconcile command's, of a run rolled back
        rolled = report.reconcile.rolled_back
        line += f"; {'rolled back' if rolled['status'] == 'rolled_back' else 'rolling back'}: {rolled['left']:,} left"
    if report.stop_reason:  # a stopped run's line says "stopped" once, at its start
        line += f"; {report.stop_reason}" if report.status == "stopped" else f"; stopped: {report.stop_reason}"
    if report.run_finished is False:  # the reconcile command's, of a run with rows not yet sent
        line += f"; {unfinished_line(report, quiet=True)}"
    if report.rejected:  # every kind's rejects file where the inputs hold several kinds
        files = report.rejects_files if not isinstance(report.rejects_files, UnsetType) else [report.rejects_file]
        line += f"; rejects: {written_at(report, 'the rejects file', ', '.join(map(str, files)), quiet=True)}"
        if report.rejects_by_reason:  # what most of them are for
            group = report.groups.name if report.groups else "group"
            line += f" (most: {in_words(Reason(**report.rejects_by_reason[0]), group)})"
        if report.rejects_masked:  # said before the file is loaded back, where a *** left is refused
            line += f" (secrets shown as {MASK} in {report.rejects_masked:,}: type them in again before loading it)"
        if report.rejects_cut and report.status != "dry_run":
            line += f"; {cut_way_on(report.rejects_cut, quiet=True)}"
    if report.in_doubt_file:
        line += f"; in doubt: {written_at(report, 'the in-doubt file', report.in_doubt_file, quiet=True)}"
    for profile in report.inputs or []:  # a row that may have been cut short: said with the rest
        if profile.get("last_line_without_end"):
            line += f"; warning: {profile['path']}: {without_end(profile['last_line_without_end'])}"
    if unbalanced := unbalanced_said(report):  # loaded as the file has them: a cron log keeps only this line
        line += f"; warning: {unbalanced}"
    unwritten = any(entry.startswith("the report: ") for entry in report.unwritten or [])
    if unwritten and report.report_file and report.status != "stopped":  # a stop's reason says it already
        line += f"; report: {written_at(report, 'the report', report.report_file, quiet=True)}"
    if report.exit_code and report.ledger:
        line += f"; ledger: {report.ledger}"
    return redact(line)


#: the commands SIGTERM and SIGHUP stop as Ctrl-C does (interrupts.py)
_RUNS = ("load", "resume", "reconcile", "rollback", "run")


def main(argv: Sequence[str] | None = None) -> int:
    with closed_pipes.kept():  # `| head -1`: the command goes on, and ends with its own exit code
        try:
            return _main(argv)
        except KeyboardInterrupt:  # a late Ctrl-C, once the command's own stop had said and written everything
            return EXIT_STOPPED


def _main(argv: Sequence[str] | None) -> int:
    ns = parse(build_parser(sys.argv[1:] if argv is None else argv), argv)
    ns.words = ["bulkload", *(sys.argv[1:] if argv is None else argv)]  # the command, as a refusal gives it back
    interrupts.tell(lambda: _at_once(ns))
    try:
        _check_outputs(ns)
    except ConfigError as exc:
        print(logs.error_line(f"bulkload: error: {redact(str(exc))}", ns.log_format == "json"), file=sys.stderr)
        return exc.exit_code
    with ExitStack() as stack:
        try:
            stack.enter_context(
                logs.configured(verbose=ns.verbose, quiet=ns.quiet, log_file=ns.log_file, log_format=ns.log_format)
            )
        except OSError as exc:
            said = f"bulkload: error: cannot write the log file {ns.log_file}: {exc.strerror}"
            print(logs.error_line(said, ns.log_format == "json"), file=sys.stderr)
            return EXIT_USAGE
        try:
            with interrupts.installed() if ns.command in _RUNS else nullcontext():
                return _command(ns)
        except (Exception, KeyboardInterrupt, asyncio.CancelledError, BaseExceptionGroup) as exc:
            return _failed(ns, cause_of(exc))


def _check_outputs(ns: argparse.Namespace) -> None:
    """The files a command writes that only the command line names, checked before its first line (the runs check
    the rest themselves): ConfigError where --log-file (appended to from that line), or an output of a load given
    with --config, or the --report of a command on a ledger, names a file the command reads, keeps or writes
    (runner.check_paths: an input, the ledger, --config, --rejects, --report, and a dry run's own rejects file and
    report; for a run of a manifest's job its manifest and combined report; each job's of a manifest:
    fleet.check_log_file)."""
    if ns.command == "load" and (ns.log_file or ns.config):
        try:
            job = _job(ns)
        except BulkloadError:
            return  # refused by the command itself, with its log
        read = [("--config", ns.config)] if ns.config else []
        runner.check_paths(job, outputs=runner.RUN_OUTPUTS, log_file=ns.log_file, read=read, dry_run=ns.dry_run)
    elif ns.command in ("resume", "reconcile", "rollback") and (ns.log_file or ns.report):
        runner.check_on_ledger(ns.ledger, ns.report, ns.log_file)
    elif ns.command == "run" and ns.log_file:
        from .fleet import check_log_file

        check_log_file(ns.manifest, ns.log_file)


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a command's coroutine; SIGTERM and SIGHUP stop it as Ctrl-C does (interrupts.py)."""
    return anyio.run(lambda: interrupts.on_signals(work()))


def _command(ns: argparse.Namespace) -> int:
    if ns.command == "load":
        job = _job(ns)
        ns.ledger = ledger_pg.name_of(job.ledger_path)  # named if the run is cut short
        if ns.dry_run:
            ns.ledger = None
            return _finish(ns, runner.dry_run(job, command=ns.words, progress=_progress(ns)))
        return _finish(
            ns,
            _run(
                lambda: runner.load(
                    job,
                    progress=_progress(ns),
                    raise_on_stop=False,
                    interrupted=lambda partial: _show_stopped(ns, partial),
                    command=ns.words,
                )
            ),
        )
    if ns.command == "resume":
        return _finish(
            ns,
            _run(
                lambda: runner.resume(
                    ns.ledger,
                    report=ns.report,
                    progress=_progress(ns),
                    base_url=ns.base_url,
                    timeout_s=ns.timeout_s,
                    **_settings_given(ns),
                    resend_in_doubt=ns.resend_in_doubt,
                    adopt_copy=ns.adopt_copy,
                    same_account=ns.same_account,
                    raise_on_stop=False,  # a stopped run's summary is printed, and exits 4 (or 2)
                    interrupted=lambda partial: _show_stopped(ns, partial),
                )
            ),
        )
    if ns.command == "reconcile":
        report = _run(
            lambda: runner.reconcile(
                ns.ledger,
                report=ns.report,
                progress=_progress(ns),
                **_settings_given(ns),
            )
        )
        if not ns.json:
            return _finish(ns, report)
        _print_json(reconcile_json(report))
        return report.exit_code
    if ns.command == "rollback":
        undone = _run(
            lambda: undo.rollback(
                ns.ledger,
                report=ns.report,
                adopt_copy=ns.adopt_copy,
                progress=_progress(ns),
                interrupted=lambda partial: _show_rollback(ns, partial),
                **_settings_given(ns),
            )
        )
        _show_rollback(ns, undone)
        return undone.exit_code
    if ns.command in worker.COMMANDS or (ns.command == "run" and ns.queue):
        return worker.command(ns)
    if ns.command == "run":
        return _run(lambda: _run_manifest(ns))
    if ns.command == "sandbox":
        from .sandbox import options_from_args, serve

        try:
            anyio.run(lambda: serve(ns.target, options_from_args(ns), ns.host, ns.port, agreements=ns.agreements))
        except OSError as exc:  # before: the system's words, exit 4, "nothing to resume" (tester t36d)
            if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
                raise
            raise ConfigError(
                f"cannot listen on {ns.host} port {ns.port}: {exc.strerror or exc}: give another --port, or leave "
                "--port out and a free one is chosen (the sandbox prints its address)"
            ) from None
        except KeyboardInterrupt:  # how a sandbox is meant to end: no run stopped, nothing to resume (exit 0)
            print(f"sandbox {ns.target} stopped (Ctrl-C)", file=sys.stderr)
        return 0
    if ns.command == "demo":
        from .demo import demo

        return int(anyio.run(lambda: demo(ns.workdir, ns.quiet)))
    raise AssertionError(ns.command)


def _progress(ns: argparse.Namespace) -> bool:
    """Whether a run shows its progress: not with --no-progress, nor when quiet."""
    return not (ns.no_progress or ns.quiet)


def _failed(ns: argparse.Namespace, exc: BaseException) -> int:
    """The one place an error becomes an exit code and one line on stderr; never a traceback. Ours say their exit
    code (a usage error is shown as an error); whatever else cuts a command short ends it resumable (exit 4)."""
    if isinstance(exc, BulkloadError):
        shown = "error: " if exc.exit_code == EXIT_USAGE else ""
        _said(f"bulkload: {shown}{redact(str(exc))}")
        return exc.exit_code
    # -q is one line however the command ends: an interrupt's summary said why and what continues it already
    said = ns.quiet and getattr(ns, "summarised", False) and isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
    _said(f"bulkload: {_cut_short(ns, exc)}", shown=not said)
    return EXIT_STOPPED


def _said(line: str, shown: bool = True) -> None:
    """An error line on stderr, whatever -q says (unless not `shown`: said otherwise already), and in the log file
    (not twice on stderr)."""
    if shown:
        print(logs.error_line(line), file=sys.stderr)
    log.error("%s", line, extra={logs.SHOWN: True})


def _again_of(ns: argparse.Namespace, absolute: bool = False) -> str:
    """What to run after the command `ns` was cut short (_again; `absolute`: a manifest by its absolute path). A demo
    is run again, as one that did not complete is (demo.py): before, `nothing to resume` said nothing to do."""
    if ns.command == "demo":
        from .demo import AGAIN, AGAIN_ELSEWHERE

        return f"its sandboxes ended with it: {AGAIN if ns.workdir is None else AGAIN_ELSEWHERE}"
    manifest = None if getattr(ns, "queue", None) else getattr(ns, "manifest", None)  # a queue's run is its workers'
    return _again(
        ns.command, getattr(ns, "ledger", None), os.path.abspath(manifest) if absolute and manifest else manifest
    )


def _at_once(ns: argparse.Namespace) -> str | None:
    """What the line of a stop at once (a third Ctrl-C: interrupts.tell) says to run next: the command that goes on
    from the ledger, by its absolute path; None where the command has none (no ledger yet, or none of its own)."""
    again = _again_of(ns, absolute=True)
    return redact(again) if again.startswith(("continue with `", "run `")) else None


def _cut_short(ns: argparse.Namespace, exc: BaseException) -> str:
    """Why a command ended on an error not of ours, and what to run next."""
    again = _again_of(ns)
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError) or interrupts.stopped():
        return f"{interrupts.reason()}; {again}"
    if isinstance(exc, OSError):  # the system refused (no space left, a file removed): no bug, nothing to keep
        return f"{redact(str(exc))}; {again}"
    if isinstance(exc, ledger_pg.PostgresError):  # it names its backend: no SQLite in it
        return f"{redact(str(exc))}; {again}"
    if isinstance(exc, sqlite3.Error):  # a read of the ledger or a spill file SQLite refused (damage, I/O): no bug
        ledger = getattr(ns, "ledger", None)
        if ledger and (advice := wal_advice(ledger, exc)):
            return f"SQLite cannot read the ledger {ledger}: {redact(str(exc))}. {advice}"
        if ledger and (full := disk_full(ledger)):
            return f"SQLite cannot read or write the ledger {ledger}: {redact(str(exc))}: {full}, then {again}"
        if ledger and (damage := damaged(ledger)):  # before, "run … again", which meets the same damage
            return (
                f"SQLite cannot read the ledger {ledger}: {redact(str(exc))}: the ledger is damaged (SQLite's "
                f"quick_check: {redact(damage)}), and running the command again meets the same damage. Put back a "
                "whole copy of it from a backup (the file with its -wal), then "
                f"{again.removeprefix('run ').removeprefix('continue with ')}; see docs/troubleshooting.md (a ledger "
                "SQLite cannot read)"
            )
        return f"SQLite cannot read what bulkload keeps: {redact(str(exc))}; {again}"
    kept = _keep_traceback(exc)
    return (
        f"internal error (a bug in bulkload): {type(exc).__name__}: "
        f"{redact(str(exc)).splitlines()[0][:200] if str(exc) else ''}; the details are in {kept}"
        + (f"; {again}" if getattr(ns, "ledger", None) else "")
    )


def _again(command: str, ledger: str | None, manifest: str | None = None) -> str:
    """What to run after `command` was cut short (`manifest`: `bulkload run`'s)."""
    if command == "run" and manifest:
        return f"continue with `bulkload run {shlex.quote(manifest)} --resume`"
    typed = ledger
    if ledger and ledger_pg.is_url(ledger):
        ledger = ledger_pg.name_of(ledger)  # without its password
    elif ledger:  # as typed (resume, reconcile, rollback): pasted in another folder it would name no ledger
        ledger = os.path.abspath(ledger)
    if command in ("load", "resume") and ledger and (os.path.exists(ledger) or ledger_pg.is_url(ledger)):
        return _with_its_credentials(f"continue with `{command_on('resume', ledger)}`", ledger, typed)
    if command == "load":
        return "the run had not begun: nothing was sent"
    if command in ("reconcile", "rollback") and ledger:
        return _with_its_credentials(f"run `{command_on(command, ledger)}` again", ledger, typed)
    return "nothing to resume"


def _with_its_credentials(said: str, named: str, ledger: str | None) -> str:
    """`said` (a way on by the command on `ledger`, as typed, which it names `named`) with that command said with the
    credentials of the manifest job whose run the ledger holds (manifest.with_its_credentials), as the command says
    it once its run is open (undo, runner). Before, cut short before then (or stopped at once), it named the command
    bare, which reads the target's own variables the manifest's do not set: pasted, a missing credential (t74c). The
    ledger is read as it was made (loads.run_as_made): nothing is left beside it."""
    origin = ((loads.run_as_made(ledger) or {}).get("settings") or {}).get("manifest_job") if ledger else None
    return with_its_credentials(said, named, origin) if isinstance(origin, dict) else said


def _keep_traceback(exc: BaseException) -> str:
    """Write the traceback of an unexpected error, credentials masked, to a file of the user's only; its path (or
    why it could not be written)."""
    text = redact("".join(traceback.format_exception(exc)))
    path = cache_dir() / "errors" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    try:
        private_dir(path.parent)
        write_private(path, text)
    except OSError as err:
        return f"(not written: {err.strerror})"
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
