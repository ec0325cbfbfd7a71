"""A rollback reads back what it deleted after --settle-s where the listing shows a delete late (a read replica), as it
reads a create late (test_rollback_listed_late.py): a record its DELETE was answered for as done that the listing
still shows, while the settle delay since the run's last write (its last DELETE) has not passed, is read again once it
has, and only one still shown is not removed. Tester t42b's HaloPSA server, whose listing shows a deleted record for
2 s more, answered 204 to each of 39 DELETEs and removed each: `bulkload rollback --settle-s 1` ended exit 4, every
record `failed` with "yet the API still holds it as the run's …: not removed; run rollback again, and where it
stays, remove it in the API". Against the independent HaloPSA server (written from seeds 000/001)."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest
from conftest import serving
from halo_server import credentials, make_app, records_file, settings

from bulkload import Job, load, rollback


async def test_a_rollback_removes_what_the_listing_shows_gone_late(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = records_file(tmp_path / "XeroDetails.csv", 4)
    app = make_app(settings(window_limit=1000, delete_lag_s=0.5))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = Job(
                target="halopsa", files=[str(data)], base_url=origin, ledger=str(tmp_path / "run.sqlite"), settle_s=1.5
            )
            report = await load(job, env=credentials(origin))
            undone = await rollback(job.ledger_path, env=credentials(origin))
    assert report.loaded == 4 and report.exit_code == 0, report
    assert undone.failed == [] and undone.removed == 4 and undone.exit_code == 0, undone
    # the wait is said where a run's warnings are shown (the default): before, at INFO, the rollback stood silent
    said = [r for r in caplog.records if "still listed as the run's: read again in" in r.getMessage()]
    assert said and all(r.levelno == logging.WARNING for r in said), caplog.records
