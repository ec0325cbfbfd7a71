"""A look for what became of a call (its answer lost or unreadable) that fails says so: the rows stay in doubt, and
the run names the look's failure, never leaving the user to resume again and again for a look that cannot run."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, write_entries

from bulkload import Job, load, resume
from bulkload.sandbox import SandboxOptions, running


async def test_a_look_the_api_fails_is_named_and_its_rows_stay_in_doubt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # found by a tester: an e-conomic server whose listing by `voucherNumber$in:` failed left the call in doubt on
    # every resume with no word of the failure; the summary kept saying resume looks for its entries
    monkeypatch.chdir(tmp_path)
    write_entries(tmp_path / "a.csv", 1)
    options = SandboxOptions(repeated_ids=True, in_lists_fail=True)
    with anyio.fail_after(60):
        async with running("economic", options) as url:
            run = Job(target="economic", files=["a.csv"], base_url=url, target_options={"journal": 1})
            first = await load(run, env=CREDS, raise_on_stop=False)
            assert (first.exit_code, first.in_doubt) == (4, 2), first
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="bulkload"):
                again = await resume(run.ledger_path, env=CREDS, raise_on_stop=False)
    assert (again.loaded, again.in_doubt) == (0, 2), again
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("the look for what became of it failed" in m and "503" in m for m in said), said
