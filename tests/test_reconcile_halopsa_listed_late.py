"""HaloPSA reconciliation honours --settle-s where the listing shows new records late (a read replica), as the
e-conomic one does (test_rollback_listed_late.py): records of the run the listing leaves out, and a look by id answers
404, while the settle delay since the run's last write has not passed, are listed again once it has, and only those
still absent are missing. Tester t42b's HaloPSA server, whose listings and reads by id show a record 1 s after it was
stored, loaded 39 XeroDetails records with --settle-s 2: the load ended `reconciled: NO`, exit 3, `expected / remote
count 39 / 0`, naming every record `missing`, a list a user could load again from and create each twice, while the
server held every one of them. Against the independent HaloPSA server (written from seeds 000/001)."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import serving
from halo_server import credentials, make_app, records_file, settings

from bulkload import Job, load


async def test_a_load_reconciles_what_the_listing_shows_late(tmp_path: Path) -> None:
    data = records_file(tmp_path / "XeroDetails.csv", 6)
    with anyio.fail_after(30):
        async with serving(make_app(settings(window_limit=1000, list_lag_s=0.5))) as origin:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=origin,
                ledger=str(tmp_path / "run.sqlite"),
                batch_size=3,
                settle_s=1.5,
            )
            report = await load(job, env=credentials(origin), raise_on_stop=False)
    rec = report.reconcile
    assert report.loaded == 6 and rec is not None, report
    assert rec.missing_count == 0 and rec.ok and report.exit_code == 0, rec
    assert (rec.expected_count, rec.remote_count) == (6, 6), rec
