"""The look for the input's vouchers already in the journal (before the first write) can take minutes against a slow
API and a full journal: 200 vouchers a call. Its progress counts the groups looked up of all the input's groups, so
the display gives a percent and an ETA; before, it counted only the groups found there, and stood at 0 with no total
for the whole look where the journal held none of them (a tester's 100,000-row load: six minutes of it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import CREDS, economic_job, serving
from test_reconcile_refused import entries, post, voucher

from bulkload import load
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.stages import LOOKING, Stages

VOUCHERS = 450  # three lists of vouchers asked for: 200, 200, 50


async def test_the_look_up_counts_the_groups_looked_up_of_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "e.csv"
    entries(data, vouchers=VOUCHERS, bad=())
    left: list[tuple[int, int | None, str]] = []  # the look's counter as the next stage began
    enter = Stages.enter

    def entering(self: Stages, *args: Any, **kw: Any) -> None:
        if self.name == LOOKING:
            left.append((self.done, self.total, self.unit))
        enter(self, *args, **kw)

    monkeypatch.setattr(Stages, "enter", entering)
    with anyio.fail_after(60):
        async with serving(create_app(SandboxOptions())) as origin:
            await post(origin, voucher(7))  # one of the input's: the look asks for them all, and finds it
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS)
    assert report.skipped == 2 and report.loaded == 2 * (VOUCHERS - 1), report
    assert left == [(VOUCHERS, VOUCHERS, "groups looked up")], left
