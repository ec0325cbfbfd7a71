"""What `bulkload run MANIFEST` prints (fleet_view.py) off a terminal — cron, a pipe, a log file — judged on the text:
every job's name whole, where a job's rejected and in-doubt rows are and what settles them, whose runs were not
clean, and figures read from stored reports said to be so."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bulkload.cli import main
from bulkload.fleet import FleetReport, JobOutcome
from bulkload.fleet_view import Board, print_fleet
from bulkload.results import Report, counted

NAMES = ("client-northwind-2025", "client-northstar-2025", "client-norrland-2025")


def report(**given: Any) -> Report:
    fields: dict[str, Any] = {
        "target": "economic",
        "status": "complete",
        "rows_read": 300,
        "loaded": 300,
        "rejected": 0,
        "in_doubt": 0,
        "skipped": 0,
        "requests": 6,
        "retries": 0,
        "elapsed_s": 0.5,
        "reconcile": None,
        "ledger": "/srv/runs/x/ledger.sqlite",
        "rejects_file": "/srv/runs/x/rejects.csv",
    }
    return msgspec.convert({**fields, **given}, Report)


def outcome(name: str, *, code: int = 0, stored: bool = False, **given: Any) -> JobOutcome:
    """A job's outcome; `stored`: its report is the one its run stored on an earlier run of the manifest."""
    done = JobOutcome(
        name=name,
        agreement=name.removesuffix("-2025"),
        status="complete",
        exit_code=code,
        reconciled=True,
        report=report(**given),
    )
    return msgspec.structs.replace(done, stored=True) if stored else done


def fleet(*jobs: JobOutcome) -> FleetReport:
    totals = {k: sum(getattr(j.report, k) for j in jobs if j.report) for k in ("rows_read", "loaded", "requests")}
    totals |= {k: sum(getattr(j.report, k) for j in jobs if j.report) for k in ("rejected", "in_doubt", "skipped")}
    totals["held_back"] = sum(counted(j.report, "held_back") for j in jobs if j.report)
    return FleetReport(manifest="/srv/m.toml", jobs=list(jobs), totals=totals, elapsed_s=0.6, exit_code=1)


@pytest.fixture(autouse=True)
def _no_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


def test_off_a_terminal_every_name_is_whole_and_rows_to_see_are_placed() -> None:
    # found by a tester: cut to 80 columns, the three jobs read "client-…", so which agreement's job had rejects
    # could not be told; and the job with rejected rows was given no file and no next step, only fleet.json
    northstar = outcome(
        NAMES[1],
        code=1,
        loaded=280,
        rejected=14,
        in_doubt=6,
        rejects_file="/srv/runs/client-northstar-2025/rejects.csv",
        in_doubt_file="/srv/runs/client-northstar-2025/in_doubt.csv",
        in_doubt_way_on="what settles them: `bulkload resume --ledger x --resend-in-doubt`",
        report_file="/srv/runs/client-northstar-2025/report.json",
    )
    out = io.StringIO()
    print_fleet(fleet(outcome(NAMES[0]), northstar, outcome(NAMES[2])), out)
    text = out.getvalue()
    for name in (*NAMES, "client-northwind", "client-northstar"):
        assert name in text, text
    assert "…" not in text, text
    assert "/srv/runs/client-northstar-2025/rejects.csv" in text, text
    assert "/srv/runs/client-northstar-2025/in_doubt.csv" in text, text
    assert "`bulkload resume --ledger x --resend-in-doubt`" in text, text
    assert "/srv/runs/client-northwind-2025" not in text  # a clean job has nothing to look at


def test_figures_of_stored_reports_are_said_to_be_so() -> None:
    # found by a tester: a run again of a manifest whose jobs all finished said "518 calls in 0.0 s"
    jobs = [outcome(name, stored=True) for name in NAMES]
    out = io.StringIO()
    print_fleet(fleet(*jobs), out)
    text = out.getvalue()
    assert "calls in 0.6 s" not in text and "stored report" in text, text


def test_figures_of_some_stored_reports_count_their_jobs_in_words() -> None:
    # found by a tester: "the figures of 1 job(s) are their stored reports"
    for stored, said in ((1, "of 1 job are its stored report (it had"), (2, "of 2 jobs are their stored reports")):
        jobs = [outcome(name, stored=i < stored) for i, name in enumerate(NAMES)]
        out = io.StringIO()
        print_fleet(fleet(*jobs), out)
        assert said in out.getvalue() and "job(s)" not in out.getvalue(), out.getvalue()


def test_a_stored_report_of_a_run_that_did_not_finish_is_not_said_finished() -> None:
    # found by a tester: a job refused for its unfinished run (no --resume) shows the report of where it stopped,
    # and the summary said of every stored report "(each had finished)"
    stopped = outcome(NAMES[1], code=2, stored=True, status="stopped", loaded=19)
    refused = msgspec.structs.replace(stopped, status="refused", error="its ledger holds a run that did not finish")
    for jobs in ([outcome(NAMES[0], stored=True), refused], [outcome(NAMES[0]), refused]):
        out = io.StringIO()
        print_fleet(fleet(*jobs), out)
        text = out.getvalue()
        assert "each had finished" not in text and "it had finished" not in text, text
        assert f"{NAMES[1]} had not finished: the report of where it stopped" in text, text


def test_the_progress_line_names_the_jobs_not_clean() -> None:
    # found by a tester: every 10 s "1 not clean", and which job it was not said
    board = Board(3)
    board.ended(outcome(NAMES[0]))
    board.ended(outcome(NAMES[1], code=1, rejected=14))
    assert f"1 not clean: {NAMES[1]}" in board.totals_line()


def test_rows_held_back_are_in_the_totals_the_summary_and_the_progress_line() -> None:
    """A job's calls held back unsent when a ledger write failed (its report's `held_back`, only where some) are
    summed with the other counts: the manifest's totals, its summary and the progress line say them. Before: a
    job's own report held them, the totals of the manifest did not."""
    from pathlib import Path

    from bulkload.fleet import fleet_report
    from bulkload.manifest import Manifest

    held = outcome(NAMES[1], code=1, loaded=280, in_doubt=20, held_back=12)
    jobs = [outcome(NAMES[0]), held, outcome(NAMES[2], in_doubt=3, held_back=2)]
    summed = fleet_report(Manifest(path=Path("/srv/m.toml"), jobs=[]), jobs, 0.6)
    assert (summed.totals["in_doubt"], summed.totals["held_back"]) == (23, 14), summed.totals
    assert fleet_report(Manifest(path=Path("/srv/m.toml"), jobs=[]), [outcome(NAMES[0])], 0.6).totals["held_back"] == 0
    out = io.StringIO()
    print_fleet(summed, out)
    assert "23 in doubt (14 held back unsent)" in out.getvalue(), out.getvalue()
    board = Board(3)
    for job in jobs:
        board.ended(job)
    assert "23 in doubt (14 held back unsent)" in board.totals_line(), board.totals_line()


def test_keyed_calls_sent_again_after_a_5xx_a_look_found_nothing_of_are_in_the_totals_and_the_jobs_line() -> None:
    """A tester's: a job's report counted its keyed calls sent again after a 5xx a look found nothing of (its
    `resent_unfound`, only where some), and its own summary said what to do; `bulkload run`'s totals and summary
    said nothing of them. Summed with the other counts, said after the calls, and the job's line says what to do."""
    from bulkload.fleet import fleet_report
    from bulkload.manifest import Manifest

    jobs = [outcome(NAMES[0]), outcome(NAMES[1], resent_unfound=1), outcome(NAMES[2], resent_unfound=2)]
    summed = fleet_report(Manifest(path=Path("/srv/m.toml"), jobs=[]), jobs, 0.6)
    assert summed.totals["resent_unfound"] == 3, summed.totals
    out = io.StringIO()
    print_fleet(summed, out)
    text = out.getvalue()
    assert "18 calls in 0.6 s; 3 keyed calls sent again after a 5xx a look found nothing of; exit 0" in text, text
    assert f"{NAMES[1]}: warning: 1 keyed call was sent again with its key after a 5xx" in text, text
    assert f"{NAMES[0]}: warning" not in text, text
    alone = io.StringIO()
    print_fleet(fleet_report(Manifest(path=Path("/srv/m.toml"), jobs=[]), jobs[:1], 0.6), alone)
    assert "sent again" not in alone.getvalue(), alone.getvalue()


def test_a_jobs_rows_in_doubt_line_says_those_held_back() -> None:
    """A tester's: the totals said `10 in doubt (4 held back unsent)`, the job's own line under the table only `10
    rows in doubt: …`, though its report holds `held_back`, as `bulkload status` shows it: now said there too."""
    held = outcome(
        NAMES[0],
        code=1,
        loaded=290,
        in_doubt=10,
        held_back=4,
        in_doubt_file="/srv/runs/x/in_doubt.csv",
        in_doubt_way_on="what settles them: `bulkload run /srv/m.toml --resume`",
    )
    out = io.StringIO()
    print_fleet(fleet(held, outcome(NAMES[1], in_doubt=2, in_doubt_file="/srv/runs/y/in_doubt.csv")), out)
    text = " ".join(out.getvalue().split())
    assert f"{NAMES[0]}: 10 rows in doubt (4 held back unsent): /srv/runs/x/in_doubt.csv; what settles" in text, text
    assert f"{NAMES[1]}: 2 rows in doubt: /srv/runs/y/in_doubt.csv" in text, text  # none held back: not said


def test_a_quiet_run_says_why_each_job_was_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # tester t70h: `bulkload -q run` of a manifest whose job was refused printed `bulkload run: exit 2; report: …`
    # alone, a cron log keeping no word of why; -q says errors are still shown
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("APP", "app")
    monkeypatch.setenv("GRANT", "grant")
    header = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber"
    (tmp_path / "nov.csv").write_text(header + "\n")
    (tmp_path / "m.toml").write_text(
        'output_dir = "runs"\n[[job]]\nname = "nov"\ntarget = "economic"\n'
        'base_url = "http://127.0.0.1:9/journalsapi/v11.0.2"\nfiles = ["nov.csv"]\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
    )
    assert main(["-q", "run", str(tmp_path / "m.toml")]) == 2
    said = capsys.readouterr()
    assert said.out.startswith("bulkload run: exit 2; report: "), said.out
    assert "bulkload run: nov: " in said.err and "the file holds no rows (only its header)" in said.err, said.err


def test_a_job_refused_for_variables_not_set_is_named_once_and_told_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Helper t74d: `bulkload run` said "beta: job 'beta': the environment variable(s) BETA_GRANT are not set": the
    job named twice, and no word of what to do."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("BETA_GRANT", raising=False)
    monkeypatch.setenv("APP", "app")
    (tmp_path / "nov.csv").write_text("entryTypeNumber,journalNumber,voucherNumber,date,amount,currency\n")
    (tmp_path / "m.toml").write_text(
        'output_dir = "runs"\n[[job]]\nname = "beta"\ntarget = "economic"\n'
        'base_url = "http://127.0.0.1:9/journalsapi/v11.0.2"\nfiles = ["nov.csv"]\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "BETA_GRANT"}}\n'
    )
    assert main(["-q", "run", str(tmp_path / "m.toml")]) == 2
    said = capsys.readouterr().err
    assert (
        "bulkload run: beta: the environment variable(s) BETA_GRANT are not set: set them (the job's credentials.env "
        "names them for its credentials), then run the manifest again"
    ) in said, said
