"""The log line of a chunk waiting out its settle delay says when it is looked for again, never a time past.

Found by tester t69a: a resume reaching, long after it began, a call an earlier process left in flight (its settle
delay counted from the resume's start) logged "looking again in -130 s (--settle-s)"."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from bulkload import Job, load
from bulkload.pipeline import settle_wait
from bulkload.sandbox import SandboxOptions, running

ENV = {"HALO_CLIENT_ID": "halo-test-client", "HALO_CLIENT_SECRET": "halo-test-secret"}


def test_a_wait_already_over_is_said_as_now() -> None:
    assert settle_wait(-130.0) == "now (its --settle-s has passed)"
    assert settle_wait(0.2) == "now (its --settle-s has passed)"
    assert settle_wait(4.4) == "in 4 s (--settle-s)"


async def test_a_lost_answer_looked_for_after_its_settle_delay_says_no_time_past(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # seed 213 answers the third call, the first create, 5xx before doing anything; the settle delay (1 ms) is over
    # before the first look's listing is answered, so the wait for the second look is over before it begins
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name,tenant_id\n" + "".join(f"Acme {i},tenant-{i}\n" for i in range(6)), encoding="utf-8")
    options = SandboxOptions(window_limit=0, fault_rate=0.1, seed=213)
    caplog.set_level(logging.INFO, logger="bulkload")
    with anyio.fail_after(30):
        async with running("halopsa", options) as url:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "l.sqlite"),
                rejects=str(tmp_path / "r.csv"),
                batch_size=1,
                concurrency=1,
                settle_s=0.001,
            )
            report = await load(job, env=ENV)
    assert report.loaded == 6, report
    said = [r.getMessage() for r in caplog.records if "looking again" in r.getMessage()]
    assert said, "no answer was lost: the test proves nothing"
    assert all("in -" not in line for line in said), said
    assert any("looking again now" in line for line in said), said
