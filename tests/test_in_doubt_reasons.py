"""Every call put in doubt says why in the in-doubt file (its `last_error`, the ledger's chunk error), as the summary
does, and keeps saying it across resumes; the file column names each input as the run named it. A call whose answer
could not be read (the same answer is replayed by its key) is looked for on resume, never sent again for ever."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import CREDS, serving, write_entries
from test_payorcrm_answers import ENV, crm_app
from test_payorcrm_figures import answering

from bulkload import Job, load, resume
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, running


def in_doubt_rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def assert_said(report: Report, path: str, reason: str) -> list[dict[str, str]]:
    """Every row of the in-doubt file names its input as the run did and gives `reason` in its last_error."""
    rows = in_doubt_rows(path)
    assert rows, report
    for row in rows:
        assert reason in row["last_error"], row
    return rows


async def test_an_unreadable_answer_says_why_in_the_in_doubt_file_and_resume_looks_for_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by a tester: e-conomic answering one entry number for two lines put the call in doubt and the summary said
    # why, but every last_error in the in-doubt file was empty; each resume sent the call again with its key, got the
    # same answer replayed and stopped again (exit 4, "continue with `bulkload resume`"), and named the file by its
    # absolute path from then on
    monkeypatch.chdir(tmp_path)
    write_entries(tmp_path / "a.csv", 1)
    reason = "the API answered the id 1 for 2 rows that are records of their own (lines 2, 3)"
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(repeated_ids=True)) as url:
            run = Job(target="economic", files=["a.csv"], base_url=url, target_options={"journal": 1})
            first = await load(run, env=CREDS, raise_on_stop=False)
            assert (first.exit_code, first.in_doubt) == (4, 2), first
            assert reason in str(first.stop_reason)
            rows = assert_said(first, run.in_doubt_path, reason)
            assert {r["file"] for r in rows} == {"a.csv"}
            again = await resume(run.ledger_path, env=CREDS, raise_on_stop=False)
    # the key replays the same answer: resume looks for the call's entries instead, and finds both, line for line
    assert (again.exit_code, again.loaded, again.in_doubt) == (0, 2, 0), again
    assert again.reconcile is not None and again.reconcile.ok, again.reconcile
    assert not Path(run.in_doubt_path).exists()
    assert {r["file"] for r in in_doubt_rows(run.success_path)} == {"a.csv"}


def short_by_one(items: list[Any], real: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "count": len(items) - 1}


async def test_a_payorcrm_answer_counting_fewer_records_keeps_its_reason_across_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by a tester: an upload answered with a count one short is in doubt; the in-doubt file gave no reason, and
    # after a resume only "sent before the run stopped; outcome unknown"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_text("customerno,emailaddress1\nC1,c1@example.com\nC2,c2@example.com\n")
    with anyio.fail_after(60):
        async with serving(crm_app(answering(short_by_one))) as url:
            run = Job(target="payorcrm", files=[], base_url=url, target_options={"customers": "c.csv"})
            first = await load(run, env=ENV, raise_on_stop=False)
            assert (first.exit_code, first.in_doubt) == (4, 2), first
            rows = assert_said(first, run.in_doubt_path, "")
            said = rows[0]["last_error"]
            assert said and said in str(first.stop_reason), (said, first.stop_reason)
            assert {r["file"] for r in rows} == {"c.csv"}
            for _ in range(2):
                again = await resume(run.ledger_path, env=ENV, raise_on_stop=False)
                # nothing a resume does settles it: it says so, and what does, instead of "continue with resume"
                assert again.exit_code == 1, again
                rows = assert_said(again, run.in_doubt_path, said)
                assert {r["file"] for r in rows} == {"c.csv"}
                assert again.in_doubt_way_on and "cannot settle them" in again.in_doubt_way_on
