"""Found by tester t49d: a HaloPSA run killed with an upload in flight, then rolled back once the upload had landed:
the rollback's look finds its records and leaves the call unsettled (exit 1: "remove what the call created by
hand"). A later load into the resource was then refused, "Settle them first: `bulkload resume --ledger …` looks them
up …, or `bulkload rollback --ledger …` undoes that run": the resume refuses a run being rolled back, and the
rollback leaves the call unsettled again, so neither way on it named could be taken. It now says so."""

from __future__ import annotations

import signal
from pathlib import Path

import anyio
import pytest
from conftest import serving
from test_halopsa_alongside import ENV, HeldUploads, job, stopped_while_held, two_copies

from bulkload import load, rollback
from bulkload.errors import LeftCommitting


async def test_a_load_after_a_rollback_left_a_call_unsettled_names_no_resume(tmp_path: Path) -> None:
    first_file, second_file = two_copies(tmp_path, 20)
    first_ledger = str(first_file.parent / "XeroDetails.csv.ledger.sqlite")
    held = HeldUploads()
    with anyio.fail_after(120):
        async with serving(held.app) as url:
            async with stopped_while_held(held, first_file, url) as first:
                pass
            await held.landed.wait()
            undone = await rollback(first_ledger, env=ENV)  # its look finds what the upload created: unsettled
            with pytest.raises(LeftCommitting) as refused:
                await load(job(second_file, url), env=ENV)
    assert first.returncode == -signal.SIGKILL
    assert undone.exit_code == 1 and undone.unsettled, undone
    said = str(refused.value)
    assert f"`bulkload resume --ledger {first_ledger}` looks them up" not in said, said
    assert "that run is being rolled back, which `bulkload resume` refuses" in said, said
    assert "whose records you remove by hand; then load this file again" in said, said
