"""A corrected file saved over the one a run loaded, and loaded again as a run of its own (--match-on name): the
first run's rollback and reconciliation read what it sent from its input file, which now holds the corrected rows.
Before, the rollback took the record the second run had corrected for one holding "what the run sent" and deleted
it (exit 0: the correction lost), and reconciliation named values the run never sent. Now both refuse to read the
changed file and say to put it back; with it back the corrected record is kept, named after the run that changed it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from test_load_halopsa import ENV, records
from test_load_halopsa import job as halo_job

from bulkload import load, reconcile, rollback
from bulkload.errors import LedgerError
from bulkload.sandbox import SandboxOptions, running

FIRST = "name,tenant_id,tenant_name\nFix A,t-a,Tenant A\nFix B,t-b,Tenant B\n"
CORRECTED = "name,tenant_id,tenant_name\nFix A,t-a,Tenant A corrected\nFix B,t-b,Tenant B\n"


#: every load here matches its rows by name (--match-on name)
OPTIONS = {"target_options": {"match_on": "name"}}


@contextlib.asynccontextmanager
async def first_loaded(tmp_path: Path, data: Path) -> AsyncIterator[str]:
    """A fresh HaloPSA sandbox (its API root) once FIRST was loaded from `data`, as a run of its own."""
    data.write_text(FIRST, encoding="utf-8")
    async with running("halopsa", SandboxOptions()) as url:
        assert (await load(halo_job(tmp_path, data, url, **OPTIONS), env=ENV)).exit_code == 0
        yield url


@pytest.mark.slow
async def test_rollback_of_a_run_whose_file_was_corrected_in_place_keeps_the_correction(tmp_path: Path) -> None:
    data = tmp_path / "XeroDetails.csv"
    with anyio.fail_after(120):
        async with first_loaded(tmp_path, data) as url:
            data.write_text(CORRECTED, encoding="utf-8")  # corrected in place, loaded as a run of its own
            again = halo_job(
                tmp_path,
                data,
                url,
                ledger=str(tmp_path / "second.sqlite"),
                rejects=str(tmp_path / "second.rejects.csv"),
                report=str(tmp_path / "second.json"),
                **OPTIONS,
            )
            assert (await load(again, env=ENV)).exit_code == 0
            first = str(tmp_path / "XeroDetails.sqlite")
            with pytest.raises(LedgerError, match="changed since the run read it"):
                await reconcile(first, env=ENV)
            undone = await rollback(first, env=ENV)
            held = {r["name"]: r["tenant_name"] for r in await records(url)}
            assert held == {"Fix A": "Tenant A corrected", "Fix B": "Tenant B"}, held
            assert undone.removed == 0 and undone.exit_code == 4, undone
            assert "changed since the run read it" in undone.failed[0]["reason"], undone.failed
            data.write_text(FIRST, encoding="utf-8")  # put back as the run read it
            undone = await rollback(first, env=ENV)
            held = {r["name"]: r["tenant_name"] for r in await records(url)}
    assert held == {"Fix A": "Tenant A corrected"}, held  # the second run's change kept, Fix B removed
    assert undone.removed == 1 and undone.spared_count == 1 and undone.exit_code == 3, undone
    assert "second.sqlite" in undone.spared[0]["reason"], undone.spared


@pytest.mark.slow
async def test_rollback_of_a_run_that_updated_records_says_they_keep_its_values(tmp_path: Path) -> None:
    """Before: "complete", exit 0, and not a word of the record the run updated, which kept the run's values."""
    with anyio.fail_after(120):
        async with first_loaded(tmp_path, tmp_path / "XeroDetails.csv") as url:
            second = tmp_path / "second.csv"
            second.write_text("name,tenant_id,tenant_name\nFix A,t-a,changed\nFix C,t-c,Tenant C\n", encoding="utf-8")
            assert (await load(halo_job(tmp_path, second, url, **OPTIONS), env=ENV)).exit_code == 0
            undone = await rollback(str(tmp_path / "second.sqlite"), env=ENV)
            held = {r["name"]: r["tenant_name"] for r in await records(url)}
    assert held == {"Fix A": "changed", "Fix B": "Tenant B"}, held  # Fix C removed, Fix A left as updated
    assert undone.removed == 1 and undone.updated_kept == 1 and undone.exit_code == 0, undone
    assert "1 record the run updated (there before it: named by id, or matched) was not set back" in str(undone.reason)
