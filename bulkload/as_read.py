"""A run's input read back as the run read it, for the commands that compare what the run sent with what the API
holds after it (reconciliation, rollback's read before deleting): the ledger keeps each call's control totals and
each line's check, not each line's values, so what one line sent is read from the file again, which must be the one
the run read (its SHA-256 in the ledger)."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from contextlib import closing, suppress
from typing import Any

from .chunking import kept_check
from .errors import LedgerError, RowInvalid
from .job import Job
from .ledger import Ledger
from .model import Totals, add_totals
from .planning import reading_of
from .sources import BadRow, sha256_of
from .targets.base import Target

#: records totalled in one call of RecordKind.summarize
_BATCH = 500


def rows_as_read(
    ledger: Ledger, target: Target, files: list[str], file_idx: int
) -> Generator[tuple[int, Any], None, None]:
    """The rows of input `files[file_idx]` as the run read them: with its settings (delimiter, columns, encoding),
    numbers and dates as the file's profile decided; a row that cannot be read so is left out (it was rejected).
    LedgerError where the file is no longer the one the run read (its SHA-256 in the ledger): its rows are not what
    the run sent (a corrected file saved over it), and read so they were compared with the API as if they were:
    a rollback deleted the record a later run had corrected from the edited file, as holding "what the run sent".
    A file that cannot be read raises what sources.sha256_of raises (ConfigError)."""
    stored = ledger.run.files[file_idx] if file_idx < len(ledger.run.files) else {}
    if stored.get("sha256") and sha256_of(files[file_idx]) != stored["sha256"]:
        raise LedgerError(
            f"{files[file_idx]} changed since the run read it: what the run sent is read from it, and it now holds "
            f"other rows; put back the file as it was (SHA-256 {stored['sha256'][:12]}…) and run this command again "
            f"(a corrected file is loaded as a run of its own, its ledger another)"
        )
    kind = target.kind_of(file_idx)
    profiles = ledger.profiles() or []
    reading = reading_of(kind, profiles[file_idx]) if file_idx < len(profiles) else None
    for item in Job.from_settings(ledger.run.settings).source(files[file_idx], kind):
        if isinstance(item, BadRow):
            continue
        line, row = item
        try:
            if reading is not None:
                reading.convert(row)
        except RowInvalid:
            continue
        yield line, row


def totals_of_lines(
    ledger: Ledger, target: Target, files: list[str], file_idx: int, lines: Iterable[int]
) -> dict[str, Totals]:
    """The control totals (per scope and currency, model.Totals: minor units) of the records the lines `lines` of
    input `files[file_idx]` make (ascending source line numbers of rows the run loaded), as the run's kind validates
    them: what those lines sent. Reads the file once, up to the last of `lines`; holds a batch of records at a time.
    LedgerError where the file is not the one the run read (`rows_as_read`), or does not give one of `lines` as a row
    the kind takes (the file cannot say what that line sent); ConfigError where it cannot be read."""
    kind = target.kind_of(file_idx)
    out: dict[str, Totals] = {}
    batch: list[Any] = []
    wanted = iter(lines)
    line = next(wanted, None)
    with closing(rows_as_read(ledger, target, files, file_idx)) as rows:
        while line is not None:
            at, row = next(rows, (None, {}))
            if at is None or at > line:
                raise LedgerError(f"{files[file_idx]} gives no row at line {line} as the run read it, which loaded it")
            if at < line:
                continue
            try:
                batch.append(kind.validate_at(file_idx, at, row))
            except RowInvalid as exc:
                raise LedgerError(
                    f"line {line} of {files[file_idx]}, which the run loaded, is refused now: {exc}"
                ) from exc
            if len(batch) >= _BATCH:
                add_totals(out, kind.summarize(batch))
                batch.clear()
            line = next(wanted, None)
    if batch:
        add_totals(out, kind.summarize(batch))
    return out


def input_checks(
    ledger: Ledger, target: Target, files: list[str], lines: Mapping[int, Iterable[int]]
) -> dict[tuple[int, int], int]:
    """The check the ledger keeps of each of `lines` (file index -> line numbers), made again from the input's row as
    the run read it (chunking.kept_check of its record: `rows_as_read`, the file pinned by its SHA-256), by (file
    index, line): a line whose kept check is not this one is damaged in the ledger, since the run made it so from
    that very row. A line the file does not give as a row the kind takes is left out. Reads each file named once,
    up to its last line wanted. LedgerError where a file is not the one the run read, ConfigError where it cannot be
    read (`rows_as_read`)."""
    out: dict[tuple[int, int], int] = {}
    for file_idx, wanted in lines.items():
        left = set(wanted)
        kind = target.kind_of(file_idx)
        with closing(rows_as_read(ledger, target, files, file_idx)) as rows:
            for line, row in rows:
                if line in left:
                    left.discard(line)
                    with suppress(RowInvalid):  # refused now: what it sent cannot be told
                        out[file_idx, line] = kept_check(kind, kind.validate_at(file_idx, line, row))
                    if not left:
                        break
    return out
