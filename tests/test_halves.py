"""A big file inspected in two halves side by side (halves.py) decides what one pass over it whole decides: the
same profile (decimal mark, date order, grouping, rows, with the same evidence lines), the same group keys in
the ledger with the same repeats and lines, the same refusal; on the hostile files of test_hostile_input, split
at any byte. Where the halves cannot be shown to read as the whole (a half cut inside a quoted cell, a bad row,
a row naming no group), the file is read whole; a plain file is not."""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import msgspec
import pytest
from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, write_entries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_input import Built, csv_file

from bulkload import halves as halves_module
from bulkload import profile
from bulkload.errors import ConfigError
from bulkload.halves import PartScan, PartScanned, halves
from bulkload.profile import Given, inspect, scan_part
from bulkload.sources import Source, pin
from bulkload.targets import TARGETS

TARGET = TARGETS["economic"].from_options({})


def in_process(request: PartScan) -> Callable[[], PartScanned | None]:
    """The planning child's part of the read, done here and at once."""
    found = scan_part(request)
    return lambda: found


def inspected(path: Path, middle: float | None, target: Any = TARGET, given: Given | None = None) -> tuple[Any, ...]:
    """(profile, file_groups rows) of one file, or ("refused", message); `middle`: split at that share of the
    file (None: read whole); `given`: what the options say of its numbers and dates. The split's outcome is noted
    in `inspected.halved`, the families found (file_families rows) in `inspected.families`."""
    source = Source(path, secrets=target.kind_of(0).secret_fields, pinned=pin(path))
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("BEGIN")
    split: dict[str, Any] = {}
    real_in_halves = profile.in_halves

    def noted(*args: Any) -> Any:
        split["found"] = real_in_halves(*args)
        return split["found"]

    at = None if middle is None else int(path.stat().st_size * middle)
    with (
        mock.patch.object(halves_module, "SPLIT_MIN_BYTES", 0),
        mock.patch.object(profile, "halves", lambda s: halves(s, at)),
        mock.patch.object(profile, "in_halves", noted),
    ):
        try:
            profiles = inspect([source], target, given or Given(), db, None, in_process if middle is not None else None)
        except ConfigError as exc:
            return ("refused", str(exc))
        finally:
            inspected.halved = split.get("found") is not None  # type: ignore[attr-defined]
    inspected.families = db.execute("SELECT * FROM file_families ORDER BY line").fetchall()  # type: ignore[attr-defined]
    return (profiles, db.execute("SELECT * FROM file_groups ORDER BY key").fetchall())


def same_in_halves(data: bytes, middle: int) -> bool:
    """Assert that `data` split at its first LF from byte `middle` on inspects as it does whole; whether the
    halves were used."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_bytes(data)
        whole = inspected(path, None)
        assert inspected(path, middle / max(1, len(data))) == whole
        return bool(inspected.halved)  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(b=csv_file(), data=st.data())
def test_hostile_files_in_halves_are_inspected_as_whole(b: Built, data: st.DataObject) -> None:
    same_in_halves(b.data, data.draw(st.integers(0, len(b.data))))


@st.composite
def plain_file(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """An e-conomic CSV whose every row names its voucher and reads as a row (its halves are trusted), with what
    may differ between them: line ends, quoted cells holding delimiters, quotes and line ends, vouchers met again,
    numbers and dates proving a decimal mark or an order (or reading two ways) anywhere; and where its records
    start (bytes)."""
    delim = draw(st.sampled_from([",", ";"]))
    order = draw(st.sampled_from(["%d-%m-%Y", "%m/%d/%Y", "%Y-%m-%d"]))
    out = io.StringIO()
    out.write("\ufeff" if draw(st.booleans()) else "")
    out.write(f"sep={delim}\n" if draw(st.integers(0, 4)) == 0 else "")
    out.write(delim.join(["journalNumber", "voucherNumber", "date", "amount", "text"]) + draw(_ends))
    starts = []
    for _ in range(draw(st.integers(1, 40))):
        starts.append(len(out.getvalue().encode()))
        journal, voucher = draw(st.integers(1, 2)), draw(st.integers(1, 6))
        units = draw(st.integers(-200_000, 200_000))
        amount = f"{units / 100:.2f}" if draw(st.integers(0, 3)) else f"{units // 1000}.{abs(units) % 1000:03d}"
        amount = amount.replace(".", ",") if delim == ";" and draw(st.booleans()) else amount
        day = datetime.date(2026, draw(st.integers(1, 12)), draw(st.integers(1, 28))).strftime(order)
        text = draw(st.text(alphabet=f'ab {delim}"\n\r', max_size=6))
        cells = [str(journal), str(voucher), day, amount, text]
        row = io.StringIO()
        csv.writer(row, delimiter=delim, lineterminator="\r\n").writerow(cells)  # quotes a cell holding CR or LF
        out.write(row.getvalue()[:-2] + draw(_ends) + ("\n" * draw(st.integers(0, 1)) if draw(st.booleans()) else ""))
    return out.getvalue().encode(), starts


_ends = st.sampled_from(["\n", "\r\n", "\n", "\r\n", "\r"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(built=plain_file(), data=st.data())
def test_plain_files_are_inspected_in_halves_as_whole(built: tuple[bytes, list[int]], data: st.DataObject) -> None:
    """Split at the start of a record: the halves are used wherever a LF ends the record before it."""
    body, starts = built
    at = data.draw(st.sampled_from(starts))
    used = same_in_halves(body, at - 1)
    ends_in_lf = body[at - 1 : at] == b"\n" and at != len(body)
    assert used or not ends_in_lf or at == starts[0], (at, body[at - 2 : at + 2])


def _entries(rows: int, apart: bool = False) -> str:
    """An e-conomic file of `rows` rows, two lines a voucher (with `apart`, one voucher's lines at both ends)."""
    lines = ["journalNumber,voucherNumber,date,amount,accountNumber,text"]
    for i in range(rows):
        voucher = 1 if apart and i in (0, rows - 1) else 1000 + i // 2
        amount = "100.50" if i % 2 == 0 else "-100.50"
        lines.append(f'1,{voucher},{1 + i % 28:02d}-11-2026,{amount},{1000 + i % 7},"Faktura {i}, ""net"""')
    return "\r\n".join(lines) + "\r\n"


FIELD_CASES = sorted((Path(__file__).parent / "cases").glob("*/*.csv"))


@pytest.mark.parametrize("path", FIELD_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("middle", [0.2, 0.5, 0.8])
def test_the_field_cases_split_anywhere_are_inspected_as_whole(path: Path, middle: float) -> None:
    """The files finance teams really produce (tests/cases/): split, the same decisions, evidence lines, groups
    and refusals as read whole (the cp1252 file refused alike without --encoding)."""
    assert inspected(path, middle) == inspected(path, None)


@pytest.mark.parametrize("apart", [False, True], ids=["grouped", "apart"])
def test_a_plain_file_is_read_in_halves_and_its_second_halfs_lines_are_the_files(tmp_path: Path, apart: bool) -> None:
    path = tmp_path / "in.csv"
    path.write_text(_entries(2000, apart))
    whole = inspected(path, None)
    assert inspected(path, 0.5) == whole
    assert inspected.halved  # type: ignore[attr-defined]
    (found,), groups = whole
    assert found.rows == 2000 and found.grouped is not apart
    if apart:  # voucher 1's lines: the file's first and last (its last line counted on from the second half)
        assert found.apart == "voucher 1 (journal 1) (lines 2 and 2001)"
        assert ("1:1", 0, 2, 1, 0, 2001) in groups


def test_a_last_line_without_a_line_end_is_found_by_the_second_half_as_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(_entries(2000).removesuffix("\r\n"))
    whole = inspected(path, None)
    assert inspected(path, 0.5) == whole and inspected.halved  # type: ignore[attr-defined]
    (found,), _ = whole
    assert found.last_line_without_end == 2001


def test_a_date_format_a_date_of_the_second_half_contradicts_is_refused_as_read_whole(tmp_path: Path) -> None:
    """The second half is read against the --date-format given too: its 2/13/26 refuses %d/%m/%y, the line counted
    on from the first half's."""
    path = tmp_path / "in.csv"
    rows = [f"1,{1000 + i // 2},{1 + i % 12}/{1 + i % 7}/26,{'-' * (i % 2)}1.00,1000,x" for i in range(2000)]
    rows.append("1,9999,2/13/26,1.00,1000,x")  # line 2002
    path.write_text("\r\n".join(["journalNumber,voucherNumber,date,amount,accountNumber,text", *rows]) + "\r\n")
    given = Given(date_format="%d/%m/%y")
    whole = inspected(path, None, given=given)
    assert inspected(path, 0.5, given=given) == whole and inspected.halved  # type: ignore[attr-defined]
    assert whole[0] == "refused" and "but line 2002 date '2/13/26' is month first" in whole[1], whole
    assert whole[1].endswith("give --date-format %m/%d/%y. Nothing was sent"), whole
    assert inspected(path, 0.5, given=Given(date_format="%m/%d/%y"))[0] != "refused"


def test_the_orders_of_a_visma_core_file_read_in_halves_hold_every_line_as_read_whole(tmp_path: Path) -> None:
    """Each line that names an order (a merged one's, or one of FEE, an entry a line) is in a run of its order's
    lines of one part (its cost type), the second half's counted on from the first's: an earlier run's lines tell
    the orders they were sent for and as what (ledger.known_to). A run the halves cut in two is two runs; a line of
    no order ends one, and so does a line of another cost type."""
    definitions = {"OUTLAY": {"Id": 1, "MergeOrderLinesToOneEntry": True}, "FEE": {"Id": 2}}
    target = TARGETS["visma-core"].from_options({"definitions": definitions})
    rows = ["caseId,accountingCostType,amount,description,entryDate,orderId"]
    for i in range(3000):
        order = "" if i % 10 == 9 else f"O{i // 10}"
        rows.append(f"{1000 + i // 100},{'FEE' if i % 3 else 'OUTLAY'},1.00,line {i},2026-11-02,{order}")
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n")
    whole = inspected(path, None, target)
    families = inspected.families  # type: ignore[attr-defined]
    assert inspected(path, 0.5, target) == whole and inspected.halved  # type: ignore[attr-defined]

    def lines(runs: list[tuple[int, int, int, str, str | None]]) -> dict[int, tuple[str, str | None]]:
        return {line: (family, part) for _, first, last, family, part in runs for line in range(first, last + 1)}

    expected = {
        2 + i: (f"{1000 + i // 100}/O{i // 10}", "FEE" if i % 3 else "OUTLAY") for i in range(3000) if i % 10 != 9
    }
    starts = [line for line, named in expected.items() if expected.get(line - 1) != named]
    assert lines(families) == expected and len(families) == len(starts)
    assert lines(inspected.families) == expected  # type: ignore[attr-defined]


def test_a_file_cut_inside_a_quoted_cell_is_read_whole(tmp_path: Path) -> None:
    """The first half's reader proves the cut is no record boundary: the file is read whole after all."""
    path = tmp_path / "in.csv"
    text = _entries(100).replace("Faktura 60,", "Faktura\n60,\n" * 40)
    path.write_text(text)
    middle = text.index("60,\n") + 2
    whole = inspected(path, None)
    assert inspected(path, middle / len(text)) == whole
    assert not inspected.halved  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_big_file_is_inspected_in_halves_by_the_planning_child_which_then_plans_it(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """The real thing: `bulkload load` of a file over SPLIT_MIN_BYTES reads its second half in the planning child
    (the log says where the halves meet), and the same child then plans the load, which reconciles; the profile
    the ledger keeps is the one a whole-file read makes."""
    data = tmp_path / "e.csv"
    totals = write_entries(data, 90_000)
    assert data.stat().st_size >= halves_module.SPLIT_MIN_BYTES
    log = tmp_path / "run.log"
    ledger = tmp_path / "run.sqlite"
    load = [*bulkload_cmd("--log-file", str(log), "load", "economic", str(data)), "--base-url", sandbox_process.url]
    done = subprocess.run(
        [*load, "--ledger", str(ledger), "--report", str(tmp_path / "r.json"), "--no-progress"],
        env=child_env(CREDS),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "inspected in halves" in log.read_text()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["loaded"] == totals["rows"] and report["reconcile"]["ok"]
    whole, _ = inspected(data, None)
    with sqlite3.connect(ledger) as db:
        (kept,) = db.execute("SELECT value FROM meta WHERE key = 'profiles'").fetchone()
    assert json.loads(kept) == [msgspec.to_builtins(p) for p in whole]


def test_a_scratch_directory_left_by_a_killed_command_is_removed_by_the_next_split(tmp_path: Path) -> None:
    """kill -9 while a big file was inspected leaves the second half's key runs in the temporary directory: the
    next split removes the directory of a process that is gone, not one of a process still running."""
    with mock.patch.object(tempfile, "tempdir", str(tmp_path)):
        gone = subprocess.Popen(["true"])
        gone.wait()
        stale = tmp_path / f"{halves_module.SCRATCH_PREFIX}{gone.pid}-abc"
        live = tmp_path / f"{halves_module.SCRATCH_PREFIX}{os.getppid()}-abc"
        for made in (stale, live):
            made.mkdir()
            (made / "keys.sqlite").write_bytes(b"x")
        with halves_module.scratch() as mine:
            assert Path(mine).name.startswith(f"{halves_module.SCRATCH_PREFIX}{os.getpid()}-")
        assert not stale.exists() and live.exists()


@pytest.mark.parametrize("again", [False, True])
def test_an_order_the_halves_cut_in_two_is_together_and_one_given_again_apart_as_read_whole(
    tmp_path: Path, again: bool
) -> None:
    """An order's lines of one cost type that books an entry a line (FEE: no group) are its lines together where
    the halves cut them in two, as read whole; an order given again further down is apart in halves as read whole
    (the file is then regrouped, so that the order is judged whole)."""
    definitions = {"FEE": {"Id": 2}}
    target = TARGETS["visma-core"].from_options({"definitions": definitions})
    rows = ["caseId,accountingCostType,amount,description,entryDate,orderId"]
    rows += [f"{1000 + i // 7},FEE,1.00,line {i},2026-11-02,O{i // 7}" for i in range(700)]
    rows += ["1000,FEE,1.00,line 0,2026-11-02,O0"] if again else []
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n")
    whole = inspected(path, None, target)
    (profile_,) = whole[0]
    assert (profile_.grouped, profile_.apart) == (
        (False, "order O0 of case 1000 (lines 2 and 702)") if again else (True, "")
    )
    for middle in (0.3, 0.5, 0.77):  # each cuts an order's lines in two
        assert inspected(path, middle, target) == whole and inspected.halved  # type: ignore[attr-defined]


def test_an_exchange_rate_of_the_second_half_against_the_amounts_mark_is_refused_as_read_whole(tmp_path: Path) -> None:
    """The rates are evidence of their own (RecordKind.money_fields): the second half's are put together with the
    first's, and a rate proving a point in a file whose amounts prove a comma refuses it, the line counted on."""
    path = tmp_path / "in.csv"
    rows = [f"1;{1000 + i // 2};31-10-2026;{'-' * (i % 2)}1.500,00;EUR;745,50;1010;x" for i in range(2000)]
    rows.append("1;9999;31-10-2026;1.500;EUR;7.4550;1010;x")  # line 2002
    header = "journalNumber;voucherNumber;date;amount;currency;exchangeRate;accountNumber;text"
    path.write_text("\r\n".join([header, *rows]) + "\r\n")
    whole = inspected(path, None)
    assert inspected(path, 0.5) == whole and inspected.halved  # type: ignore[attr-defined]
    assert whole[0] == "refused" and "line 2002: exchangeRate '7.4550' has a decimal point" in whole[1], whole
