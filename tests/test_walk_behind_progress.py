"""Once every row of a load is settled, what is left is the walk behind the load (reconciliation's cursor walk of
what the run created): against a rate-limited API a tester saw `loading 100% | 15,000/15,000 rows | ETA 0:00:00`
for 30 s while it went on. It is shown as reconciling, the records walked of those the run created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import CREDS, economic_job, serving
from test_reconcile_refused import entries

from bulkload import load
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.stages import RECONCILING
from bulkload.walks import Behind


async def test_the_walk_behind_the_load_is_shown_as_reconciling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "e.csv"
    entries(data, vouchers=600, bad=())  # 1,200 entries: three calls, two pages to walk
    shown: list[tuple[str, int, int | None, str]] = []  # the progress as the walk behind ended
    follow = Behind.follow

    async def following(self: Behind, *args: Any, **kw: Any) -> None:
        await follow(self, *args, **kw)
        stages = self.walked.stages
        if stages is not None:
            shown.append((stages.name, stages.done, stages.total, stages.unit))

    monkeypatch.setattr(Behind, "follow", following)
    with anyio.fail_after(60):
        async with serving(create_app(SandboxOptions())) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS)
    assert report.loaded == 1200 and report.reconcile is not None and report.reconcile.ok, report
    # the walk behind leaves less than a page to reconciliation, which walks it after the counts
    ((name, done, total, unit),) = shown
    assert (name, total, unit) == (RECONCILING, 1200, "records") and 0 < done <= 1200, shown
