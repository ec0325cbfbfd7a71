"""Found by tester t36e: a later export that repeats earlier vouchers skips them, as loaded by the earlier run. That
earlier run rolled back, they leave the journal, and `bulkload reconcile` of the later run still said "reconciled",
exit 0 (a manifest's second job of one agreement showed `complete`, reconciled yes): 7 rows of its file in no book.
Against the real e-conomic sandbox on loopback (in a process of its own, through the command line; the
multi-agreement one for a manifest)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from conftest import spawn_sandbox, write_entries

from bulkload import rollback
from bulkload.cli import main
from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

#: the HaloPSA records bulkload's samples hold
SAMPLES = Path(__file__).parent.parent / "bulkload" / "samples" / "halopsa"


def exports(folder: Path) -> tuple[Path, Path]:
    """Two exports of 15 two-line vouchers: `a.csv` vouchers 1-10, `b.csv` vouchers 6-15 (6-10 as in a.csv)."""
    whole = folder / "whole.csv"
    write_entries(whole, 15)
    header, *rows = whole.read_text().splitlines(keepends=True)
    (folder / "a.csv").write_text(header + "".join(rows[:20]))
    (folder / "b.csv").write_text(header + "".join(rows[10:]))
    return folder / "a.csv", folder / "b.csv"


def test_groups_skipped_as_an_earlier_runs_are_a_mismatch_once_its_rollback_took_them_out(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = exports(tmp_path)
    first, later = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    assert main(["load", "economic", str(a), "--ledger", first, *base]) == 0
    assert main(["load", "economic", str(b), "--ledger", later, *base]) == 0  # vouchers 6-10 skipped
    assert main(["reconcile", "--ledger", later, "-q"]) == 0
    capsys.readouterr()
    assert main(["rollback", "--ledger", first, "--no-progress", "-q"]) == 0
    said = capsys.readouterr().out  # the rollback says what it took out of the later run's books
    assert f"also out of the books: 5 groups, 10 rows of the run of {later}" in said, said
    assert main(["reconcile", "--ledger", later, "--json"]) == 3
    rec = json.loads(capsys.readouterr().out)
    assert rec["ok"] is False, rec
    assert rec["skipped_taken_back_count"] == 5, rec
    first_item = rec["skipped_taken_back"][0]
    assert first_item["group"] == "voucher 6 (journal 1)", first_item
    assert first_item["lines"] == [2, 3] and first_item["file"] == str(b), first_item
    assert first_item["ledger"] == first, first_item
    assert "5 vouchers this run skipped as loaded by an earlier run are no longer in the API" in rec["note"], rec
    # the later run rolled back too: nothing of its file is meant to be in the books, what it skipped neither
    assert main(["rollback", "--ledger", later, "--no-progress", "-q"]) == 0
    assert main(["reconcile", "--ledger", later, "-q"]) == 0


def test_groups_taken_out_and_loaded_again_by_a_new_run_are_held(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = exports(tmp_path)
    first, later = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    assert main(["load", "economic", str(a), "--ledger", first, *base]) == 0
    assert main(["load", "economic", str(b), "--ledger", later, *base]) == 0
    assert main(["rollback", "--ledger", first, "--no-progress", "-q"]) == 0
    # the rollback's way on: load the file again as a new run, which puts vouchers 1-10 back
    assert main(["load", "economic", str(a), "--ledger", str(tmp_path / "a.2.sqlite"), *base]) == 0
    capsys.readouterr()
    assert main(["reconcile", "--ledger", later]) == 0
    said = capsys.readouterr().out
    assert "no longer in the API" not in said, said


async def test_a_manifests_finished_job_shown_again_says_what_a_rollback_of_the_earlier_job_took_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the tester's case: the manifest run again showed the later job `complete`, reconciled yes, exit 0
    a, b = exports(tmp_path)
    jobs = "".join(
        f'[[job]]\nname = "{name}"\nagreement = "acme"\nfiles = ["{file.name}"]\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
        for name, file in (("first", a), ("later", b))
    )
    env = {"APP": "app", "GRANT": "grant-acme"}
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path = tmp_path / "m.toml"
            path.write_text(f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\n{jobs}')
            assert (await run_manifest(read_manifest(str(path)), env=env)).exit_code == 0
            creds = {"ECONOMIC_APP_SECRET_TOKEN": "app", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant-acme"}
            await rollback(read_manifest(str(path)).jobs[0].ledger_path, env=creds)
            again = await run_manifest(read_manifest(str(path)), env=env)
            for name, value in env.items():  # the command line reads the manifest's variables
                monkeypatch.setenv(name, value)
            code = await anyio.to_thread.run_sync(main, ["run", str(path), "-q"])
    later = again.jobs[1]
    quiet = capsys.readouterr().out  # a cron log's one line says it too
    assert code == 2 and "later: 5 of the groups or rows it skipped as loaded by an earlier run" in quiet, quiet
    assert (later.status, later.exit_code, later.reconciled) == ("complete", 3, False), later
    assert later.report is not None and later.report.reconcile is not None
    assert later.report.reconcile.skipped_taken_back_count == 5, later.report.reconcile
    assert again.exit_code == 2  # the rolled back job is the user's to say; the later one's mismatch is said too


def test_groups_a_later_run_rejected_for_other_lines_are_not_said_to_be_skipped_once_a_rollback_took_them_out(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # found by tester t40d: a later export gave vouchers 6-10 with other texts, rejected (the journal holds them with
    # other lines), not skipped. After a rollback of the earlier run, that rollback said "also out of the books: 5
    # groups, 0 rows of the run of b.sqlite, which skipped them as loaded by an earlier run", and `bulkload
    # reconcile` of the later run found a mismatch, exit 3: "5 vouchers this run skipped as loaded by an earlier run
    # are no longer in the API ... Their 0 rows of this run's input are in no book". They were in its rejects file
    a, b = exports(tmp_path)
    header, *rows = b.read_text().splitlines(keepends=True)
    b.write_text(header + "".join(r.replace(",Sale ", ",Sold ") if i < 10 else r for i, r in enumerate(rows)))
    first, later = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    assert main(["load", "economic", str(a), "--ledger", first, *base]) == 0
    assert main(["load", "economic", str(b), "--ledger", later, *base, "--report", str(tmp_path / "b.json")]) == 1
    loaded = json.loads((tmp_path / "b.json").read_text())
    assert (loaded["loaded"], loaded["rejected"], loaded["skipped"]) == (10, 10, 0), loaded
    capsys.readouterr()
    assert main(["rollback", "--ledger", first, "--no-progress", "-q"]) == 0
    said = capsys.readouterr().out
    assert "also out of the books" not in said, said
    assert main(["reconcile", "--ledger", later, "--json"]) == 1  # its rejected rows, as its load said
    rec = json.loads(capsys.readouterr().out)
    assert rec["ok"] is True and "skipped_taken_back" not in rec, rec  # said only where some are


def test_rows_of_no_group_skipped_as_an_earlier_runs_records_are_a_mismatch_once_its_rollback_took_them_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # HaloPSA without --match-on: each row a record of its own, skipped where it sends what an earlier run's record
    # sent. Rows 6-10 of the later file are the earlier file's; its rollback took their records out
    rows_taken_back(tmp_path, monkeypatch, capsys, str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite"))


def test_rows_taken_back_are_named_of_postgresql_ledgers_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    # the rows are told by the end of their reasons: SQLite's substr(x, -n) counts from the end, PostgreSQL's not
    rows_taken_back(tmp_path, monkeypatch, capsys, f"{postgres_url}?ledger=first", f"{postgres_url}?ledger=later")


def rows_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], first: str, later: str
) -> None:
    """Load 10 sample XeroDetails records into a fresh HaloPSA sandbox (ledger `first`), then rows 6-15 (`later`: 5
    skipped as the first run's), roll the first back: the rollback and the later run's reconciliation name the 5."""
    monkeypatch.setenv("HALO_CLIENT_ID", "client")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "secret")
    header, *rows = (SAMPLES / "XeroDetails.csv").read_text().splitlines(keepends=True)
    for folder, part in (("a", rows[:10]), ("b", rows[5:15])):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "XeroDetails.csv").write_text(header + "".join(part))
    sandbox = spawn_sandbox(target="halopsa")
    try:
        base = ["--base-url", sandbox.url, "--no-progress", "-q"]
        assert main(["load", "halopsa", str(tmp_path / "a" / "XeroDetails.csv"), "--ledger", first, *base]) == 0
        # rows 6-10 skipped, one of the samples' bad rows rejected
        assert main(["load", "halopsa", str(tmp_path / "b" / "XeroDetails.csv"), "--ledger", later, *base]) == 1
        capsys.readouterr()
        assert main(["rollback", "--ledger", first, "--no-progress", "-q"]) == 0
        said = capsys.readouterr().out  # PostgreSQL ledgers too (tester t37a: it read SQLite files only)
        assert f"also out of the books: 5 rows of the run of {later}" in said, said
        assert main(["reconcile", "--ledger", later, "--json"]) == 3
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    rec = json.loads(capsys.readouterr().out)
    assert rec["skipped_taken_back_count"] == 5, rec
    (item,) = rec["skipped_taken_back"]
    assert (item["group"], item["lines"], item["ledger"]) == ("", [2, 3, 4, 5, 6], first), item
    assert "5 rows of no group this run skipped as loaded by an earlier run" in rec["note"], rec


def test_a_rollback_keeping_a_record_a_later_run_updated_names_that_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by tester t36e: a manifest's second HaloPSA job updated (by `id`) a record the first created; the first's
    # rollback kept it as "which happened cannot be told from here", though the later run's ledger says
    monkeypatch.setenv("HALO_CLIENT_ID", "client")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "secret")
    header, *rows = (SAMPLES / "XeroDetails.csv").read_text().splitlines(keepends=True)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "XeroDetails.csv").write_text(header + "".join(rows[:3]))  # records 1-3 of a fresh sandbox
    update = "2" + rows[0].replace("Northwind IT", "Northwind IT Renamed", 1)  # its `id` column, first, was empty
    (tmp_path / "b" / "XeroDetails.csv").write_text(header + update)
    first, later = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    sandbox = spawn_sandbox(target="halopsa")
    try:
        base = ["--base-url", sandbox.url, "--no-progress", "-q"]
        assert main(["load", "halopsa", str(tmp_path / "a" / "XeroDetails.csv"), "--ledger", first, *base]) == 0
        assert main(["load", "halopsa", str(tmp_path / "b" / "XeroDetails.csv"), "--ledger", later, *base]) == 0
        capsys.readouterr()
        assert main(["rollback", "--ledger", first, "--json"]) == 3
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    out = json.loads(capsys.readouterr().out)
    (kept,) = out["spared"]
    assert kept["id"] == 2, kept
    said = f"the run of ledger {later} (line 2 of {tmp_path / 'b' / 'XeroDetails.csv'}) sent a call for this id since"
    assert said in kept["reason"] and "cannot be told" not in kept["reason"], kept
