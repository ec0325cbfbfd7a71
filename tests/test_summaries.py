"""What the summaries of load, resume, reconcile and rollback say, against a sandbox: the counts reconciliation
compared explained (remote = there before + loaded + added by others), entries another writer added reported as
such and not as duplicates, the report and ledger paths, and on Ctrl-C a partial summary with the rejects so far."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import CREDS, HEADER, SandboxProcess, bulkload_cmd, child_env, write_entries
from test_stopping import posts, wait_until

from bulkload.cli import main
from bulkload.model import Reconciled
from bulkload.report import print_summary
from bulkload.results import Report

JOURNAL = 4


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)


def load(sandbox: SandboxProcess, data: Path, *flags: str) -> int:
    return main(["load", "economic", str(data), "--base-url", sandbox.url, "--no-progress", *flags])


def post_as_another_writer(sandbox: SandboxProcess, voucher: int) -> None:
    """One entry posted straight to the sandbox's journal, as another program posting to it would."""
    entry = {
        "entryTypeNumber": 5,
        "journalNumber": JOURNAL,
        "voucherNumber": voucher,
        "date": "2026-11-03",
        "amount": 12.5,
        "currency": "DKK",
        "accountNumber": 1010,
        "text": "posted by someone else",
    }
    request = urllib.request.Request(
        f"{sandbox.url}/draft-entries",
        data=json.dumps(entry).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
            "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
            "Idempotency-Key": uuid.uuid4().hex,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 201


def test_a_second_load_into_a_journal_says_before_plus_loaded_is_what_the_api_holds(
    tmp_path: Path, sandbox_process: SandboxProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_entries(first, 150, journal=JOURNAL)
    write_entries(second, 100, journal=JOURNAL, first_voucher=1001, seed=2)
    assert load(sandbox_process, first) == 0
    capsys.readouterr()
    report = tmp_path / "b.json"
    assert load(sandbox_process, second, "--report", str(report)) == 0
    out = capsys.readouterr().out
    # 400 rows next to 200 loaded is no puzzle: the journal held the first load's 300 entries
    assert "expected / remote count │ 500 / 500" in out, out
    assert "remote count 500 = 300 there before + 200 loaded" in out, out
    assert f"report: {report}" in out and f"ledger: {tmp_path / 'b.csv.ledger.sqlite'}" in out, out
    written = json.loads(report.read_text())
    assert written["report_file"] == str(report)
    assert written["reconcile"]["scopes"][str(JOURNAL)] == {
        "before": 300,
        "loaded": 200,
        "expected": 500,
        "remote": 500,
        "others": 0,
        "in_doubt": 0,
        "before_gone": 0,
    }


def test_entries_another_writer_added_are_others_not_duplicates_and_do_not_fail_reconcile(
    tmp_path: Path, sandbox_process: SandboxProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 100, journal=JOURNAL)
    post_as_another_writer(sandbox_process, 70_001)  # before the load: part of what the journal held before
    assert load(sandbox_process, data) == 0
    for voucher in (80_001, 80_002, 80_003):  # after it: in what the reconciliation walks
        post_as_another_writer(sandbox_process, voucher)
    ledger = str(tmp_path / "e.csv.ledger.sqlite")
    capsys.readouterr()
    assert main(["reconcile", "--ledger", ledger]) == 0
    out = capsys.readouterr().out
    assert "bulkload reconcile economic: reconciled" in out and "{" not in out, out
    assert "remote count 204 = 1 there before + 200 loaded + 3 added by others" in out, out
    assert "expected / remote count │ 204 / 204" in out, out  # the table agrees with the line below it
    assert "added by others: 3 entries (journal 4: 3)" in out, out
    assert main(["reconcile", "--ledger", ledger, "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert {"ok", "expected_count", "remote_count", "expected_totals", "remote_totals", "missing", "duplicates"} <= set(
        rec
    )
    assert (rec["ok"], rec["expected_count"], rec["remote_count"]) == (True, 201, 204)
    assert (rec["duplicates_count"], rec["duplicates"], rec["others_count"]) == (0, [], 3)
    assert [o["group"] for o in rec["others"]] == [f"voucher {v} (journal 4)" for v in (80_001, 80_002, 80_003)]
    assert rec["others_totals"]["per_scope"] == {"4": {"DKK": {"rows": 3, "amount": "37.50", "debit": "37.50"}}}
    # a second entry of one of OUR vouchers is a double, whoever posted it: a mismatch
    post_as_another_writer(sandbox_process, 1)
    assert main(["reconcile", "--ledger", ledger, "--json"]) == 3
    rec = json.loads(capsys.readouterr().out)
    assert (rec["ok"], rec["duplicates_count"], rec["others_count"]) == (False, 1, 3)
    assert rec["duplicates"][0]["group"] == f"voucher 1 (journal {JOURNAL})"
    assert main(["reconcile", "--ledger", ledger]) == 3
    # its amount is not one of the run's lines': named by its voucher, a double or a line added there since (tester
    # t67c: "a double of this run's", of an entry added by hand with an amount no line of the run had)
    out = capsys.readouterr().out
    assert f"not created by this run, in its voucher 1 (journal {JOURNAL}): id " in out, out
    assert "(a double, or a record added to it since)" in out, out


def test_entries_another_writer_adds_to_vouchers_this_run_never_loaded_are_others(
    tmp_path: Path, sandbox_process: SandboxProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by a tester: after a load whose voucher 2 the API refused (account 9999), another writer's entry in
    # voucher 2 was called "a double of this run's" (exit 3): the run created nothing of that voucher
    data = tmp_path / "e.csv"
    write_entries(data, 3, journal=JOURNAL, first_voucher=1)
    rows = data.read_text().splitlines()
    rows[3] = rows[3].replace(",1010,", ",9999,")  # voucher 2's first line: an account the journal has not
    data.write_text("\n".join(rows) + "\n")
    assert load(sandbox_process, data) == 1  # voucher 2 rejected, the others loaded
    post_as_another_writer(sandbox_process, 2)
    capsys.readouterr()
    # 1, as the load's: voucher 2's rows are rejected (DESIGN's exit codes)
    assert main(["reconcile", "--ledger", str(tmp_path / "e.csv.ledger.sqlite"), "--json"]) == 1
    rec = json.loads(capsys.readouterr().out)
    assert (rec["ok"], rec["duplicates_count"], rec["others_count"]) == (True, 0, 1), rec


def test_rollback_prints_a_summary_and_its_json_with_json(
    tmp_path: Path, sandbox_process: SandboxProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 20, journal=JOURNAL)
    assert load(sandbox_process, data) == 0
    ledger, report = str(tmp_path / "e.csv.ledger.sqlite"), tmp_path / "rollback.json"
    capsys.readouterr()
    assert main(["rollback", "--ledger", ledger, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "bulkload rollback economic: complete" in out and "{" not in out, out
    assert "removed                            │    40" in out, out
    assert f"report: {report}" in out and f"ledger: {ledger}" in out, out
    assert main(["rollback", "--ledger", ledger, "--json"]) == 0  # again: what the first removed, it skips
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["removed"], shown["already_removed_before"]) == ("complete", 0, 40)
    assert json.loads(report.read_text())["removed"] == 40


@pytest.mark.sandbox_flags("--daily-quota", "6")
def test_a_rollback_the_apis_quota_stops_names_rollback_and_counts_what_it_left_not_as_failed(
    tmp_path: Path, sandbox_process: SandboxProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 20, journal=JOURNAL)
    assert load(sandbox_process, data, "--batch-size", "4") == 4  # the API's quota: 429, wait a day
    ledger = str(tmp_path / "e.csv.ledger.sqlite")
    created = len((tmp_path / "e.csv.success.csv").read_text(encoding="utf-8").splitlines()) - 1
    capsys.readouterr()
    assert main(["rollback", "--ledger", ledger, "--no-progress"]) == 4
    out = capsys.readouterr().out
    assert "bulkload rollback economic: stopped" in out, out
    assert "deletes failed                     │     0" in out, out
    assert f"left for the next rollback         │ {created:>5}" in out, out
    assert "the API answered 429 asking to wait" in out and "quota reached?" in out, out
    assert f"continue with `bulkload rollback --ledger {ledger}` once that time has passed" in out, out
    assert "resume" not in out, out
    assert main(["resume", "--ledger", ledger, "--no-progress"]) == 2  # a run rolled back in part: rollback it is
    assert f"finish the rollback (`bulkload rollback --ledger {ledger}`)" in capsys.readouterr().err


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.sandbox_flags("--latency-ms", "100")
def test_ctrl_c_prints_a_partial_summary_writes_the_rejects_so_far_and_names_the_ledger(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    data = tmp_path / "e.csv"
    write_entries(data, 2_000, journal=JOURNAL)  # 40 calls of 100 entries at 100 ms each: cut short midway
    lines = data.read_text().splitlines()
    bad = ["5", str(JOURNAL), "99999", "2026-11-02", "twelve", "DKK", "1010", "", "bad amount", ""]
    assert len(bad) == len(HEADER)
    data.write_text("\n".join([lines[0], ",".join(bad), *lines[1:]]) + "\n")  # rejected on line 2, before any call
    proc = subprocess.Popen(
        bulkload_cmd(
            "load",
            "economic",
            data.name,
            "--base-url",
            sandbox_process.url,
            "--batch-size",
            "100",
            "--concurrency",
            "1",
            "--no-progress",
        ),
        cwd=tmp_path,  # relative paths, as a user types them: the ledger is still named by its absolute path
        env=child_env(CREDS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,  # a shell's background job ignores SIGINT; bulkload keeps it ignored then
    )
    try:
        wait_until(lambda: posts(sandbox_process) >= 3, 60, "the first bulk calls")  # as the server counts them
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    ledger = tmp_path / "e.csv.ledger.sqlite"
    assert proc.returncode == 4, (out, err)
    assert "Traceback" not in err and f"bulkload resume --ledger {ledger}" in err, err
    assert "bulkload economic: stopped" in out, out
    assert f"stopped: interrupted (Ctrl-C); `bulkload resume --ledger {ledger}`" in out, out
    assert f"ledger: {ledger}" in out, out
    assert "rejected rows so far (1 voucher, each whole) and reasons: e.csv.rejects.csv" in out, out
    loaded = int(next(line for line in out.splitlines() if "│ loaded" in line).split("│")[2].replace(",", ""))
    assert 0 < loaded < 4_000 and loaded <= posts(sandbox_process) * 100, out
    rejects = (tmp_path / "e.csv.rejects.csv").read_text().splitlines()
    assert len(rejects) == 2 and rejects[1].startswith("e.csv,2,amount,"), rejects
    assert os.path.exists(ledger)


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "500")
def test_reconciling_a_killed_run_names_what_its_calls_in_doubt_created_not_doubles(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """kill -9 while calls are in flight: the API holds their entries, the ledger never heard of them. `bulkload
    reconcile` says so and how to settle them (before: each named "a double of this run's", and "rows in doubt:
    None"); `bulkload resume` records them, and the next reconcile matches."""
    data = tmp_path / "e.csv"
    write_entries(data, 1_000, journal=JOURNAL)  # 20 calls of 100 entries, 4 at a time, 500 ms each
    load = bulkload_cmd(
        "load", "economic", data.name, "--base-url", sandbox_process.url, "--batch-size", "100", "--concurrency", "4"
    )
    proc = subprocess.Popen([*load, "--no-progress"], cwd=tmp_path, env=child_env(CREDS))
    try:
        wait_until(lambda: posts(sandbox_process) >= 6, 60, "the first bulk calls")  # as the server counts them
        proc.kill()  # kill -9: calls in flight, their answers never recorded
    finally:
        proc.kill()
        proc.wait()
    time.sleep(1.0)  # the server finishes the calls it had
    ledger = str(tmp_path / "e.csv.ledger.sqlite")
    recon = [*bulkload_cmd("reconcile", "--ledger", ledger), "--report", str(tmp_path / "r.json")]
    said = subprocess.run(recon, env=child_env(CREDS), capture_output=True, text=True, timeout=60)
    # not a mismatch (before: exit 3, "MISMATCH"): the books hold only what the run's calls sent, those in flight
    # at the kill included; the run did not finish (exit 4), and resume both sends the rest and records those
    assert said.returncode == 4, said.stdout + said.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    found = report["reconcile"]["in_doubt_found_count"]
    assert 0 < found <= report["in_doubt"] and report["reconcile"]["duplicates_count"] == 0, report
    assert report["reconcile"]["ok"] and report["run_finished"] is False, report
    assert "a double" not in said.stdout and "reconciled so far: the run did not finish" in said.stdout, said.stdout
    assert "NO:" not in said.stdout and "mismatch" not in said.stdout.lower(), said.stdout
    assert f"yes, + {found:,} of calls in doubt (not yet recorded)" in said.stdout, said.stdout
    quiet = subprocess.run([*recon, "-q"], env=child_env(CREDS), capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 4, quiet.stdout + quiet.stderr
    line = quiet.stdout.strip()
    assert line.startswith("bulkload economic: reconciled so far: the run did not finish: "), line
    assert "MISMATCH" not in line and "said below" not in line, line
    assert f"sends them, and records what it can of the {found:,} entries of calls in doubt that landed" in line
    assert f"calls in doubt landed: {found:,} entries" in said.stdout and "None" not in said.stdout, said.stdout
    assert "control totals, " not in said.stdout, said.stdout  # one line for them all: no figure news
    resumed = subprocess.run(
        bulkload_cmd("resume", "--ledger", ledger, "--no-progress"),
        env=child_env(CREDS),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    again = subprocess.run(recon, env=child_env(CREDS), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads((tmp_path / "r.json").read_text())["reconcile"]["in_doubt_found_count"] == 0


def summary_of(recon: Reconciled) -> str:
    """The summary a complete two-row run prints with `recon` for its reconciliation."""
    report = Report(
        target="economic",
        status="complete",
        elapsed_s=1.0,
        rows_read=2,
        loaded=2,
        rejected=0,
        in_doubt=0,
        skipped=0,
        requests=3,
        retries=0,
        reconcile=recon,
        ledger="/x/run.sqlite",
        rejects_file="/x/e.rejects.csv",
    )
    out = io.StringIO()
    print_summary(report, out)
    return out.getvalue()


def test_a_listing_that_repeats_ids_is_said_in_words_with_the_totals_that_differ() -> None:
    """Control totals that differ are said one figure a line, not as the report's nested dicts, and ids the listing
    gave twice are named with their count (before: `control totals: expected {'per_scope': …}`, and not a word
    of the repeated ids the report counts)."""

    def totals(rows: int, amount: str, id_sum: int) -> dict[str, Any]:
        return {"per_scope": {"1": {"DKK": {"rows": rows, "amount": amount, "debit": "10.00"}}}, "id_sum": id_sum}

    scopes = {"1": {"before": 0, "loaded": 2, "expected": 2, "remote": 2, "others": 0}}
    recon = Reconciled(
        ok=False,
        remote_read=True,
        expected_count=2,
        remote_count=2,
        expected_totals=totals(1644, "0.00", 3),
        remote_totals=totals(1645, "-1971.37", 5),
        walk_repeated_ids=4,
        scopes=scopes,
        scope_name="journal",
    )
    said = summary_of(recon)
    assert "{" not in said, said
    assert "control totals, journal 1 DKK rows: expected 1,644, the API holds 1,645" in said, said
    assert "control totals, journal 1 DKK amount: expected 0.00, the API holds -1971.37" in said, said
    assert "control totals, sum of ids: expected 3, the API holds 5" in said, said
    assert "debit" not in said  # the same on both sides
    assert "the API's listing gave 4 ids twice (walk_repeated_ids)" in said, said


def test_a_call_whose_answer_differs_names_its_fields_and_its_figures_in_words() -> None:
    """Before: `call 2 (e.csv lines 2-2): sent {'Entries': {'': [1, 5420093, 5420093]}}, the API answered {'Entries':
    {'': [1, 5420093, 5420093]}}`: the same dicts twice, the field that differed (EntryDate) said only in the
    report. Now the field is named, and figures that differ are said as amounts."""
    same = {"Entries": {"": [1, 5420093, 5420093]}}
    recon = Reconciled(
        ok=False,
        remote_read=True,
        expected_count=2,
        remote_count=2,
        calls_differing=[
            {
                "call": "2",
                "file": "e.csv",
                "lines": "2-2",
                "sent": same,
                "answered": same,
                "fields_differing": ["EntryDate"],
            },
            {"call": "3", "file": "e.csv", "lines": "3-3", "sent": same, "answered": {"Entries": {"": [1, 100, 100]}}},
        ],
        calls_differing_count=2,
        expected_totals={},
        remote_totals={},
        scopes={},
        scope_name="case",
    )
    said = summary_of(recon)
    assert "{" not in said, said
    assert "call 2 (e.csv lines 2-2): the API answered another EntryDate than was sent" in said, said
    assert "call 2 (e.csv lines 2-2): sent" not in said, said
    assert "call 3 (e.csv lines 3-3): sent Entries: 1 row, 54200.93, the API answered Entries: 1 row, 1.00" in said, (
        said
    )


def test_control_totals_that_differ_are_said_in_journal_number_order() -> None:
    """Journal 2's line comes before journal 10's (before: sorted as text, 10 before 2)."""
    figures = {"DKK": {"rows": 1, "amount": "1.00", "debit": "1.00"}}
    expected = {"per_scope": {"2": figures, "10": figures}, "id_sum": 1}
    remote = {"per_scope": {"2": {"DKK": {**figures["DKK"], "rows": 2}}, "10": {"DKK": {**figures["DKK"], "rows": 2}}}}
    recon = Reconciled(
        ok=False,
        remote_read=True,
        expected_count=2,
        remote_count=4,
        expected_totals=expected,
        remote_totals={**remote, "id_sum": 1},
        scopes={s: {"before": 0, "loaded": 1, "expected": 1, "remote": 2, "others": 0} for s in ("2", "10")},
        scope_name="journal",
    )
    said = summary_of(recon)
    two, ten = said.find("journal 2 DKK rows"), said.find("journal 10 DKK rows")
    assert 0 <= two < ten, said


def test_a_run_that_loaded_no_row_says_so_and_its_reconciliation_checked_nothing() -> None:
    """PayorCRM's sample at --batch-size 200: the API refused two emails, every other customer of the call went in
    doubt and every invoice was rejected with its customer. Before, the table said `reconciled │ yes` of 0 rows and
    no line said that nothing was loaded."""
    recon = Reconciled(
        ok=True,
        remote_read=False,
        expected_count=0,
        remote_count=0,
        expected_totals={},
        remote_totals={},
        scopes={},
        scope_name="kind",
    )
    report = Report(
        target="payorcrm",
        status="complete",
        elapsed_s=0.1,
        rows_read=600,
        loaded=0,
        rejected=405,
        in_doubt=195,
        skipped=0,
        requests=2,
        retries=0,
        reconcile=recon,
        ledger="/x/c.ledger.sqlite",
        rejects_file="/x/c.rejects.csv",
    )
    out = io.StringIO()
    print_summary(report, out)
    said = out.getvalue()
    assert "│ yes (0 rows loaded: nothing to check) │" in said, said
    assert "nothing was loaded: of 600 rows read, 405 rejected, 195 in doubt (their reasons: the files below)" in said
    loaded = Report(**{**msgspec.structs.asdict(report), "loaded": 1, "rejected": 404})
    out = io.StringIO()
    print_summary(loaded, out)
    said = out.getvalue()
    assert " yes │" in said and "nothing to check" not in said and "nothing was loaded" not in said, said
