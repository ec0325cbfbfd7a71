"""A dry run never overwrites a real run's files: it writes `*.dry-run.*` files of its own, and its summary says
what it would send (rows, calls, bytes)."""

from __future__ import annotations

import gc
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, SandboxProcess, spawn_sandbox, write_entries
from msgspec import UnsetType
from test_earlier_ledgers import journal_vouchers, vouchers
from test_stopping import posts

from bulkload import Job, dry_run, load, runner
from bulkload.cli import main
from bulkload.planning import PlanSpec
from bulkload.progress import Snapshot
from bulkload.runner import dry_run_path
from bulkload.sandbox import SandboxOptions, running
from bulkload.stages import PLANNING_CALLS, Stages


def test_dry_run_paths_are_the_real_ones_marked() -> None:
    assert dry_run_path("/w/e.csv.rejects.csv") == "/w/e.csv.rejects.dry-run.csv"
    assert dry_run_path("report.json") == "report.dry-run.json"
    assert dry_run_path("out/report") == "out/report.dry-run"


def _with_a_bad_row(path: Path, vouchers: int) -> int:
    """Balanced vouchers and one row with no amount; returns the good rows."""
    rows = write_entries(path, vouchers)["rows"]
    with open(path, "a") as fh:
        fh.write("5,1,99999,2026-11-01,,DKK,1010,,no amount,\n")
    return rows


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("given", [True, False], ids=["flags", "defaults"])
def test_a_dry_run_beside_a_real_run_leaves_its_files_byte_identical_and_says_what_it_would_send(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: bool,
) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "e.csv"
    good = _with_a_bad_row(data, 1_200)  # 2,400 rows: 5 calls of up to 500
    rejects, report = tmp_path / "r.csv", tmp_path / "report.json"
    flags = ["--rejects", str(rejects), "--report", str(report)] if given else []
    base = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--no-progress", *flags]
    assert main([*base, "--dry-run"]) == 1  # first the dry run
    out = capsys.readouterr().out
    own = {"r.dry-run.csv", "report.dry-run.json"} if given else {"e.csv.rejects.dry-run.csv"}
    assert set(_files(tmp_path)) == {"e.csv", *own}
    assert posts(sandbox_process) == 0  # no network
    assert main(base) == 1  # the real run: one row rejected
    real_calls = posts(sandbox_process)
    before = _files(tmp_path)
    assert {"e.csv.ledger.sqlite", rejects.name if given else "e.csv.rejects.csv"} <= set(before)
    capsys.readouterr()
    assert main([*base, "--dry-run"]) == 2  # again: refused as the load would be, the file is loaded
    assert "already holds a run" in capsys.readouterr().err
    # not a byte of the real run's files (nor the dry run's) changed; SQLite's -wal and -shm beside the ledger are
    # made by any reader of it (the refusal read its run, as the load's does)
    assert {k: v for k, v in _files(tmp_path).items() if not k.endswith(("-wal", "-shm"))} == before
    assert posts(sandbox_process) == real_calls  # no network
    dry_rejects = tmp_path / ("r.dry-run.csv" if given else "e.csv.rejects.dry-run.csv")
    assert dry_rejects.read_text().splitlines()[1].startswith(f"{data},2402,amount,")
    for label, value in [
        ("would load", f"{good:,}"),
        ("requests it would send", f"{real_calls:,}"),
        ("bytes it would send", ""),
    ]:
        assert f"│ {label}" in out and value in out, out
    if given:
        dry = json.loads((tmp_path / "report.dry-run.json").read_text())
        assert (dry["status"], dry["would_load"], dry["would_send_requests"]) == ("dry_run", good, real_calls)
        assert dry["would_send_bytes"] > good * 100  # an entry's JSON is well over 100 bytes
        assert dry["report_file"] == str(tmp_path / "report.dry-run.json")
        assert f"report: {tmp_path / 'report.dry-run.json'}" in out


#: Visma Core FEE lines of order R-1 of case 1001, as the tester's month-end export gave them
_EXPORT = [
    ["caseId", "accountingCostType", "amount", "description", "note", "entryDate", "orderId"],
    ["1001", "FEE", "1.250,00", "Gebyr", "N", "13.11.2026", "R-1"],
    ["1001", "FEE", "350,50", "Gebyr 2", "N", "13.11.2026", "R-1"],
]


def _export(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("".join(";".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _job(data: Path, url: str, ledger: Path) -> Job:
    return Job(target="economic", files=[str(data)], base_url=url, ledger=str(ledger))


def _record_of_loads() -> bytes:
    return (Path(os.environ["XDG_CACHE_HOME"]) / "bulkload" / "loads.jsonl").read_bytes()


async def test_a_dry_run_of_a_re_export_counts_what_the_load_then_does(tmp_path: Path) -> None:
    # found by a new-user tester: the month-end export taken again with a voucher appended. The dry run said all of
    # it would load (it looked at no earlier run); the load then loaded the new voucher and skipped the others
    first = vouchers(tmp_path / "a.csv", range(1, 5))
    again = vouchers(tmp_path / "b.csv", range(1, 6))
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            one = await load(_job(first, url, tmp_path / "one.sqlite"), env=CREDS)
            before, record = await journal_vouchers(url), _record_of_loads()
            dry = dry_run(_job(again, url, tmp_path / "two.sqlite"), env=CREDS)
            assert (await journal_vouchers(url), _record_of_loads()) == (before, record)  # no call, nothing recorded
            assert not (tmp_path / "two.sqlite").exists()  # no ledger
            two = await load(_job(again, url, tmp_path / "two.sqlite"), env=CREDS)
            after = await journal_vouchers(url)
    assert (one.exit_code, one.loaded) == (0, 8), one
    assert (two.loaded, two.skipped, two.rejected) == (2, 8, 0), two
    assert (dry.exit_code, dry.would_load, dry.skipped, dry.rejected) == (two.exit_code, 2, 8, 0), dry
    assert sorted(set(after) - set(before)) == [5] and len(after) - len(before) == dry.would_load  # the books
    groups = dry.groups
    assert not isinstance(groups, UnsetType) and groups.skipped == 4 and groups.skipped_reasons, dry
    assert f"(ledger {tmp_path / 'one.sqlite'})" in groups.skipped_reasons[0], groups


async def test_a_dry_run_looks_its_groups_up_in_what_earlier_loads_told_only_where_they_told_something(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 15 item 5: a dry run on record planned with its scratch ledger as the ledger of what to skip even where
    # the earlier loads had loaded none of its groups, one query a group (an eighth of a 200,000-row dry run's CPU);
    # a load plans without one then (run.py), and so does the dry run now, with the same figures
    first = vouchers(tmp_path / "a.csv", range(1, 5))
    other = vouchers(tmp_path / "b.csv", range(10, 13))
    again = vouchers(tmp_path / "c.csv", range(1, 6))
    planned_with: list[str | None] = []
    opened = runner.opened_planner

    def spied(target: object, spec: PlanSpec) -> object:
        planned_with.append(spec.skip_db)
        return opened(target, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "opened_planner", spied)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            await load(_job(first, url, tmp_path / "one.sqlite"), env=CREDS)
            none_told = dry_run(_job(other, url, tmp_path / "two.sqlite"), env=CREDS)
            told = dry_run(_job(again, url, tmp_path / "three.sqlite"), env=CREDS)
    assert (none_told.exit_code, none_told.would_load, none_told.skipped, none_told.rejected) == (0, 6, 0, 0)
    assert (told.would_load, told.skipped, told.rejected) == (2, 8, 0), told
    assert planned_with[0] is None and planned_with[1] is not None, planned_with


def test_a_dry_run_of_a_file_already_loaded_is_refused_as_the_load_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by the same tester: the dry run of a file loaded before said "2 would load" (exit 0), the load was refused
    monkeypatch.setenv("VISMA_CORE_TOKEN", "tok")
    data = _export(tmp_path / "o.csv", _EXPORT)
    sandbox = spawn_sandbox(target="visma-core")
    try:
        base = ["load", "visma-core", str(data), "--base-url", sandbox.url, "--no-progress", "-q"]
        assert main(base) == 0
        for flags in ([], ["--ledger", str(tmp_path / "other.sqlite")]):  # the run's own ledger path, or another
            capsys.readouterr()
            record = _record_of_loads()
            assert main([*base, *flags, "--dry-run"]) == 2
            dry = capsys.readouterr().err
            assert _record_of_loads() == record and not (tmp_path / "other.sqlite").exists()
            assert main([*base, *flags]) == 2
            assert capsys.readouterr().err == dry  # refused in the same words
            assert "already" in dry, dry
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)


def test_a_dry_run_whose_ledger_is_a_folder_is_refused_as_the_load_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by a tester: `--ledger led --dry-run`, led an empty folder, said "the ledger led already holds a run; use
    # `bulkload resume --ledger led` to continue it", which then said "no ledger at led"; the load says it is a folder
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    write_entries(tmp_path / "e.csv", 5)
    (tmp_path / "led").mkdir()
    base = ["load", "economic", str(tmp_path / "e.csv"), "--base-url", "http://127.0.0.1:9", "--no-progress", "-q"]
    for ledger in (str(tmp_path / "led"), str(tmp_path / "led") + "/"):
        capsys.readouterr()
        assert main([*base, "--ledger", ledger, "--dry-run"]) == 2
        dry = capsys.readouterr().err
        assert f"cannot write --ledger {ledger}: it is a folder" in dry and "already holds a run" not in dry, dry
        assert main([*base, "--ledger", ledger]) == 2
        assert capsys.readouterr().err == dry  # refused in the same words, nothing sent to the closed port
    assert list((tmp_path / "led").iterdir()) == []


@pytest.mark.parametrize(
    "kinds", [["--kind", "invoices", "inv.csv"], ["--customers", "c.csv", "--invoices", "inv.csv"]]
)
def test_a_dry_runs_rejects_are_fixed_in_the_input_which_is_loaded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kinds: list[str]
) -> None:
    """A dry run loaded nothing: its rejects file, fixed and loaded "as the inputs were", would load the rows it
    rejected and never those it would have loaded. It says to fix the input and load that; `rejects_load` is null."""
    monkeypatch.chdir(tmp_path)
    for name, value in {"PAYORCRM_API_KEY": "k", "PAYORCRM_API_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    Path("c.csv").write_text("customerno,emailaddress1\nC1,a@example.com\nC2,b@example.com\n")
    Path("inv.csv").write_text(
        "customerNumber,invoiceNumber,invoiceAmount,currency\nC1,I-1,10.00,USD\nC2,I-2,1.234,USD\n"
    )
    args = ["load", "payorcrm", *kinds, "--amount-unit", "major", "--base-url", "http://127.0.0.1:9"]
    assert main([*args, "--dry-run", "--no-progress", "--report", "r.json"]) == 1
    out = capsys.readouterr().out
    assert "as the inputs were" not in out, out
    assert "the dry run loaded nothing: fix the rows it rejected in the input files, then load those" in out, out
    report = json.loads(Path("r.dry-run.json").read_text())
    assert report["rejected"] == 1 and "rejects_load" in report and report["rejects_load"] is None, report


def test_a_stopped_dry_runs_rows_it_did_not_get_to_are_not_yet_sent_never_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # found after 96a6b2e: a dry run stopped part way counted the rows it read and did not get to as `skipped` (the
    # rows an earlier load loaded), and the rest of the file in no bucket; a load's are `not yet sent`
    data = tmp_path / "e.csv"
    rows = write_entries(data, 1_200)["rows"]  # 2,400 rows: chunks of 500
    lines = data.read_text().splitlines(keepends=True)
    moved = [*lines[:2], *lines[3:1_203], lines[2], *lines[1_203:]]  # voucher 1's second line after voucher 600
    plan = runner.planned_rows

    def changed(*args: object, **kwargs: object) -> object:  # the file changes after its inspection
        data.write_text("".join(moved))
        return plan(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "planned_rows", changed)
    report = dry_run(Job(target="economic", files=[str(data)], report=str(tmp_path / "r.json")))
    written = json.loads((tmp_path / "r.dry-run.json").read_text())
    assert report.status == "stopped" and "no longer together" in (report.stop_reason or ""), report
    for r in (written, {k: getattr(report, k) for k in written}):
        assert (r["skipped"], r["in_doubt"]) == (0, 0) and r["rows_read"] == r["would_load"] + r["rejected"], r
        # the stop: line 1,203; the rows of the chunk it was filling then (lines 1,001-1,202) are not yet sent, as a
        # load's are (resumed, it reads them again), never rejected "not sent: …" (before cdf82dc: 1,202 read)
        assert (r["rows_read"], r["rows_not_sent"]) == (999, rows - 999), r
    data.write_text("".join(lines))  # as inspected again, to change once more
    assert main(["load", "economic", str(data), "--dry-run", "--no-progress", "-q"]) == 4
    assert ", 0 skipped, 1,401 not yet sent" in capsys.readouterr().out
    data.write_text("".join(lines))
    assert main(["load", "economic", str(data), "--dry-run", "--no-progress"]) == 4
    out = capsys.readouterr().out
    assert "rows: the dry run's until it stopped" in out and "resume" not in out, out  # a dry run has no resume


def test_a_dry_runs_scratch_database_does_not_wait_for_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by tester t40d: the scratch database a dry run keeps its rows in was SQLite's default, a rollback journal
    # and a sync to the disk for every statement, each a transaction of its own: every rejected row (and every group
    # an earlier load skipped) waited on the disk twice, and a dry run of 20,000 rows, 13,000 of them bad, took 14.5 s
    # against 0.9 s for the same rows good (and longer the busier the disk), saying nothing all the while
    data = tmp_path / "e.csv"
    _with_a_bad_row(data, 10)
    kept = runner._dry_run
    seen: list[tuple[str, int]] = []

    def watched(job: Job, target: object, sources: object, scratch: runner.Ledger, *args: object) -> object:
        db = scratch.db()
        seen.append((db.execute("PRAGMA journal_mode").fetchone()[0], db.execute("PRAGMA synchronous").fetchone()[0]))
        return kept(job, target, sources, scratch, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "_dry_run", watched)
    report = dry_run(Job(target="economic", files=[str(data)]))
    assert report.rejected == 1, report
    assert seen == [("memory", 0)], seen  # its journal in memory, no sync: the file is removed at the end


async def test_a_dry_run_does_not_say_the_api_no_longer_holds_a_voucher_it_never_asked_about(tmp_path: Path) -> None:
    # found by tester t40d: the dry run of a file whose vouchers an earlier run loaded with other lines rejected them
    # saying "the API no longer holds it: possibly booked (...): reverse it in the books", of vouchers the journal
    # held as drafts all along: the dry run asks the API nothing. The load refused them for what the journal holds
    first = vouchers(tmp_path / "a.csv", range(1, 3))
    changed = tmp_path / "b.csv"
    changed.write_text(first.read_text().replace(",v1\n", ",v1 corrected\n"))
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            await load(_job(first, url, tmp_path / "one.sqlite"), env=CREDS)
            dry = dry_run(_job(changed, url, tmp_path / "two.sqlite"), env=CREDS)
            two = await load(_job(changed, url, tmp_path / "two.sqlite"), env=CREDS)
    assert (dry.rejected, dry.skipped, two.rejected, two.skipped) == (2, 2, 2, 2), (dry, two)
    said = (tmp_path / "b.csv.rejects.dry-run.csv").read_text()
    assert "no longer holds it" not in said, said
    assert "a dry run does not" in said and "where it does, the load refuses" in said, said
    assert "already in the journal" in (tmp_path / "b.csv.rejects.csv").read_text()  # as the load found it


def test_a_dry_runs_table_shows_the_rows_it_would_skip() -> None:
    # found by tester t40d: a dry run of an export taken again showed "rows read 20, would load 0, rejected 1" and no
    # line for the 19 rows an earlier load created: its table did not add up to the rows read, where a load's does
    from bulkload.report import Report, print_summary

    dry = Report(
        status="dry_run", target="economic", rows_read=20, loaded=0, would_load=0, rejected=1, in_doubt=0, skipped=19,
        requests=0, retries=0, elapsed_s=0.1, reconcile=None, ledger="", rejects_file="r.csv",
    )  # fmt: skip
    out = io.StringIO()
    print_summary(dry, out)
    figures = dict(re.findall(r"│ (\w[\w ]*?) +│ +([\d,]+) │", out.getvalue()))
    assert (figures["rows read"], figures["would load"], figures["rejected"]) == ("20", "0", "1"), out.getvalue()
    assert figures.get("would skip") == "19", out.getvalue()


def test_a_dry_run_shows_the_rows_read_then_those_planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # found in the 2026-12-05 review: a dry run showed nothing until its summary, a minute for 2,000,000 rows, where
    # a load shows the rows it has read and sent; now it shows the rows read, then those planned into calls
    data = tmp_path / "entries.csv"
    write_entries(data, 12_500, bad_every=1_000)  # 25,000 good rows and 12 rejected
    snapshots: list[Callable[[], Snapshot]] = []
    entered: list[tuple[str, int, int | None]] = []  # each stage entered, with the rows the one before came to
    enter = Stages.enter

    @contextmanager
    def watched(snapshot: Callable[[], Snapshot], enabled: bool = True) -> Iterator[None]:
        assert enabled
        snapshots.append(snapshot)
        yield

    def entering(self: Stages, name: str, total: int | None = None, unit: str = "records") -> None:
        entered.append((name, self.done, total))
        enter(self, name, total, unit)

    monkeypatch.setattr(runner, "shown_beside", watched)
    monkeypatch.setattr(Stages, "enter", entering)
    report = dry_run(Job(target="economic", files=[str(data)], ledger=str(tmp_path / "l.sqlite")), progress=True)
    assert report.would_load == 25_000 and report.rejected == 12, report
    assert entered == [(PLANNING_CALLS, 20_000, 25_012)]  # the rows read, told 10,000 at a time; the plan's total
    (snapshot,) = snapshots
    last = snapshot()
    assert (last.phase, last.done, last.total, last.unit) == (PLANNING_CALLS, 25_012, 25_012, "rows")


def _open_files() -> list[str]:
    """The paths of the files this process holds open (Linux: /proc/self/fd)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed since
            continue
    return held


async def test_a_dry_run_from_a_script_leaves_no_file_open_once_it_returns(tmp_path: Path) -> None:
    # a tester (t49g): where an earlier load into the API is on record, the plan reads what it loaded from the dry
    # run's scratch ledger, which only the garbage collector closed: a script's process kept the deleted scratch file
    # open after dry_run returned (a descriptor, and its disk space)
    write_entries(tmp_path / "earlier.csv", 5)
    write_entries(tmp_path / "e.csv", 20, first_voucher=100)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            await load(Job(target="economic", files=[str(tmp_path / "earlier.csv")], base_url=url), env=CREDS)
            job = Job(target="economic", files=[str(tmp_path / "e.csv")], base_url=url)
            collecting = gc.isenabled()
            gc.disable()  # what the collector would close some time later is not what the call closed
            try:
                report = dry_run(job, env=CREDS)
                held = _open_files()
            finally:
                if collecting:
                    gc.enable()
    assert report.would_load == 40, report
    assert not [path for path in held if path.startswith(str(tmp_path))], held
