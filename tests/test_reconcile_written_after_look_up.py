"""A voucher of the input that another writer (a second loader, a bookkeeper) creates after the run looked its
vouchers up in the journal, to skip those already there, and before the run's first write is created by the run as
well: the journal holds it twice. Reconciliation promises that "an entry of one of this run's own vouchers that the
run did not create is a double (duplicates), a mismatch (exit 3)" (docs/reconciliation.md). The run's baseline
(what the journal held before it) is taken before that look-up, so whatever lands after the look-up is above the
baseline, walked and compared, never counted "there before". Found by a tester: a queued worker and a `bulkload
run` on another cache loading one manifest at once made 160 doubles, both exit 0, reconciled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from conftest import CREDS, economic_job, serving
from test_reconcile_refused import entries, post, voucher

from bulkload import load, reconcile
from bulkload.errors import EXIT_MISMATCH, EXIT_OK
from bulkload.model import Known
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app
from bulkload.targets import economic


def vouchers_held(app: Any) -> list[int]:
    return [msgspec.json.decode(raw)["voucherNumber"] for raw in app[ECONOMIC_KEY].store.entries.values()]


async def test_a_voucher_another_writes_after_the_look_up_is_a_double_however_late_the_baseline_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the other writer's copy of voucher 3 lands as the look-up ends (it found none of the input's vouchers); a
    # baseline read while the look-up was under way is read only after that copy landed, as the run's first write
    # may come late after the look-up: the baseline must not count the copy as there before
    data = tmp_path / "e.csv"
    entries(data, vouchers=6, bad=())
    app = create_app(SandboxOptions())
    look_up, baseline = economic.Journals.groups_already_there, economic.Journals.baseline
    looking, written = anyio.Event(), anyio.Event()

    async def other_writer_after(
        self: Any, client: Any, keys: Callable[[], Iterator[str]], baselines: Any, asked: Any
    ) -> AsyncIterator[Known]:
        looking.set()
        async for found in look_up(self, client, keys, baselines, asked):
            yield found
        await post(origin, voucher(3))
        written.set()

    async def read_late(self: Any, client: Any, scope: str) -> Any:
        if looking.is_set():
            await written.wait()
        return await baseline(self, client, scope)

    monkeypatch.setattr(economic.Journals, "groups_already_there", other_writer_after)
    monkeypatch.setattr(economic.Journals, "baseline", read_late)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS)
            again = await reconcile(job.ledger_path, env=CREDS)
    assert written.is_set() and vouchers_held(app).count(3) == 4  # the books hold voucher 3 twice
    assert report.loaded == 12  # the run created it too: the look-up found none
    for rep in (report, again):
        rec = rep.reconcile
        assert rec is not None and not rec.ok and rep.exit_code == EXIT_MISMATCH, (rep.exit_code, rec)
        assert rec.scopes["1"]["before"] == 0, rec.scopes  # the other writer's copy is not counted there before
        assert len(rec.duplicates) == 2, rec.duplicates  # its two entries: a double of voucher 3


async def copy_posted_before_the_look_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, journal_held: bool
) -> tuple[Any, Report, list[str]]:
    """A load of vouchers 1-6 of journal 1 whose voucher 3 another writer posts after the run's baseline, as its look
    for the input's vouchers begins; `journal_held`: the journal holds voucher 99 before the run. Returns the
    sandbox app, the report and the paths the look asked for."""
    data = tmp_path / "e.csv"
    entries(data, vouchers=6, bad=())
    app = create_app(SandboxOptions())
    look_up = economic.Journals.groups_already_there
    asked: list[str] = []

    class Asking:
        def __init__(self, client: Any) -> None:
            self.client = client

        async def get(self, path: str, *args: Any, **kw: Any) -> Any:
            asked.append(path)
            return await self.client.get(path, *args, **kw)

        async def send(self, method: str, path: str, *args: Any, **kw: Any) -> Any:
            asked.append(path)
            return await self.client.send(method, path, *args, **kw)

    async def other_writer_first(
        self: Any, client: Any, keys: Callable[[], Iterator[str]], baselines: Any, asked: Any
    ) -> AsyncIterator[Known]:
        await post(origin, voucher(3))
        async for found in look_up(self, Asking(client), keys, baselines, asked):
            yield found

    monkeypatch.setattr(economic.Journals, "groups_already_there", other_writer_first)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            if journal_held:
                await post(origin, voucher(99))
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS)
    return app, report, asked


async def test_a_voucher_another_writes_before_the_look_up_is_skipped_not_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same copy landing as the look-up begins (after the baseline) is found there: skipped, and its entries,
    # above the baseline, are another writer's (not this run's, not doubles): reconciled, exit 0. The journal holds
    # an entry of another voucher before the run: one that held none is not looked in (the next test)
    app, report, asked = await copy_posted_before_the_look_up(tmp_path, monkeypatch, journal_held=True)
    assert asked == ["/draft-entries/count", "/draft-entries"], asked  # the count over 1-6, then their $in: list
    assert vouchers_held(app).count(3) == 2 and report.loaded == 10 and report.skipped == 2, report
    rec = report.reconcile
    assert rec is not None and rec.ok and report.exit_code == EXIT_OK, (report.exit_code, rec)
    assert not rec.duplicates and rec.scopes["1"]["others"] == 2 and rec.scopes["1"]["before"] == 2, rec


async def test_a_journal_empty_at_its_baseline_is_not_looked_in_and_a_copy_written_since_is_a_double(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a draft journal its last booking emptied holds none of the input's vouchers: the look for them is a round trip
    # before the first upload for nothing (the pace at the limit lost 0.6 points of 100/s to it). A copy another
    # writer posts after the baseline is then created by the run too, as one posted after the look always was: above
    # the baseline, walked, a double (exit 3), never silent
    app, report, asked = await copy_posted_before_the_look_up(tmp_path, monkeypatch, journal_held=False)
    assert asked == []  # the journal held nothing at its baseline: not asked
    assert vouchers_held(app).count(3) == 4 and report.loaded == 12 and report.skipped == 0, report
    rec = report.reconcile
    assert rec is not None and not rec.ok and report.exit_code == EXIT_MISMATCH, (report.exit_code, rec)
    assert rec.scopes["1"]["before"] == 0 and len(rec.duplicates) == 2, rec
