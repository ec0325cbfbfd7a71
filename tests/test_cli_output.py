"""What the commands print for people and scripts to read."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import CREDS, SandboxProcess, spawn_sandbox, write_entries

from bulkload.cli import _print_json, main, quiet_summary
from bulkload.errors import EXIT_STOPPED
from bulkload.model import Reconciled
from bulkload.report import reconcile_json
from bulkload.results import Report


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "ascii"])
def test_reconcile_and_rollback_json_is_the_same_json_on_any_terminal(encoding: str) -> None:
    """`bulkload reconcile`/`rollback` print JSON; a terminal that cannot show a name's characters gets JSON's
    escapes for them, not an encoding error (exit 4), and the JSON reads back the same."""
    value = {"found": "Ørsted – tampered ✓ 😀", "n": 1}
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    _print_json(value, out)
    out.flush()
    text = out.buffer.getvalue().decode(encoding)
    assert msgspec.json.decode(text) == value
    assert ("Ø" in text) == (encoding == "utf-8")


def test_the_quiet_summary_is_one_line_naming_what_needs_a_look() -> None:
    """-q: what became of the rows on one line; the rejects, in-doubt and ledger paths only where they matter."""
    fields: dict[str, Any] = dict(
        target="economic", rows_read=10, loaded=10, rejected=0, in_doubt=0, skipped=0, requests=1, retries=0,
        elapsed_s=0.1, reconcile=None, ledger="run.sqlite", rejects_file="r.csv",
    )  # fmt: skip
    done = Report(status="complete", **fields)
    assert quiet_summary(done) == "bulkload economic: complete: 10 loaded, 0 rejected, 0 in doubt, 0 skipped"
    fields |= {"loaded": 7, "rejected": 2, "in_doubt": 1}
    stopped = Report(status="stopped", stop_reason="the quota", in_doubt_file="d.csv", exit_code=EXIT_STOPPED, **fields)
    line = quiet_summary(stopped)
    assert "\n" not in line and line.startswith("bulkload economic: stopped: 7 loaded, 2 rejected, 1 in doubt")
    # the reason follows the figures: "stopped" is said once (before: "…: stopped: …; stopped: the quota")
    assert line.endswith(" 0 skipped; the quota; rejects: r.csv; in doubt: d.csv; ledger: run.sqlite"), line
    assert line.count("stopped") == 1, line
    # a run that did not stop, whose report still says why something stopped, names it so
    said = Report(status="reconciled", stop_reason="the quota", **fields)
    assert "; stopped: the quota;" in quiet_summary(said)
    # found by a tester: a run of two kinds (HaloPSA resources, PayorCRM customers and invoices) writes a rejects
    # file for each, and the line named the first only
    two = Report(status="complete", rejects_files=["r.csv", "Q.jsonl.rejects.csv"], **fields)
    assert "; rejects: r.csv, Q.jsonl.rejects.csv;" in quiet_summary(two)
    # found by a tester: the full summary says to type in again the secrets the rejects file shows as ***
    # (rejects_masked), and -q said nothing of it
    masked = Report(status="complete", rejects_masked=2, **fields)
    assert "; rejects: r.csv (secrets shown as *** in 2: type them in again before loading it);" in quiet_summary(
        masked
    ), quiet_summary(masked)


def test_the_quiet_summary_says_a_file_it_names_was_not_written() -> None:
    """Found by a tester: a load stopped by the loss of its PostgreSQL ledger said `in doubt: a.csv.in_doubt.csv` with
    -q, a file that was not written (the full summary said NOT WRITTEN): a script looked for a file not there."""
    lost = "the ledger's PostgreSQL connection was lost: terminating connection"
    stopped = Report(
        status="stopped", target="economic", rows_read=700, loaded=0, rejected=2, in_doubt=100, skipped=598,
        requests=1, retries=0, elapsed_s=0.1, reconcile=None, ledger="postgresql://h/db?ledger=a",
        rejects_file="a.csv.rejects.csv", in_doubt_file="a.csv.in_doubt.csv", exit_code=EXIT_STOPPED,
        stop_reason="stopped", unwritten=[f"the rejects file: {lost}", f"the in-doubt file: {lost}"],
    )  # fmt: skip
    line = quiet_summary(stopped)
    assert "; rejects: NOT WRITTEN to a.csv.rejects.csv (the ledger keeps them);" in line, line
    assert "; in doubt: NOT WRITTEN to a.csv.in_doubt.csv (the ledger keeps them);" in line, line


def test_a_reconcile_of_a_run_that_did_not_finish_says_so_quiet_and_as_json() -> None:
    """Found by a tester: of a run stopped part way, `reconcile -q` began "bulkload visma-core: reconciled: …" and
    `--json` said `"ok": true` alone (exit 4 both): how far the run got was only in the --report file."""
    fields: dict[str, Any] = dict(
        status="reconciled", target="visma-core", rows_read=10, loaded=10, rejected=0, in_doubt=0, skipped=0,
        requests=1, retries=0, elapsed_s=0.1, ledger="run.sqlite", rejects_file="r.csv",
        reconcile=Reconciled(ok=True, remote_read=True, expected_count=10, remote_count=10, expected_totals={},
        remote_totals={}, scopes={}, scope_name="kind"), exit_code=EXIT_STOPPED,
    )  # fmt: skip
    left = {"run_finished": False, "rows_not_sent": 90, "continue_with": "bulkload resume --ledger run.sqlite"}
    unfinished = Report(**fields, **left)
    line = quiet_summary(unfinished)
    assert line.startswith("bulkload visma-core: reconciled so far: the run did not finish: 10 loaded,"), line
    assert "90 rows of its inputs not yet sent; `bulkload resume --ledger run.sqlite` sends them" in line, line
    shown = reconcile_json(unfinished)
    assert shown["ok"] is True and {k: shown[k] for k in left} == left, shown
    done = {"run_finished": True, "rows_not_sent": 0, "continue_with": None}
    finished = Report(**(fields | {"exit_code": 0}), **done)
    assert quiet_summary(finished).startswith("bulkload visma-core: reconciled: 10 loaded,")
    assert {k: reconcile_json(finished)[k] for k in done} == done
    rolled_back = Report(**fields)  # a run rolled back: it is not continued, and nothing is said of it
    assert not set(left) & set(reconcile_json(rolled_back)), reconcile_json(rolled_back)


def test_the_summary_prints_reasons_and_paths_as_they_are_not_as_markup() -> None:
    """A stop reason naming the job file's [credentials] (or a path with brackets) is printed whole: rich would
    take `[credentials]` for a style tag and drop it."""
    from bulkload.report import print_summary

    stopped = Report(
        status="stopped", target="economic", rows_read=0, loaded=0, rejected=0, in_doubt=0, skipped=0, requests=1,
        retries=0, elapsed_s=0.1, reconcile=None, ledger="/runs/[march]/run.sqlite", rejects_file="r.csv",
        stop_reason="HTTP 401: check ECONOMIC_APP_SECRET_TOKEN, in the environment or the job file's [credentials]",
        exit_code=EXIT_STOPPED,
    )  # fmt: skip
    out = io.StringIO()
    print_summary(stopped, out)
    assert "the job file's [credentials]" in out.getvalue() and "[march]" in out.getvalue(), out.getvalue()


@pytest.mark.parametrize("in_doubt", [0, 197])
def test_the_rejects_way_on_waits_for_the_rows_in_doubt(in_doubt: int) -> None:
    """Found by tester t30b: a PayorCRM run with customers in doubt said "fix them in place, then load them ..." of
    the rejects, whose invoices were rejected for those customers: loaded so, they were sent before their customers
    were settled, refused, and rows went in doubt again. Where rows are in doubt, the way on waits for them."""
    from bulkload.report import print_summary

    command = "bulkload load payorcrm --customers c.csv.rejects.csv --invoices i.csv.rejects.csv"
    ended = Report(
        status="complete", target="payorcrm", rows_read=600, loaded=0, rejected=403, in_doubt=in_doubt, skipped=0,
        requests=2, retries=0, elapsed_s=0.1, reconcile=None, ledger="run.sqlite", rejects_file="r.csv",
        rejects_load=command, exit_code=1,
    )  # fmt: skip
    out = io.StringIO()
    print_summary(ended, out)
    said = " ".join(out.getvalue().split())
    then = f"fix them in place, then load them as the inputs were: {command}"
    assert (f"once the rows in doubt are settled (below), {then}" in said) == bool(in_doubt), said
    assert then in said, said


def test_the_success_file_is_what_csv_writes_for_any_file_name_across_batches(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The success file formats its rows itself (a million rows in a few f-strings, not cell by cell): the bytes
    are those csv.writer writes, file names that need quoting or neutralising included, past a batch's end."""
    import csv

    from bulkload import report
    from bulkload.sources import neutralised

    monkeypatch.setattr(report, "SUCCESS_BATCH", 2)
    files = ["plain.csv", '=cmd,"x"\n.csv', "-1.csv"]
    made = {0: [(3, 17), (4, ""), (7, 19)], 1: [(2, 5)], 2: []}
    path = tmp_path / "success.csv"

    def rows(idx: int, name: str) -> list[tuple[str, int, int | str]]:
        return [(name, line, id_) for line, id_ in made[idx]]

    assert report.write_success(str(path), rows, files, "entryNumber") == 4
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(["file", "line", "entryNumber"])
    writer.writerows((neutralised(files[i]), line, id_) for i in made for line, id_ in made[i])
    assert path.read_bytes().decode() == expected.getvalue()


@pytest.mark.slow
def test_a_quiet_rollback_prints_one_line(
    tmp_path: Path, sandbox_process: SandboxProcess, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """-q is one line for rollback as for every command: what it removed, not the table."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "e.csv"
    rows = write_entries(data, 4, journal=3)["rows"]
    assert main(["load", "economic", str(data), "--base-url", sandbox_process.url, "-q"]) == 0
    capsys.readouterr()
    assert main(["rollback", "--ledger", str(tmp_path / "e.csv.ledger.sqlite"), "-q"]) == 0
    assert capsys.readouterr().out == f"bulkload rollback economic: complete: {rows} removed\n"


@pytest.mark.slow
@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "summary"])
def test_a_rollback_where_the_api_cannot_delete_is_a_sentence(
    tmp_path: Path, quiet: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Visma Core cannot delete: the rollback says so in a sentence (and how to undo), never a raw status over a
    table of zeros; -q makes it the one line."""
    monkeypatch.setenv("VISMA_CORE_TOKEN", "t")
    data = tmp_path / "vc.csv"
    data.write_text("caseId,accountingCostType,amount,description,entryDate\n1001,FEE,10.00,x,2026-11-01\n")
    sandbox = spawn_sandbox(target="visma-core")
    try:
        assert main(["load", "visma-core", str(data), "--base-url", sandbox.url, "-q"]) == 0
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    capsys.readouterr()
    ledger = tmp_path / "vc.csv.ledger.sqlite"
    assert main(["rollback", "--ledger", str(ledger), *(["-q"] if quiet else [])]) == 2
    lines = capsys.readouterr().out.splitlines()
    said = (
        "bulkload rollback visma-core: visma-core offers no way to delete what was created: nothing was removed; "
        "undo the records in visma-core itself, by the ids the success file lists"
    )
    assert lines == ([said] if quiet else [said, f"ledger: {ledger}"])


@pytest.mark.slow
def test_a_rollback_of_a_costs_run_says_it_changed_costs_not_created_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Visma Core costs run created nothing: it changed costs that were there. Its rollback says that nothing was set
    back, never that the API "offers no way to delete what was created" (before, it did, and told the user to undo
    records the run never created)."""
    monkeypatch.setenv("VISMA_CORE_TOKEN", "t")
    data = tmp_path / "costs.csv"
    data.write_text("caseId,type,costId,Amount\n1001,Buyer,100101,600.50\n")
    sandbox = spawn_sandbox(target="visma-core")
    try:
        assert main(["load", "visma-core", str(data), "--kind", "costs", "--base-url", sandbox.url, "-q"]) == 0
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    capsys.readouterr()
    assert main(["rollback", "--ledger", str(tmp_path / "costs.csv.ledger.sqlite"), "-q"]) == 2
    assert capsys.readouterr().out == (
        "bulkload rollback visma-core: visma-core offers no way to take back what the run changed: it created nothing, "
        "it changed records that were there (a PATCH each), and nothing was set back; set them back in visma-core "
        "itself, by the ids the success file lists\n"
    )


def test_the_quiet_summary_counts_the_keyed_calls_sent_again_after_a_5xx_a_look_found_nothing_of() -> None:
    """A tester's: the full summary said how many keyed calls were sent again after a 5xx a look found nothing of
    (report.resent_unfound), -q's line, all a cron log keeps, said nothing of them. Said with the counts, where some."""
    fields: dict[str, Any] = dict(
        target="economic", status="complete", rows_read=10, loaded=10, rejected=0, in_doubt=0, skipped=0, requests=4,
        retries=1, elapsed_s=0.1, reconcile=None, ledger="run.sqlite", rejects_file="r.csv",
    )  # fmt: skip
    line = quiet_summary(Report(resent_unfound=2, **fields))
    assert line == (
        "bulkload economic: complete: 10 loaded, 0 rejected, 0 in doubt, 0 skipped, "
        "2 keyed calls sent again after a 5xx a look found nothing of"
    ), line
    assert "sent again" not in quiet_summary(Report(**fields))
