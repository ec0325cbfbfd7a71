"""What a run tells its user: the JSON report, the rejects and in-doubt files, the summary, the exit code."""

from __future__ import annotations

import csv
import io
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import groupby, islice
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

import msgspec
from msgspec import UNSET, UnsetType
from rich.console import Console
from rich.table import Table

from .errors import EXIT_STOPPED, EXIT_USAGE, SourceError, no_option
from .json_text import twice_cell
from .ledger_pg import name_of
from .lines import Cut
from .masking import MASK
from .model import Reconciled, RowOutcome, scope_holds
from .money import money
from .outputs import replaced, write_private
from .redact import redact, redact_data
from .reject_reasons import Reason, Tally, in_words, most
from .resent import resent_said
from .results import NOT_SUPPORTED, Report, Rollback
from .sources import REJECTS_COLUMNS, Source, encoding_label, neutralised, said, without_end

if TYPE_CHECKING:
    from .targets.base import Target


def _file_name(files: Sequence[str], idx: int) -> str:
    return files[idx] if 0 <= idx < len(files) else str(idx)


class Sheet:
    """A CSV writer for the files a user opens in a spreadsheet: no text cell of it runs as a formula there
    (sources.neutralised; a rejects file loaded again reads its cells back as they were)."""

    def __init__(self, fh: TextIO, delimiter: str = ",") -> None:
        self._writer = csv.writer(fh, delimiter=delimiter)

    def writerow(self, row: Sequence[Any], own: int | None = None) -> None:
        """`row` written, each text cell neutralised; the cell at index `own`, of bulkload's own words that are
        never read back (a rejects file's reason), as `sources.said` writes it."""
        out = [neutralised(cell) if type(cell) is str else cell for cell in row]
        if own is not None:
            out[own] = said(row[own])
        self._writer.writerow(out)


class Written(NamedTuple):
    """What a rejects file holds: its rows, and those of them showing a secret as ``***`` (Source.cells), which
    must be typed in again before the file is loaded (chunking.Reading refuses a ``***`` left); `cut`: the rows
    (file, line) it holds only the start of (a line over 1 MiB: lines.Cut.shown), which cannot load back from it."""

    rows: int
    masked: int
    cut: tuple[tuple[str, int], ...] = ()
    #: its rows counted by reason, the most common (reject_reasons.Tally.most)
    reasons: tuple[Reason, ...] = ()


def write_rejects(
    path: str,
    rows: Callable[[], Iterable[RowOutcome]],
    inputs: Sequence[Source],
    files: Sequence[str],
    of: Sequence[int] | None = None,
    marks: Sequence[str] | None = None,
    words: Callable[[str], str] | None = None,
) -> Written:
    """The rejected rows as the input wrote them, so the user can fix them in place and load this file as it is:
    `file, line, field, reason`, then the input's own columns with the row's cells untouched (a JSONL input's
    keys, each value as the line writes it, its numbers with the file's decimal mark: Source.cells), in the first
    input's delimiter and encoding, with its BOM and Excel's `sep=` line where a CSV input began with them (a
    spreadsheet opens the file as it opened the input: without the BOM, Excel reads UTF-8 as Windows-1252 and
    saves ø as Ã¸; without `sep=;`, every row in one column). What may be a secret is `***` (each input masks its
    own cells: Source.cells).
    `rows()` gives them in file and line order; each input is read again side by side with them, so memory stays
    flat whatever the number of rejects. `of`: the indexes of the inputs whose rows it holds (default: every input);
    the others' rows are left out. `marks`: each input's decided decimal mark ("." or ",", profile.FileProfile.decimal)
    by index ("." for all where None). `words`: each row's reason in the words of the manifest whose job the run is
    (manifest_keys.JobWords), None for a load of its own. Written whole, even when empty; its rows, and those showing
    a secret as `***` (`Written`)."""
    kept = range(len(inputs)) if of is None else of
    if of is not None:
        every, chosen = rows, set(of)
        rows = lambda: (row for row in every() if row.file_idx in chosen)  # noqa: E731
    columns = _union_columns(rows, inputs, kept)
    first = inputs[kept[0]] if kept else None
    delimiter = (first.delimiter if first is not None and first.fmt == "csv" else None) or ","
    encoding = first.encoding if first is not None else "utf-8"
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    position = {name: i for i, name in enumerate(columns, len(REJECTS_COLUMNS))}
    n = masked = 0
    cut: list[tuple[str, int]] = []
    reasons = Tally()
    limit = csv.field_size_limit(1 << 30)  # the cells go back as they came, however large
    try:
        with replaced(path, newline="", encoding=encoding, errors="replace") as fh:
            if first is not None and first.fmt == "csv":
                fh.write("\ufeff" if first.bom else "")
                fh.write(f"sep={delimiter}\r\n" if first.sep_line else "")
            writer = Sheet(fh, delimiter)
            writer.writerow([*REJECTS_COLUMNS, *columns])
            for file_idx, outcomes in groupby(rows(), key=_file_of):
                source = inputs[file_idx] if file_idx < len(inputs) else None
                mark = marks[file_idx] if marks is not None and file_idx < len(marks) else "."
                for outcome, cells in _with_cells(source, outcomes, mark):
                    name, reason = _file_name(files, file_idx), outcome.reason
                    reason = redact(reason if words is None else words(reason))
                    reasons.add(outcome.field, reason, name, outcome.line_no)
                    out = [name, outcome.line_no, outcome.field, reason]
                    out += [""] * len(columns)
                    if source is not None and cells is not None:
                        _place(out, cells, source, position)
                        masked += bool(source.secrets) and _shows_mask(cells)
                        if isinstance(cells, str) and Cut.is_shown(cells):
                            cut.append((_file_name(files, file_idx), outcome.line_no))
                    writer.writerow(out, own=3)  # the reason is not read back: no apostrophe doubled to restore it
                    n += 1
    finally:
        csv.field_size_limit(limit)
    return Written(n, masked, tuple(cut), reasons.most())


def _shows_mask(cells: list[str] | dict[str, Any] | str) -> bool:
    """Whether a record's cells as Source.cells gives them (of an input with secrets) show one as ``***``."""
    values = cells.values() if isinstance(cells, dict) else [cells] if isinstance(cells, str) else cells
    return any(MASK in (value if type(value) is str else str(value)) for value in values)


def write_rejects_files(
    paths: Sequence[tuple[str, Sequence[int]]],
    rows: Callable[[], Iterable[RowOutcome]],
    inputs: Sequence[Source],
    files: Sequence[str],
    marks: Sequence[str] | None,
    words: Callable[[str], str] | None = None,
) -> list[Written]:
    """Every rejects file of `paths` (Job.rejects_paths: a path and the indexes of the inputs whose rows it holds),
    each written as `write_rejects` (`marks`: each input's decided decimal mark; `words`: the reasons' words); what
    each holds."""
    return [
        write_rejects(path, rows, inputs, files, of if len(paths) > 1 else None, marks, words) for path, of in paths
    ]


def rejects_fields(
    target: Target,
    paths: Sequence[tuple[str, Sequence[int]]],
    written: Sequence[Written] | None,
    reading: Sequence[str] = (),
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The report's `rejects_masked` (where the files were written and hold a secret shown as ``***``),
    `rejects_by_reason` (where they hold rows: Written.reasons, of every file), and
    `rejects_files` where the run has more than one input (one rejects file each: Job.rejects_paths), and
    `rejects_cut` (where some rows are in them only as their start: Written.cut), and
    `rejects_load`: the command that loads those that hold rows as their inputs were loaded, where the target can
    say (Flags.given), with the options that read them as the inputs were read (`reading`: Job.reading_args). A
    `dry_run` loaded nothing: its rejects loaded alone would leave out the rows
    it would load, so its `rejects_load` is null (the input is fixed and loaded instead)."""
    masked = sum(w.masked for w in written or ())
    out: dict[str, Any] = {"rejects_masked": masked} if masked else {}
    if by_reason := most(reason for w in written or () for reason in w.reasons):
        out["rejects_by_reason"] = [reason._asdict() for reason in by_reason]
    if cut := [{"file": file, "line": line} for w in written or () for file, line in w.cut]:
        out["rejects_cut"] = cut
    rows = [w.rows for w in written] if written is not None else [1] * len(paths)
    held = {of[0]: path for (path, of), n in zip(paths, rows) if n}
    command = loading(target, held, reading)
    if len(paths) < 2:
        return out | ({"rejects_load": None if dry_run else command} if command else {})
    return out | {"rejects_files": [path for path, _ in paths], "rejects_load": None if dry_run else command}


def loading(target: Target, held: Mapping[int, str], reading: Sequence[str]) -> str | None:
    """The command that loads the rejects files `held` (by the index of the input whose rows each holds) as their
    inputs were loaded, with the options that read them so (`reading`: Job.reading_args); None where the target
    cannot say (Flags.given) or none is held."""
    given = target.flags.given
    # a relative path that begins with "-" (an input named -lead.csv) is read as an option when pasted: "./" first
    held = {i: no_option(path) for i, path in held.items()}
    args = given(held, target.options()) if given is not None and held else None
    return shlex.join(["bulkload", "load", target.name, *args, *reading]) if args else None


def _file_of(row: RowOutcome) -> int:
    return row.file_idx


def _union_columns(
    rows: Callable[[], Iterable[RowOutcome]], inputs: Sequence[Source], kept: Sequence[int]
) -> list[str]:
    """Every input's own columns (those of `kept`, their indexes), in order of first appearance; for a JSONL input,
    the keys of its rejected rows (a pass of its own, only then)."""
    out: dict[str, None] = {}
    for source in (inputs[i] for i in kept):
        header = source.header()
        if header is not None:  # a rejects file loaded again: its own leading columns are not the input's
            out.update(dict.fromkeys(c for c in header[len(REJECTS_COLUMNS) if source.rejects_file else 0 :] if c))
    if any(source.fmt == "jsonl" for source in inputs):
        for file_idx, outcomes in groupby(rows(), key=_file_of):
            if file_idx < len(inputs) and inputs[file_idx].fmt == "jsonl":
                for _, cells in _with_cells(inputs[file_idx], outcomes):
                    if isinstance(cells, dict):
                        out.update(dict.fromkeys(cells))
    return list(out)


def _with_cells(
    source: Source | None, outcomes: Iterable[RowOutcome], decimal: str = "."
) -> Iterator[tuple[RowOutcome, Any]]:
    """Each outcome with the input's record that starts at its line (None if there is none; its JSON numbers with
    the `decimal` mark: Source.cells), both read in line order side by side."""
    if source is None:
        for outcome in outcomes:
            yield outcome, None
        return
    records = source.cells(decimal)

    def following() -> tuple[int, Any] | None:
        try:
            return next(records, None)
        except SourceError:  # the input breaks off, or changed since it was hashed: the rest go without cells
            return None

    try:
        current = following()
        for outcome in outcomes:
            while current is not None and current[0] < outcome.line_no:
                current = following()
            yield outcome, current[1] if current is not None and current[0] == outcome.line_no else None
    finally:
        records.close()  # type: ignore[attr-defined]


def _place(out: list[Any], cells: Any, source: Source, position: Mapping[str, int]) -> None:
    """Put one record's cells under the rejects file's columns; cells beyond the header go at the end."""
    if cells is None:
        return
    if isinstance(cells, str):  # a line that is not an object: its text, whole, in the first column
        if position:
            out[min(position.values())] = _safe(cells)
        return
    if isinstance(cells, dict):  # a JSONL line's cells as it writes them (Source.cells)
        # a key the line gives more than once: each value in its column, marked, so that the row, loaded back
        # before one value is kept, is refused saying so (json_text.twice_cell)
        items = [(k, twice_cell(v) if isinstance(v, list) else v) for k, v in cells.items()]
    else:
        header = source.header() or []
        items = list(zip(header, cells))
        out.extend(cells[len(header) :])
        if len(cells) < sum(1 for name in header if name) and (
            placed := [position[n] for n, _ in items if n in position]
        ):
            # a row that left a named cell out stays as short (loaded back, it is refused as it was): padded, it
            # would load with a guess of which cell was left out
            del out[max(placed) + 1 :]
    for name, value in items:
        if name and name in position:
            out[position[name]] = value


def _safe(text: str) -> str:
    return text.replace("\x00", "\\0")


def write_success(
    path: str, rows: Callable[[int, str], Iterable[tuple[str, int, int | str]]], files: Sequence[str], id_name: str
) -> int:
    """CSV of every row that loaded: `file, line` and the id the API gave it (e-conomic: entryNumber); empty for a
    row the API confirmed without naming an id. `rows(file index, name)` gives a file's rows in line order (the
    ledger makes them); the file name is quoted once per file (as csv quotes it), lines and ids are numbers that
    need no quoting, so each row is one f-string, written `SUCCESS_BATCH` rows at a time (memory stays flat)."""
    n = 0
    with replaced(path, newline="") as fh:
        writer = Sheet(fh)
        writer.writerow(["file", "line", id_name])
        for file_idx, name in enumerate(files):
            cell = io.StringIO()
            Sheet(cell).writerow([name])  # the name as csv writes it (neutralised, quoted where it must be)
            head = cell.getvalue()[: -len(_EOL)]
            rest = iter(rows(file_idx, name))
            while batch := list(islice(rest, SUCCESS_BATCH)):
                fh.write("".join([f"{head},{line},{id_}{_EOL}" for _, line, id_ in batch]))
                n += len(batch)
    return n


#: the rows of the success file formatted and written at once
SUCCESS_BATCH = 20_000
#: the line ending csv.writer writes (its default dialect's)
_EOL = csv.excel.lineterminator


def write_in_doubt(
    path: str,
    rows: Iterable[tuple[int, int, str, str]],
    files: Sequence[str],
    words: Callable[[str], str] | None = None,
) -> int:
    """CSV of rows whose call may or may not have arrived: file, line, chunk key, last error (`words`: in the words
    of the manifest whose job the run is, as write_rejects says a reason)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        if os.path.exists(path):
            os.remove(path)
        return 0
    n = 0
    with replaced(path, newline="") as fh:
        writer = Sheet(fh)
        writer.writerow(["file", "line", "chunk_key", "last_error"])
        for file_idx, line, key, error in [first, *rows]:
            writer.writerow([_file_name(files, file_idx), line, key, redact(error if words is None else words(error))])
            n += 1
    return n


def json_text(value: Any) -> str:
    """`value` (a report, a section of one) as indented JSON text, credentials masked: the report file and what
    the commands print."""
    return redact(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())


#: what a stopped run's figures count: its ledger's (Ledger.figures; a resume reads the input again from its start,
#: and may stop before it reaches rows an earlier invocation settled)
FIGURES_SO_FAR = (
    "rows: the run's so far, earlier invocations' included, as the rejects, success and in-doubt files list them, "
    "and those not yet sent, which resume sends; requests, retries and elapsed: this invocation's"
)

#: what a stopped dry run's figures count (it has no ledger, nor a resume: Report.would_load set)
FIGURES_DRY_RUN_STOPPED = (
    "rows: the dry run's until it stopped; those not yet sent are the rest of the inputs' rows, which it did not get "
    "to: the stop says what to fix before a dry run or load of the inputs"
)

#: what the figures of a run stopped by the loss of its ledger's connection count (Report.ledger_lost)
FIGURES_WITHOUT_LEDGER = (
    "rows: this invocation's only: the ledger's connection was lost, so what earlier invocations settled could not "
    "be read, nor the rows behind the rejects and success files (not written); the in-doubt file lists the rows in "
    "doubt as this process knows them (those it left in doubt, and those in doubt as it began); `bulkload resume` "
    "counts and writes them all once the ledger answers again"
)


def write_report(path: str, report: Report | Rollback) -> None:
    write_private(path, json_text(report) + "\n")


def report_written(path: str | None, report: Report | Rollback, again: str) -> None:
    """`report` written to `path` (a command's --report; None: none). One the system refuses (a full disk) is named
    in the report's `unwritten` with `again`, what writes it (the command again: what it did is in the ledger), and
    ends the command with exit 4 (2 stays 2), its summary shown with the report NOT WRITTEN (written_at): before, a
    rollback or reconcile ended on `[Errno 28] No space left on device` alone, with no word of what it had done or
    found (tester t74c)."""
    if path is None:
        return
    try:
        write_report(path, report)
    except OSError as exc:
        report.unwritten = [*(report.unwritten or []), f"the report: {exc.strerror or exc}; {again}"]
        if report.exit_code != EXIT_USAGE:
            report.exit_code = EXIT_STOPPED


def print_summary(report: Report, stream: TextIO | None = None) -> None:
    """A load's, resume's, dry run's or the reconcile command's report as a table and the lines that explain it:
    the count reconciliation compared (remote = there before + loaded + added by others), where the report, the
    rejects (so far, for a run cut short) and the ledger (absolute path) are."""
    out = stream or sys.stdout
    report = msgspec.convert(redact_data(msgspec.to_builtins(report)), Report)  # its reasons may quote an API's answer
    console = Console(file=out, highlight=False, soft_wrap=True, markup=False)  # reasons and paths are text
    command = "reconcile " if report.status in ("reconciled", "mismatch") else ""
    unfinished = report.run_finished is False  # the reconcile command's, of a run with rows not yet sent
    not_done = " so far: the run did not finish" if unfinished else ""
    title = f"bulkload {command}{report.target}: {report.status}{not_done}"
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for label, value in _figures(report):
        table.add_row(label, value)
    if unfinished or report.status == "stopped":  # rows of its inputs in no bucket, which resume sends
        left = report.rows_not_sent
        table.add_row("not yet sent", f"{left:,}" if isinstance(left, int) else "not known")
    rec = report.reconcile
    if rec is not None:
        if rec.rolled_back:  # the rows loaded, and what a rollback took of them since
            table.add_row("rolled back", f"{rec.rolled_back['records']:,}")
        table.add_row("reconciled", _yes(report) if rec.ok else "NO: mismatch")
        # the expected count the line below explains: there before + loaded (+ what others added, counted not judged,
        # + what calls in doubt created, - what was there before and is gone since, - what a rollback took)
        taken = (rec.before_gone_count or 0) + sum(c.get("rolled_back", 0) for c in rec.scopes.values())
        expected = rec.expected_count + rec.others_count + rec.in_doubt_found_count + _stray(rec) - taken
        remote = "not known" if rec.remote_count is None else f"{rec.remote_count:,}"  # an answer gave no count
        table.add_row("expected / remote count", f"{expected:,} / {remote}")
    console.print(table)
    if report.status == "stopped":
        counted = FIGURES_WITHOUT_LEDGER if report.ledger_lost else FIGURES_SO_FAR
        console.print(FIGURES_DRY_RUN_STOPPED if report.would_load is not UNSET else counted)  # set: a dry run's
    elif nothing := _nothing_loaded(report):
        console.print(nothing)
    if unfinished:
        console.print(unfinished_line(report))
    if rec is not None:
        for line in _reconciled_lines(rec):
            console.print(line)
    if resent := resent_said(report):
        console.print(resent)
    for profile in report.inputs or []:
        console.print(f"read {profile['path']} as {_reading(profile)}")
        if profile.get("last_line_without_end"):
            console.print(f"warning: {profile['path']}: {without_end(profile['last_line_without_end'])}")
    if report.stop_reason:
        console.print(f"stopped: {report.stop_reason}")
    if rec is not None and not rec.ok:
        _print_mismatch(console, rec)
    groups = report.groups or None
    name = groups.name if groups else "group"
    so_far = " so far" if report.status == "stopped" else ""
    if report.rejected:
        n = report.rejected_groups or 0
        whole = f" ({_count(n, name)}, each whole)" if n else ""
        where = written_at(report, "the rejects file", report.rejects_file)
        if report.rejects_files:  # one for each input, each with its input's columns and reading
            where = "a file for each input: " + ", ".join(report.rejects_files)
        console.print(f"rejected rows{so_far}{whole} and reasons: {where}")
        shown = [Reason(**reason) for reason in (report.rejects_by_reason or [])[:3]]
        for reason in shown:  # what most of them are for: the file says it of each
            console.print(f"  {in_words(reason, name)}")
        if shown and (others := report.rejected - sum(reason.rows for reason in shown)) > 0:
            console.print(f"  {others:,} for other reasons")
        if report.status == "dry_run":  # its rejects alone, loaded, would leave out every row it would load
            console.print("the dry run loaded nothing: fix the rows it rejected in the input files, then load those")
        elif rec is not None and rec.rejected_left_count == 0:
            console.print(
                "none of them is left to load: every one of their groups is in the API now, created since by another "
                "writer or run (its rejects file loaded, say)"
            )
        elif report.rejects_load:
            then = f"fix them in place, then load them as the inputs were: {report.rejects_load}"
            if report.in_doubt:  # a row may be rejected for one in doubt (a PayorCRM invoice for its customer)
                then = f"once the rows in doubt are settled (below), {then}"
            console.print(f"{then} (with the run's --base-url)")
        if report.rejects_cut and report.status != "dry_run":
            console.print(cut_way_on(report.rejects_cut))
        if report.rejects_masked:
            console.print(
                f"secrets are shown as {MASK} in {report.rejects_masked:,} of them: type the secrets in again before "
                f"loading the rejects file (a {MASK} left is refused, naming its cell)"
            )
    elif report.status in ("dry_run", "stopped"):
        # where the ledger was lost, none of this invocation's: earlier ones' could not be read
        mine = " of this invocation" if report.ledger_lost else ""
        where = written_at(report, "the rejects file", report.rejects_file)
        console.print(f"rejected rows{so_far}: none{mine} (rejects file: {where})")
    if groups and report.skipped:
        # rows of no group (a Visma Core line booked as an entry of its own) are skipped each alone: no group counted
        reasons = groups.skipped_reasons or [""]
        of = f" ({_count(groups.skipped, name)})" if groups.skipped else ""
        console.print(f"skipped {report.skipped:,} rows{of} an earlier load created, e.g. {reasons[0]}")
    if unbalanced := unbalanced_said(report):
        console.print(unbalanced)
    if report.success_written:
        by_place = rec.rows_ids_by_place if rec is not None and rec.rows_ids_by_place else 0
        unproven = f" (for {by_place:,} rows, the ids at their places in the answer: not proven)" if by_place else ""
        console.print(f"loaded rows and the ids the API gave them{unproven}: {report.success_file}")
    way_on = f"; {report.in_doubt_way_on}" if report.in_doubt_way_on else ""
    if report.in_doubt_file:
        where = written_at(report, "the in-doubt file", report.in_doubt_file)
        console.print(f"rows in doubt{_held_back(report)}: {where}{way_on}")
    elif report.in_doubt and report.would_load is not UNSET:  # a dry run's: in doubt in an earlier run
        console.print(f"rows in doubt: {report.in_doubt:,}{way_on}")
    elif report.in_doubt:  # the reconcile command writes no files: the ledger knows them
        console.print(
            f"rows in doubt: {report.in_doubt:,}, their calls sent but never answered as far as the ledger knows"
            + way_on
        )
    if report.report_file:
        console.print(f"report: {written_at(report, 'the report', os.path.abspath(report.report_file))}")
    if report.ledger:
        console.print(f"ledger: {name_of(report.ledger)}")


def _yes(report: Report) -> str:
    """The `reconciled` cell of a reconciliation that found what it expected: a run that loaded no row had nothing
    of its own to compare, which a bare "yes" would dress up as success; entries of calls in doubt the API holds
    (not a mismatch: what the run's calls sent) are named, not yet recorded as loaded; rows answered with one id with
    others of their record (model.ONE_ID) are named not proven."""
    landed = report.reconcile.in_doubt_found_count if report.reconcile is not None else 0
    if landed:
        return f"yes, + {landed:,} of calls in doubt (not yet recorded)"
    unchecked = report.reconcile.rows_not_checked if report.reconcile is not None else None
    if unchecked and unchecked.get("lines_one_id"):  # an API read by its answers: the note below the table says why
        return f"yes, but {unchecked['lines_one_id']:,} rows not proven (below)"
    return "yes (0 rows loaded: nothing to check)" if report.loaded == 0 and report.rows_read else "yes"


def _nothing_loaded(report: Report) -> str:
    """The line that says a run which read rows loaded none of them, and which buckets they went to instead ("" when
    it loaded some, or read none)."""
    if report.loaded or not report.rows_read or report.status not in ("complete", "reconciled"):
        return ""
    went = [
        f"{n:,} {what}"
        for n, what in [
            (report.rejected, "rejected"),
            (report.in_doubt, "in doubt"),
            (report.skipped, "skipped (an earlier load created them)"),
        ]
        if n
    ]
    why = " (their reasons: the files below)" if report.rejected or report.in_doubt else ""
    return f"nothing was loaded: of {report.rows_read:,} rows read, {', '.join(went)}{why}"


#: the reconcile command's keys of how far the run got, which `--json` prints with its `reconcile` section
PROGRESS_KEYS = ("run_finished", "rows_not_sent", "continue_with")


def reconcile_json(report: Report) -> dict[str, Any]:
    """What `bulkload reconcile --json` prints: the report's `reconcile` section, and how far the run got
    (PROGRESS_KEYS, where the report has them: not for a run rolled back), so that `"ok": true` of a run that did
    not finish is not read as a load done; `unwritten` where its --report could not be written (report_written)."""
    shown: dict[str, Any] = msgspec.to_builtins(report.reconcile)
    got = {k: getattr(report, k) for k in (*PROGRESS_KEYS, "unwritten")}
    return shown | {k: v for k, v in got.items() if not isinstance(v, UnsetType)}


def unfinished_line(report: Report, *, quiet: bool = False) -> str:
    """What the reconcile command says of a run that did not finish (`run_finished` false): the rows it has not
    sent, the command that sends them, and that what it compared is what the run sent so far; where its calls in
    doubt landed, that the same command records them; where rows are in doubt, that sending the rest is not what
    settles them (the in-doubt line says what does; `quiet`: the one line of -q, which has none)."""
    left = report.rows_not_sent
    rows = f"{left:,} rows of its inputs" if isinstance(left, int) else "rows of its inputs (how many is not known)"
    landed = report.reconcile.in_doubt_found_count if report.reconcile is not None else 0
    records = (
        f", and records what it can of the {landed:,} entries of calls in doubt that landed (not doubles: "
        "--resend-in-doubt would double them)"
        if landed
        else ""
    )
    line = (
        f"the run did not finish (killed, or stopped before its end): {rows} not yet sent; `{report.continue_with}` "
        f"sends them{records}. What was reconciled is what it sent so far"
    )
    if report.in_doubt:
        said = "`bulkload reconcile` without -q says what settles them" if quiet else "what settles them is said below"
        line += f"; the rows in doubt are apart from those: {said}"
    return line


def _figures(report: Report) -> list[tuple[str, str]]:
    """The table's rows: a dry run's what it would send; otherwise the buckets, the calls and the timings."""
    rows_read = ("rows read", f"{report.rows_read:,}")
    elapsed = ("elapsed", f"{report.elapsed_s:.1f} s")
    if report.status == "dry_run" or report.would_load is not UNSET:
        return [
            rows_read,
            ("would load", f"{report.would_load or 0:,}"),
            ("rejected", f"{report.rejected:,}"),
            *([("in doubt", f"{report.in_doubt:,}")] if report.in_doubt else []),  # in an earlier run: not sent
            ("would skip", f"{report.skipped:,}"),  # as an earlier load created them: the rows read add up
            ("requests it would send", f"{report.would_send_requests or 0:,}"),
            ("bytes it would send", f"{report.would_send_bytes or 0:,}"),
            elapsed,
        ]
    out = [rows_read] + [
        (label, f"{value:,}")
        for value, label in [
            (report.loaded, "loaded"),
            (report.rejected, "rejected"),
            (report.in_doubt, "in doubt"),
            (report.skipped, "skipped"),
            (report.requests, "requests"),
            (report.retries, "retries"),
            (report.rate_limited or 0, "429 answers"),
        ]
    ]
    out.append(elapsed)
    if report.rows_per_s is not UNSET:
        out.append(("rows/s", f"{report.rows_per_s or 0:,.0f}"))
    return out


def _others_are(rec: Reconciled) -> str:
    """Whose the entries added by others are: of groups this run never sent (another writer's), of groups it sent
    whose records a rollback took, created since (`others_resent_count`), and of groups it rejected, created since
    (`others_rejected_count`): by another writer or run."""
    resent, rejected = rec.others_resent_count or 0, rec.others_rejected_count or 0
    since = "created since by another writer or run"
    parts = [
        (rec.others_count - resent - rejected, "of groups this run never sent, another writer's"),
        (resent, f"of groups this run sent and rolled back, {since} (its file loaded again, say)"),
        (rejected, f"of groups this run rejected, {since} (its rejects file loaded, say)"),
    ]
    shown = [(n, said) for n, said in parts if n]
    if len(shown) < 2:
        return f" {shown[0][1] if shown else parts[0][1]}"
    return ": " + ", and ".join(f"{n:,} {said}" for n, said in shown)


def _reconciled_lines(rec: Reconciled) -> list[str]:
    """What the counts compared mean: the remote count is what the API holds in the run's scopes (journals), the
    entries there before the run, this run's and those other writers added since."""
    if not rec.scopes:  # an API read by its answers: no count of what it holds
        return [rec.note] if rec.note else []
    before = sum(c["before"] for c in rec.scopes.values())
    loaded = sum(c["loaded"] for c in rec.scopes.values())
    parts = f"{before:,} there before + {loaded:,} loaded"
    if rec.others_count:
        parts += f" + {rec.others_count:,} added by others"
    if rec.in_doubt_found_count:
        parts += f" + {rec.in_doubt_found_count:,} of calls in doubt"
    if _stray(rec):
        parts += f" + {_stray(rec):,} of groups this run rejected"
    # the doubles and the run's own records missing, named below, are in (out of) what the API holds: without them a
    # count where as many are missing as doubled read as all there (`remote count 601 = 600 loaded + 1 added by
    # others` of 599 of the run's, a double and another writer's)
    if rec.duplicates_count:
        parts += f" + {rec.duplicates_count:,} doubled"
    gone = rec.before_gone_count or 0
    if gone:
        parts += f" - {gone:,} there before gone since"
    rolled = sum(c.get("rolled_back", 0) for c in rec.scopes.values())
    if rolled:
        parts += f" - {rolled:,} rolled back"
    if rec.missing_count:
        parts += f" - {rec.missing_count:,} missing"
    expected = before + loaded + rec.others_count + rec.in_doubt_found_count + _stray(rec) - gone - rolled
    expected += rec.duplicates_count - rec.missing_count
    # a count the walks read, or None where a listing was not whole (HaloPSA: the note says why)
    head = "remote count not known" if rec.remote_count is None else f"remote count {rec.remote_count:,}"
    lines = [f"{head} = {parts}" if rec.remote_count == expected else f"{head}, expected {expected:,} = {parts}"]
    if rec.others_count:
        where = ", ".join(
            f"{rec.scope_name} {scope}: {c['others']:,}" for scope, c in rec.scopes.items() if c.get("others")
        )
        lines.append(
            f"added by others: {rec.others_count:,} entries ({where}){_others_are(rec)}; left out of the comparison, "
            "not a mismatch"
        )
    if rec.in_doubt_found_count:
        first = rec.in_doubt_found[0]
        # a walked API's name the group of their call; HaloPSA's the row in doubt whose match fields they have
        where = first["group"] if "group" in first else f"{first['file']} line {first['line']}"
        lines.append(
            f"calls in doubt landed: {rec.in_doubt_found_count:,} entries (e.g. id {first['id']}, {where}) of "
            "this run's calls whose answers the ledger never recorded (the run was cut short while they were in "
            "flight, or their answers were lost or failures) are in the API: not doubles, not yet loaded as far as "
            f"the ledger knows; {landed_way_on(rec)}"
        )
    if rec.answers_reordered:
        lines.append(
            f"{_count(rec.answers_reordered, 'call')} answered the ids in another order than the lines sent: each "
            "line has the id the walk found holding it (ledger and success file)"
        )
    if rec.note:  # what the comparison could not see (HaloPSA: a listing that could not be had whole)
        lines.append(rec.note)
    return lines


def _stray(rec: Reconciled) -> int:
    """How many walked records are of groups the run rejected (`rejected_found_count`; 0 where not walked)."""
    return rec.rejected_found_count or 0


def _rejected_found(rec: Reconciled) -> str:
    """The line of the records of groups the run rejected that a refused call stored (`rejected_found`), each named
    with its group, id and the lines the rejects file holds of it; "" for none."""
    n = _stray(rec)
    if not n:
        return ""
    named = []
    for item in (rec.rejected_found or [])[:10]:
        lines = item.get("lines") or []
        at = f"; {item['file']} {_lines_said(lines)}" if lines else ""
        named.append(f"{item['group']} (id {item['id']}{at})")
    more = f", and {n - len(named):,} more (see the report)" if n > len(named) else ""
    them = "it" if n == 1 else "them"
    # a run rolled back (or being rolled back) has none of its groups in the books: its rejects file is not the way on
    rolled = rec.rolled_back["status"] if rec.rolled_back else ""
    way_on = {
        "rolled_back": f"the run was rolled back: remove {them} by hand (the rollback names {them}, never deletes "
        f"{them}: a walk cannot tell {them} from another writer's made alike)",
        "rolling_back": f"the run is being rolled back: remove {them} by hand once the rollback is done (it names "
        f"{them}, never deletes {them})",
    }.get(rolled, f"remove {them}, then load the rejects file (fixed) to load each group whole")
    return (
        f"{_count(n, 'entry')} of groups this run had rejected {'is' if n == 1 else 'are'} in "
        f"the {rec.scope_name}: {', '.join(named)}{more}; a refused call stored {them} (the API does not say that a "
        f"refused call stores nothing), part of a group the rejects file holds: {way_on}"
    )


def _lines_said(lines: list[int]) -> str:
    """Lines of a file as a sentence names them: "line 8", "lines 8-9", "lines 8, 20"."""
    if len(lines) > 1 and lines == list(range(lines[0], lines[-1] + 1)):
        return f"lines {lines[0]}-{lines[-1]}"
    return f"line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}"


def _held_back(report: Report) -> str:
    """What the rows in doubt hold of calls held back unsent when a ledger write failed that the ledger could not be
    told of (`held_back`): resume finds them as sent, and settles them as the way on says ("" when there are none)."""
    held = report.held_back if isinstance(report.held_back, int) else 0
    if not held:
        return ""
    return (
        f" ({held:,} of them not sent: held back when the ledger write failed, but the ledger has their calls as "
        "sent, as resume will find them)"
    )


def cut_way_on(cut: Sequence[Mapping[str, Any]], *, quiet: bool = False) -> str:
    """What to do with the rejected rows a rejects file holds only the start of (Report.rejects_cut: a line over
    1 MiB), which loaded back from it would be rejected again: fix each line in its input, then put it in its row's
    place (`quiet`: the few words of -q's one line)."""
    by_file: dict[str, list[int]] = {}
    for row in cut:
        by_file.setdefault(str(row["file"]), []).append(int(row["line"]))
    parts = []
    for file, lines in list(by_file.items())[:3]:
        more = f" and {len(lines) - 5:,} more" if len(lines) > 5 else ""
        parts.append(f"{'line' if len(lines) == 1 else 'lines'} {', '.join(map(str, lines[:5]))}{more} of {file}")
    where = "; ".join(parts) + (f"; and those of {len(by_file) - 3:,} more files" if len(by_file) > 3 else "")
    one = len(cut) == 1
    if quiet:
        return (
            f"the rejects file holds only the start of {where} (truncated): fix {'it' if one else 'them'} in the input"
        )
    them, it = ("that line", "it") if one else ("those lines", "each")
    return (
        f"the rejects file holds only the start of {where} (`… [truncated, N bytes]`: too long to be held whole), "
        f"which does not load back: fix {them} in the input itself, then put {it}, fixed, in place of its row's "
        "cells in the rejects file (those after file, line, field and reason) before loading it"
    )


LEFT_BY_ROLLBACK = (
    "the run is being rolled back, which `bulkload resume` refuses: its rollback leaves them (a look cannot tell them "
    "from another writer's records made alike): check the API and remove what their calls created by hand (the "
    "rollback names the calls)"
)


def landed_way_on(rec: Reconciled) -> str:
    """What to do with the records of a run's calls in doubt that landed (reconciliation's `in_doubt_found`): record
    them with a resume, or, of a run a rollback took records of (`rolled_back`), which resume refuses, LEFT_BY_ROLLBACK
    (before, it named the resume that refuses it: tester t49d)."""
    if rec.rolled_back:
        return LEFT_BY_ROLLBACK
    return (
        "`bulkload resume` records what it can of them (the rows in doubt line below says how); sending them again "
        "(--resend-in-doubt) would double them"
    )


def written_at(report: Report | Rollback, what: str, path: str | None, *, quiet: bool = False) -> str:
    """The file's `path`, or that it was not written and why (the report's `unwritten` names it); `quiet`: the one
    line of -q, which leaves the why to the stop's reason."""
    for entry in report.unwritten or []:
        if entry.startswith(f"{what}: "):
            if quiet:
                return f"NOT WRITTEN to {path} (the ledger keeps them)"
            return f"NOT WRITTEN to {path} ({entry.removeprefix(f'{what}: ')}); the ledger keeps them"
    return str(path)


def _shown(value: Any) -> str:
    """A value in a line of the summary: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unbalanced_said(report: Report) -> str:
    """What the summary (and --quiet's line) says of the groups the run loaded that do not balance in the input,
    loaded as the file has them (RecordKind.imbalance): "1 voucher loaded that does not balance in the input, e.g.
    …" (a dry run's: "1 voucher it would load that …"); "" for none."""
    groups = report.groups or None
    if not groups or not groups.unbalanced:
        return ""
    does = "does" if groups.unbalanced == 1 else "do"
    first = groups.unbalanced_list[0]["group"]
    loaded = "it would load" if report.would_load is not UNSET else "loaded"
    return f"{_count(groups.unbalanced, groups.name)} {loaded} that {does} not balance in the input, e.g. {first}"


def _count(n: int, name: str) -> str:
    """`n` of `name`, plural where n is not 1 (an "entry" is "entries")."""
    if n == 1:
        return f"{n:,} {name}"
    return f"{n:,} {name[:-1]}ies" if name.endswith("y") and name[-2:-1] not in "aeiou" else f"{n:,} {name}s"


def _reading(profile: Mapping[str, Any]) -> str:
    """How a file was read, in a line: "UTF-8, ';'-separated, decimal comma, dates day first, regrouped"."""
    parts = [encoding_label(profile["encoding"])]
    if profile.get("delimiter"):
        excel = " (Excel's sep= line)" if profile.get("sep_line") else ""
        parts.append(f"{profile['delimiter']!r}-separated{excel}")
    if not profile.get("decimal_evidence", "").startswith("no "):  # a file of whole numbers needs no mark
        parts.append("decimal comma" if profile["decimal"] == "," else "decimal point")
    if not profile.get("date_evidence", "").startswith("no "):
        orders = {"dmy": "dates day first", "mdy": "dates month first", "iso": "ISO dates"}
        parts.append(orders.get(profile["date_format"], f"dates as {profile['date_format']}"))
    if rows := profile.get("totals_rows", 0):
        shown = profile.get("control_totals", [])  # the first control_totals.SHOWN
        checked = "; ".join(shown)
        more = f"; and {rows - len(shown):,} more" if rows > len(shown) else ""
        parts.append(f"{rows:,} totals row{'s' if rows > 1 else ''} checked, not loaded ({checked}{more})")
    if not profile.get("grouped", True) and profile.get("apart"):  # none: each group apart was given twice
        parts.append(f"regrouped: the lines of {profile['apart']} were apart")
    return ", ".join(parts)


def _print_mismatch(console: Console, rec: Reconciled) -> None:
    for scope, c in rec.scopes.items():
        others, landed, gone = c.get("others", 0), c.get("in_doubt", 0), c.get("before_gone", 0)
        if scope_holds(c) != c.get("remote"):
            by_others = f" + {others:,} added by others" if others else ""
            by_doubt = f" + {landed:,} of calls in doubt" if landed else ""
            by_doubt += f" + {c['rejected_found']:,} of groups rejected" if c.get("rejected_found") else ""
            by_gone = f" - {gone:,} there before gone since" if gone else ""
            by_rollback = f" - {c['rolled_back']:,} rolled back" if c.get("rolled_back") else ""
            # a scope not listed whole (HaloPSA): how many it holds is not known, only how many were listed
            holds = (
                f"the API holds {c['remote']:,}"
                if "remote" in c
                else f"{c.get('listed', 0):,} listed; how many the API holds is not known (not listed whole)"
            )
            console.print(
                f"{rec.scope_name} {scope}: expected {scope_holds(c):,} entries "
                f"({c['before']:,} before + {c['loaded']:,} loaded{by_others}{by_doubt}{by_gone}{by_rollback}), "
                f"{holds}"
            )
    if rec.walk_repeated_ids:  # first: it explains the totals below
        console.print(
            f"the API's listing gave {_count(rec.walk_repeated_ids, 'id')} twice (walk_repeated_ids): the walk "
            "counted each as often as it was listed; `bulkload reconcile` walks it again"
        )
    if rec.expected_totals != rec.remote_totals:
        differing = _totals_differing(rec)
        for line in differing[:10]:
            console.print(line)
        if len(differing) > 10:
            console.print(f"... {len(differing) - 10:,} more control totals differ (see the report)")
        if rec.others_count:
            console.print(f"(the API's totals hold the {_count(rec.others_count, 'entry')} added by others)")
        if rec.in_doubt_found_count:
            console.print(f"(the API's totals hold the {_count(rec.in_doubt_found_count, 'entry')} of calls in doubt)")
        if _stray(rec):
            console.print(f"(the API's totals hold the {_count(_stray(rec), 'entry')} of groups this run rejected)")
        # as the count line: the doubles are in the API's totals, the run's entries missing are not
        held = [f"hold the {_count(rec.duplicates_count, 'double')}"] if rec.duplicates_count else []
        held += [f"lack the {_count(rec.missing_count, 'entry')} missing"] if rec.missing_count else []
        if held:
            console.print(f"(the API's totals {' and '.join(held)}, named below)")
    for item in rec.missing[:10]:
        console.print(f"missing: id {item['id']} from {item['file']} line {item['line']}")
    if rec.missing_count > 10:
        console.print(f"... {rec.missing_count - 10:,} more missing (see the report)")
    for item in (rec.groups_differing or [])[:10]:
        console.print(f"{item['group']}: expected {item['expected']}, the API holds {item['remote']}")
    for item in (rec.lines_changed or [])[:10]:
        console.print(
            f"changed in the API since it was loaded (amount, account, date, text or another field it keeps): id "
            f"{item['id']} from {item['file']} line {item['line']}"
        )
    for item in (rec.lines_damaged or [])[:10]:
        holds = "holds the line as the input gives it" if item["api_holds"] else "holds another line (changed too)"
        console.print(
            f"damaged in the ledger, not changed in the API: the check the ledger keeps of {item['file']} line "
            f"{item['line']} (id {item['id']}) is not the line's own, made again from the input; the API {holds}"
        )
    if rec.lines_damaged_count:
        more = f" ({rec.lines_damaged_count - 10:,} more in the report)" if rec.lines_damaged_count > 10 else ""
        console.print(
            f"the ledger was changed or damaged since the run wrote it{more}: put back a whole copy of it from a "
            "backup (the file with its -wal), then reconcile again"
        )
    for item in (rec.ids_reused or [])[:10]:
        console.print(_not_as_sent(item))
    if isinstance(rec.ids_reused_count, int) and rec.ids_reused_count > 10:
        console.print(
            f"... {rec.ids_reused_count - 10:,} more ids holding other records than the run sent (see the report)"
        )
    for item in (rec.differences or [])[:10]:  # field by field, where the API is compared so (HaloPSA, costs)
        console.print(
            item.get("said")
            or f"changed in the API since it was loaded: {item.get('resource', '')} {item['id']} (line "
            f"{item['line']}) {item['field']}: sent {_shown(item['sent'])}, the API holds {_shown(item['found'])}"
        )
    if isinstance(rec.differences_count, int) and rec.differences_count > 10:
        console.print(f"... {rec.differences_count - 10:,} more fields differ (see the report)")
    if rec.amounts_with_more_decimals:
        console.print(
            f"{rec.amounts_with_more_decimals:,} amounts in the API have more decimals than their "
            "currency: not what was sent"
        )
    for item in (rec.calls_differing or [])[:10]:
        where = f"call {item['call']} ({item['file']} lines {item['lines']})"
        if item.get("fields_differing"):
            console.print(f"{where}: the API answered another {', '.join(item['fields_differing'])} than was sent")
        if item["sent"] != item["answered"]:
            console.print(
                f"{where}: sent {_call_figures(item['sent'])}, the API answered {_call_figures(item['answered'])}"
            )
    for item in (rec.ids_shared or [])[:10]:
        console.print(f"{item['kind']} {item['id']} was given to rows of more than one call that each create a record")
    if _stray(rec):
        console.print(_rejected_found(rec))
    for item in rec.duplicates[:10]:
        if "of" in item:  # HaloPSA's name the run's record they double, and its row
            of = f" (of id {item['of']}, {item['file']} line {item['line']})"
            console.print(f"a double of this run's: id {item['id']} in {rec.scope_name} {item['scope']}{of}")
        else:  # a record of one of the run's groups it did not create: what it holds is not compared with a line
            console.print(
                f"not created by this run, in its {item['group']}: id {item['id']} in {rec.scope_name} "
                f"{item['scope']} (a double, or a record added to it since)"
            )
    if rec.duplicates_count > 10:
        console.print(f"... {rec.duplicates_count - 10:,} more (see the report)")


def _not_as_sent(item: dict[str, Any]) -> str:
    """What reconciliation found at the id of a record the run created that holds another now (an item of
    `ids_reused`: `holds` the group it is a line of, where the API groups its records), as observed, and the causes
    that cannot be told apart from here: never one of them guessed."""
    what = f"{item['resource']} {item['id']}" if "resource" in item else f"id {item['id']}"
    where = f"{item['file']} line {item['line']}"
    if "holds" in item:
        found = (
            f"{what}, which the API gave the line this run sent from {where}, now holds a line of {item['holds']}, "
            "which that line's call did not carry, and no record listed holds that line as sent"
        )
        stored = "the API stored the line under another number than sent"
    else:
        found = (
            f"{what}, which the API gave the record this run created from {where}, now holds another record (another "
            "name, most fields other than sent), and no record listed has the run's name"
        )
        stored = "the API stored it otherwise than sent"
    return (
        f"not as sent: {found}; bulkload cannot tell which happened: {stored}, the record was changed since, or the "
        "API lost its data (restored or reset) and gave the id to another record"
    )


def _totals_differing(rec: Reconciled) -> list[str]:
    """One line per control total that differs ("journal 1 DKK rows: expected 1,644, the API holds 1,645"), the
    report's nested totals named by scope, currency and figure."""
    expected, remote = _leaves(rec.expected_totals), _leaves(rec.remote_totals)
    names = {"per_scope": rec.scope_name, "id_sum": "sum of ids"}
    return [
        f"control totals, {' '.join(names.get(part, part) for part in path)}: expected "
        f"{_figure(expected.get(path))}, "
        + (
            "the API's is not known (no answer said it, or the API could not be listed whole: not checked)"
            if path in remote and remote[path] is None
            else f"the API holds {_figure(remote.get(path))}"
        )
        for path in sorted(expected.keys() | remote.keys(), key=_in_number_order)
        if expected.get(path) != remote.get(path)
    ]


def _call_figures(totals: Mapping[str, Mapping[str, list[int]]]) -> str:
    """A call's totals (scope -> currency -> [rows, sum, debits] in minor units, or [rows] alone) in words, an empty
    scope or currency left out: "1: 2 rows, 150.00 DKK; Entries: 1 row, 54200.93"."""
    parts = []
    for scope, by_currency in totals.items():
        for currency, figures in by_currency.items():
            rows = figures[0] if figures else 0
            text = f"{rows:,} row{'s' if rows != 1 else ''}"
            if len(figures) > 1:
                text += f", {money(figures[1], currency)}{' ' + currency if currency else ''}"
            parts.append(f"{scope}: {text}" if scope else text)
    return "; ".join(parts) or "nothing"


def _in_number_order(path: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """A sort key that puts journal 2 before journal 10: a number by its length, then its digits."""
    return tuple((len(part), part) if part.isdigit() else (0, part) for part in path)


def _leaves(totals: Mapping[str, Any], at: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """A report's nested totals as {path of keys: figure}."""
    out: dict[tuple[str, ...], Any] = {}
    for key, value in totals.items():
        if isinstance(value, Mapping):
            out.update(_leaves(value, (*at, str(key))))
        else:
            out[(*at, str(key))] = value
    return out


def _figure(value: Any) -> str:
    if value is None:
        return "none"
    return f"{value:,}" if isinstance(value, int) else str(value)


def rollback_line(rollback: Rollback, report_path: str | None = None) -> str:
    """A rollback's summary in one line (-q, and the whole of it where the target cannot delete): what it removed,
    what it could not, why it stopped; the report, and the ledger where something is left to do."""
    head = f"bulkload rollback {rollback.target}: "
    if rollback.status == NOT_SUPPORTED:
        return redact(f"{head}{rollback.reason}")
    counts = [
        (rollback.removed, "removed"),
        (rollback.already_removed, "already removed (a delete of ours)"),
        (rollback.already_removed_before, "removed by an earlier rollback"),
        (rollback.unexplained_count, "gone some other way"),
        (rollback.spared_count, "kept: not the run's"),
        (rollback.refused_stored_count, "left: stored by a refused call"),
        (rollback.updated_kept, "kept: updated, not created"),
        (rollback.unsettled_count, "calls not settled"),
        (len(rollback.failed), "deletes failed"),
        (rollback.left if rollback.stop_reason else 0, "left for the next rollback"),
    ]
    shown = [f"{n:,} {what}" for i, (n, what) in enumerate(counts) if n or not i]  # removed always, the rest if any
    line = f"{head}{rollback.status}: {', '.join(shown)}"
    if rollback.stop_reason:
        line += f"; stopped: {rollback.stop_reason}"
    line += "".join(f"; {relied_on_line(item)}" for item in rollback.relied_on)
    if report_path:
        line += f"; report: {written_at(rollback, 'the report', os.path.abspath(report_path), quiet=True)}"
    if rollback.exit_code:
        line += f"; ledger: {name_of(rollback.ledger)}"
    return redact(line)


def relied_on_line(item: Mapping[str, Any]) -> str:
    """What a rollback took out of a later run's books (Rollback.relied_on's `item`): the groups and rows it skipped
    as loaded by the run rolled back, in no book now."""
    groups = f"{item['groups']:,} group{'s' if item['groups'] != 1 else ''}, " if item["groups"] else ""
    return (
        f"also out of the books: {groups}{item['rows']:,} row{'s' if item['rows'] != 1 else ''} of the run of "
        f"{name_of(item['ledger'])}, which skipped them as loaded by an earlier run; `bulkload reconcile --ledger "
        f"{name_of(item['ledger'])}` names them, to load again"
    )


def print_rollback(rollback: Rollback, report_path: str | None = None, stream: TextIO | None = None) -> None:
    """A rollback's report as a table and the lines that say what needs doing: why it stopped (and the command that
    continues it), the first few records gone some other way, calls that could not be settled, deletes that failed;
    where the report and the ledger are."""
    out = stream or sys.stdout
    rollback = msgspec.convert(redact_data(msgspec.to_builtins(rollback)), Rollback)  # reasons quote the API
    console = Console(file=out, highlight=False, soft_wrap=True, markup=False)  # reasons and paths are text
    if rollback.status == NOT_SUPPORTED:  # nothing was tried: a table of zeros would say nothing
        console.print(rollback_line(rollback, report_path))
        console.print(f"ledger: {name_of(rollback.ledger)}")
        return
    table = Table(title=f"bulkload rollback {rollback.target}: {rollback.status}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    settled = rollback.settled
    for label, value in [
        ("removed", rollback.removed),
        ("already removed (a delete of ours)", rollback.already_removed),
        ("removed by an earlier rollback", rollback.already_removed_before),
        ("gone some other way", rollback.unexplained_count),
        *([("kept: not the run's", rollback.spared_count)] if rollback.spared_count else []),
        *([("left: stored by a refused call", rollback.refused_stored_count)] if rollback.refused_stored_count else []),
        *([("kept: updated, not created", rollback.updated_kept)] if rollback.updated_kept else []),
        ("calls settled first", settled.replayed + settled.looked_up),
        ("calls not settled", rollback.unsettled_count),
        ("deletes failed", len(rollback.failed)),
        *([("left for the next rollback", rollback.left)] if rollback.stop_reason else []),
        *([("calls left to settle", rollback.calls_left)] if rollback.calls_left else []),
        ("requests", rollback.requests),
    ]:
        table.add_row(label, f"{value:,}")
    table.add_row("elapsed", f"{rollback.elapsed_s:.1f} s")
    console.print(table)
    if rollback.reason:
        console.print(rollback.reason)
    if rollback.stop_reason:
        console.print(f"stopped: {rollback.stop_reason}")
    for item in rollback.unexplained[:10]:
        console.print(
            f"gone, not removed by a rollback of ours: id {item['id']} from {item['file']} line {item['line']}"
        )
    for item in rollback.spared[:10]:
        console.print(f"kept: id {item['id']} from {item['file']} line {item['line']}: {item['reason']}")
    for item in rollback.refused_stored[:10]:
        at = f" ({item['file']} {_lines_said(item['lines'])})" if item.get("lines") else ""
        twice = ", a double of the run's" if item.get("double") else ""
        console.print(f"left: id {item['id']}, {item['group']}{at}{twice}")
    for item in rollback.relied_on:
        console.print(relied_on_line(item))
    for item in rollback.unsettled[:10]:
        console.print(f"call {item['call']} ({item['file']} lines {item['lines']}) not settled: {item['reason']}")
    for item in rollback.failed[:10]:
        what = f"id {item['id']}" if "id" in item else f"call {item['call']}" if "call" in item else "walk"
        console.print(f"failed: {what}: {item['reason']}")
    lists = (rollback.unexplained, rollback.spared, rollback.refused_stored, rollback.unsettled, rollback.failed)
    shown = sum(min(len(items), 10) for items in lists)
    listed = rollback.unexplained_count + rollback.spared_count + rollback.refused_stored_count
    listed += rollback.unsettled_count + len(rollback.failed)
    if listed > shown:
        console.print(f"... {listed - shown:,} more (see the report{'' if report_path else ': --report PATH'})")
    if report_path:
        console.print(f"report: {written_at(rollback, 'the report', os.path.abspath(report_path))}")
    console.print(f"ledger: {name_of(rollback.ledger)}")
